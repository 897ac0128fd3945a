"""The Carvykti policy's rules, each trap a row: lab thresholds within a window (units,
dates, OCR), the either/or of measurable disease and progression, any anti-BCMA therapy,
CNS as a stated negative, the prescriber's specialty, and a line count of four."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from _carvykti_facts import (
    ABECMA,
    CARVYKTI,
    FOUR_LINES,
    HEME_ONC,
    NO_BCMA,
    NO_CNS,
    carvykti_facts,
    lab,
    last_dose,
    progression,
)
from _criteria_facts import ev, history, therapy

from common.models import ClinicalFacts, PrescriberFact, SiteFinding, TargetStatement
from criteria.evaluator import evaluate
from criteria.policy import get_policy

POLICY = get_policy(CARVYKTI)


def status(facts: ClinicalFacts, criterion: str) -> str:
    return {c.id: c.status for c in evaluate(facts, POLICY).criteria}[criterion]


def result(facts: ClinicalFacts, criterion: str):  # type: ignore[no-untyped-def]
    return next(c for c in evaluate(facts, POLICY).criteria if c.id == criterion)


def test_the_complete_request_meets_every_criterion() -> None:
    report = evaluate(carvykti_facts(), POLICY)
    assert {c.id: c.status for c in report.criteria} == {c.id: "met" for c in POLICY.criteria}
    assert report.determination == "criteria_met"


MEASURABLE = [
    # (trap, labs, events, expected status of measurable_disease)
    ("serum M-protein 2.1 g/dL 12 days before", (lab("serum_m_protein", 2.1, "g/dL"),), (), "met"),
    ("exactly at the threshold", (lab("serum_m_protein", 1.0, "g/dL"),), (), "met"),
    ("1,200 mg/dL is 1.2 g/dL", (lab("serum_m_protein", 1200, "mg/dL"),), (), "met"),
    # serum under the threshold says nothing of urine, FLC or progression: a gap, not a failure
    (
        "under the threshold, the other ways unknown",
        (lab("serum_m_protein", 0.6, "g/dL"),),
        (),
        "not_documented",
    ),
    (
        "serum under, urine over: met by urine",
        (lab("serum_m_protein", 0.4, "g/dL"), lab("urine_m_protein", 350, "mg/24h")),
        (),
        "met",
    ),
    ("urine 0.35 g/24h is 350 mg/24h", (lab("urine_m_protein", 0.35, "g/24h"),), (), "met"),
    (
        "too old (2026-08-01, 74 days): a gap, not a failure",
        (lab("serum_m_protein", 2.1, "g/dL", "2026-08-01"),),
        (),
        "not_documented",
    ),
    ("no collection date: a gap", (lab("serum_m_protein", 2.1, "g/dL", None),), (), "not_documented"),
    (
        "a month only, that may be older than 30 days",
        (lab("serum_m_protein", 2.1, "g/dL", "2026-09"),),
        (),
        "not_documented",
    ),
    ("no unit written: never guessed", (lab("serum_m_protein", 2.1, None),), (), "not_documented"),
    (
        "under the threshold but a unitless value on file could reach it",
        (lab("serum_m_protein", 0.6, "g/dL"), lab("serum_m_protein", 2.1, None)),
        (),
        "not_documented",
    ),
    ("'<0.1 g/dL' is under", (lab("serum_m_protein", 0.1, "g/dL", comparator="<"),), (), "not_documented"),
    (
        "involved FLC 180 mg/L with an abnormal ratio",
        (lab("serum_m_protein", 0.2, "g/dL"), lab("involved_flc", 180, "mg/L"), lab("flc_ratio", 30.0, None)),
        (),
        "met",
    ),
    (
        "involved FLC 18 mg/dL (180 mg/L) with a flagged ratio",
        (lab("involved_flc", 18, "mg/dL"), lab("flc_ratio", 1.2, None, flag="high")),
        (),
        "met",
    ),
    (
        "involved FLC high but the ratio normal: the FLC way fails, the others are unknown",
        (lab("involved_flc", 180, "mg/L"), lab("flc_ratio", 1.2, None)),
        (),
        "not_documented",
    ),
    (
        "no labs, progression 20 days after the last dose",
        (),
        (progression("2026-09-01"), last_dose("2026-08-12")),
        "met",
    ),
    ("no labs, progression on the last regimen", (), (progression("2026-08", on=("isatuximab",)),), "met"),
    (
        "no labs, progression 90 days after the last dose: (b) not met, (a) unknown",
        (),
        (progression("2026-11-10"), last_dose("2026-08-12")),
        "not_documented",
    ),
    (
        "no labs, progression with no last dose known beyond the line's end",
        (),
        (progression("2026-09-15"),),
        "met",
    ),
    ("nothing at all", (), (), "not_documented"),
]


@pytest.mark.parametrize(
    ("labs", "events", "expected"), [m[1:] for m in MEASURABLE], ids=[m[0] for m in MEASURABLE]
)
def test_measurable_disease(labs: tuple, events: tuple, expected: str) -> None:
    assert status(carvykti_facts(labs=labs, events=events), "measurable_disease") == expected


def test_serum_under_the_threshold_is_named_in_the_reason() -> None:
    r = result(carvykti_facts(labs=(lab("serum_m_protein", 0.6, "g/dL"),)), "measurable_disease")
    assert "is under 1 g/dL: 0.6 g/dL, collected 2026-10-02" in r.reason


def test_all_labs_under_threshold_and_progression_too_late_is_not_met() -> None:
    facts = carvykti_facts(
        labs=(
            lab("serum_m_protein", 0.3, "g/dL"),
            lab("urine_m_protein", 50, "mg/24h"),
            lab("involved_flc", 40, "mg/L"),
            lab("flc_ratio", 3.0, None),
        ),
        events=(progression("2026-11-10"), last_dose("2026-08-12")),
    )
    assert status(facts, "measurable_disease") == "not_met"


def test_a_value_read_with_low_confidence_needs_review_and_never_meets_silently() -> None:
    facts = carvykti_facts(labs=(lab("serum_m_protein", 2.1, "g/dL", conf=0.3),))
    r = result(facts, "measurable_disease")
    assert r.status == "met" and r.needs_review
    assert evaluate(facts, POLICY).determination == "needs_information"


def test_a_value_the_reader_flagged_needs_review_however_confident_its_words() -> None:
    """A lab whose name OCR damaged ("M-spjke 10") is read and flagged; its words may be
    confident and its decimal point lost, so it never makes "criteria met" on its own."""
    flagged = lab("serum_m_protein", 10.0, "g/dL", conf=0.95).model_copy(update={"needs_review": True})
    facts = carvykti_facts(labs=(flagged,))
    r = result(facts, "measurable_disease")
    assert r.status == "met" and r.needs_review and "flagged" in r.reason
    assert evaluate(facts, POLICY).determination == "needs_information"
    # an unflagged value beside it is the one the criterion rests on
    both = carvykti_facts(labs=(flagged, lab("serum_m_protein", 2.1, "g/dL", conf=0.95)))
    assert not result(both, "measurable_disease").needs_review


def test_a_gap_names_what_to_send() -> None:
    report = evaluate(carvykti_facts(labs=(lab("serum_m_protein", 2.1, "g/dL", None),)), POLICY)
    assert any("collection date of the serum M-protein result" in m for m in report.missing)
    assert any("within 30 days of the request" in m for m in report.missing)


def test_recency_is_measured_against_the_date_of_the_request() -> None:
    fresh = carvykti_facts(date_of_service="2026-10-14")
    late = carvykti_facts(date_of_service="2026-12-14")
    assert status(fresh, "measurable_disease") == "met"
    assert status(late, "measurable_disease") == "not_documented"


def test_a_request_with_no_date_is_not_dated_by_its_newest_document() -> None:
    """The text rendering of a packet whose cover sheet alone gave the date: the newest
    document (a tumor board two days after the labs) dates the packet no later than the
    request, so counting from it could only make the labs look fresher than they are, a
    wrong 'met' waiting to happen.  The gap names the one date the reviewer must supply
    and the day until which the results are recent enough."""
    facts = carvykti_facts(date_of_service=None, request_date=None)
    r = result(facts, "measurable_disease")
    assert r.status == "not_documented"
    assert "it is recent enough if the request was made by 2026-11-01" in r.reason
    report = evaluate(facts, POLICY)
    assert report.determination == "needs_information"
    asked = [m for m in report.missing if m.startswith("The date the request was made or received")]
    assert asked and "2026-11-01" in asked[0]


def test_a_request_dated_nowhere_is_dated_by_its_receipt() -> None:
    """In utilization management a request is dated by its receipt: the intake queue
    knows the day the fax arrived (not read from the documents).  Recency falls back to
    it, and the reason says so; labs older than the window against the receipt stay a gap
    (the request may have been made earlier), never a 'not met'."""
    fresh = carvykti_facts(date_of_service=None, request_date=None, received="2026-10-20")
    r = result(fresh, "measurable_disease")
    assert r.status == "met"
    assert "received (2026-10-20" in r.reason
    late = carvykti_facts(date_of_service=None, request_date=None, received="2026-12-20")
    assert status(late, "measurable_disease") == "not_documented"
    # a stated date of service wins over the receipt
    stated = carvykti_facts(date_of_service="2026-12-14", request_date=None, received="2026-10-20")
    assert status(stated, "measurable_disease") == "not_documented"


BCMA = [
    ("a target statement of none", (NO_BCMA,), (), "met"),
    ("belantamab received", (NO_BCMA,), (therapy("belantamab mafodotin", 3, start="2023-01"),), "not_met"),
    ("a BCMA bispecific received", (), (therapy("teclistamab", 4, start="2024-06"),), "not_met"),
    (
        "a BCMA CAR-T received (cilta-cel on a trial)",
        (),
        (therapy("ciltacabtagene autoleucel", 4, start="2024-06", trial=True),),
        "not_met",
    ),
    (
        "'BCMA-refractory' stated, no drug named",
        (TargetStatement(target="BCMA", text="BCMA-refractory", evidence=(ev(1, "BCMA-refractory"),)),),
        (),
        "not_met",
    ),
    ("'no prior CAR-T' alone says nothing of a bispecific", (), (), "not_documented"),
    (
        "denying one drug is not denying the target",
        (),
        (therapy("belantamab mafodotin", assertion="negated"),),
        "not_documented",
    ),
    (
        "a GPRC5D bispecific is not anti-BCMA",
        (NO_BCMA,),
        (therapy("talquetamab", 4, start="2024-06"),),
        "met",
    ),
    (
        "a planned bispecific is not prior therapy",
        (NO_BCMA,),
        (therapy("teclistamab", assertion="planned"),),
        "met",
    ),
]


@pytest.mark.parametrize(("statements", "extra", "expected"), [b[1:] for b in BCMA], ids=[b[0] for b in BCMA])
def test_no_prior_anti_bcma_therapy(statements: tuple, extra: tuple, expected: str) -> None:
    base = carvykti_facts(target_statements=statements)
    facts = base.model_copy(update={"therapies": base.therapies + extra})
    assert status(facts, "no_prior_bcma_therapy") == expected


def test_the_same_bcma_car_t_fails_both_exclusions() -> None:
    base = carvykti_facts()
    facts = base.model_copy(
        update={"therapies": (*base.therapies, therapy("idecabtagene vicleucel", 4, start="2025-01"))}
    )
    report = evaluate(facts, POLICY)
    statuses = {c.id: c.status for c in report.criteria}
    assert statuses["no_prior_bcma_therapy"] == statuses["no_prior_car_t"] == "not_met"
    # the no-prior-CAR-T denial beside the infusion is a contradiction for the provider
    assert report.determination == "needs_information"


CNS = [
    ("stated absent", (NO_CNS,), "met"),
    (
        "CNS myeloma in the history",
        (
            SiteFinding(
                site="cns", kind="involvement", text="CNS myeloma", evidence=(ev(1, "h/o CNS myeloma"),)
            ),
        ),
        "not_met",
    ),
    (
        "a seizure, which the policy gives as an example",
        (NO_CNS, SiteFinding(site="cns", kind="event", text="seizure", evidence=(ev(1, "seizure 2024"),))),
        "not_met",
    ),
    (
        "only 'no seizures': the site is not said to be free",
        (
            SiteFinding(
                site="cns",
                kind="event",
                text="seizures",
                assertion="negated",
                evidence=(ev(1, "no seizures"),),
            ),
        ),
        "not_documented",
    ),
    (
        "seizure prophylaxis is discussed, not had",
        (
            SiteFinding(
                site="cns",
                kind="event",
                text="seizure",
                assertion="discussed",
                evidence=(ev(1, "seizure prophylaxis"),),
            ),
        ),
        "not_documented",
    ),
    (
        "a relative's stroke",
        (
            NO_CNS,
            SiteFinding(
                site="cns",
                kind="event",
                text="stroke",
                assertion="family",
                evidence=(ev(1, "mother: stroke"),),
            ),
        ),
        "met",
    ),
    ("silence", (), "not_documented"),
]


@pytest.mark.parametrize(("sites", "expected"), [c[1:] for c in CNS], ids=[c[0] for c in CNS])
def test_no_cns_involvement(sites: tuple, expected: str) -> None:
    assert status(carvykti_facts(sites=sites), "no_cns_involvement") == expected


def test_a_denial_of_the_present_does_not_contradict_a_history_of_cns_disease() -> None:
    """ "No active CNS disease at present" in the letter, leptomeningeal myeloma treated in
    2024 on the enclosed CSF report: the policy bars active or prior involvement, so it is
    not met; before, the two read as a contradiction and the request went to "needs
    information".  A denial that covers the history too still contradicts it."""
    found = SiteFinding(
        site="cns",
        kind="involvement",
        text="leptomeningeal myeloma",
        evidence=(ev(4, "POSITIVE FOR MALIGNANT CELLS ... LEPTOMENINGEAL MYELOMA"),),
    )
    now = SiteFinding(
        site="cns",
        kind="involvement",
        text="CNS disease",
        assertion="negated",
        evidence=(ev(2, "no active CNS disease at present"),),
        current_only=True,
    )
    report = evaluate(carvykti_facts(sites=(found, now)), POLICY)
    assert report.determination == "criteria_not_met"
    ever = now.model_copy(update={"current_only": False})
    assert evaluate(carvykti_facts(sites=(found, ever)), POLICY).determination == "needs_information"


