"""Whole Carvykti request letters through the composer (tests/data/carvykti/README.md):
each is chosen by its request, evaluated under the Carvykti policy, and comes out as the
policy calls for."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.composer import process_file

DATA = Path(__file__).parent / "data" / "carvykti"
CARVYKTI = "qualchoice-carvykti-bi699-2023-08"

DOCUMENTS = [
    # (file, determination, criteria that are not met or not documented)
    ("complete.txt", "criteria_met", {}),
    ("labs-too-old.txt", "needs_information", {"measurable_disease": "not_documented"}),
    ("labs-under-threshold.txt", "criteria_not_met", {"measurable_disease": "not_met"}),
    ("progression-instead-of-labs.txt", "criteria_met", {}),
    ("prior-belantamab.txt", "criteria_not_met", {"no_prior_bcma_therapy": "not_met"}),
    ("cns-disease.txt", "criteria_not_met", {"no_cns_involvement": "not_met"}),
    # the policy accepts "in consultation with" a specialist: a family physician's letter
    # that names none has not shown that no specialist was consulted
    ("non-specialist-prescriber.txt", "needs_information", {"prescriber": "not_documented"}),
    ("three-lines.txt", "criteria_not_met", {"prior_lines": "not_met"}),
]


@pytest.mark.parametrize(("name", "determination", "gaps"), DOCUMENTS, ids=[d[0] for d in DOCUMENTS])
def test_a_carvykti_letter(name: str, determination: str, gaps: dict[str, str]) -> None:
    report = process_file(DATA / name).report
    assert report.request is not None and report.request.product == "ciltacabtagene autoleucel"
    assert report.policy is not None and report.policy.id == CARVYKTI
    assert report.determination == determination, report.determination_reason
    assert {c.id: c.status for c in report.criteria if c.status != "met"} == gaps


def test_the_same_three_lines_meet_the_abecma_policy() -> None:
    report = process_file(DATA / "three-lines.txt", policy_id="carepartners-ct-abecma-2025-09").report
    assert report.determination == "criteria_met", report.determination_reason


def test_a_request_for_a_product_with_no_policy() -> None:
    report = process_file(DATA / "no-policy-kymriah.txt").report
    assert report.policy is None and report.criteria == ()
    assert report.determination == "needs_information"
    assert "Kymriah (tisagenlecleucel)" in report.determination_reason


def test_the_labs_of_the_complete_letter_are_read_with_units_and_dates() -> None:
    facts = process_file(DATA / "complete.txt").facts
    written = {(f.analyte, f.value, f.unit, f.collected) for f in facts.labs if not f.derived}
    assert written == {
        ("serum_m_protein", 2.1, "g/dL", "2026-10-02"),
        ("kappa_flc", 180.0, "mg/L", "2026-10-02"),
        ("lambda_flc", 6.0, "mg/L", "2026-10-02"),
    }


@pytest.mark.slow
@pytest.mark.parametrize(("name", "determination", "gaps"), DOCUMENTS, ids=[d[0] for d in DOCUMENTS])
def test_a_carvykti_letter_as_a_fine_fax(
    tmp_path: Path, name: str, determination: str, gaps: dict[str, str]
) -> None:
    """The same letter rendered as a 204x196 G3 fax and read by tesseract: the same result,
    or at worst a gap flagged for review, never a wrong criteria_met."""
    from fixtures.render import fax_pages, save_fax_tiff, text_pdf

    pdf = text_pdf((DATA / name).read_text(encoding="utf-8"), tmp_path / "letter.pdf")
    tif = save_fax_tiff(
        fax_pages(pdf, dpi=(204, 196), seed=7, skew_deg=0.4), tmp_path / "letter.tif", dpi=(204, 196)
    )
    report = process_file(tif).report
    assert report.policy is not None and report.policy.id == CARVYKTI
    if determination != "criteria_met":
        assert report.determination != "criteria_met", report.determination_reason
    assert report.determination in (determination, "needs_information"), report.determination_reason
