"""The evaluator, as a list of the traps it handles.  Facts are built by hand: no OCR here."""

from __future__ import annotations

import pytest
from _criteria_facts import (
    DRD,
    KD,
    KPD,
    MYELOMA,
    NO_CAR_T,
    RELAPSED,
    VRD,
    complete_facts,
    ev,
    history,
    therapy,
)

from common.models import (
    AgeFact,
    ClinicalFacts,
    DiagnosisFact,
    Finding,
    HistoryFact,
    LineOfTherapy,
    StatusFact,
    Therapy,
)
from criteria.evaluator import evaluate
from criteria.policy import select_policy

CURRENT = select_policy(policy_id="carepartners-ct-abecma-2025-09", date_of_service=None)
EARLIER = select_policy(policy_id="carepartners-ct-abecma-2023-01-label-4l", date_of_service=None)


def status_of(facts: ClinicalFacts, criterion: str, policy=CURRENT) -> str:
    report = evaluate(facts, policy)
    return next(c.status for c in report.criteria if c.id == criterion)


def test_complete_request_is_criteria_met() -> None:
    report = evaluate(complete_facts(), CURRENT)
    assert [c.status for c in report.criteria] == ["met"] * len(CURRENT.criteria)
    assert report.determination == "criteria_met"
    assert report.missing == ()
    assert not any(c.needs_review for c in report.criteria)


LYMPHOMA = DiagnosisFact(
    concept="diffuse_large_b_cell_lymphoma",
    is_target=False,
    text="DLBCL",
    evidence=(ev(1, "DLBCL"),),
)
PROGRESSION = StatusFact(
    status="progressive", text="progression on KPd", evidence=(ev(2, "progression on KPd"),)
)
REFRACTORY = StatusFact(status="Refractory", text="refractory", evidence=(ev(2, "refractory to KPd"),))
ALL_LINES = complete_facts().therapies[:-1]  # without the "no prior CAR-T" statement

