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
