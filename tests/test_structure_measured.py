"""The page-structure figures on every generated document, text layer and both fax
resolutions (slow: about 45 fax pages of real tesseract).  The same run prints its
figures with ``python tests/structure_measure.py``."""

from __future__ import annotations

import pytest
from structure_measure import BoxScore, TableScore, run

TABLE_CELLS = 0.95  # issue 9: table cells assigned to the right row and column
CHECKBOXES = 0.98  # issue 9: ticked / unticked read right at both fax resolutions


@pytest.fixture(scope="module")
def figures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, object]]:
    return run(("text", "fine", "normal"), tmp_path_factory.mktemp("measured"))


@pytest.mark.slow
@pytest.mark.ocr
@pytest.mark.parametrize("rendering", ["text", "fine", "normal"])
def test_table_cells_land_in_their_row_and_column(
    figures: dict[str, dict[str, object]], rendering: str
) -> None:
    tables = figures[rendering]["tables"]
    assert isinstance(tables, TableScore)
    assert tables.accuracy >= TABLE_CELLS, tables.errors
    # a date in the start column is that row's start
    assert tables.starts and tables.starts_right / tables.starts >= TABLE_CELLS, tables.errors


@pytest.mark.slow
@pytest.mark.ocr
@pytest.mark.parametrize("rendering", ["text", "fine", "normal"])
def test_checkboxes_read_right_and_no_unticked_option_is_ticked(
    figures: dict[str, dict[str, object]], rendering: str
) -> None:
    boxes = figures[rendering]["boxes"]
    assert isinstance(boxes, BoxScore)
    assert boxes.unticked_as_ticked == 0 and boxes.ticked_as_unticked == 0, boxes.errors
    assert boxes.accuracy >= (1.0 if rendering == "text" else CHECKBOXES), boxes.errors


@pytest.mark.slow
@pytest.mark.ocr
@pytest.mark.parametrize("rendering", ["text", "fine", "normal"])
def test_packets_set_aside_the_other_patient_and_count_the_pages(
    figures: dict[str, dict[str, object]], rendering: str
) -> None:
    packets = figures[rendering]["packets"]
    assert isinstance(packets, list) and all(line.endswith(": ok") for line in packets), packets
