"""Lay plain text out as a Page of words with boxes (source plain_text).

Used for EHR text exports and by tests: each line of text becomes a row of words,
each word a box proportional to its column position, so evidence boxes can be
checked the same way as for OCR pages.
"""

from __future__ import annotations

import re

from common.models import BBox, Page, Word, WordSource

LINES_PER_PAGE = 66
COLUMNS = 110


def page_from_text(text: str, *, number: int = 1, confidence: float | None = None) -> Page:
    words: list[Word] = []
    lines = text.split("\n")
    rows = max(len(lines), LINES_PER_PAGE)
    cols = max([COLUMNS, *(len(line.expandtabs(4)) for line in lines)])
    for line_index, line in enumerate(lines):
        # any run of whitespace (tabs of an exported table included) separates words
        for match in re.finditer(r"\S+", line.expandtabs(4)):
            col, token = match.start(), match.group(0)
            words.append(
                Word(
                    text=token,
                    bbox=BBox(
                        x0=col / cols,
                        y0=line_index / rows,
                        x1=(col + len(token)) / cols,
                        y1=(line_index + 1) / rows,
                    ),
                    confidence=confidence,
                    source=WordSource.PLAIN_TEXT,
                    line=line_index,
                )
            )
    return Page(
        number=number, width=float(cols), height=float(rows), words=tuple(words), source=WordSource.PLAIN_TEXT
    )


def pages_from_text(text: str, *, confidence: float | None = None) -> tuple[Page, ...]:
    """Split on form feeds into pages, then lay each out."""
    chunks = text.split("\f")
    return tuple(page_from_text(chunk, number=i + 1, confidence=confidence) for i, chunk in enumerate(chunks))