def _p(specialty: str, role: str) -> PrescriberFact:
    return PrescriberFact.model_validate(
        {"specialty": specialty, "role": role, "text": specialty, "evidence": (ev(4, specialty),)}
    )


PRESCRIBER = [
    ("a hematologist/oncologist signs", (HEME_ONC,), "met"),
    ("an oncology practice's letterhead", (_p("oncology", "letterhead"),), "met"),
    (
        "a family physician in consultation with a hematologist",
        (_p("family_medicine", "prescriber"), _p("hematology", "consultant")),
        "met",
    ),
    # the policy accepts a consultation: one that is not named is not documented (a request
    # to the provider), never "not met" on silence
    (
        "a family physician alone",
        (_p("family_medicine", "prescriber"), _p("family_medicine", "letterhead")),
        "not_documented",
    ),
    (
        "a referring PCP says nothing of the prescriber",
        (_p("family_medicine", "referring"),),
        "not_documented",
    ),
    (
        "a family physician who says no specialist was consulted",
        (_p("family_medicine", "prescriber"), _p("oncology", "no_consultation")),
        "not_met",
    ),
    ("nothing said", (), "not_documented"),
]


@pytest.mark.parametrize(("found", "expected"), [p[1:] for p in PRESCRIBER], ids=[p[0] for p in PRESCRIBER])
def test_prescriber_specialty(found: tuple, expected: str) -> None:
    assert status(carvykti_facts(prescribers=found), "prescriber") == expected