TRAPS = [
    # (trap, criterion, facts, expected status)
    (
        "bispecific is not CAR-T",
        "no_prior_car_t",
        complete_facts(therapies=(*ALL_LINES, therapy("teclistamab", 4, start="2024-06"))),
        "not_documented",
    ),
    (
        "bispecific beside a 'no prior CAR-T' statement",
        "no_prior_car_t",
        complete_facts(therapies=(*ALL_LINES, therapy("teclistamab", 4, start="2024-06"), NO_CAR_T)),
        "met",
    ),
    (
        "planned CAR-T is not prior CAR-T",
        "no_prior_car_t",
        complete_facts(therapies=(*ALL_LINES, therapy("idecabtagene vicleucel", assertion="planned"))),
        "not_documented",
    ),
    (
        "family history of CAR-T",
        "no_prior_car_t",
        complete_facts(therapies=(*ALL_LINES, therapy("car-t", assertion="family"))),
        "not_documented",
    ),
    (
        "uncertain CAR-T mention",
        "no_prior_car_t",
        complete_facts(therapies=(*ALL_LINES, therapy("car-t", assertion="uncertain"))),
        "not_documented",
    ),
    (
        "silence about CAR-T is not 'no prior CAR-T'",
        "no_prior_car_t",
        complete_facts(therapies=ALL_LINES),
        "not_documented",
    ),
    ("'no prior CAR-T' stated", "no_prior_car_t", complete_facts(), "met"),
    (
        "CAR-T received in a clinical trial",
        "no_prior_car_t",
        complete_facts(
            therapies=(*ALL_LINES, therapy("ciltacabtagene autoleucel", 4, start="2023", trial=True))
        ),
        "not_met",
    ),
    (
        "CAR-T received",
        "no_prior_car_t",
        complete_facts(therapies=(*ALL_LINES, therapy("idecabtagene vicleucel", 4, start="2023-05"))),
        "not_met",
    ),
    (
        "age 17",
        "age",
        complete_facts(age=AgeFact(years=17, how="stated", evidence=(ev(1, "17 yo"),))),
        "not_met",
    ),
    (
        "age 18 exactly",
        "age",
        complete_facts(age=AgeFact(years=18, how="from_date_of_birth", evidence=(ev(1, "DOB"),))),
        "met",
    ),
    (
        "a form's 'at least 18' answered yes",
        "age",
        complete_facts(age=AgeFact(years=18, how="at_least", evidence=(ev(1, "18 years of age"),))),
        "met",
    ),
    ("no age", "age", complete_facts(age=None), "not_documented"),
    ("lymphoma only", "diagnosis", complete_facts(diagnoses=(LYMPHOMA,)), "not_met"),
    ("myeloma with a lymphoma history", "diagnosis", complete_facts(diagnoses=(MYELOMA, LYMPHOMA)), "met"),
    (
        "negated myeloma, nothing else",
        "diagnosis",
        complete_facts(diagnoses=(MYELOMA.model_copy(update={"assertion": "negated"}),)),
        "not_documented",
    ),
    (
        "family history of myeloma, member has lymphoma",
        "diagnosis",
        complete_facts(diagnoses=(MYELOMA.model_copy(update={"assertion": "family"}), LYMPHOMA)),
        "not_met",
    ),
    (
        "possible myeloma beside a lymphoma",
        "diagnosis",
        complete_facts(diagnoses=(MYELOMA.model_copy(update={"assertion": "uncertain"}), LYMPHOMA)),
        "not_documented",
    ),
    ("no diagnosis at all", "diagnosis", complete_facts(diagnoses=()), "not_documented"),
    (
        "myeloma without relapsed/refractory status",
        "diagnosis",
        complete_facts(disease_status=()),
        "not_documented",
    ),
    (
        "myeloma in remission only",
        "diagnosis",
        complete_facts(disease_status=(StatusFact(status="remission", text="CR", evidence=(ev(1, "CR"),)),)),
        "not_documented",
    ),
    (
        "negated relapse",
        "diagnosis",
        complete_facts(disease_status=(RELAPSED.model_copy(update={"assertion": "negated"}),)),
        "not_documented",
    ),
    (
        "progression after the last line counts as relapsed",
        "diagnosis",
        complete_facts(disease_status=(PROGRESSION,)),
        "met",
    ),
    ("status written in capitals", "diagnosis", complete_facts(disease_status=(REFRACTORY,)), "met"),
    (
        "ICD-10 C90.02 (in relapse) carries the status",
        "diagnosis",
        complete_facts(disease_status=(), diagnoses=(MYELOMA.model_copy(update={"icd10": "C90.02"}),)),
        "met",
    ),
    (
        "ICD-10 C90.00 does not carry the status",
        "diagnosis",
        complete_facts(disease_status=(), diagnoses=(MYELOMA.model_copy(update={"icd10": "C90.00"}),)),
        "not_documented",
    ),
    (
        "2 fully documented lines without anti-CD38",
        "anti_cd38_exposure",
        complete_facts(**history((VRD, "2019-03", "2020-01"), (KPD, "2020-06", "2022-02"))),
        "not_met",
    ),
    (
        "2 fully documented lines without anti-CD38: the count is met",
        "prior_lines",
        complete_facts(**history((VRD, "2019-03", "2020-01"), (KPD, "2020-06", "2022-02"))),
        "met",
    ),
    (
        "1 line without dates: count not documented",
        "prior_lines",
        complete_facts(**history((VRD, None, None))),
        "not_documented",
    ),
    (
        "1 line without dates: missing class not documented",
        "anti_cd38_exposure",
        complete_facts(**history((VRD, None, None))),
        "not_documented",
    ),
    (
        "1 line without dates: dates not documented",
        "line_dates",
        complete_facts(**history((VRD, None, None))),
        "not_documented",
    ),
    (
        "1 dated line, history complete",
        "prior_lines",
        complete_facts(**history((DRD, "2021-01", None))),
        "not_met",
    ),
    (
        "1 dated line but 4 prior lines stated",
        "prior_lines",
        complete_facts(
            **history((DRD, "2021-01", None)),
            stated_prior_lines=4,
            stated_prior_lines_evidence=(ev(1, "4 prior LOT"),),
        ),
        "met",
    ),
    (
        "1 dated line but 4 prior lines stated: class absence not concluded",
        "pi_exposure",
        complete_facts(
            **history((DRD, "2021-01", None)),
            stated_prior_lines=4,
            stated_prior_lines_evidence=(ev(1, "4 prior LOT"),),
        ),
        "not_documented",
    ),
    (
        "4 prior lines stated, 2 listed: the listed lines carry the dates the policy asks for",
        "line_dates",
        complete_facts(
            **history((DRD, "2021-01", "2022-01"), (KD, "2022-03", None)),
            stated_prior_lines=4,
            stated_prior_lines_evidence=(ev(1, "4 prior LOT"),),
        ),
        "met",
    ),
    (
        "'1 prior line' stated, none listed",
        "prior_lines",
        complete_facts(
            therapies=(), lines=(), stated_prior_lines=1, stated_prior_lines_evidence=(ev(1, "1 prior line"),)
        ),
        "not_met",
    ),
    ("no history at all", "prior_lines", complete_facts(therapies=(), lines=()), "not_documented"),
    (
        "no history at all: class exposure not documented",
        "imid_exposure",
        complete_facts(therapies=(), lines=()),
        "not_documented",
    ),
    (
        "planned lenalidomide is not exposure",
        "imid_exposure",
        complete_facts(therapies=(therapy("lenalidomide", assertion="planned"),), lines=()),
        "not_documented",
    ),
    (
        "a line whose drugs were not read (an unexpanded regimen) is not a complete history",
        "anti_cd38_exposure",
        complete_facts(**history(((), "2019", "2020"), (KPD, "2020-06", "2022-02"))),
        "not_documented",
    ),
    (
        "a dated history without a proteasome inhibitor, of drugs all known: not met",
        "pi_exposure",
        complete_facts(
            **history((("lenalidomide", "dexamethasone"), "2019-01", "2020-02"), (DRD, "2020-06", "2022-02"))
        ),
        "not_met",
    ),
    (
        "lines for another disease (a lymphoma's R-CHOP) are set aside: no myeloma history",
        "pi_exposure",
        complete_facts(
            therapies=history((("rituximab", "cyclophosphamide", "vincristine"), "2023-02", "2023-07"))[
                "therapies"
            ],
            lines=tuple(
                line.model_copy(update={"other_disease": True})
                for line in history((("rituximab", "cyclophosphamide", "vincristine"), "2023-02", "2023-07"))[
                    "lines"
                ]
            ),
        ),
        "not_documented",
    ),
    (
        "a start date written but not legible ('10/2081') still dates the line",
        "line_dates",
        complete_facts(
            lines=tuple(
                line.model_copy(update={"start": None, "start_unreadable": "10/2081"})
                if line.number == 3
                else line
                for line in complete_facts().lines
            )
        ),
        "met",
    ),
    (
        "a class only possibly given (blinded arm, allergy list) is not 'never given'",
        "anti_cd38_exposure",
        complete_facts(
            therapies=(
                *history((VRD, "2019", "2020"), (KD, "2021", "2022"))["therapies"],
                therapy("daratumumab", assertion="uncertain"),
            ),
            lines=history((VRD, "2019", "2020"), (KD, "2021", "2022"))["lines"],
        ),
        "not_documented",
    ),
    (
        "a line with an end but no start date",
        "line_dates",
        complete_facts(**history((DRD, None, "2021-01"), (KPD, "2021-03", None))),
        "not_documented",
    ),
    (
        "numbered history skips line 1 (its regimen was not read): dates not documented",
        "line_dates",
        complete_facts(lines=tuple(line for line in complete_facts().lines if line.number != 1)),
        "not_documented",
    ),
    (
        "numbered history skips line 1: lines 2 and 3 still prove three prior lines",
        "prior_lines",
        complete_facts(lines=tuple(line for line in complete_facts().lines if line.number != 1)),
        "met",
    ),
]


