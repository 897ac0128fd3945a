"""Plain-text documents (EHR exports) as pages, and pages back to text.

A text export has no geometry, but evidence must still point at a page and a
box.  Each line becomes a line of Words laid out on a virtual monospace letter
page (one character cell per character), so a box says "line 12, columns 5-17"
in the same relative 0..1 terms as a fax.  Pages break on form feeds, or every
:data:`LINES_PER_PAGE` lines as a printer would.
"""

from __future__ import annotations

import re

from common.models import BBox, Page, Word, WordSource

LINES_PER_PAGE = 60
COLUMNS = 80  # the virtual page widens for longer lines
# Virtual letter page in points, with the margins a printout would have.
PAGE_WIDTH, PAGE_HEIGHT = 612.0, 792.0
_MARGIN = 36.0

_TOKEN = re.compile(r"\S+")
_CELL_GAP = 2  # spaces between the columns of a tab-separated block


def _lay_out_tabs(lines: list[str]) -> list[str]:
    """Lines as printed, with each run of lines that hold tabs laid out as one table.

    An EHR export separates a table's cells with tabs; the tab is a cell boundary, not a
    tab stop: with stops every 8 characters a cell longer than the stop ("serum free kappa
    light chain") pushes the rest of its row out of its column, and the page-structure
    stage, which reads columns from word positions, sees no table.  A column is as wide as
    its widest cell in the run (elastic tab stops), so every row's cells line up.
    """
    out = list(lines)
    n = 0
    while n < len(lines):
        if "\t" not in lines[n]:
            n += 1
            continue
        end = n
        while end < len(lines) and "\t" in lines[end]:
            end += 1
        rows = [line.split("\t") for line in lines[n:end]]
        widths: list[int] = []
        for cells in rows:
            for i, cell in enumerate(cells[:-1]):
                if i == len(widths):
                    widths.append(0)
                widths[i] = max(widths[i], len(cell.rstrip()))
        for k, cells in enumerate(rows):
            out[n + k] = (
                "".join(cell.rstrip().ljust(widths[i] + _CELL_GAP) for i, cell in enumerate(cells[:-1]))
                + cells[-1]
            ).rstrip()
        n = end
    return out


def _split_pages(text: str) -> list[list[str]]:
    pages: list[list[str]] = []
    for chunk in text.split("\f"):
        lines = chunk.split("\n")
        if lines and lines[-1] == "" and len(lines) > 1:
            lines = lines[:-1]
        for start in range(0, max(1, len(lines)), LINES_PER_PAGE):
            pages.append(lines[start : start + LINES_PER_PAGE])
    # A trailing form feed makes an empty last page; drop empty pages at the end.
    while len(pages) > 1 and not any(line.strip() for line in pages[-1]):
        pages.pop()
    return pages


def text_pages(text: str) -> list[Page]:
    """Lay a plain-text document out as pages of Words (source ``plain_text``)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    pages: list[Page] = []
    for index, lines in enumerate(_split_pages(text), start=1):
        expanded = _lay_out_tabs(lines)
        columns = max([COLUMNS, *(len(line) for line in expanded)])
        cell_w = (PAGE_WIDTH - 2 * _MARGIN) / columns / PAGE_WIDTH
        cell_h = (PAGE_HEIGHT - 2 * _MARGIN) / LINES_PER_PAGE / PAGE_HEIGHT
        left, top = _MARGIN / PAGE_WIDTH, _MARGIN / PAGE_HEIGHT
        words: list[Word] = []
        for row, line in enumerate(expanded):
            for match in _TOKEN.finditer(line):
                box = BBox(
                    x0=left + match.start() * cell_w,
                    y0=top + row * cell_h,
                    x1=min(1.0, left + match.end() * cell_w),
                    y1=min(1.0, top + (row + 1) * cell_h),
                )
                words.append(Word(text=match.group(), bbox=box, source=WordSource.PLAIN_TEXT, line=row))
        blank = not words
        pages.append(
            Page(
                number=index,
                width=PAGE_WIDTH,
                height=PAGE_HEIGHT,
                words=tuple(words),
                source=WordSource.PLAIN_TEXT,
                blank=blank,
            )
        )
    return pages


def _lines(page: Page) -> list[list[Word]]:
    by_line: dict[int, list[Word]] = {}
    for word in page.words:
        by_line.setdefault(word.line, []).append(word)
    return [by_line[k] for k in sorted(by_line)]


def page_text(page: Page) -> str:
    """The page's words, one output line per reading-order line."""
    return "\n".join(" ".join(w.text for w in line) for line in _lines(page))


def page_text_with_confidence(page: Page) -> str:
    """Like :func:`page_text`, with each OCR word followed by its confidence: ``word[0.93]``."""
    out: list[str] = []
    for line in _lines(page):
        out.append(
            " ".join(w.text if w.confidence is None else f"{w.text}[{w.confidence:.2f}]" for w in line)
        )
    return "\n".join(out)