THREE_LINES = FOUR_LINES[:3]


def test_the_same_history_under_each_policy_gets_what_each_calls_for() -> None:
    """Three dated lines with the three classes, labs and exclusions in order: Abecma's
    2-line policy is met; Carvykti's 4-line policy is not (a complete history, one short)."""
    facts = carvykti_facts(*THREE_LINES)
    abecma = evaluate(facts, get_policy(ABECMA))
    carvykti = evaluate(facts, POLICY)
    assert abecma.determination == "criteria_met"
    assert carvykti.determination == "criteria_not_met"
    assert [c.id for c in carvykti.criteria if c.status != "met"] == ["prior_lines"]
    # with four lines, both are met
    four = carvykti_facts()
    assert evaluate(four, get_policy(ABECMA)).determination == "criteria_met"
    assert evaluate(four, POLICY).determination == "criteria_met"


def test_a_partial_history_is_a_gap_not_a_failure() -> None:
    """The lead's history fact says partial: three lines are 'not documented', never 'not met'."""
    from common.models import HistoryFact

    facts = carvykti_facts(*THREE_LINES, history=HistoryFact(status="partial", reason="records to follow"))
    assert status(facts, "prior_lines") == "not_documented"
    complete = carvykti_facts(*THREE_LINES, history=HistoryFact(status="complete", reason="titled history"))
    assert status(complete, "prior_lines") == "not_met"


