"""Lab values as the page gives them: units converted only from what is written, a value
with no unit flagged, dates that are the value's own, OCR noise and low-confidence digits."""

from __future__ import annotations

import pytest
from extract_support import labs_of

from common.models import LabFact, Page
from extractors.labs import LabRow, read_labs
from extractors.layout import page_from_text, pages_from_text
from extractors.pagetext import build_page_text


def one(text: str, analyte: str) -> LabFact:
    found = [f for f in labs_of(text) if f.analyte == analyte and not f.derived]
    assert len(found) == 1, found
    return found[0]


READINGS = [
    # (trap, text, analyte, value, unit, value in the analyte's unit, collected)
    (
        "narrative with its date after",
        "M-spike 2.1 g/dL on 09/10/2026.",
        "serum_m_protein",
        2.1,
        "g/dL",
        2.1,
        "2026-09-10",
    ),
    (
        "a date before, for the line",
        "Labs 10/01/2026: serum M-protein 1,200 mg/dL.",
        "serum_m_protein",
        1200,
        "mg/dL",
        1.2,
        "2026-10-01",
    ),
    ("g/L converts", "Paraprotein 15 g/L (09/2026)", "serum_m_protein", 15, "g/L", 1.5, "2026-09"),
    (
        "a urine unit makes an M-spike urine",
        "UPEP: M-spike 420 mg/24hr on 9/1/2026",
        "urine_m_protein",
        420,
        "mg/24h",
        420,
        "2026-09-01",
    ),
    (
        "g/24 h converts",
        "24-hour urine M-protein 0.35 g/24 h (9/1/2026)",
        "urine_m_protein",
        0.35,
        "g/24h",
        350,
        "2026-09-01",
    ),
    (
        "FLC in mg/dL is x10 in mg/L",
        "Lambda FLC 45 mg/dL on 10/01/2026",
        "lambda_flc",
        45,
        "mg/dL",
        450,
        "2026-10-01",
    ),
    (
        "the latest of a rise",
        "M-spike rose from 0.8 to 1.6 g/dL in 08/2026.",
        "serum_m_protein",
        1.6,
        "g/dL",
        1.6,
        "2026-08",
    ),
    (
        "'not detected' is a value of none",
        "M-spike: not detected (9/2/2026)",
        "serum_m_protein",
        0.0,
        None,
        0.0,
        "2026-09-02",
    ),
    (
        "the ratio has no unit",
        "Kappa/lambda ratio 21.6 (0.26-1.65) on 9/2/2026",
        "flc_ratio",
        21.6,
        None,
        21.6,
        "2026-09-02",
    ),
    (
        "a bracketed qualifier after the name is not the value",
        "Urine M-protein (24 h) 754 H mg/24 h  collected 04/28/2026",
        "urine_m_protein",
        754,
        "mg/24h",
        754,
        "2026-04-28",
    ),
    (
        "a unit damaged by a glyph takes the unit of the member the line names",
        "SPEP M-protein 1.4 H g/daL on 5/21/2026",
        "serum_m_protein",
        1.4,
        "g/dL",
        1.4,
        "2026-05-21",
    ),
    (
        "a damaged 24-hour unit with its hours",
        "UPEP M-protein (24 h) 96 H mng/24 h on 12/17/2025",
        "urine_m_protein",
        96,
        "mg/24h",
        96,
        "2025-12-17",
    ),
    (
        "a value carried to the next line after its name",
        "Labs 10/01/2026: kappa FLC 389 mg/L, lambda FLC 8.6 mg/L, K/L ratio\n45.23, Hgb 10.2 g/dL.",
        "flc_ratio",
        45.23,
        None,
        45.23,
        "2026-10-01",
    ),
    (
        "a name broken over a line",
        "Labs 05/29/2026: kappa FLC 345 mg/L, lambda FLC 6.2 mg/L, FLC\nratio 55.65, Hgb 11.0 g/dL.",
        "flc_ratio",
        55.65,
        None,
        55.65,
        "2026-05-29",
    ),
    (
        "a qualifier that names the specimen, written out",
        "M-spike (24-hour urine) 310 mg/24h on 4/2/2026",
        "urine_m_protein",
        310,
        "mg/24h",
        310,
        "2026-04-02",
    ),
    # a listing that inverts the name: the specimen after a comma
    (
        "the specimen after a comma",
        "Collected: 04/28/2025\nM-spike, serum 0.5 H g/dL Not observed",
        "serum_m_protein",
        0.5,
        "g/dL",
        0.5,
        "2025-04-28",
    ),
    (
        "a urine listing's inverted name",
        "Collected: 04/28/2025\nM-protein, urine, 24 h 90 H mg/24 h Not observed",
        "urine_m_protein",
        90,
        "mg/24h",
        90,
        "2025-04-28",
    ),
]


