"""Traps of what a statement is sure of: dates from memory, guesses at a drug, drugs
bracketed under a class on the next line, denials of the present beside a history, lab rows
whose units stand after a reference column, and a form's "No" to a specialist's
consultation.  Each case is a kind of wording, written here in words of its own."""

from __future__ import annotations

import pytest
from extract_support import assertions, facts_of, labs_of, structured_facts_of

from criteria.evaluator import evaluate
from criteria.policy import select_policy

ABECMA = select_policy(policy_id="carepartners-ct-abecma-2025-09", date_of_service=None)
CAR_T = "car-t cell therapy"


def status(text: str, criterion: str) -> str:
    report = evaluate(facts_of(text), ABECMA)
    return next(c.status for c in report.criteria if c.id == criterion)


# ---------------------------------------------------------------- dates told from memory

HISTORY = """Treatment history:
1. KRd from {first} with autologous transplant and lenalidomide maintenance
2. Daratumumab, pomalidomide and dexamethasone (DPd) 04/2022 - 09/2023
3. Carfilzomib and dexamethasone (Kd) 10/2023 - 06/2025
"""


@pytest.mark.parametrize("first", ["2017 (per pt)", "2017, she thinks,", "2017 by his account"])
def test_a_lines_start_told_from_memory_is_no_documented_date(first: str) -> None:
    facts = facts_of(HISTORY.format(first=first))
    assert facts.lines[0].start == "2017" and facts.lines[0].start_recalled
    assert status(HISTORY.format(first=first), "line_dates") == "not_documented"


def test_a_lines_start_from_the_record_is_its_date() -> None:
    facts = facts_of(HISTORY.format(first="03/2017"))
    assert facts.lines[0].start == "2017-03" and facts.lines[0].start_recalled is None
    assert status(HISTORY.format(first="03/2017"), "line_dates") == "met"


# ---------------------------------------------------------------- guesses and glosses


@pytest.mark.parametrize(
    "text",
    [
        "The injections she remembers may have been bortezomib, but that is not documented.",
        "He might have had bortezomib in Ohio.",
        "Her first regimen could have included bortezomib.",
    ],
)
def test_a_guess_at_a_drug_is_no_record_of_it(text: str) -> None:
    assert assertions(text, "bortezomib") == {"uncertain"}


def test_drugs_bracketed_under_a_denied_class_on_the_next_line_are_denied() -> None:
    text = (
        "He has never received CAR-T, and he has never had any of the BCMA drugs\n"
        "(Blenrep, Tecvayli, Elrexfio).\n"
    )
    assert assertions(text, "teclistamab") == {"negated"}
    assert assertions(text, "belantamab mafodotin") == {"negated"}


def test_a_bracket_after_a_stop_is_its_own_statement() -> None:
    text = "No BCMA-directed therapy was given.\n(Teclistamab 2024, stopped after 3 cycles.)\n"
    assert "received" in assertions(text, "teclistamab")


def test_an_adverb_between_never_and_its_verb_still_denies() -> None:
    assert assertions("So he has never actually had a CAR-T infusion.", CAR_T) == {"negated"}


@pytest.mark.parametrize(
    "text",
    [
        "She has not received a BCMA-directed CAR-T or any other CAR-T product.",
        "He has not had a commercial CAR-T or any other CAR-T therapy.",
    ],
)
def test_or_any_other_widens_a_denial_to_the_whole_class(text: str) -> None:
    assert "negated" in assertions(text, CAR_T)


def test_another_still_narrows_a_denial() -> None:
    text = "She received cilta-cel in 2023 and has not received another CAR-T product."
    assert "negated" not in assertions(text, CAR_T)


@pytest.mark.parametrize(
    ("text", "ingredient"),
    [
        (
            "Her relapse came a year after cilta-cel, and ide-cel is a distinct construct.",
            "idecabtagene vicleucel",
        ),
        ("Carvykti is a one-time CAR-T treatment that targets BCMA.", "ciltacabtagene autoleucel"),
    ],
)
def test_a_therapy_named_to_say_what_it_is_was_not_given(text: str, ingredient: str) -> None:
    assert "received" not in assertions(text, ingredient)


def test_arranging_a_therapy_is_a_plan() -> None:
    text = "She asked us to help arrange CAR-T closer to home."
    assert assertions(text, CAR_T) == {"planned"}


# ---------------------------------------------------------------- the present and the history


def _cns(text: str) -> list[tuple[str, bool]]:
    return [(s.assertion, s.current_only) for s in facts_of(text).sites if s.site == "cns"]


@pytest.mark.parametrize(
    "text",
    [
        "MRI brain 02/02/2026: negative for recurrent intracranial disease.",
        "MRI of the brain on 10/28/2025 showed no leptomeningeal enhancement.",
        "MRI brain 02/02/2026: negative",
        "Stable dural thickening. No leptomeningeal enhancement elsewhere.",
    ],
)
def test_a_studys_negative_result_denies_only_the_present(text: str) -> None:
    found = _cns(text)
    assert found and all(a == "negated" and now for a, now in found)


