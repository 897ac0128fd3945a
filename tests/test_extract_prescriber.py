"""Who prescribes: signature blocks, form fields, letterheads and consultations, each
saying what it is (a referring physician is never the prescriber)."""

from __future__ import annotations

import pytest
from extract_support import facts_of

PRESCRIBERS = [
    # (trap, text, (specialty, role) expected among the findings)
    (
        "a letterhead",
        "Hartwell Oncology Associates (fictional)\nPhone 555-0142\nDear reviewer,",
        ("oncology", "letterhead"),
    ),
    (
        "a signature's specialty line",
        "Sincerely,\nDr. Pat Example, MD\nFamily Medicine",
        ("family_medicine", "prescriber"),
    ),
    ("a credential line with the specialty", "Quinn Examplar, MD, Hematology", ("hematology", "prescriber")),
    ("a form's prescriber field", "Prescriber specialty: Hematology/Oncology", ("oncology", "prescriber")),
    (
        "in consultation with",
        "Plan discussed in consultation with Dr. Lee (hematology).",
        ("hematology", "consultant"),
    ),
    ("her oncologist", "She is followed by her oncologist, Dr. Roe.", ("oncology", "consultant")),
    ("a referring PCP", "Referring physician: Dr. A (Family Medicine)", ("family_medicine", "referring")),
    (
        "a consultation denied",
        "No hematology/oncology consultation has taken place.",
        ("oncology", "no_consultation"),
    ),
]


@pytest.mark.parametrize(("text", "expected"), [p[1:] for p in PRESCRIBERS], ids=[p[0] for p in PRESCRIBERS])
def test_prescriber_findings(text: str, expected: tuple[str, str]) -> None:
    found = {(p.specialty, p.role) for p in facts_of(text).prescribers}
    assert expected in found, found


@pytest.mark.parametrize(
    "text",
    [
        "ONCOLOGY PRIOR AUTHORIZATION REQUEST FORM\nPatient: Testpatient",
        "She will see oncology next week.\nBlood pressure was normal.",
        "Northgate Medical Group\nHEMATOLOGY/ONCOLOGY PROGRESS NOTE\nPatient: Testpatient",
    ],
    ids=[
        "a payer's form title is not a practice",
        "a sentence among the first lines is not a letterhead",
        "a note's title names its kind, not who wrote it",
    ],
)
def test_not_a_letterhead(text: str) -> None:
    assert not [p for p in facts_of(text).prescribers if p.role == "letterhead"]


def test_hematology_oncology_is_one_specialty_not_two() -> None:
    found = [
        p for p in facts_of("Prescriber specialty: Hematology/Oncology").prescribers if p.role == "prescriber"
    ]
    assert [p.specialty for p in found] == ["oncology"]


def test_a_statement_under_a_signature_is_not_the_signers_department() -> None:
    """'No hematology/oncology consultation has taken place.' two lines under a family
    physician's signature: the block ended at its department line."""
    found = facts_of(
        "Sky Generalist, MD\nFamily Medicine\nNo hematology/oncology consultation has taken place.\n"
    )
    roles = {(p.specialty, p.role) for p in found.prescribers}
    assert ("family_medicine", "prescriber") in roles
    assert ("oncology", "prescriber") not in roles and ("oncology", "consultant") not in roles


def test_a_consultation_denied_is_not_a_consultant() -> None:
    found = facts_of("She has not been seen in consultation by hematology.").prescribers
    assert not [p for p in found if p.role == "consultant"]


def test_a_consultation_question_is_not_a_consultant() -> None:
    """A form's printed question, its boxes read as '[]' and 'w': nothing said."""
    found = facts_of("Prescribed in consultation with a hematologist/oncologist? [] Yes w No").prescribers
    assert not [p for p in found if p.role == "consultant"]


def test_a_rule_between_two_documents_of_an_export_starts_a_new_letterhead() -> None:
    """An EHR export runs its documents on under a rule line; the second one's practice name
    stood beyond the page's first lines and was never read as a letterhead."""
    filler = "".join(f"Line {n} of the discharge summary.\n" for n in range(12))
    text = (
        "Summit Valley Medical Center\nDISCHARGE SUMMARY\n" + filler + "-" * 60 + "\n\n"
        "Examplecase, Victor  MRN ZZ-000271\n\nHartwell Oncology Associates\n"
        "Hematology and Medical Oncology\nINFUSION CENTER - MEDICATION ADMINISTRATION RECORD\n"
    )
    found = {(p.specialty, p.role) for p in facts_of(text).prescribers}
    assert any(role == "letterhead" for _, role in found), found
    without_rule = text.replace("-" * 60 + "\n", "")
    assert not [p for p in facts_of(without_rule).prescribers if p.role == "letterhead"]
