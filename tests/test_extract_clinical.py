"""Diagnosis, disease-status and policy-finding traps."""

from __future__ import annotations

import pytest
from extract_support import facts_of


@pytest.mark.parametrize(
    ("text", "concept", "is_target"),
    [
        ("Diagnosis: multiple myeloma, IgG kappa", "multiple_myeloma", True),
        ("68M with RRMM", "multiple_myeloma", True),
        ("Plasma cell myeloma diagnosed 2017", "multiple_myeloma", True),
        ("History of Kahler's disease", "multiple_myeloma", True),
        ("ICD-10: C90.02", "multiple_myeloma", True),
        ("Smoldering multiple myeloma, observation", "smoldering_myeloma", False),
        ("Solitary plasmacytoma of the rib, C90.30", "solitary_plasmacytoma", False),
        ("MGUS since 2015", "mgus", False),
        ("DLBCL treated with R-CHOP", "dlbcl", False),
        ("AL amyloidosis", "amyloidosis", False),
        ("Diagnosis: relapsed POEMS syndrome.", "poems_syndrome", False),
        ("Relapsed Waldenstrom macroglobulinemia (MYD88 L265P)", "waldenstrom_macroglobulinemia", False),
        ("History of breast cancer 2005", "breast_cancer", False),
    ],
)
def test_diagnosis(text: str, concept: str, is_target: bool) -> None:
    found = {(d.concept, d.is_target) for d in facts_of(text).diagnoses}
    assert (concept, is_target) in found
    if not is_target:
        assert not any(d.is_target for d in facts_of(text).diagnoses)


def test_planning_words_do_not_touch_a_diagnosis() -> None:
    [dx] = [d for d in facts_of("Ms. Doe is a 66-year-old woman with relapsed multiple myeloma.").diagnoses]
    assert dx.assertion == "received" and dx.is_target


def test_family_cancer_is_family() -> None:
    [dx] = facts_of("Family history: mother had breast cancer.").diagnoses
    assert dx.assertion == "family"


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("relapsed/refractory multiple myeloma", "relapsed_refractory"),
        ("RRMM", "relapsed_refractory"),
        ("Disease is refractory to daratumumab.", "refractory"),
        ("Progressive disease on Pd 05/2024", "progressive"),
        ("R maint until PD 5/2022", "progressive"),
        ("Biochemical relapse with rising M-spike", "relapsed"),
        ("Rising light chains on last labs", "relapsed"),
        ("Achieved VGPR after induction", "response"),
        ("Currently in remission", "remission"),
        ("C90.02", "relapsed"),
    ],
)
def test_disease_status(text: str, status: str) -> None:
    assert status in {s.status for s in facts_of(text).disease_status}


@pytest.mark.parametrize(
    "text",
    [
        # survival figures and other diseases are not the myeloma's status
        "Diagnosis: multiple myeloma in remission (C90.01). Relapse-free survival to date 18 months.",
        "Multiple myeloma in VGPR on Kd; progression-free survival to date 20 months.",
        "Problem list: progressive peripheral neuropathy (bortezomib-related), refractory hypertension.",
        "Diagnoses: multiple myeloma; relapsed prostate cancer.",
        "History of breast cancer, relapsed in 2015.",
        "Newly diagnosed multiple myeloma, progressed from smoldering myeloma in 09/2025.",
        "In CARTITUDE-4, patients relapsed after a median of 2 prior lines.",
        "Lenalidomide maintenance to reduce the risk of relapse; in sCR since 2021.",
        "Myeloma in sCR. PMH: colon cancer 2015, treated with surgery; relapsed\n2024 with metastases.",
        "PMH: relapsing-remitting multiple sclerosis (on ocrelizumab); refractory constipation",
        "Disease status (check one): [ ] Relapsed [ ] Refractory [ ] Relapsed and refractory",
        "Diagnosis must be relapsed or refractory multiple myeloma (attach documentation of disease status)",
    ],
)
def test_a_status_of_something_else_is_not_the_myelomas(text: str) -> None:
    found = {s.status for s in facts_of(text).disease_status if s.assertion == "received"}
    assert not found & {"relapsed", "refractory", "relapsed_refractory", "progressive"}, found


@pytest.mark.parametrize(
    "text",
    [
        "Relapsed IgG kappa multiple myeloma.",
        "relapsed t(4;14) myeloma",
        "Multiple myeloma, relapsed after 3 lines.",
        "She relapsed in 2024.",
        "Refractory to lenalidomide.",
        "Multiple myeloma diagnosed 2018. Relapsed 2023.",
        "Disease status: [X] Relapsed [ ] Refractory",
    ],
)
def test_a_status_of_the_myeloma_is_kept(text: str) -> None:
    found = {s.status for s in facts_of(text).disease_status if s.assertion == "received"}
    assert found & {"relapsed", "refractory", "relapsed_refractory", "progressive"}, found


