"""Scoring the page-structure stage against the truth of tests/structure_docs.py.

Tables: every word the reader produced is placed in the truth cell whose drawn box holds
its centre (the upright, deskewed page in points is the PDF's own frame, so text layers
and faxes are scored the same way).  A truth cell is assigned right when all its words
are in one predicted cell, in the predicted column that holds the truth column's words,
with no word of another cell, in a predicted row that holds all of its truth row's words
and no other row's.  Cells whose words OCR never produced are counted apart (OCR loss).

Checkboxes: each printed option is matched to the predicted checkbox whose label starts
inside the option's drawn label box; it is right when the states agree.  ``unreadable``
counts as not right (it is flagged, not wrong); ``ticked`` for an unticked option is the
error that must never happen.

Run ``python tests/structure_measure.py`` for the figures (text, 204x196 and 204x98).
"""

from __future__ import annotations

import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from structure_docs import (  # noqa: E402
    FORM_DOCS,
    PACKET_DOCS,
    TABLE_DOCS,
    FormDoc,
    TableDoc,
    option_truth,
    table_truth,
)

from common.models import Document  # noqa: E402
from common.structure import DocumentStructure  # noqa: E402
from extractors.structure.geometry import Frame, page_geometry  # noqa: E402

_TOLERANCE = 1.5  # points a word centre may stand outside its drawn cell


@dataclass
class TableScore:
    cells: int = 0  # truth cells with at least one word read
    right: int = 0
    lost: int = 0  # truth cells with no word read (OCR loss)
    header_roles: int = 0
    header_roles_right: int = 0
    starts: int = 0  # truth rows with a start date (a start or dates column)
    starts_right: int = 0  # ... whose row's start cell gives that month
    errors: list[str] = field(default_factory=list)

    def add(self, other: TableScore) -> None:
        self.cells += other.cells
        self.right += other.right
        self.lost += other.lost
        self.header_roles += other.header_roles
        self.header_roles_right += other.header_roles_right
        self.starts += other.starts
        self.starts_right += other.starts_right
        self.errors += other.errors

    @property
    def accuracy(self) -> float:
        return self.right / self.cells if self.cells else 1.0


def _word_cells(document: Document, truth: list) -> dict[tuple[int, int], object]:
    """(page, word index) -> the truth cell holding the word's centre."""
    by_page: dict[int, list] = defaultdict(list)
    for cell in truth:
        by_page[cell.page].append(cell)
    found: dict[tuple[int, int], object] = {}
    for page in document.pages:
        cells = by_page.get(page.number, [])
        for w in page_geometry(page).words:
            for cell in cells:
                x0, top, x1, bottom = cell.box
                if (
                    x0 - _TOLERANCE <= w.cx <= x1 + _TOLERANCE
                    and top - _TOLERANCE <= w.cy <= bottom + _TOLERANCE
                ):
                    found[(page.number, w.index)] = cell
                    break
    return found