@pytest.mark.parametrize(
    ("text", "analyte", "value", "unit", "std", "collected"),
    [r[1:] for r in READINGS],
    ids=[r[0] for r in READINGS],
)
def test_a_lab_value_is_read(
    text: str, analyte: str, value: float, unit: str | None, std: float, collected: str
) -> None:
    f = one(text, analyte)
    assert (f.value, f.unit, f.collected) == (value, unit, collected)
    assert f.value_std == pytest.approx(std)
    assert f.evidence and f.evidence[0].bbox is not None


LAB_REPORT = """Hartwell Oncology Associates (fictional)
LABORATORY RESULTS
Visit date: Sep 15, 2026
Test Result Units Reference
M-spike (SPEP) 2.6 H g/dL 0.0
Kappa free LC 175 H mg/L 3.3-19.4
Lambda free LC 8.1 mg/L 5.7-26.3
Hemoglobin 11.2 L g/dL 12.0-16.0
Creatinine 1.0 mg/dL 0.6-1.2
"""


def test_a_lab_report_row_takes_the_reports_date_flag_and_range() -> None:
    kappa = one(LAB_REPORT, "kappa_flc")
    assert (kappa.value, kappa.unit, kappa.flag, kappa.collected) == (175, "mg/L", "high", "2026-09-15")
    assert (kappa.reference_low, kappa.reference_high) == (3.3, 19.4)
    # "3.3-19.4" is a range, not March 2019
    assert all(f.collected == "2026-09-15" for f in labs_of(LAB_REPORT))


def test_the_involved_chain_and_the_ratio_are_derived_and_marked() -> None:
    found = labs_of(LAB_REPORT)
    ratio = next(f for f in found if f.analyte == "flc_ratio")
    involved = next(f for f in found if f.analyte == "involved_flc")
    assert ratio.value == pytest.approx(21.6, abs=0.05) and ratio.derived
    assert involved.value == 175 and involved.derived and "kappa" in involved.derived


def test_the_myelomas_light_chain_names_the_involved_chain_when_no_ratio_does() -> None:
    from common.models import DiagnosisFact

    dx = DiagnosisFact(concept="multiple_myeloma", is_target=True, text="IgG lambda myeloma")
    text = build_page_text(pages_from_text("Lambda FLC 250 mg/L on 10/01/2026"))
    involved = [f for f in read_labs(text, diagnoses=(dx,)) if f.analyte == "involved_flc"]
    assert [f.value_std for f in involved] == [250] and "lambda myeloma" in (involved[0].derived or "")


def test_a_value_without_a_unit_is_flagged_never_given_one() -> None:
    f = one("Her M-spike was 2.1 on 09/10/2026.", "serum_m_protein")
    assert f.unit is None and f.value_std is None and "no unit" in f.note


def test_a_bare_chain_name_needs_its_own_unit() -> None:
    """'IgG kappa 2.1 g/dL' is an isotype beside an M-spike, not a free light chain."""
    assert not [f for f in labs_of("IgG kappa 2.1 g/dL on 10/01/2026") if f.analyte == "kappa_flc"]
    assert one("kappa 180 mg/L on 10/01/2026", "kappa_flc").value == 180


def test_a_letters_date_of_service_does_not_date_its_labs() -> None:
    text = (
        "Date of service: 10/14/2026\nDear reviewer, the patient has RRMM.\n"
        "Recent labs:\nM-spike 2.1 g/dL\nKappa FLC 180 mg/L\n"
    )
    assert {f.collected for f in labs_of(text)} == {None}