def test_a_count_that_numbers_the_phases_of_a_line_does_not_carry_the_lines() -> None:
    """ "Five prior lines" beside a complete history numbered 1 VRd, 2 ASCT, 3 len maintenance,
    4 DPd, 5 Kd: three lines by the policy's own definition.  The stated count carried the
    criterion, a wrong "met"; now it is not met, for a human to confirm."""
    from common.models import HistoryFact

    three = FOUR_LINES[:3]
    facts = carvykti_facts(
        *three,
        stated_prior_lines=5,
        stated_prior_lines_evidence=(ev(2, "five prior lines of therapy"),),
        history=HistoryFact(status="complete", reason="numbered as lines"),
    )
    first = facts.lines[0].model_copy(update={"phases_numbered": 2})
    facts = facts.model_copy(update={"lines": (first, *facts.lines[1:])})
    got = result(facts, "prior_lines")
    assert (got.status, got.needs_review) == ("not_met", True)
    assert "by IMWG rules it lists 3" in got.reason
    # the same count with no phases numbered is the office's count of lines this reading
    # may have missed: it still carries the criterion
    plain = carvykti_facts(
        *three, stated_prior_lines=5, stated_prior_lines_evidence=(ev(2, "five prior lines of therapy"),)
    )
    assert status(plain, "prior_lines") == "met"