@pytest.mark.parametrize(
    ("criterion", "facts", "expected"), [t[1:] for t in TRAPS], ids=[t[0] for t in TRAPS]
)
def test_trap(criterion: str, facts: ClinicalFacts, expected: str) -> None:
    assert status_of(facts, criterion) == expected


DETERMINATIONS = [
    ("everything met", complete_facts(), "criteria_met"),
    ("one gap", complete_facts(age=None), "needs_information"),
    (
        "prior CAR-T",
        complete_facts(therapies=(*ALL_LINES, therapy("car-t", 4, start="2023"))),
        "criteria_not_met",
    ),
    ("not met beats not documented", complete_facts(age=None, diagnoses=(LYMPHOMA,)), "criteria_not_met"),
    (
        "CAR-T both received and denied: reviewer resolves",
        complete_facts(therapies=(*ALL_LINES, NO_CAR_T, therapy("car-t", 4, start="2023"))),
        "needs_information",
    ),
]


@pytest.mark.parametrize(
    ("facts", "expected"), [d[1:] for d in DETERMINATIONS], ids=[d[0] for d in DETERMINATIONS]
)
def test_determination(facts: ClinicalFacts, expected: str) -> None:
    report = evaluate(facts, CURRENT)
    assert report.determination == expected
    assert report.determination_reason


LOW = 0.3  # an OCR confidence under the 0.6 threshold
LOW_CONFIDENCE = [
    (
        "age read badly",
        "age",
        complete_facts(age=AgeFact(years=67, how="stated", evidence=(ev(1, "6?", LOW),))),
    ),
    (
        "'no CAR-T' read badly",
        "no_prior_car_t",
        complete_facts(therapies=(*ALL_LINES, therapy("car-t cell therapy", assertion="negated", conf=LOW))),
    ),
    (
        "myeloma read badly",
        "diagnosis",
        complete_facts(diagnoses=(MYELOMA.model_copy(update={"evidence": (ev(1, "myel0ma", LOW),)}),)),
    ),
    (
        "evidence without a box",
        "age",
        complete_facts(
            age=AgeFact(years=67, how="stated", evidence=(ev(1, "67").model_copy(update={"bbox": None}),))
        ),
    ),
]


