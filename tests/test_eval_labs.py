"""Lab values are scored on value, unit and date together."""

from __future__ import annotations

from common.models import LabFact
from evaluation.labs import score_labs

READ = [
    LabFact(analyte="serum_m_protein", value=2.1, unit="g/dL", value_std=2.1, collected="2026-10-02"),
    LabFact(analyte="kappa_flc", value=180, unit="mg/L", value_std=180, collected="2026-10-02"),
    LabFact(
        analyte="involved_flc", value=180, unit="mg/L", value_std=180, collected="2026-10-02", derived="kappa"
    ),
]


def test_a_value_is_right_only_with_its_unit_and_date() -> None:
    truth = [
        {"analyte": "serum_m_protein", "value": 2.1, "unit": "g/dL", "collected": "2026-10-02"},
        {"analyte": "kappa_flc", "value": 180, "unit": "mg/L", "collected": "2026-09-02"},
        {"analyte": "urine_m_protein", "value": 350, "unit": "mg/24h", "collected": "2026-10-02"},
        {"analyte": "involved_flc", "value": 180, "unit": "mg/L", "collected": "2026-10-02"},
    ]
    got = score_labs(truth, READ)
    assert [ok for ok, _ in got] == [True, False, False, False]
    assert "truth 180 mg/L 2026-09-02" in got[1][1] and got[2][1].startswith("missed lab urine_m_protein")
    # a derived value is not a value read
    assert got[3][1].startswith("missed lab involved_flc")


def test_a_truth_in_the_corpus_schema_is_scored_test_date_and_ratio() -> None:
    """The corpus's truth names the analyte 'test' and the collection 'date', writes the
    ratio's unit 'ratio', and lists labs the reader never reads (haemoglobin)."""
    truth = [
        {"test": "kappa_flc", "value": 316.0, "unit": "mg/L", "date": "2026-03-03"},
        {"test": "flc_ratio", "value": 39.01, "unit": "ratio", "date": "2026-03-03"},
        {"test": "hemoglobin", "value": 11.2, "unit": "g/dL", "date": "2026-03-03"},
    ]
    read = [
        LabFact(analyte="kappa_flc", value=316.0, unit="mg/L", collected="2026-03-03"),
        LabFact(analyte="flc_ratio", value=39.01, unit=None, collected="2026-03-03"),
    ]
    assert [ok for ok, _ in score_labs(truth, read)] == [True, True]
