"""The reviewer's actions as stored, on SQLite and PostgreSQL: appended in order, each
with who and when, the latest standing per criterion and the latest outcome per case."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from service_support import Servers, servers

from common.review import CaseReview, Reviewer
from intake.store import db
from intake.store.cases import CaseStore
from intake.store.reviews import ReviewStore

__all__ = ["servers"]

NURSE, DESK = Reviewer(name="nurse.a", kind="user"), Reviewer(name="desk-2", kind="token")


@pytest.fixture(params=["sqlite", "postgresql"])
def reviews(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ReviewStore]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'intake.sqlite3'}"
    else:
        found: Servers = request.getfixturevalue("servers")
        url = found.fresh_database()
    engine = db.make_engine(url)
    db.upgrade(engine)
    yield ReviewStore(CaseStore(engine))
    engine.dispose()


def test_actions_are_appended_and_the_latest_stands(reviews: ReviewStore) -> None:
    doc = "a" * 32
    reviews.add(
        doc,
        action="override",
        criterion="age",
        status="not_met",
        extracted="met",
        reason="17",
        by=NURSE,
        token_id=None,
    )
    reviews.add(
        doc, action="accept", criterion="age", status="met", extracted="met", reason="", by=DESK, token_id=3
    )
    reviews.add(
        doc,
        action="accept",
        criterion="diagnosis",
        status="met",
        extracted="met",
        reason="",
        by=NURSE,
        token_id=None,
    )
    reviews.add(doc, action="outcome", outcome="referred", reason="unclear", by=NURSE, token_id=None)
    reviews.add("b" * 32, action="outcome", outcome="approved", reason="", by=DESK, token_id=3)
    actions = reviews.of(doc)
    assert [a.action for a in actions] == ["override", "accept", "accept", "outcome"]
    assert all(a.at.tzinfo is not None for a in actions) and actions[0].at <= actions[-1].at
    review = CaseReview.of(actions, ["diagnosis", "age"])
    assert [c.criterion for c in review.criteria] == ["diagnosis", "age"]  # the report's order
    age = review.of_criterion("age")
    assert age is not None and age.action == "accept" and age.by == DESK
    assert review.outcome is not None and review.outcome.outcome == "referred"
    assert len(review.history) == 4  # the superseded override is kept
    latest = reviews.outcomes([doc, "b" * 32, "c" * 32])
    assert {k: v.outcome for k, v in latest.items()} == {doc: "referred", "b" * 32: "approved"}
    trail = reviews.cases.audit_trail(doc)
    assert [r.action for r in trail] == [
        "review_outcome",
        "review_accept",
        "review_accept",
        "review_override",
    ]