@pytest.mark.parametrize(
    ("criterion", "facts"), [t[1:] for t in LOW_CONFIDENCE], ids=[t[0] for t in LOW_CONFIDENCE]
)
def test_low_confidence_evidence_needs_review_and_never_criteria_met(
    criterion: str, facts: ClinicalFacts
) -> None:
    report = evaluate(facts, CURRENT, low_confidence=0.6)
    result = next(c for c in report.criteria if c.id == criterion)
    assert result.needs_review
    assert "reviewer" in result.reason
    assert report.determination == "needs_information"
    assert "confirm" in report.determination_reason


LOW_CONFIDENCE_NOT_MET = [
    (
        "age 17 read badly",
        "age",
        complete_facts(age=AgeFact(years=17, how="stated", evidence=(ev(1, "17", LOW),))),
    ),
    (
        "'s/p cilta-cel' read badly",
        "no_prior_car_t",
        complete_facts(
            therapies=(*ALL_LINES, therapy("ciltacabtagene autoleucel", 4, start="2023", conf=LOW))
        ),
    ),
]


@pytest.mark.parametrize(
    ("criterion", "facts"),
    [t[1:] for t in LOW_CONFIDENCE_NOT_MET],
    ids=[t[0] for t in LOW_CONFIDENCE_NOT_MET],
)
def test_low_confidence_not_met_recommends_not_met_and_names_what_to_confirm(
    criterion: str, facts: ClinicalFacts
) -> None:
    """Any criterion not met makes the recommendation "not met"; a person confirms it before a denial."""
    report = evaluate(facts, CURRENT, low_confidence=0.6)
    result = next(c for c in report.criteria if c.id == criterion)
    assert result.status == "not_met" and result.needs_review
    assert report.determination == "criteria_not_met"
    assert "must confirm" in report.determination_reason


def test_low_confidence_asks_for_a_legible_copy_of_the_page() -> None:
    report = evaluate(LOW_CONFIDENCE[0][2], CURRENT)
    assert any(m.startswith("A legible copy of page 1") for m in report.missing)


def test_one_readable_source_is_enough() -> None:
    """A second, clear mention of the same fact removes the need for review."""
    age = AgeFact(years=67, how="stated", evidence=(ev(1, "6?", LOW), ev(3, "67-year-old")))
    report = evaluate(complete_facts(age=age), CURRENT)
    assert report.determination == "criteria_met"


def test_prior_lines_prefers_the_readable_lines() -> None:
    facts = complete_facts()
    shaky_first = facts.lines[0].model_copy(update={"evidence": (ev(2, "Line 1 VRd", LOW),)})
    report = evaluate(facts.model_copy(update={"lines": (shaky_first, *facts.lines[1:])}), CURRENT)
    prior = next(c for c in report.criteria if c.id == "prior_lines")
    assert prior.status == "met" and not prior.needs_review  # lines 2 and 3 carry the count of 2


def test_three_lines_met_under_2l_not_met_under_4l() -> None:
    facts = complete_facts()
    assert len(facts.lines) == 3
    assert status_of(facts, "prior_lines", CURRENT) == "met"
    assert status_of(facts, "prior_lines", EARLIER) == "not_met"
    assert evaluate(facts, CURRENT).determination == "criteria_met"
    assert evaluate(facts, EARLIER).determination == "criteria_not_met"


MISSING = [
    ("no age", complete_facts(age=None), "Member's age or date of birth"),
    (
        "no anti-CD38",
        complete_facts(**history((VRD, "2019-03", None), (KPD, None, None))),
        "Documentation of prior anti-CD38 antibody therapy",
    ),
    (
        "silent about CAR-T",
        complete_facts(therapies=ALL_LINES),
        "Statement of whether the member has received any prior CAR-T therapy, including in a clinical trial",
    ),
    (
        "undated first line",
        complete_facts(**history((DRD, None, None), (KPD, "2022-04", None))),
        "Start and end dates of the first line of therapy (daratumumab, lenalidomide, dexamethasone)",
    ),
    (
        "first line with an end but no start",
        complete_facts(**history((DRD, None, "2021"), (KPD, "2022-04", None))),
        "Start date of the first line of therapy (daratumumab, lenalidomide, dexamethasone)",
    ),
    ("no R/R status", complete_facts(disease_status=()), "relapsed or refractory"),
]


@pytest.mark.parametrize(("facts", "expected"), [m[1:] for m in MISSING], ids=[m[0] for m in MISSING])
def test_missing_names_the_gap_in_plain_language(facts: ClinicalFacts, expected: str) -> None:
    report = evaluate(facts, CURRENT)
    assert any(expected in m for m in report.missing), report.missing