def score_tables(doc: TableDoc, document: Document, structure: DocumentStructure) -> TableScore:
    truth = table_truth(doc)
    where = _word_cells(document, truth)
    score = TableScore()
    body = [c for c in truth if c.row >= 0]
    # every predicted cell and row, keyed by the words in it
    cell_of: dict[tuple[int, int], tuple[str, int, int]] = {}
    for table in structure.tables:
        for row in table.rows:
            for cell in row.cells:
                for wid in cell.span.word_ids:
                    cell_of[(cell.span.page, wid)] = (table.id, row.index, cell.column)
    # predicted column -> truth column, by the words (majority)
    votes: dict[tuple[str, int], Counter[tuple[int, int]]] = defaultdict(Counter)
    for key, (tid, _, col) in cell_of.items():
        t = where.get(key)
        if t is not None and t.row >= 0:
            votes[(tid, col)][(t.table, t.column)] += 1
    column_map = {k: v.most_common(1)[0][0] for k, v in votes.items()}
    words_of: dict[tuple[int, int, int], list[tuple[int, int]]] = defaultdict(list)
    for key, t in where.items():
        words_of[(t.table, t.row, t.column)].append(key)
    row_words: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    for key, t in where.items():
        if t.row >= 0:
            row_words[(t.table, t.row)].append(key)
    seen: set[tuple[int, int, int]] = set()
    for cell in body:
        ident = (cell.table, cell.row, cell.column)
        if ident in seen:
            continue
        seen.add(ident)
        if not cell.text:
            continue  # an empty cell: nothing to assign
        words = words_of.get(ident, [])
        if not words:
            score.lost += 1
            continue
        score.cells += 1
        placed = {cell_of.get(k) for k in words}
        problem = None
        if None in placed:
            problem = "not in any table cell"
        elif len(placed) > 1:
            problem = f"split over {len(placed)} cells"
        else:
            tid, prow, pcol = next(iter(placed))  # type: ignore[misc]
            if column_map.get((tid, pcol)) != (cell.table, cell.column):
                problem = f"in column {pcol}, which holds truth column {column_map.get((tid, pcol))}"
            else:
                members = [k for k, v in cell_of.items() if v == (tid, prow, pcol)]
                if any(
                    where.get(k) not in (None,) and (where[k].row, where[k].column) != (cell.row, cell.column)
                    for k in members
                ):
                    problem = "shares its cell with another cell's words"
                else:
                    row_members = [k for k, v in cell_of.items() if v[0] == tid and v[1] == prow]
                    other_rows = {where[k].row for k in row_members if k in where and where[k].row >= 0}
                    whole_row = all(
                        cell_of.get(k, (None, None))[:2] == (tid, prow)
                        for k in row_words[(cell.table, cell.row)]
                    )
                    if other_rows - {cell.row}:
                        problem = f"its row also holds truth rows {sorted(other_rows - {cell.row})}"
                    elif not whole_row:
                        problem = "its truth row is split over predicted rows"
        if problem is None:
            score.right += 1
        else:
            score.errors.append(f"{doc.name}: row {cell.row} col {cell.column} '{cell.text}': {problem}")
    _score_starts(doc, structure, where, score)
    # header roles: each truth column's role against the role of the predicted column holding it
    for t, spec in enumerate(doc.tables):
        for c, role in enumerate(spec.roles):
            if role is None:
                continue
            score.header_roles += 1
            preds = [k for k, v in column_map.items() if v == (t, c)]
            roles = {
                col.role
                for tb in structure.tables
                for col in tb.columns
                for k in preds
                if k == (tb.id, col.index)
            }
            if roles == {role}:
                score.header_roles_right += 1
            else:
                score.errors.append(
                    f"{doc.name}: header '{spec.header[c]}' read as {sorted(map(str, roles))}, not {role}"
                )
    return score


def _first_month(text: str) -> str | None:
    from extractors.dates import find_single_dates

    found = find_single_dates(text)
    return found[0][2][:7] if found else None


def _score_starts(doc: TableDoc, structure: DocumentStructure, where: dict, score: TableScore) -> None:
    """A date in the Start column is that row's start: each truth row's start month against
    the month in the start (or dates) cell of the predicted row holding most of its words."""
    for t, spec in enumerate(doc.tables):
        column = next((c for c, r in enumerate(spec.roles) if r in ("start", "dates", "date_given")), None)
        if column is None:
            continue
        for r, cells in enumerate(spec.rows):
            want = _first_month(cells[column])
            if want is None:
                continue
            score.starts += 1
            mine = [k for k, v in where.items() if v.table == t and v.row == r]
            votes: Counter[tuple[str, int]] = Counter()
            for table in structure.tables:
                for row in table.rows:
                    ids = {(row.page, i) for c in row.cells for i in c.span.word_ids}
                    votes[(table.id, row.index)] += len(ids & set(mine))
            best = votes.most_common(1)
            if not best or best[0][1] == 0:
                continue
            tid, index = best[0][0]
            table = next(tb for tb in structure.tables if tb.id == tid)
            row = table.rows[index]
            cell = row.cell(spec.roles[column] or "") or row.cell("start") or row.cell("dates")
            got = _first_month(cell.text) if cell else None
            if got == want:
                score.starts_right += 1
            else:
                score.errors.append(f"{doc.name}: row {r} start {want}, read {got}")


