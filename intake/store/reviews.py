"""The reviewer's actions: appended, never changed or deleted (see common/review.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from common.models import CriterionStatus
from common.review import ActionKind, Outcome, ReviewAction, Reviewer
from intake.store.cases import CaseStore, now_utc
from intake.store.tables import audit, review_actions


def _action(row: sa.Row[Any]) -> ReviewAction:
    m = row._mapping
    outcome = m["action"] == "outcome"
    return ReviewAction(
        id=m["id"],
        action=m["action"],
        criterion=m["criterion_id"],
        status=None if outcome else m["status"],
        extracted=m["extracted"],
        outcome=m["status"] if outcome else None,
        reason=m["reason"],
        by=Reviewer(name=m["actor"], kind=m["actor_kind"]),
        at=m["at"],
    )


class ReviewStore:
    def __init__(self, cases: CaseStore) -> None:
        self.cases = cases

    def add(
        self,
        document_id: str,
        *,
        action: ActionKind,
        by: Reviewer,
        token_id: int | None,
        reason: str,
        criterion: str | None = None,
        status: CriterionStatus | None = None,
        extracted: CriterionStatus | None = None,
        outcome: Outcome | None = None,
        now: datetime | None = None,
    ) -> ReviewAction:
        """Record one action, and the same in the audit log, in one transaction."""
        now = now or now_utc()
        with self.cases.transaction() as conn:
            result = conn.execute(
                review_actions.insert().values(
                    document_id=document_id,
                    action=action,
                    criterion_id=criterion,
                    status=outcome if action == "outcome" else status,
                    extracted=extracted,
                    reason=reason,
                    actor=by.name,
                    actor_kind=by.kind,
                    at=now,
                )
            )
            key = result.inserted_primary_key
            assert key is not None
            conn.execute(
                audit.insert().values(
                    at=now,
                    actor=by.name,
                    token_id=token_id,
                    action=f"review_{action}",
                    document_id=document_id,
                )
            )
            row = conn.execute(sa.select(review_actions).where(review_actions.c.id == key[0])).one()
        return _action(row)

    def of(self, document_id: str) -> list[ReviewAction]:
        """Every action on a case, oldest first."""
        with self.cases.engine.connect() as conn:
            rows = conn.execute(
                sa.select(review_actions)
                .where(review_actions.c.document_id == document_id)
                .order_by(review_actions.c.id)
            ).all()
        return [_action(r) for r in rows]

    def outcomes(self, document_ids: Sequence[str]) -> dict[str, ReviewAction]:
        """The latest outcome of each of these cases that has one (for the queue)."""
        if not document_ids:
            return {}
        with self.cases.engine.connect() as conn:
            rows = conn.execute(
                sa.select(review_actions)
                .where(
                    review_actions.c.document_id.in_(list(document_ids)),
                    review_actions.c.action == "outcome",
                )
                .order_by(review_actions.c.id)
            ).all()
        return {r.document_id: _action(r) for r in rows}