def test_missing_has_no_duplicates_and_no_placeholders() -> None:
    report = evaluate(ClinicalFacts(), CURRENT)
    assert len(report.missing) == len(set(report.missing)) >= len(CURRENT.criteria) - 1
    assert not any("{" in m or "}" in m for m in report.missing)
    assert report.determination == "needs_information"


EVIDENCE_CASES = [*(t[2] for t in TRAPS), *(d[1] for d in DETERMINATIONS)]


@pytest.mark.parametrize("facts", EVIDENCE_CASES)
def test_every_met_or_not_met_cites_evidence_with_page_and_box(facts: ClinicalFacts) -> None:
    for policy in (CURRENT, EARLIER):
        for result in evaluate(facts, policy).criteria:
            if result.status in ("met", "not_met"):
                assert result.evidence, result
                assert all(e.page >= 1 and e.bbox is not None and e.text for e in result.evidence)


INFORMATIONAL = [
    ("attested", Finding(key="outpatient_attestation", text="x", evidence=(ev(4, "outpatient ok"),)), True),
    (
        "denied",
        Finding(key="outpatient_attestation", text="x", assertion="negated", evidence=(ev(4, "no"),)),
        False,
    ),
]


@pytest.mark.parametrize(
    ("finding", "present"), [i[1:] for i in INFORMATIONAL], ids=[i[0] for i in INFORMATIONAL]
)
def test_informational_findings_are_reported_outside_the_determination(
    finding: Finding, present: bool
) -> None:
    report = evaluate(complete_facts(findings=(finding,)), CURRENT)
    found = {f.id: f for f in report.findings}
    assert found["outpatient_attestation"].present is present
    assert found["outpatient_attestation"].evidence
    assert found["tocilizumab_available"].present is False
    assert found["tocilizumab_available"].reason == "Not found in the documentation."
    assert report.determination == "criteria_met"


def test_evaluate_is_pure() -> None:
    facts = complete_facts()
    before = facts.model_dump()
    assert evaluate(facts, CURRENT) == evaluate(facts, CURRENT)
    assert facts.model_dump() == before


def test_line_without_evidence_falls_back_to_its_therapies() -> None:
    facts = complete_facts()
    bare = tuple(LineOfTherapy(**{**line.model_dump(), "evidence": ()}) for line in facts.lines)
    report = evaluate(facts.model_copy(update={"lines": bare}), CURRENT)
    dates = next(c for c in report.criteria if c.id == "line_dates")
    assert dates.status == "met" and not dates.needs_review and dates.evidence


REPEAT = Finding(
    key="repeat_infusion", text="second infusion of ide-cel", evidence=(ev(4, "second infusion"),)
)


def test_a_request_for_a_second_infusion_holds_back_criteria_met() -> None:
    report = evaluate(complete_facts(findings=(REPEAT,)), CURRENT)
    assert all(c.status == "met" for c in report.criteria)
    assert report.determination == "needs_information"
    assert "one infusion" in report.determination_reason or "limitation" in report.determination_reason
    clash = next(lim for lim in report.limitations if lim.id == "one_time_infusion")
    assert clash.status == "conflict" and clash.evidence[0].page == 4


def test_a_denied_repeat_infusion_is_no_conflict() -> None:
    denied = REPEAT.model_copy(update={"assertion": "negated"})
    report = evaluate(complete_facts(findings=(denied,)), CURRENT)
    assert report.determination == "criteria_met"
    assert {lim.id: lim.status for lim in report.limitations}["one_time_infusion"] == "no_conflict_found"


def test_limitations_carried_by_a_criterion_say_so() -> None:
    facts = complete_facts(therapies=(*ALL_LINES, therapy("car-t", 4, start="2023")))
    by_id = {lim.id: lim for lim in evaluate(facts, CURRENT).limitations}
    assert by_id["no_repeat_car_t"].status == "enforced_by_criterion"
    assert "not met" in by_id["no_repeat_car_t"].reason


def test_an_illegible_start_date_is_named_for_the_reviewer() -> None:
    lines = tuple(
        line.model_copy(update={"start": None, "start_unreadable": "10/2081"}) if line.number == 3 else line
        for line in complete_facts().lines
    )
    result = next(c for c in evaluate(complete_facts(lines=lines), CURRENT).criteria if c.id == "line_dates")
    assert result.status == "met"
    assert "third line" in result.reason and "10/2081" in result.reason


