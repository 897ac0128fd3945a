"""The reviewer's actions on a case: the rules they follow, and the case as reviewed.

The report stays as the pipeline wrote it.  A reviewer accepts or overrides each
criterion (an override needs a reason and a status other than the report's) and
records the final outcome; approval needs every criterion reviewed and met as
reviewed, and a policy evaluated, since a wrong approval is the worst error.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ValidationError

from common.errors import BadParameter, IntakeError, NotReady, ReviewIncomplete
from common.models import CriterionStatus, Report
from common.review import OUTCOMES, STATUS_LABELS, CaseReview, Outcome, ReviewAction, Reviewer
from intake.auth import Caller
from intake.service import Service

MAX_REASON = 4000
CRITERION_STATUSES: tuple[CriterionStatus, ...] = ("met", "not_met", "not_documented")


class StoredReportUnreadable(IntakeError):
    code = "E505_REPORT_UNREADABLE"
    http_status = 500
    hint = "The stored report does not match this version's Report model; run the version that wrote it."


def reviewer(caller: Caller) -> Reviewer:
    return Reviewer(name=caller.name, kind=caller.kind)


def stored_report(service: Service, case_id: str) -> Report:
    """The case's report as the composer's model (never a copy of its fields)."""
    case = service.case(case_id)
    if case.status != "done":
        raise NotReady(f"the document is {case.status}; it can be reviewed when it is done.")
    raw = service.report(case_id)
    if raw is None:
        raise NotReady("the document has no report.")
    return parse_report(raw)


def parse_report(raw: dict[str, Any]) -> Report:
    try:
        return Report.model_validate(raw)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise StoredReportUnreadable(
            f"the stored report does not read as a Report ({where}: {first['msg']})."
        ) from err


def case_review(service: Service, case_id: str, report: Report | None = None) -> CaseReview:
    order = [c.id for c in report.criteria] if report else []
    return CaseReview.of(service.reviews.of(case_id), order)


def _reason(reason: str | None, *, required: bool, what: str) -> str:
    text = (reason or "").strip()
    if required and not text:
        raise BadParameter(f"{what} needs a reason.", hint="Say why, in a sentence the case file can keep.")
    if len(text) > MAX_REASON:
        raise BadParameter(f"a reason is at most {MAX_REASON} characters; this one has {len(text)}.")
    return text


def parse_status(value: str | None) -> CriterionStatus:
    for s in CRITERION_STATUSES:
        if value == s:
            return s
    raise BadParameter(f"status must be one of {', '.join(CRITERION_STATUSES)}; got {str(value)[:40]!r}.")


def parse_outcome(value: str | None) -> Outcome:
    for o in OUTCOMES:
        if value == o:
            return o
    raise BadParameter(f"outcome must be one of {', '.join(OUTCOMES)}; got {str(value)[:40]!r}.")


def record_criterion(
    service: Service,
    case_id: str,
    criterion_id: str,
    *,
    action: Literal["accept", "override"] | str,
    caller: Caller,
    status: str | None = None,
    reason: str | None = None,
) -> ReviewAction:
    report = stored_report(service, case_id)
    result = next((c for c in report.criteria if c.id == criterion_id), None)
    if result is None:
        known = ", ".join(c.id for c in report.criteria) or "none (no policy was evaluated)"
        raise BadParameter(f"the report has no criterion {criterion_id[:60]!r}; its criteria: {known}.")
    if action == "accept":
        return service.reviews.add(
            case_id,
            action="accept",
            criterion=criterion_id,
            status=result.status,
            extracted=result.status,
            reason=_reason(reason, required=False, what="accepting"),
            by=reviewer(caller),
            token_id=caller.token_id,
        )
    if action != "override":
        raise BadParameter(f"action must be accept or override; got {str(action)[:40]!r}.")
    chosen = parse_status(status)
    if chosen == result.status:
        raise BadParameter(
            f"the report already has this criterion {STATUS_LABELS[chosen]}.",
            hint="Accept it instead, or choose the status you find on the pages.",
        )
    return service.reviews.add(
        case_id,
        action="override",
        criterion=criterion_id,
        status=chosen,
        extracted=result.status,
        reason=_reason(reason, required=True, what="an override"),
        by=reviewer(caller),
        token_id=caller.token_id,
    )


def record_outcome(
    service: Service, case_id: str, *, outcome: str, caller: Caller, reason: str | None = None
) -> ReviewAction:
    report = stored_report(service, case_id)
    chosen = parse_outcome(outcome)
    if chosen == "approved":
        if report.policy is None:
            raise ReviewIncomplete(
                "no policy was evaluated for this request, so it cannot be approved here.",
                hint="Refer it for physician review, or request what the provider must send.",
            )
        review = case_review(service, case_id, report)
        unreviewed = [c.id for c in report.criteria if review.of_criterion(c.id) is None]
        if unreviewed:
            raise ReviewIncomplete(f"not reviewed yet: {', '.join(unreviewed)}.")
        unmet = [c.criterion for c in review.criteria if c.status != "met"]
        if unmet:
            raise ReviewIncomplete(f"not met as reviewed: {', '.join(unmet)}.")
    return service.reviews.add(
        case_id,
        action="outcome",
        outcome=chosen,
        reason=_reason(reason, required=chosen != "approved", what="this outcome"),
        by=reviewer(caller),
        token_id=caller.token_id,
    )


def reviewed_fhir(service: Service, case_id: str, bundle: dict[str, Any]) -> dict[str, Any]:
    review = case_review(service, case_id)
    if not review.history:
        return bundle
    from criteria.policy import get_policy
    from outputs.review_fhir import reviewed_bundle

    report = stored_report(service, case_id)
    policy = None
    if report.policy is not None:
        try:
            policy = get_policy(report.policy.id, service.settings.policy_dirs)
        except IntakeError:
            policy = None  # the policy file is gone: the bundle's own texts are used
    return reviewed_bundle(
        bundle, report, CaseReview.of(review.history, [c.id for c in report.criteria]), policy
    )