@dataclass
class BoxScore:
    options: int = 0
    right: int = 0
    unreadable: int = 0
    missed: int = 0
    unticked_as_ticked: int = 0
    ticked_as_unticked: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: BoxScore) -> None:
        for name in ("options", "right", "unreadable", "missed", "unticked_as_ticked", "ticked_as_unticked"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors += other.errors

    @property
    def accuracy(self) -> float:
        return self.right / self.options if self.options else 1.0


def score_boxes(doc: FormDoc, document: Document, structure: DocumentStructure) -> BoxScore:
    page = document.pages[0]
    frame = Frame.of(page)
    score = BoxScore()
    predicted = [box for p in structure.pages for g in p.checkboxes for box in g.options]
    for truth in option_truth(doc):
        score.options += 1
        x0, top, x1, bottom = truth.box()
        hit = None
        best = 0.0
        for box in predicted:
            if not box.option.word_ids:
                continue
            # the option's words (a glyph glued to its label, "[]0", shares the first)
            boxes = [frame.box(page.words[i].bbox) for i in box.option.word_ids]
            wx0, wx1 = min(b[0] for b in boxes), max(b[2] for b in boxes)
            wy = (boxes[0][1] + boxes[0][3]) / 2
            if not (top - 3 <= wy <= bottom + 3):
                continue
            share = (min(x1, wx1) - max(x0, wx0)) / max(1.0, min(x1 - x0, wx1 - wx0))
            if share > max(best, 0.5):
                best, hit = share, box
        want = "ticked" if truth.ticked else "unticked"
        label = f"{doc.name}: '{doc.questions[truth.question or 0].text}' / '{truth.text}' ({want})"
        if hit is None:
            score.missed += 1
            score.errors.append(f"{label}: no checkbox read")
        elif hit.state == want:
            score.right += 1
        elif hit.state == "unreadable":
            score.unreadable += 1
            score.errors.append(f"{label}: unreadable ({hit.why})")
        else:
            if want == "unticked":
                score.unticked_as_ticked += 1
            else:
                score.ticked_as_unticked += 1
            score.errors.append(f"{label}: read {hit.state} ({hit.why})")
    return score


def run(
    renderings: tuple[str, ...] = ("text", "fine", "normal"), root: Path | None = None
) -> dict[str, dict[str, object]]:
    import os
    import tempfile

    from structure_docs import Made, writer_for

    from common.settings import Settings
    from extractors.structure import document_structure
    from reading.reader import read_document

    root = root or Path(os.environ.get("STRUCTURE_DOCS") or tempfile.mkdtemp(prefix="structure-measure-"))
    root.mkdir(parents=True, exist_ok=True)
    made = Made(root)
    out: dict[str, dict[str, object]] = {}
    for rendering in renderings:
        tables, boxes = TableScore(), BoxScore()
        packets: list[str] = []
        only = os.environ.get("STRUCTURE_ONLY", "")  # a name prefix: measure some documents only
        for doc in (*TABLE_DOCS, *FORM_DOCS, *PACKET_DOCS):
            if not doc.name.startswith(only):
                continue
            path = made.path(doc.name, rendering, writer_for(doc))
            document = read_document(path, Settings(workers=2))
            structure = document_structure(document.pages)
            if isinstance(doc, TableDoc):
                tables.add(score_tables(doc, document, structure))
            elif isinstance(doc, FormDoc):
                boxes.add(score_boxes(doc, document, structure))
            else:
                ok = structure.set_aside == doc.other_patient_pages and (
                    structure.page_count is not None and structure.page_count.stated == doc.stated_pages
                )
                stated = structure.page_count.stated if structure.page_count else None
                verdict = "ok" if ok else "WRONG"
                packets.append(
                    f"{doc.name}: set aside {structure.set_aside}, stated {stated}, "
                    f"missing {structure.pages_missing}: {verdict}"
                )
        out[rendering] = {"tables": tables, "boxes": boxes, "packets": packets}
    return out


def main() -> None:
    renderings = tuple(sys.argv[1:]) or ("text", "fine", "normal")
    for rendering, result in run(renderings).items():
        tables, boxes = result["tables"], result["boxes"]
        assert isinstance(tables, TableScore) and isinstance(boxes, BoxScore)
        print(f"== {rendering}")
        print(
            f"table cells assigned right: {tables.right}/{tables.cells} = {tables.accuracy:.3f}"
            f"  (cells with no word read: {tables.lost}); "
            f"header roles {tables.header_roles_right}/{tables.header_roles}"
        )
        share = tables.starts_right / tables.starts if tables.starts else 1.0
        print(f"start months from table rows: {tables.starts_right}/{tables.starts} = {share:.3f}")
        print(
            f"checkboxes read right: {boxes.right}/{boxes.options} = {boxes.accuracy:.3f}  "
            f"(unreadable {boxes.unreadable}, missed {boxes.missed}, "
            f"unticked read ticked {boxes.unticked_as_ticked}, "
            f"ticked read unticked {boxes.ticked_as_unticked})"
        )
        for line in result["packets"]:  # type: ignore[attr-defined]
            print(line)
        for error in (*tables.errors, *boxes.errors)[:60]:
            print("  ", error)


if __name__ == "__main__":
    main()