def test_a_line_starting_after_the_date_of_service_is_not_a_prior_line() -> None:
    """'Line 2: Dara-Kd 11/2025 -' in a letter of 10/2025 is the next line, not a prior one."""
    facts = complete_facts(
        **history((VRD, "2019-03", "2020-01"), (KPD, "2025-11", None)), date_of_service="2025-10-06"
    )
    report = evaluate(facts, CURRENT)
    assert {c.id: c.status for c in report.criteria}["prior_lines"] != "met"
    assert report.determination != "criteria_met"
    same_month = complete_facts(
        **history((VRD, "2019-03", "2020-01"), (KPD, "2025-10", None)), date_of_service="2025-10-06"
    )
    assert {c.id: c.status for c in evaluate(same_month, CURRENT).criteria}["prior_lines"] == "met"


def test_denying_one_product_is_not_denying_every_car_t() -> None:
    """'She has not received Abecma before' leaves Carvykti, a trial's CAR-T, open."""
    only_abecma = therapy("idecabtagene vicleucel", assertion="negated")
    report = evaluate(complete_facts(therapies=(*ALL_LINES, only_abecma)), CURRENT)
    assert {c.id: c.status for c in report.criteria}["no_prior_car_t"] == "not_documented"
    assert report.determination == "needs_information"


def test_a_dated_doubtful_car_t_beside_a_denial_goes_to_a_reviewer() -> None:
    doubtful = therapy("car-t cell therapy", start="2022", assertion="uncertain")
    report = evaluate(complete_facts(therapies=(*ALL_LINES, NO_CAR_T, doubtful)), CURRENT)
    result = next(c for c in report.criteria if c.id == "no_prior_car_t")
    assert result.status == "met" and result.needs_review
    assert report.determination == "needs_information"


def test_a_stated_count_below_the_listed_lines_goes_to_a_reviewer() -> None:
    """'has had one prior line of therapy' beside two listed (an IV-to-SC switch read as a line)."""
    facts = complete_facts(stated_prior_lines=1, stated_prior_lines_evidence=(ev(1, "one prior line"),))
    result = next(c for c in evaluate(facts, CURRENT).criteria if c.id == "prior_lines")
    assert result.needs_review
    assert evaluate(facts, CURRENT).determination == "needs_information"


def test_a_car_t_dated_after_the_date_of_service_still_counts_against_the_request() -> None:
    later = therapy("ciltacabtagene autoleucel", 4, start="2026-01")
    facts = complete_facts(therapies=(*ALL_LINES, later), date_of_service="2025-10-06")
    assert {c.id: c.status for c in evaluate(facts, CURRENT).criteria}["no_prior_car_t"] == "not_met"


@pytest.mark.parametrize(
    ("numbers", "unread"),
    [
        ((1, 2, 3), []),
        ((2, 3), [1]),  # "Line 2", "Line 3": line 1 not read
        ((1, 3), [2]),  # a table row whose regimen cell OCR garbled ("2 DKa 03/2021 06/2023")
        ((1, 2, 4, 5), [3]),
        ((1, 2, 7), []),  # a misread digit, not four lines missing
    ],
)
def test_numbers_a_history_names_without_a_line_read(numbers: tuple[int, ...], unread: list[int]) -> None:
    from criteria.rules import unlisted_line_numbers

    lines = history(*[(KD, f"20{10 + n}-01", None) for n in numbers])["lines"]
    renumbered = tuple(line.model_copy(update={"number": n}) for line, n in zip(lines, numbers, strict=True))
    facts = ClinicalFacts(lines=renumbered)
    assert unlisted_line_numbers(facts) == unread


def test_a_class_missing_from_a_history_with_an_unread_line_is_not_documented_not_not_met() -> None:
    """Regression: line 2 of the table ('DKd') read as 'DKa'; lines 1 and 3 stood, and 'no
    anti-CD38 antibody' was called not met from a history with a hole in it."""
    base = complete_facts()
    two = history((VRD, "2017-08", "2018-01"), (KPD, "2023-07", "2026-03"))
    lines = (two["lines"][0], two["lines"][1].model_copy(update={"number": 3}))
    therapies = tuple(t.model_copy(update={"line": 3}) if t.line == 2 else t for t in two["therapies"])
    facts = base.model_copy(update={"lines": lines, "therapies": (*therapies, NO_CAR_T), "history": None})
    report = evaluate(facts, CURRENT)
    status = {c.id: c.status for c in report.criteria}
    assert status["anti_cd38_exposure"] == "not_documented"


def test_numbers_out_of_step_with_the_dates_are_misread_digits_not_missing_lines() -> None:
    from criteria.rules import unlisted_line_numbers

    lines = history((KD, "2019-02", None), (KD, "2026-03", None), (KD, "2021-02", None))["lines"]
    numbers = (1, 4, 5)
    renumbered = tuple(line.model_copy(update={"number": n}) for line, n in zip(lines, numbers, strict=True))
    assert unlisted_line_numbers(ClinicalFacts(lines=renumbered)) == []