def test_pd_is_progression_but_pd_lowercase_is_pomalidomide() -> None:
    facts = facts_of("Pd 2022 until PD 2023")
    assert "progressive" in {s.status for s in facts.disease_status}
    assert {t.ingredient for t in facts.therapies} == {"pomalidomide", "dexamethasone"}


REQUEST = "RE: Prior authorization request, Abecma\n"


@pytest.mark.parametrize(
    ("text", "key", "assertion"),
    [
        (
            "I attest that outpatient administration is clinically appropriate for this patient.",
            "outpatient_attestation",
            "received",
        ),
        ("Tocilizumab is available on site prior to infusion.", "tocilizumab_available", "received"),
        ("Two doses of tocilizumab are on hand at the infusion center.", "tocilizumab_available", "received"),
        ("Tocilizumab not available at this site.", "tocilizumab_available", "negated"),
        ("Enrolled in clinical trial NCT03651128.", "clinical_trial", "received"),
        ("Patient declined the clinical trial.", "clinical_trial", "negated"),
        # a repeat infusion is of the requested product (extractors/request.py reads it)
        (f"{REQUEST}We request a second infusion of ide-cel after the first.", "repeat_infusion", "received"),
        (f"{REQUEST}Plan re-treatment with Abecma at progression.", "repeat_infusion", "received"),
        (
            f"{REQUEST}Abecma is a one-time infusion; no re-treatment with ide-cel.",
            "repeat_infusion",
            "negated",
        ),
    ],
)
def test_findings(text: str, key: str, assertion: str) -> None:
    found = {(f.key, f.assertion) for f in facts_of(text).findings}
    assert (key, assertion) in found, found


@pytest.mark.parametrize(
    "text",
    [
        f"{REQUEST}Autologous stem cell reinfusion on day 0 after melphalan.",
        "Requesting Abecma (idecabtagene vicleucel), a one-time infusion.",
    ],
    ids=["a transplant's stem-cell reinfusion", "the one-time infusion itself"],
)
def test_no_repeat_infusion_request(text: str) -> None:
    assert not [f for f in facts_of(text).findings if f.key == "repeat_infusion"]


@pytest.mark.parametrize(
    ("text", "stated"),
    [
        # the line about to start counts the ones before it
        ("She is now in need of fourth-line therapy.", 3),
        ("He is a candidate for 5th line therapy with Abecma.", 4),
        # a form's field, the number after the label
        ("Number of prior lines of therapy: 5", 5),
        # the number written out, then in digits
        ("He has been treated with four (4) prior lines of therapy, including lenalidomide.", 4),
        ("Member has had 3 prior regimens; 2 prior lines per IMWG.", 2),  # lines beat regimens
        ("Prior lines of therapy: 12/2018 VRd x4", None),  # a date, not a count
        ("Prior LOT: 4\nDiagnosis: multiple myeloma", 4),
        ("Prior lines of therapy: 4 (VRd, KRd, DPd, Kd)", 4),
        # a trial's population is not the member
        ("In KarMMa, patients had a median of 6 prior lines.", None),
        ("Patients in CARTITUDE-1 had received 6 prior lines.", None),
        ("68M with RRMM, 4 prior LOT. In KarMMa, patients had a median of 6 prior lines.", 4),
        ("In KarMMa, patients had a median of 6 prior lines. She has had 4 prior lines.", 4),
        # guards: a list number after the label, a past line named by its place, a label minimum
        ("Prior lines of therapy:\n1. VRd 2019\n2. KRd 2020", None),
        ("Prior LOT: 1. VRd 2019 2. KRd 2020", None),
        ("She received Kd as second-line therapy in 2020.", None),
        ("Abecma is indicated after four or more prior lines of therapy.", None),
    ],
)
def test_stated_prior_line_count(text: str, stated: int | None) -> None:
    facts = facts_of(text)
    assert facts.stated_prior_lines == stated
    if stated:
        assert facts.stated_prior_lines_evidence


@pytest.mark.parametrize(
    "text",
    [
        "Dr. Example, Director, Myeloma and Cellular Therapy Program",
        "Multiple Myeloma Research Foundation grant",
    ],
)
def test_a_program_name_is_no_diagnosis(text: str) -> None:
    assert facts_of(text).diagnoses == ()


def test_a_diagnosis_followed_by_lower_case_words_is_kept() -> None:
    assert facts_of("She has multiple myeloma and is followed in our clinic.").diagnoses