def test_a_collection_heading_dates_the_listing_below_it() -> None:
    text = (
        "Date of service: 10/14/2026\nLaboratory results (collected 10/02/2026):\n"
        "Serum M-protein 2.1 g/dL\nKappa free light chain 180 mg/L\n"
    )
    assert {f.collected for f in labs_of(text) if not f.derived} == {"2026-10-02"}


def test_two_values_in_a_sentence_keep_their_own_dates() -> None:
    found = labs_of("Her M-spike was 2.1 g/dL on 09/10/2026 and urine M-protein 350 mg/24 h on 09/12/2026.")
    assert {(f.analyte, f.collected) for f in found} == {
        ("serum_m_protein", "2026-09-10"),
        ("urine_m_protein", "2026-09-12"),
    }


def _ocr_row(tokens: list[tuple[str, float]]) -> Page:
    """A one-line OCR page with per-word confidences."""
    page = page_from_text(" ".join(t for t, _ in tokens))
    words = tuple(
        w.model_copy(update={"confidence": c, "source": "ocr"})
        for w, (_, c) in zip(page.words, tokens, strict=True)
    )
    return page.model_copy(update={"words": words})


def test_a_tables_rules_read_as_lone_glyphs_are_not_values() -> None:
    """Fax OCR reads a table's vertical rules as '7', '-' or ';' with low confidence."""
    page = _ocr_row(
        [
            ("M-spike", 0.9),
            ("7", 0.33),
            ("1.4", 0.96),
            ("H", 0.8),
            (".", 0.0),
            ("g/dL", 0.9),
            ("7", 0.37),
            ("0.0", 0.9),
        ]
    )
    [f] = [f for f in read_labs(build_page_text([page])) if f.analyte == "serum_m_protein"]
    assert (f.value, f.unit, f.flag, f.needs_review) == (1.4, "g/dL", "high", False)
    assert f.evidence[0].text == "M-spike 1.4 H g/dL"


def test_low_confidence_digits_are_flagged_for_review() -> None:
    page = _ocr_row([("Lambda", 0.97), ("free", 0.96), ("LC", 0.9), ("4,1", 0.44), ("mg/L", 0.95)])
    [f] = [f for f in read_labs(build_page_text([page])) if f.analyte == "lambda_flc"]
    assert f.needs_review and "low OCR confidence" in f.note
    assert f.evidence[0].confidence == pytest.approx(0.44)


def test_a_table_reader_can_hand_in_rows_with_its_header_unit_and_date() -> None:
    text = build_page_text(pages_from_text("M-spike 2.1\n"))
    row = LabRow(start=0, end=len("M-spike 2.1"), listing=True, unit="g/dL", collected="2026-10-02")
    [f] = read_labs(text, rows=[row])
    assert (f.value_std, f.unit, f.collected) == (2.1, "g/dL", "2026-10-02")


RESULTED_LISTING = (
    "SERUM PROTEIN STUDIES\n"
    "Collected: 03/03/2026 08:38 Reported: 03/04/2026\n"
    "SPEP M-protein 2.6 H g/dL 0.0\n"
    "serum free kappa light chain 316 H mg/L 3.3-19.4\n"
    "serum free lambda light chain 8.1 mg/L 5.7-26.3\n"
)


def test_a_listings_collection_date_wins_over_its_report_date() -> None:
    assert {f.collected for f in labs_of(RESULTED_LISTING) if not f.derived} == {"2026-03-03"}


def test_listing_rows_that_run_on_without_punctuation_are_read_row_by_row() -> None:
    """Regression: the kappa and lambda rows ('... mg/L 3.3-19.4' ends with no full stop)
    were one run-on line of 18 words, no listing row, and took no collection date."""
    kappa, lambda_ = one(RESULTED_LISTING, "kappa_flc"), one(RESULTED_LISTING, "lambda_flc")
    assert (kappa.value, kappa.collected) == (316, "2026-03-03")
    assert (lambda_.value, lambda_.collected) == (8.1, "2026-03-03")


def test_a_sentence_that_names_labs_over_several_lines_keeps_its_date() -> None:
    text = (
        "Labs 02/20/2026: serum free lambda light chain 312 mg/L, kappa 4.1 mg/L,\n"
        "kappa/lambda ratio 0.01, 24-hour urine M-protein 480 mg/24 h.\n"
    )
    assert one(text, "urine_m_protein").collected == "2026-02-20"