FOUR_STATED_TWO_LISTED = {
    **history((DRD, "2021-01", "2022-01"), (KD, "2022-03", None)),
    "stated_prior_lines": 4,
    "stated_prior_lines_evidence": (ev(1, "4 prior LOT"),),
}


def test_a_count_beyond_the_listed_lines_goes_to_a_reviewer_unless_the_document_explains_it() -> None:
    """'4 prior LOT' beside two described lines: the policy's dates are those of the lines the
    documentation lists, but this reading may have lost the other two, so a human looks."""
    report = evaluate(complete_facts(**FOUR_STATED_TWO_LISTED), CURRENT)
    dates = next(c for c in report.criteria if c.id == "line_dates")
    assert dates.status == "met" and dates.needs_review
    assert "states 4 prior lines and describes 2" in dates.reason
    assert report.determination == "needs_information"


def test_a_history_the_document_calls_partial_explains_the_lines_it_does_not_list() -> None:
    said = HistoryFact(
        status="partial",
        reason="The documentation says: records have been requested.",
        evidence=(ev(1, "records have been requested"),),
        said_partial=True,
    )
    report = evaluate(complete_facts(**FOUR_STATED_TWO_LISTED, history=said), CURRENT)
    dates = next(c for c in report.criteria if c.id == "line_dates")
    assert dates.status == "met" and not dates.needs_review
    assert "says its history is partial" in dates.reason


def test_a_drug_named_in_no_listed_line_goes_to_a_reviewer() -> None:
    passing = therapy("carfilzomib", None)
    report = evaluate(complete_facts(therapies=(*complete_facts().therapies, passing)), CURRENT)
    dates = next(c for c in report.criteria if c.id == "line_dates")
    assert dates.status == "met" and dates.needs_review and "carfilzomib" in dates.reason


def test_a_policy_that_asks_for_every_line_requests_the_unlisted_ones() -> None:
    """The scope is the policy file's: 'every_line' asks for the lines only counted."""
    raw = CURRENT.model_dump(mode="json")
    for c in raw["criteria"]:
        if c["id"] == "line_dates":
            c["rule"]["judges"] = "every_line"
    strict = type(CURRENT).model_validate(raw)
    report = evaluate(complete_facts(**FOUR_STATED_TWO_LISTED), strict)
    assert next(c.status for c in report.criteria if c.id == "line_dates") == "not_documented"
    assert any("the documentation states 4 prior lines but lists 2" in m for m in report.missing)


def _doubtful_regimen(split_rule: str) -> ClinicalFacts:
    """Two lines (the policy's two carry the count), the second's regimen read at low
    confidence, its dates read well."""
    base = complete_facts(**history((VRD, "2019-03", "2020-01"), (KPD, "2022-04", "2024-05")))
    lines = tuple(
        line.model_copy(
            update={
                "evidence": (ev(2, "DVd", LOW),),
                "date_evidence": (ev(2, "06/25/2024 08/11/2025"),),
                "split_rule": split_rule,
            }
        )
        if line.number == 2
        else line.model_copy(update={"split_rule": split_rule})
        for line in base.lines
    )
    return base.model_copy(update={"lines": lines})


def test_a_numbered_line_is_attested_by_its_dates_when_its_regimen_reads_badly() -> None:
    """'3 DVd 06/25/2024 08/11/2025': the document numbered the line, so it is a line whatever
    the regimen's letters are; the count needs no reviewer for one doubtful word."""
    result = next(
        c
        for c in evaluate(_doubtful_regimen("numbered_in_document"), CURRENT).criteria
        if c.id == "prior_lines"
    )
    assert result.status == "met" and not result.needs_review


def test_a_line_split_by_imwg_rests_on_what_its_drugs_are() -> None:
    """A line this service split from the next by a new regimen exists only if the regimen
    was read right: a doubtful regimen keeps the count for a reviewer."""
    result = next(
        c for c in evaluate(_doubtful_regimen("new_regimen"), CURRENT).criteria if c.id == "prior_lines"
    )
    assert result.status == "met" and result.needs_review


def _class_stated(klass: str) -> Therapy:
    """A cover sheet's "triple-class exposed": the class received, no drug named."""
    labels = {"anti_cd38_antibody": "anti-CD38 monoclonal antibody (no drug named)"}
    return Therapy(
        ingredient=labels[klass],
        therapy_class=klass,
        assertion="received",
        class_level=True,
        evidence=(ev(1, "triple-class exposed"),),
    )


