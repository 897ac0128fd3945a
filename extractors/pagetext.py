"""Page words -> one searchable text, with a map from every character back to its word.

Words of a line are joined with single spaces, lines with newlines, and pages with a
blank line, so a mention found in the text can be turned back into the exact words
it came from: their page, the union of their boxes and their lowest confidence.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache

from common.models import BBox, Evidence, Page, Word
from extractors import cues


@dataclass(frozen=True)
class Placed:
    """One word and where it sits in the joined text."""

    start: int
    end: int
    page: int
    line_no: int  # document-wide line number
    word: Word


@dataclass(frozen=True)
class PageText:
    text: str
    words: tuple[Placed, ...]
    line_starts: tuple[int, ...]  # character offset of each document-wide line
    line_pages: tuple[int, ...]
    _logical: list[tuple[int, int]] = field(default_factory=list, repr=False, compare=False)
    _word_starts: list[int] = field(default_factory=list, repr=False, compare=False)

    # Logical lines: a physical line plus the lines it wraps onto.  Dates, clauses and
    # phase words are read per logical line, so "DKd ... 07/2019" + "- 06/2020." is one range.
    def logical_spans(self) -> list[tuple[int, int]]:
        if not self._logical:
            self._logical.extend(_logical_spans(self))
        return self._logical

    def page_spans(self) -> list[tuple[int, int]]:
        """Character range of each page's text (pages never share a sentence)."""
        spans: list[tuple[int, int]] = []
        for line_no, page in enumerate(self.line_pages):
            start = self.line_starts[line_no]
            end = start + len(self.line_text(line_no)) + 1
            if spans and self.line_pages[line_no - 1] == page:
                spans[-1] = (spans[-1][0], end)
            else:
                spans.append((start, end))
        return spans

    def unwrapped(self) -> str:
        """The text with each wrapped line break turned into a space (same length, same
        offsets), so "autologous stem / cell transplant" is one phrase to the matcher."""
        chars = list(self.text)
        for start, end in self.logical_spans():
            for i in range(start, end):
                if chars[i] == "\n":
                    chars[i] = " "
        return "".join(chars)

    def logical_index(self, offset: int) -> int:
        spans = self.logical_spans()
        return max(bisect_right([s for s, _ in spans], offset) - 1, 0)

    def logical_text(self, index: int) -> str:
        start, end = self.logical_spans()[index]
        return self.text[start:end]

    def words_in(self, start: int, end: int) -> list[Placed]:
        """Words overlapping the character range [start, end)."""
        if len(self._word_starts) != len(self.words):
            self._word_starts[:] = [w.start for w in self.words]
        i = max(bisect_right(self._word_starts, start) - 1, 0)
        found: list[Placed] = []
        while i < len(self.words) and self.words[i].start < end:
            w = self.words[i]
            if w.end > start:
                found.append(w)
            i += 1
        return found

    def line_of(self, offset: int) -> int:
        return max(bisect_right(self.line_starts, offset) - 1, 0)

    def line_text(self, line_no: int) -> str:
        start = self.line_starts[line_no]
        end = self.line_starts[line_no + 1] - 1 if line_no + 1 < len(self.line_starts) else len(self.text)
        return self.text[start:end]

    def value_line_below(self, start: int, end: int) -> tuple[int, str, float, float] | None:
        """The line that holds the value of a label printed over its value ("Date of request"
        over "07/20/2026", "Drug name" over "ELREXFIO"): the first line with text in the two
        below the label, on its page.  Returns that line's offset and text and the label's
        horizontal extent, for ``in_column``."""
        label = self.words_in(start, end)
        if not label:
            return None
        page = label[0].page
        x0, x1 = min(w.word.bbox.x0 for w in label), max(w.word.bbox.x1 for w in label)
        line_no = self.line_of(start)
        for below in (line_no + 1, line_no + 2):
            if below >= len(self.line_starts) or self.line_pages[below] != page:
                return None
            line = self.line_text(below)
            if line.strip():
                return self.line_starts[below], line, x0, x1
        return None

    def in_column(self, start: int, end: int, x0: float, x1: float) -> bool:
        """Whether the words of text[start:end] overlap the horizontal extent [x0, x1]."""
        words = self.words_in(start, end)
        return (
            bool(words)
            and min(w.word.bbox.x1 for w in words) > x0
            and max(w.word.bbox.x0 for w in words) < x1
        )

    def evidence(self, start: int, end: int, *, confidence_factor: float = 1.0) -> Evidence | None:
        """Evidence for a character range: the words it touches on the first page it touches."""
        words = self.words_in(start, end)
        if not words:
            return None
        page = words[0].page
        words = [w for w in words if w.page == page]
        box = BBox.union([w.word.bbox for w in words])
        confs = [w.word.confidence for w in words if w.word.confidence is not None]
        confidence = min(confs) * confidence_factor if confs else None
        if confidence is None and confidence_factor < 1.0:
            confidence = confidence_factor
        text = self.text[words[0].start : words[-1].end]
        return Evidence(page=page, bbox=box, text=text, confidence=confidence)