def test_no_known_disease_is_what_the_writer_knows() -> None:
    """A study's finding elsewhere overrides it; the two do not contradict each other."""
    assert _cns("No known CNS disease; PET-CT 02/11/25 without extramedullary disease.") == [
        ("negated", True)
    ]


def test_a_denial_of_the_history_is_not_of_the_present_only() -> None:
    assert _cns("There is no history of CNS or leptomeningeal myeloma.") == [("negated", False)]


def test_an_order_to_exclude_is_a_question_not_a_finding() -> None:
    text = "INDICATION: Relapsed myeloma. Pre-CAR-T evaluation. Exclude CNS involvement."
    assert ("received", False) not in _cns(text)


# ---------------------------------------------------------------- lab rows


@pytest.mark.parametrize(
    ("text", "analyte", "value", "unit"),
    [
        ("M-spike 2.4 H not detected g/dL", "serum_m_protein", 2.4, "g/dL"),
        ("Total protein 8.6 H 6.1-8.1 g/dL\nM-spike 1.9 H 0.0 g/dL", "serum_m_protein", 1.9, "g/dL"),
        ("Urine M-protein 95 H 0 mg/24 h", "urine_m_protein", 95, "mg/24h"),
        ("M-spike 0.5 (8/25) -> 1.3 g/dL on 1/12/26", "serum_m_protein", 1.3, "g/dL"),
        ("M-protein (monoclonal), urine 24 h 412 mg/24 h none detected", "urine_m_protein", 412, "mg/24h"),
    ],
)
def test_a_rows_unit_after_its_reference_column_is_the_values(
    text: str, analyte: str, value: float, unit: str
) -> None:
    found = [f for f in labs_of(text) if f.analyte == analyte]
    assert [(f.value, f.unit) for f in found] == [(value, unit)]


def test_a_panel_label_before_a_rows_name_keeps_it_under_its_heading() -> None:
    text = (
        "LABS 5/12/25:\nWBC 3.9 Hgb 9.8 Plt 121\nSPEP: M-spike 1.6 g/dL (IgG kappa by IFE)\n"
        "sFLC: kappa 24.1 mg/dL lambda 0.9 mg/dL ratio 26.8\n24h UPEP: 110 mg/24h M-protein\n"
    )
    found = {f.analyte: f.collected for f in labs_of(text) if not f.derived}
    assert found["serum_m_protein"] == found["kappa_flc"] == "2025-05-12"


def test_a_date_written_after_date_is_the_values_own() -> None:
    found = [
        f for f in labs_of("Serum M-protein: 0.7 g/dL date 11/10/2025") if f.analyte == "serum_m_protein"
    ]
    assert [f.collected for f in found] == ["2025-11-10"]


def test_a_printed_threshold_is_no_result() -> None:
    text = (
        "Measurable disease: involved FLC >= 10 mg/dL with abnormal ratio\n"
        "Serum M-protein >=1 g/dL: value 1.4 g/dL\n"
    )
    found = [(f.analyte, f.value) for f in labs_of(text) if not f.derived]
    assert ("serum_m_protein", 1.4) in found
    assert all(value not in (10, 1) for _, value in found)


# ---------------------------------------------------------------- the prescriber


def test_a_ticked_no_to_a_specialists_consultation_says_none_was_consulted() -> None:
    text = (
        "Prescriber: Dana Whitlock, DO, Family Medicine\n"
        "Is the medication prescribed by, or in consultation with, a hematologist or\noncologist?\n"
        "[ ] Yes [x] No\n"
    )
    roles = {p.role for p in structured_facts_of(text).prescribers}
    assert "no_consultation" in roles and "consultant" not in roles


# ---------------------------------------------------------------- steps that serve another


def test_the_conditioning_drug_of_a_transplant_opens_no_line() -> None:
    text = (
        "She received VRd induction from January to May 2018, then a melphalan-conditioned autologous"
        " stem cell transplant in July 2018 followed by lenalidomide maintenance, on which she progressed"
        " in February 2020. She then received daratumumab, pomalidomide and dexamethasone from March 2020"
        " to October 2021.\n"
    )
    lines = facts_of(text).lines
    assert len(lines) == 2 and "melphalan" in lines[0].ingredients


def test_lymphodepleting_chemotherapy_before_a_car_t_opens_no_line() -> None:
    text = (
        "Treatment history: KRd 01/2019 - 06/2021; DPd 07/2021 - 12/2023.\n"
        "Procedures: Lymphodepleting chemotherapy, fludarabine 30 mg/m2 + cyclophosphamide 300 mg/m2"
        " days -5 to -3 (03/28-03/30/2024). Infusion of ciltacabtagene autoleucel on 04/02/2024.\n"
    )
    lines = facts_of(text).lines
    assert len(lines) == 3 and not any(
        "cyclophosphamide" in line.ingredients and "ciltacabtagene autoleucel" not in line.ingredients
        for line in lines
    )


def test_a_denied_refractoriness_named_in_the_phrase_denies_no_exposure() -> None:
    """'not triple-class refractory' (or a stray denial read into the phrase from a column
    beside it) says the classes did not fail, not that they were never given."""
    found = {t.assertion for t in facts_of("She is not triple-class refractory.").therapies if t.class_level}
    assert found and "negated" not in found