def test_a_class_word_against_a_named_denial_of_its_drugs_goes_to_a_reviewer() -> None:
    """'triple-class exposed' on the cover, 'has never received daratumumab or isatuximab' in
    the note: the document contradicts itself; never criteria_met."""
    no_cd38 = [t for t in ALL_LINES if t.therapy_class != "anti_cd38_antibody"]
    denied = (therapy("daratumumab", assertion="negated"), therapy("isatuximab", assertion="negated"))
    report = evaluate(
        complete_facts(therapies=(*no_cd38, NO_CAR_T, _class_stated("anti_cd38_antibody"), *denied)), CURRENT
    )
    result = next(c for c in report.criteria if c.id == "anti_cd38_exposure")
    assert result.needs_review
    assert report.determination == "needs_information"


def test_a_drug_named_in_passing_and_denied_by_name_goes_to_a_reviewer() -> None:
    no_cd38 = [t for t in ALL_LINES if t.therapy_class != "anti_cd38_antibody"]
    loose = therapy("daratumumab")  # no line, no date: "Daratumumab ts an anti-CD38 antibody" misread
    report = evaluate(
        complete_facts(therapies=(*no_cd38, NO_CAR_T, loose, therapy("daratumumab", assertion="negated"))),
        CURRENT,
    )
    result = next(c for c in report.criteria if c.id == "anti_cd38_exposure")
    assert result.needs_review
    assert report.determination == "needs_information"


def test_a_drug_denied_by_name_in_a_partial_history_leaves_the_class_open() -> None:
    """ "Has not yet received carfilzomib" in a letter that tells the most recent line only:
    bortezomib may be among the lines it does not tell, so the class is not documented; the
    same denial beside a complete history that lacks the class is not met."""
    from common.models import HistoryFact

    no_pi = [t for t in ALL_LINES if t.therapy_class != "proteasome_inhibitor"]
    denied = therapy("carfilzomib", assertion="negated")
    partial = HistoryFact(status="partial", reason="records to follow", said_partial=True)
    facts = complete_facts(therapies=(*no_pi, NO_CAR_T, denied), history=partial)
    assert status_of(facts, "pi_exposure") == "not_documented"
    assert status_of(complete_facts(therapies=(*no_pi, NO_CAR_T, denied)), "pi_exposure") == "not_met"


def test_a_drug_in_a_dated_line_outweighs_a_denial_of_a_forms_printed_examples() -> None:
    """ "Immunomodulatory agent (lenalidomide, pomalidomide, thalidomide): [X] Received", its
    examples misread as denied, beside the dated lines that name them."""
    printed = [
        therapy(d, assertion="negated").model_copy(update={"printed": True})
        for d in ("lenalidomide", "pomalidomide", "thalidomide")
    ]
    report = evaluate(complete_facts(therapies=(*ALL_LINES, NO_CAR_T, *printed)), CURRENT)
    result = next(c for c in report.criteria if c.id == "imid_exposure")
    assert result.status == "met" and not result.needs_review


def test_a_written_denial_of_every_drug_named_as_given_goes_to_a_reviewer() -> None:
    """Isatuximab read into a dated line ("her plan approved Sarclisa in March 2023"), and
    "neither daratumumab nor isatuximab" written on the next page."""
    no_cd38 = [t for t in ALL_LINES if t.therapy_class != "anti_cd38_antibody"]
    dated = therapy("isatuximab", 3, start="2023-03")
    report = evaluate(
        complete_facts(therapies=(*no_cd38, NO_CAR_T, dated, therapy("isatuximab", assertion="negated"))),
        CURRENT,
    )
    result = next(c for c in report.criteria if c.id == "anti_cd38_exposure")
    assert result.needs_review
    assert report.determination == "needs_information"


def test_a_class_word_with_its_drug_in_doubt_goes_to_a_reviewer() -> None:
    """'triple-class exposed' per the referral, '? daratumumab, not confirmed' in the note."""
    no_cd38 = [t for t in ALL_LINES if t.therapy_class != "anti_cd38_antibody"]
    doubt = therapy("daratumumab", assertion="uncertain")
    report = evaluate(
        complete_facts(therapies=(*no_cd38, NO_CAR_T, _class_stated("anti_cd38_antibody"), doubt)), CURRENT
    )
    result = next(c for c in report.criteria if c.id == "anti_cd38_exposure")
    assert result.status == "met" and result.needs_review
    assert report.determination == "needs_information"


def test_a_regimen_not_started_does_not_deny_its_drug_given_before() -> None:
    """ "Xpovio Vd considered 10/28, never started" after VRd: that course was not given,
    bortezomib was."""
    not_started = therapy("bortezomib", assertion="negated", regimen="Vd")
    only_bortezomib = [t for t in ALL_LINES if t.ingredient != "carfilzomib"]
    report = evaluate(complete_facts(therapies=(*only_bortezomib, NO_CAR_T, not_started)), CURRENT)
    result = next(c for c in report.criteria if c.id == "pi_exposure")
    assert result.status == "met" and not result.needs_review
