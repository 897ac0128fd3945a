"""A reviewer's actions on a case, beside the report and never in it.

The report is what the pipeline read and concluded, stored once and never changed.
A reviewer accepts or overrides each criterion (with a reason) and records the
case's final outcome; every action keeps who took it and when, and a later action
on the same criterion supersedes the earlier one without erasing it.  The outputs
(the case's JSON, its FHIR bundle) carry both: the report as extracted and the
review as decided.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal

from common.models import CriterionStatus, Frozen

ActionKind = Literal["accept", "override", "outcome"]
ActorKind = Literal["user", "token"]
# The final outcomes a reviewer records.  There is no "denied": an adverse determination is
# a physician reviewer's, made with the member's appeal rights (URAC, CMS), so this page
# refers the case instead of closing it against the member.
Outcome = Literal["approved", "information_requested", "referred"]
OUTCOMES: dict[Outcome, str] = {
    "approved": "Approved: the documentation supports the request",
    "information_requested": "Pended: information requested from the provider",
    "referred": "Referred for physician review",
}
STATUS_LABELS: dict[CriterionStatus, str] = {
    "met": "met",
    "not_met": "not met",
    "not_documented": "not documented",
}


class Reviewer(Frozen):
    name: str
    kind: ActorKind  # a user account, or the holder of an API token (named for the token)

    def __str__(self) -> str:
        return self.name if self.kind == "user" else f"{self.name} (token)"


class ReviewAction(Frozen):
    """One action as recorded: on a criterion (accept, override) or on the case (outcome)."""

    id: int
    action: ActionKind
    criterion: str | None = None
    status: CriterionStatus | None = None  # the criterion as the reviewer decided it
    extracted: CriterionStatus | None = None  # the criterion as the report has it
    outcome: Outcome | None = None
    reason: str = ""
    by: Reviewer
    at: datetime


class CriterionReview(Frozen):
    """A criterion's standing: the latest action taken on it."""

    criterion: str
    action: Literal["accept", "override"]
    extracted: CriterionStatus
    status: CriterionStatus
    reason: str
    by: Reviewer
    at: datetime


class OutcomeDecision(Frozen):
    outcome: Outcome
    reason: str
    by: Reviewer
    at: datetime


class CaseReview(Frozen):
    criteria: tuple[CriterionReview, ...] = ()  # one per criterion reviewed, latest action
    outcome: OutcomeDecision | None = None  # the latest outcome recorded
    history: tuple[ReviewAction, ...] = ()  # every action, oldest first

    @staticmethod
    def of(actions: Iterable[ReviewAction], order: Iterable[str] = ()) -> CaseReview:
        """The standing of each criterion and the outcome, from the actions oldest first;
        ``order`` gives the criteria's order (the report's)."""
        history = tuple(sorted(actions, key=lambda a: a.id))
        latest: dict[str, CriterionReview] = {}
        outcome: OutcomeDecision | None = None
        for a in history:
            if a.action == "outcome" and a.outcome is not None:
                outcome = OutcomeDecision(outcome=a.outcome, reason=a.reason, by=a.by, at=a.at)
            elif a.action != "outcome" and a.criterion and a.status and a.extracted:
                latest[a.criterion] = CriterionReview(
                    criterion=a.criterion,
                    action=a.action,
                    extracted=a.extracted,
                    status=a.status,
                    reason=a.reason,
                    by=a.by,
                    at=a.at,
                )
        ranked = {cid: n for n, cid in enumerate(order)}
        criteria = sorted(latest.values(), key=lambda c: (ranked.get(c.criterion, len(ranked)), c.criterion))
        return CaseReview(criteria=tuple(criteria), outcome=outcome, history=history)

    def of_criterion(self, criterion_id: str) -> CriterionReview | None:
        return next((c for c in self.criteria if c.criterion == criterion_id), None)
