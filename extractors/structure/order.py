"""Reading order from the page structure: a table is read row by row, as a reviewer reads it.

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