def test_a_concurrent_car_t_holds_back_criteria_met() -> None:
    from common.models import Finding

    facts = carvykti_facts(
        findings=(
            Finding(
                key="concurrent_car_t", text="together with Abecma", evidence=(ev(2, "together with Abecma"),)
            ),
        )
    )
    report = evaluate(facts, POLICY)
    assert report.determination == "needs_information"
    assert {lim.id: lim.status for lim in report.limitations}["not_concurrent_with_other_car_t"] == "conflict"


def test_lines_for_another_disease_are_not_counted_toward_four() -> None:
    base = history(*FOUR_LINES[:3], (("rituximab", "cyclophosphamide", "vincristine"), "2014-03", "2014-08"))
    facts = carvykti_facts(*FOUR_LINES[:3]).model_copy(update=base)
    report = evaluate(facts, POLICY)
    assert {c.id: c.status for c in report.criteria}["prior_lines"] != "met"
    assert [line.other_disease for line in report.lines] == [False, False, False, True]


SUMMARY = Path("/work/shared/policy/carvykti-qualchoice-bi699-2023-08.md")


def test_the_file_has_the_summarys_report_ids_in_order_with_dates_codes_and_source() -> None:
    assert [c.id for c in POLICY.criteria] == [
        "diagnosis",
        "prescriber",
        "age",
        "measurable_disease",
        "prior_lines",
        "imid_exposure",
        "pi_exposure",
        "anti_cd38_exposure",
        "no_cns_involvement",
        "no_prior_bcma_therapy",
        "no_prior_car_t",
    ]
    assert POLICY.effective.isoformat() == "2023-08-01" and POLICY.revision_date == POLICY.effective
    assert {c.code for c in POLICY.codes} == {"C9098", "Q2056"}
    assert POLICY.provenance.url and "BI699" in POLICY.provenance.url
    assert len(POLICY.notes) >= 5 and all(c.policy_text for c in POLICY.criteria)
    assert {lim.id for lim in POLICY.limitations} >= {"initial_dose_only", "not_concurrent_with_other_car_t"}


@pytest.mark.skipif(not SUMMARY.exists(), reason="shared policy summary not present")
def test_every_report_id_of_the_summary_is_a_criterion() -> None:
    ids = re.findall(r"^\| `([a-z0-9_]+)` \|", SUMMARY.read_text(encoding="utf-8"), flags=re.M)
    assert ids == [c.id for c in POLICY.criteria]


def test_a_policy_without_consultation_is_not_met_by_another_specialty_alone() -> None:
    """Where the policy does not accept "in consultation with", the prescriber's own other
    specialty shows the criterion fails."""
    criteria = tuple(
        c.model_copy(update={"rule": c.rule.model_copy(update={"consultation": False})})
        if c.id == "prescriber"
        else c
        for c in POLICY.criteria
    )
    strict = POLICY.model_copy(update={"criteria": criteria})
    found = (_p("family_medicine", "prescriber"), _p("family_medicine", "letterhead"))
    report = evaluate(carvykti_facts(prescribers=found), strict)
    assert next(c.status for c in report.criteria if c.id == "prescriber") == "not_met"
