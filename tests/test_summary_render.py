"""The terminal summary: what a reviewer reads first.  Reports are built by hand, no OCR."""

from __future__ import annotations

import pytest
from _criteria_facts import (
    ALL_LINES_FACTS,
    DRD,
    KPD,
    complete_facts,
    ev,
    history,
    processed,
    therapy,
)

from common.models import AgeFact, PolicyInfo
from outputs.summary import render_summary

SHAKY_AGE = AgeFact(years=67, how="stated", evidence=(ev(1, "6? y/o", 0.31),))

CASES = [
    # (trap, facts, lines the summary must contain)
    (
        "everything met",
        complete_facts(),
        [
            "DETERMINATION: CRITERIA MET",
            "[MET] Age 18 or older",
            'p.1 "67 y/o"',
            "Missing (to request from the provider)",
            "  nothing",
        ],
    ),
    (
        "prior CAR-T",
        complete_facts(therapies=(*ALL_LINES_FACTS, therapy("car-t", 4, start="2023", trial=True))),
        [
            "DETERMINATION: CRITERIA NOT MET",
            "[NOT MET] No prior CAR-T therapy",
            "in a clinical trial",
            "never denies a request on its own",
        ],
    ),
    (
        "gaps",
        complete_facts(age=None, **history((DRD, None, None), (KPD, "2022-04", None))),
        [
            "DETERMINATION: NEEDS INFORMATION",
            "[NOT DOCUMENTED] Age 18 or older",
            "1. Member's age or date of birth",
            "Start and end dates of the first line of therapy (daratumumab, lenalidomide, dexamethasone)",
        ],
    ),
    (
        "low-confidence age",
        complete_facts(age=SHAKY_AGE),
        [
            "DETERMINATION: NEEDS INFORMATION",
            "[MET, REVIEW] Age 18 or older",
            "(read with low confidence 0.31)",
            "A legible copy of page 1",
        ],
    ),
]


@pytest.mark.parametrize(("facts", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_summary_shows_determination_criteria_quotes_and_gaps(facts, expected: list[str]) -> None:
    text = render_summary(processed(facts).report)
    for needle in expected:
        assert needle in text, f"{needle!r} not in:\n{text}"


def test_every_criterion_and_finding_is_listed_once() -> None:
    done = processed(complete_facts())
    text = render_summary(done.report)
    for c in done.policy.criteria:
        assert text.count(f"] {c.label}\n") == 1
    assert "[present] Provider attests outpatient administration" in text
    assert "[absent] Tocilizumab available before infusion" in text


def test_therapies_and_warnings_are_listed() -> None:
    text = render_summary(processed(complete_facts()).report)
    assert "line 1  bortezomib (proteasome inhibitor; received)  2019-03 to 2020-01  p.2" in text
    assert "! W_LOW_CONFIDENCE: page 3 read with low confidence (page 3)" in text


def test_plain_text_fits_a_terminal() -> None:
    text = render_summary(processed(complete_facts(age=None, therapies=ALL_LINES_FACTS)).report)
    lines = text.splitlines()
    assert all(line.isprintable() for line in lines)
    assert max(len(line) for line in lines if not line.startswith("Policy:")) <= 100
    assert "\x1b[" not in text  # no colour codes: it may be piped to a file


def test_unknown_policy_falls_back_to_criterion_ids() -> None:
    report = processed(complete_facts()).report
    odd = report.model_copy(
        update={"policy": PolicyInfo(id="retired-policy", title="Retired"), "determination_reason": ""}
    )
    text = render_summary(odd)
    assert "[MET] no prior car t" in text and "DETERMINATION: CRITERIA MET" in text


def test_a_denied_car_t_is_not_listed_as_a_therapy_received() -> None:
    text = render_summary(processed(complete_facts()).report)
    assert "car-t cell therapy (car t; stated NOT received)" in text


REASONS = [
    ("met", complete_facts(), "Every criterion is met on located evidence."),
    ("gap", complete_facts(age=None), "Not documented: Age 18 or older."),
    ("review", complete_facts(age=SHAKY_AGE), "A reviewer must confirm: Age 18 or older."),
]


@pytest.mark.parametrize(("facts", "reason"), [r[1:] for r in REASONS], ids=[r[0] for r in REASONS])
def test_reason_is_derived_when_the_report_carries_none(facts, reason: str) -> None:
    report = processed(facts).report.model_copy(update={"determination_reason": ""})
    assert reason in render_summary(report)
