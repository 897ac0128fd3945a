"""Reading order from the page structure: a table is read row by row, as a reviewer reads it,
and a ruled row of text blocks side by side (a form's two columns) cell by cell.

Tesseract reads each column of a table as a block of its own (a column of dates after a
column of regimens), so a page's lines, taken in the engine's order, part a date from its
row.  The words of each table row are given one line number, the rows in table order, at
the place of the table's first line; every other line keeps the engine's order.  Text
layers already read row by row and come out the same.
"""

from __future__ import annotations

from collections.abc import Sequence

from common.models import Page
from common.structure import DocumentStructure
from extractors.structure.geometry import Placed, page_geometry


def _table_rows(structure: DocumentStructure, page: int) -> list[list[list[int]]]:
    """Per table on the page, its rows (the header first) as word indices, left to right."""
    out: list[list[list[int]]] = []
    page_structure = structure.page(page)
    if page_structure is None:
        return out
    for table_id in page_structure.tables:
        table = structure.table(table_id)
        if table is None:
            continue
        rows: list[list[int]] = []
        header = [c.header.word_ids for c in table.columns if c.header and c.header.page == page]
        if header and any(p.page == page and (p.header_repeated or p is table.parts[0]) for p in table.parts):
            rows.append(sorted({i for ids in header for i in ids}, key=lambda i: _order(header, i)))
        for row in table.rows:
            if row.page != page:
                continue
            rows.append([i for cell in row.cells for i in cell.span.word_ids])
        out.append([r for r in rows if r])
    return out


def _order(header: list[tuple[int, ...]], index: int) -> int:
    for k, ids in enumerate(header):
        if index in ids:
            return k * 1000 + ids.index(index)
    return 10**6


def table_reading_order(pages: Sequence[Page], structure: DocumentStructure) -> list[Page]:
    out: list[Page] = []
    for page in pages:
        tables = _table_rows(structure, page.number)
        if not tables:
            out.append(page)
            continue
        table_of: dict[int, int] = {}
        for t, rows in enumerate(tables):
            for row in rows:
                for i in row:
                    table_of[i] = t
        by_line: dict[int, list[int]] = {}
        for i, word in enumerate(page.words):
            by_line.setdefault(word.line, []).append(i)
        new_line: dict[int, int] = {}
        emitted: set[int] = set()
        next_line = 0
        for line in sorted(by_line):
            members = by_line[line]
            rest = [i for i in members if i not in table_of]
            for t in sorted({table_of[i] for i in members if i in table_of}):
                if t in emitted:
                    continue
                emitted.add(t)
                for row in tables[t]:
                    for i in row:
                        new_line[i] = next_line
                    next_line += 1
            anchor = next((i for i in members if i in table_of), None)
            punctuation = not any(any(ch.isalnum() for ch in page.words[i].text) for i in rest)
            if anchor is not None and rest and punctuation:
                # a stray "." or "|" between cells: it stays on its table row's line
                for i in rest:
                    new_line[i] = new_line[anchor]
            elif rest:
                for i in rest:
                    new_line[i] = next_line
                next_line += 1
        # words in reading order: by new line, then (inside a table row) left to right
        position = {i: k for rows in tables for row in rows for k, i in enumerate(row)}
        order = sorted(range(len(page.words)), key=lambda i: (new_line[i], position.get(i, i)))
        words = tuple(page.words[i].model_copy(update={"line": new_line[i]}) for i in order)
        out.append(page.model_copy(update={"words": words}))
    return out


# --------------------------------------------------------------------------- ruled cells

# a rule shorter than this many word heights is a box's side or an underline, not a cell's
_CELL_RULE_LINES = 1.5
_MAX_BLOCKS = 3  # a form sets two or three columns of text side by side; a table has more cells
_WALL_SLACK = 2.0  # points a cell's edge may fall short of its walls (rules drawn per cell)


def _cell_blocks(page: Page, skip: set[int]) -> dict[int, tuple[int, int, int, int]]:
    """Words of a ruled row whose cells hold blocks of text side by side, each with the key
    that reads it cell by cell: (the row's first line, 1, its column, its own line)."""
    geometry = page_geometry(page)
    words = [w for w in geometry.words if w.index not in skip]
    if not words or not geometry.lines:
        return {}
    height = sorted(w.height for w in words)[len(words) // 2]
    vertical = [r for r in geometry.lines if not r.horizontal and r.length >= _CELL_RULE_LINES * height]
    horizontal = [r for r in geometry.lines if r.horizontal]
    if not vertical:
        return {}
    bands: dict[tuple[float, int], list[tuple[int, Placed]]] = {}
    for w in words:
        beside = [v for v in vertical if v.y0 <= w.cy <= v.y1]
        left = sum(1 for v in beside if v.x0 < w.cx)
        if not beside or left == 0 or left == len(beside):
            continue  # not between two cell walls
        wall_left = max(v.x0 for v in beside if v.x0 < w.cx)
        wall_right = min(v.x0 for v in beside if v.x0 >= w.cx)
        # the cell's top edge runs from wall to wall; a blank's underline does not
        above = [
            h.y0
            for h in horizontal
            if h.y0 < w.cy and h.x0 <= wall_left + _WALL_SLACK and h.x1 >= wall_right - _WALL_SLACK
        ]
        top = round(max(above), 1) if above else -1.0
        # a row of cells: the rule above it and the walls it sits between
        bands.setdefault((top, len(beside)), []).append((left, w))
    out: dict[int, tuple[int, int, int, int]] = {}
    for members in bands.values():
        lines_of: dict[int, set[int]] = {}
        for col, w in members:
            lines_of.setdefault(col, set()).add(w.word.line)
        counts = [len(lines) for lines in lines_of.values()]
        if not 2 <= len(counts) <= _MAX_BLOCKS or min(counts) < 2:
            # a cell of one line beside wrapped ones ("3 | EPd: elotuzumab ... | 07/05/2023 |
            # 9 | PR"): a table's row, read across
            continue
        if len(set(counts)) == 1:
            continue  # as many lines in every cell: a table's rows with no rule between them
        first = min(w.word.line for _, w in members)
        for col, w in members:
            out[w.index] = (first, 1, col, w.word.line)
    return out


def ruled_cell_order(pages: Sequence[Page], structure: DocumentStructure) -> list[Page]:
    """A ruled row whose cells hold blocks of text side by side (a form's two columns of
    questions, each cell several lines) is read cell by cell: the left cell's lines, then
    the right cell's.  A text layer's lines run across the page, so the left column's
    "Prior agents received:" stood beside the right column's BCMA question and read as its
    answer.  Rows with a cell of one line (a table's row of dates and wrapped regimens),
    with more than three cells, or with as many lines in every cell (a table with no rule
    between its rows) are a table's and read across, as are the structure's tables (read
    row by row by :func:`table_reading_order`).
    Only line numbers change: the words keep their places, which the structure's ids name."""
    out: list[Page] = []
    for page in pages:
        skip = {i for rows in _table_rows(structure, page.number) for row in rows for i in row}
        keys = _cell_blocks(page, skip)
        if not keys:
            out.append(page)
            continue
        key_of = [keys.get(i, (w.line, 0, 0, 0)) for i, w in enumerate(page.words)]
        dense = {k: n for n, k in enumerate(sorted(set(key_of)))}
        # the words of a new line in reading order: a cell's line, left to right as read
        words = tuple(w.model_copy(update={"line": dense[key_of[i]]}) for i, w in enumerate(page.words))
        out.append(page.model_copy(update={"words": words}))
    return out
