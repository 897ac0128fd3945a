"""Reading order from the page structure: the traps of putting a table's rows back together."""

from __future__ import annotations

from pathlib import Path

from common.settings import Settings
from extractors.structure import document_structure
from extractors.structure.order import table_reading_order
from reading.reader import read_document

_EXPORT = """DISCHARGE SUMMARY
Discharge medications
Action\tMedication\tComment
CONTINUE\tbortezomib 1.3 mg/m2\t
CONTINUE\tdexamethasone 4 mg tablet\t
STOP\tlenalidomide 10 mg capsule\tprogression
------------------------------------------------------------
Follow-up in two weeks.
"""


def test_a_rule_line_of_dashes_outside_every_table_keeps_its_own_line(tmp_path: Path) -> None:
    """Regression: a line of only punctuation that belongs to no table looked for its table
    row's anchor and stopped the document (StopIteration)."""
    path = tmp_path / "export.txt"
    path.write_text(_EXPORT)
    document = read_document(path, Settings(workers=1))
    structure = document_structure(document.pages)
    assert structure.tables, "the medication table is read as a table"
    (page,) = table_reading_order(document.pages, structure)
    lines: dict[int, list[str]] = {}
    for word in page.words:
        lines.setdefault(word.line, []).append(word.text)
    texts = [" ".join(ws) for _, ws in sorted(lines.items())]
    assert any(set(t) == {"-"} for t in texts)
    assert texts[-1] == "Follow-up in two weeks."
    assert any(t.startswith("STOP lenalidomide") for t in texts)