def build_page_text(pages: Sequence[Page]) -> PageText:
    parts: list[str] = []
    placed: list[Placed] = []
    line_starts: list[int] = []
    line_pages: list[int] = []
    offset = 0
    for page_index, page in enumerate(pages):
        if page_index and parts:
            parts.append("\n")  # blank line between pages: no sentence runs across a page break
            offset += 1
        lines: dict[int, list[Word]] = {}
        for word in page.words:
            if word.text.strip():
                lines.setdefault(word.line, []).append(word)
        for line_index in sorted(lines):
            line_starts.append(offset)
            line_pages.append(page.number)
            line_no = len(line_starts) - 1
            # The reader's order is reading order.  Never re-sort by x: on a page fed upside
            # down the boxes are in the original page's frame and run right to left.
            words = lines[line_index]
            for position, word in enumerate(words):
                if position:
                    parts.append(" ")
                    offset += 1
                text = word.text.strip()
                parts.append(text)
                placed.append(Placed(offset, offset + len(text), page.number, line_no, word))
                offset += len(text)
            parts.append("\n")
            offset += 1
    return PageText("".join(parts), tuple(placed), tuple(line_starts), tuple(line_pages))


@cache
def _run_on() -> re.Pattern[str]:
    """A line that ends on a word leaving its sentence open (cues.json "run_on")."""
    return re.compile(rf"(?i)\b{cues.fragment('run_on')}\s*$")


# a capitalised label of a few words and its colon: "Anti-CD38 antibody:", "Prior BCMA bispecific/ADC:"
_LABEL_START = re.compile(r"^\s*[A-Z][\w/()-]*(?:[ ][\w/()-]+){0,4}:(?:\s|$)")
# a lower-case word, a date (03/2021, or 2021-04-05 as ISO writes it), or a parenthesis
# opening on a word ("(belantamab, teclistamab ...)" under "No prior BCMA-targeted
# therapy"); "(a) ..." is an item of a list
_WRAP_START = re.compile(r"^\s*(?:[a-z]|\d{1,2}/\d{2,4}\b|(?:19|20)\d\d-\d\d\b|\((?=[a-z]{2,}))")
# a line opening on a quotation mark or a bracket (the next word of a quoted or glossed name)
_QUOTE_START = re.compile(r"^\s*[\"'\u201c\u2018(\[]")
_DASH_DATE_START = re.compile(r"^\s*[-–]\s*(?:\d{1,2}/)?\d{2,4}\b")
_ENDS_WITH_DATE = re.compile(r"(?:\d{1,2}/\d{2,4}|(?:19|20)\d\d)\s*$")


def _logical_spans(text: PageText) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    count = len(text.line_starts)
    for line_no in range(count):
        start = text.line_starts[line_no]
        end = start + len(text.line_text(line_no))
        if spans and line_no > 0 and _wraps(text, line_no - 1, line_no):
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans


def _wraps(text: PageText, previous: int, current: int) -> bool:
    """Does line ``current`` continue the sentence of line ``previous``?"""
    if text.line_pages[previous] != text.line_pages[current]:
        return False
    before = text.line_text(previous).rstrip()
    after = text.line_text(current)
    if not before or before[-1] in ".:;!?|":
        return False
    if _LABEL_START.match(after):
        # "... ( ) None received" + "Proteasome inhibitor: (x) Velcade": a line that opens
        # with a label is a field of its own, however the line before ended
        return False
    if _run_on().search(before):
        return True
    if before.endswith(",") and len(before.split()) >= 6 and _QUOTE_START.match(after):
        # prose that wraps at a comma onto a quote or a bracket leaves its sentence open:
        # "... a study (investigational BCMA CAR-T," + '"BCM-114" protocol); flu/cy
        # lymphodepletion and infusion 01/2023'.  Onto a capital it may not: a fax's OCR
        # reads a line's closing full stop as a comma ("... treated with KPd, 08/2024 -
        # 12/2025," over "The complete treatment records ... will follow"), and a table's
        # header row may follow a sentence in OCR's reading order
        return True
    if re.search(r"[A-Za-z]{2}-$", before) and after[:1].isalnum():
        # a word broken over the line at its hyphen: "never received an anti-" + "CD38
        # monoclonal antibody"
        return True
    if before.count("(") > before.count(")") and _WRAP_START.match(after):
        # "Prior anti-BCMA therapy (belantamab, teclistamab," + "elranatamab, BCMA CAR-T)?":
        # a bracket left open runs on, however short the line
        return True
    if _DASH_DATE_START.match(after):
        # "... DKd 07/2019" + "- 06/2020": a range broken over the line; a bullet otherwise
        return bool(_ENDS_WITH_DATE.search(before)) and before.lstrip()[:1] not in "-–•*"
    # prose wrapping (a long line) onto a lower-case word, a dash or a date; short table rows never do
    return bool(_WRAP_START.match(after)) and len(before.split()) >= 8
