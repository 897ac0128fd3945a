"""Laboratory values: serum and urine M-protein, free light chains and their ratio.

Read from rows of text: a line of a lab listing ("Kappa free LC  175 H  mg/L  3.3-19.4")
or a sentence of a letter ("M-spike 2.1 g/dL on 09/10/2026").  A table reader can hand
its rows in the same shape (:class:`LabRow`: a span of the text, and the unit or date
its column headers carry), so labs in tables come from page structure without a second
reader.

What is never done: a value is never given a unit it was not written with (it is
flagged instead), never converted except from its written unit, and never dated from a
date that is not its own line's or its listing's heading.  Digits read with low OCR
confidence are flagged for review.  The involved free light chain is derived from the
ratio (above its range: kappa; below: lambda) or the myeloma's light-chain type, and a
ratio from kappa and lambda drawn together, each marked as derived.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Literal

from common.models import BBox, DiagnosisFact, Evidence, LabFact, WordSource
from common.vocabulary import LabAnalyte, LabVocabulary, lab_vocabulary, to_analyte_unit
from extractors import cues
from extractors.dates import find_single_dates
from extractors.ocr_fuzzy import CONFUSION_FACTOR, bounded_distance, confusion_key
from extractors.pagetext import PageText
from extractors.structure.index import StructureIndex

Comparator = Literal["<", ">", "<=", ">="]


@dataclass(frozen=True)
class LabRow:
    """A span of the document text that may hold lab values."""

    start: int
    end: int
    # A row of a listing or a table: a collection date heading the listing applies to it.
    # A sentence of a letter takes only a date of its own.
    listing: bool
    unit: str | None = None  # a unit its column header gives ("Result (g/dL)")
    collected: str | None = None  # a date its column or its table gives
    collected_evidence: Evidence | None = None
    # Spans of the document text the row's reading leaves out (the other dates' result
    # cells of a trend report's row): blanked, so offsets and evidence stay the page's.
    blank: tuple[tuple[int, int], ...] = ()
    ocr: bool = False  # read by OCR: a test name damaged by a few glyphs is still its name


@dataclass(frozen=True)
class _Reading:
    analyte: str
    value: float
    comparator: Comparator | None
    unit: str | None
    flag: Literal["high", "low"] | None
    low: float | None
    high: float | None
    note: str
    span: tuple[int, int]  # name .. end of the value's cells, in the row
    digits: tuple[int, int]  # the value's digits, in the row
    misread_unit: bool = False  # the unit read one glyph from its spelling, or a zero as "O": review it
    name_read: str | None = None  # the test name as OCR read it, when that was not its spelling
    name_share: float = 1.0  # the share of the name that matched its spelling
    cells: tuple[tuple[int, int], ...] = ()  # name, value, flag and unit: what the evidence shows


_NUMBER = r"\d{1,5}(?:[.,]\d{1,4})?"
_WORD = re.compile(r"\S+")
# A damaged test name may be this many characters per edit from its spelling: one in
# "lambda PLC", four in "Rerum tree kappa Jiqht chain"; names shorter than the minimum
# ("M-spike") must be read as spelled.
_CHARS_PER_EDIT = 7
_FUZZY_NAME_MIN = 8


def _name_share(read: str, spelling: str) -> float:
    """How much of a damaged name matched: its confidence is the value's times this, the
    way a fuzzily read drug name's is (extractors/ocr_fuzzy.py)."""
    key = confusion_key(spelling)
    distance = bounded_distance(confusion_key(read), key, len(key))
    return min(CONFUSION_FACTOR, 1.0 - distance / max(len(key), 1))


_BULLET = re.compile(r"^[\s\-–•*·>]*")
# a panel's short label before a row's lab name: "SPEP: M-spike 1.6 g/dL", "24h UPEP: 110 mg/24h"
# (words with a letter, never a date: "Labs 02/20/2026:" heads a sentence, not a panel)
_PANEL_WORD = r"(?=[\w+-]*[A-Za-z])[\w+-]{2,10}"
_PANEL_LABEL = re.compile(rf"{_PANEL_WORD}(?:[ ]{_PANEL_WORD})?:[ ]*")


def _number(text: str) -> float:
    # "1,200" is a thousand two hundred; "2,1" a European 2.1
    if "," in text:
        whole, frac = text.split(",", 1)
        text = whole + frac if len(frac) == 3 else f"{whole}.{frac}"
    return float(text)


def _alternation(words: Sequence[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


class LabReader:
    """Compiled once from lexicons/labs.json."""

    def __init__(self, vocab: LabVocabulary) -> None:
        self.vocab = vocab
        self.by_name: dict[str, LabAnalyte] = {}
        self.bare: set[str] = set()
        exact: list[str] = []
        folded: list[str] = []
        for row in vocab.analytes:
            for name in row.names:
                key = name.text if name.case_sensitive else name.text.lower()
                self.by_name.setdefault(key, row)
                if name.bare:
                    self.bare.add(key)
                (exact if name.case_sensitive else folded).append(name.text)
        edge = r"(?<![\w/-])", r"(?![\w-])"
        # a space in a name matches any run of whitespace: "FLC\nratio" broken over a line
        self.names_ci = re.compile(
            rf"(?i){edge[0]}(?:{_alternation(folded).replace(chr(92) + ' ', chr(92) + 's+')}){edge[1]}"
        )
        self.names_cs = re.compile(rf"{edge[0]}(?:{_alternation(exact)}){edge[1]}") if exact else None
        # OCR-tolerant names: the long spellings (never a bare one: "kappa" needs its unit)
        self.fuzzy_names = [
            (name.text.lower(), confusion_key(name.text), len(name.text.split()), row.analyte)
            for row in vocab.analytes
            for name in row.names
            if not name.bare and not name.case_sensitive and len(name.text) >= _FUZZY_NAME_MIN
        ]
        self.unit_of: dict[str, str] = {}
        for unit, spellings in vocab.unit_spellings.items():
            for spelling in (unit, *spellings):
                self.unit_of[spelling.lower()] = unit
        units = _alternation(list(self.unit_of))
        fillers = _alternation(vocab.value_fillers)
        absent = _alternation(vocab.not_detected)
        specimens = [w for words in vocab.specimen_words.values() for w in words]
        qualifiers = "|".join(
            r"[\s-]*".join(re.escape(part) for part in re.split(r"[\s-]+", w))
            for w in sorted({*vocab.name_qualifiers, *specimens}, key=len, reverse=True)
        )
        flag = r"(?:\s*\(?(?P<{n}>H|L|HIGH|LOW|High|Low|A)\b\)?|\s*(?P<{n}s>\*))"
        self.value = re.compile(
            # the qualifier first: the punctuation class would otherwise eat its bracket; in
            # brackets ("M-spike (serum)") or after a comma, as a lab's listing inverts the
            # name ("M-spike, serum", "M-protein, urine, 24 h")
            # both: "M-protein (monoclonal), urine 24 h 412 mg/24 h"
            rf"(?i)^[\s:=\-–]*(?:\(\s*(?:{qualifiers})(?:[\s,/-]+(?:{qualifiers}))*\s*\))?"
            rf"(?:,\s*(?:{qualifiers})(?:[\s,/-]+(?:{qualifiers}))*(?![\w]))?[\s:=(),\-–]*"
            rf"(?:(?:{fillers})\b[\s:=]*)*"
            rf"(?:(?P<absent>{absent})\b|"
            rf"(?:from\s+{_NUMBER}\s*(?:{units})?\s*(?:to|->|→|-->)\s*)?"
            # "Q,08", "O.4": OCR reads the zero before a decimal separator as a letter
            rf"(?P<cmp><=|>=|<|>|≤|≥)?\s*(?P<num>{_NUMBER}|(?P<oh>[OoQ])[.,]\d{{1,4}})(?![\d/]|[.,]\d)"
            # a trend, the earlier value's month in brackets: "M-spike 0.5 (8/25) → 1.3 g/dL"
            rf"(?:(?:\s*\(\s*\d{{1,2}}/\d{{2,4}}(?:/\d{{2,4}})?\s*\))?"
            rf"\s*(?:->|→|-->)\s*(?P<num2>{_NUMBER})(?![\d/]|[.,]\d))?"
            rf"{flag.format(n='flag1')}?"
            # a flag column's glyph too smeared to read as a flag ("64,0 I mg/L"): passed
            # over, so the unit after it is still the value's
            rf"(?:\s+[A-Za-z|!](?=\s+(?:{units})(?![\w])))?"
            # a reference-range column before the units column ("M-spike 2.4 H not detected
            # g/dL", "Total protein 8.6 H 6.1-8.1 g/dL", "Urine M-protein 95 H 0 mg/24 h"):
            # passed over when a unit follows it
            rf"(?:\s+(?:(?:{absent})|[<≤>]?\s*\d{{1,4}}(?:\.\d{{1,3}})?"
            rf"|\d{{1,4}}(?:\.\d{{1,3}})?\s*[-–]\s*\d{{1,4}}(?:\.\d{{1,3}})?)(?=\s*(?:{units})(?![\w])))?"
            rf"(?:\s*(?P<unit>{units})(?![\w]))?"
            rf"(?:\s*(?P<fuzzy>[a-z]{{1,3}}/[a-z\d]{{1,4}}(?:\s?h(?:rs?|ours?)?)?)(?![\w/]))?"
            rf"{flag.format(n='flag2')}?"
            rf"(?:\s*\(?\s*(?:ref(?:erence)?(?:\s+range)?\s*[:=]?\s*|normal\s*[:=]?\s*)?"
            rf"(?P<lo>\d{{1,4}}(?:\.\d{{1,3}})?)\s*[-–]\s*(?P<hi>\d{{1,4}}(?:\.\d{{1,3}})?)\s*\)?)?)"
        )
        self.specimen = {
            analyte: re.compile(rf"(?i)(?<![\w-])(?:{_alternation(words)})(?![\w-])")
            for analyte, words in vocab.specimen_words.items()
        }
        labels = "|".join(sorted(vocab.date_labels, key=len, reverse=True))
        visits = "|".join(sorted(vocab.visit_date_labels, key=len, reverse=True))
        self.date_label = re.compile(
            rf"(?im)(?:^[\s\-•*]*\b(?P<visit>{visits})|\b(?:{labels}))\b\s*(?:\(|[:#=-])?\s*"
        )
        # the one-word collection labels, matched on OCR pages with one glyph smeared; a
        # report date is not one ("Reported" heads nothing when "Collected" is unreadable)
        self.single_labels = [
            label
            for label in vocab.date_labels
            if label.isalpha() and len(label) >= _FUZZY_LABEL_MIN and label not in vocab.report_date_labels
        ]
        reports = "|".join(sorted(vocab.report_date_labels, key=len, reverse=True))
        self.report_label = re.compile(rf"(?i)^(?:{reports})\b") if reports else None

    # ------------------------------------------------------------------ names and values

    def _names(self, row: str, ocr: bool = False) -> list[tuple[int, int, str]]:
        hits = [
            (m.start(), m.end(), " ".join(m.group(0).lower().split())) for m in self.names_ci.finditer(row)
        ]
        if self.names_cs is not None:
            hits += [(m.start(), m.end(), m.group(0)) for m in self.names_cs.finditer(row)]
        if ocr:
            hits += self._damaged_names(row, hits)
        hits.sort(key=lambda h: (h[0], -(h[1] - h[0])))
        out: list[tuple[int, int, str]] = []
        for hit in hits:
            if out and hit[0] < out[-1][1]:
                continue  # inside a longer name already taken
            if out and re.fullmatch(r"\s*\(\s*", row[out[-1][1] : hit[0]]):
                continue  # "M-spike (SPEP)": a second name in brackets names the same test
            out.append(hit)
        return out

    def _damaged_names(self, row: str, exact: Sequence[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
        """Test names OCR damaged by a few glyphs ("lambda PLC", "FIC ratio", "serum fice
        lambda light chain"): a run of as many words as a long spelling has, within one edit
        per :data:`_CHARS_PER_EDIT` characters of it after the confusion key, nearer to one
        analyte's spellings than to any other's, and not over a name read as spelled."""
        if not any(ch.isdigit() for ch in row):
            return []  # no value on the line: nothing a name would label
        words = [(m.start(), m.end()) for m in _WORD.finditer(row)]
        # a bare name ("kappa") inside the run does not stop it: "kappa PLC" is kappa FLC
        spelled = [(a, b) for a, b, key in exact if key not in self.bare]
        found: dict[tuple[int, int], list[tuple[int, str, str]]] = {}
        for spelling, key, count, analyte in self.fuzzy_names:
            budget = len(spelling) // _CHARS_PER_EDIT
            for i in range(len(words) - count + 1):
                lo, hi = words[i][0], words[i + count - 1][1]
                while hi > lo and row[hi - 1] in ".,;:)":
                    hi -= 1
                window = row[lo:hi]
                # a spelled name inside the run may be part of a longer damaged one ("Aerum
                # free lambda light ehain"); one that runs across its edge may not
                astride = any(a < hi and b > lo and not (lo <= a and b <= hi) for a, b in spelled)
                if abs(len(window) - len(spelling)) > budget or astride:
                    continue
                distance = bounded_distance(confusion_key(window), key, budget)
                if 0 < distance <= budget or (distance == 0 and window.lower() != spelling):
                    found.setdefault((lo, hi), []).append((distance, analyte, spelling))
        out: list[tuple[int, int, str]] = []
        for (lo, hi), hits in found.items():
            best = min(d for d, _, _ in hits)
            nearest = {(a, s) for d, a, s in hits if d == best}
            if len({a for a, _ in nearest}) == 1:
                out.append((lo, hi, min(s for _, s in nearest)))
        return out

    def _analyte_for(self, row: LabAnalyte, unit: str | None, text: str) -> LabAnalyte:
        """A family name ("M-spike") takes the member its written unit, or a specimen word
        on the line, belongs to."""
        if row.family is None:
            return row
        family = [a for a in self.vocab.analytes if a.family == row.family]
        if unit is not None:
            if unit in row.units:
                return row
            return next((a for a in family if unit in a.units), row)
        for member in family:
            pattern = self.specimen.get(member.analyte)
            if pattern is not None and pattern.search(text):
                return member
        return row

    def read_row(self, row_text: str, header_unit: str | None = None, ocr: bool = False) -> list[_Reading]:
        readings: list[_Reading] = []
        names = self._names(row_text, ocr)
        for i, (start, end, key) in enumerate(names):
            stop = names[i + 1][0] if i + 1 < len(names) else len(row_text)
            name_end = end
            match = self.value.match(row_text[end:stop])
            if match is not None and _comparator(match.group("cmp")) == ">=" and not match.group("num2"):
                # "Serum M-protein >=1 g/dL: value 1.4 g/dL": a form's threshold printed
                # before the field its value is written in; the value follows it
                end += match.end()
                match = self.value.match(row_text[end:stop])
            if match is None:
                continue
            row = self.by_name[key]
            written = match.group("unit")
            unit = self.unit_of.get(written.lower()) if written else header_unit
            misread = None
            # the specimen word must be the value's own ("UPEP: M-spike 420"), not the last sentence's
            clause = row_text[max(names[i - 1][1] if i else 0, start - 25) : end + match.end()]
            if unit is None and match.group("fuzzy"):
                # "g/aL": a unit OCR damaged by one glyph is read, and flagged for review;
                # first among the units of the member the line names (serum unless a urine
                # word says otherwise: "g/daL" is g/dL there, not g/day), then the family's
                fuzzy = match.group("fuzzy")
                unit = self._near_unit(fuzzy, self._analyte_for(row, None, clause), family=False)
                unit = unit or self._near_unit(fuzzy, row)
                misread = fuzzy if unit else None
            if key in self.bare and (unit is None or unit not in row.units):
                continue  # "IgG kappa 2.1": a bare name needs its own unit beside the value
            analyte = self._analyte_for(row, unit, clause)
            note = ""
            zero_as_letter = False
            if match.group("absent"):
                value, comparator, digits = (
                    0.0,
                    None,
                    (end + match.start("absent"), end + match.end("absent")),
                )
                note = "not detected"
                unit = None
            else:
                which = "num2" if match.group("num2") else "num"
                if match.group("oh") and which == "num":
                    if not ocr:
                        continue  # typed text does not write a zero as a letter
                    value = _number("0" + match.group("num")[1:])
                    note = f"a zero read as \u201c{match.group('oh')}\u201d"
                    zero_as_letter = True
                else:
                    value = _number(match.group(which))
                digits = (end + match.start(which), end + match.end(which))
                comparator = _comparator(match.group("cmp"))
                if comparator == ">=" and which == "num":
                    # "involved FLC >= 10 mg/dL with abnormal ratio", "serum >= 1 g/dL": a
                    # form's or a policy's threshold; a result is never written "at least"
                    continue
                if match.group("num2") or "from" in match.group(0).lower():
                    note = "the latest of the values written"
            flag_text = (
                match.group("flag1") or match.group("flag2") or match.group("flag1s") or match.group("flag2s")
            )
            low, high = (
                (float(match.group("lo")), float(match.group("hi"))) if match.group("lo") else (None, None)
            )
            if misread:
                note = "; ".join(x for x in (note, f"unit read as \u201c{misread}\u201d") if x)
            written_name = " ".join(row_text[start:name_end].split())
            name_read = written_name if written_name.lower() != key.lower() else None
            if name_read:
                note = "; ".join(x for x in (note, f"test name read as \u201c{name_read}\u201d") if x)
            readings.append(
                _Reading(
                    analyte=analyte.analyte,
                    value=value,
                    comparator=comparator,
                    unit=unit,
                    flag=_flag(flag_text, value, low, high),
                    low=low,
                    high=high,
                    note=note,
                    span=(start, end + match.end()),
                    digits=digits,
                    misread_unit=misread is not None or zero_as_letter,
                    name_read=name_read,
                    name_share=_name_share(written_name, key) if name_read else 1.0,
                    cells=tuple(
                        (end + match.start(g), end + match.end(g)) if g else (start, end)
                        for g in ("", "num", "num2", "absent", "flag1", "unit", "fuzzy")
                        if not g or match.group(g)
                    ),
                )
            )
        return readings

    def _near_unit(self, token: str, row: LabAnalyte, *, family: bool = True) -> str | None:
        """The unit of the analyte (or its family) one edit from the token, if exactly one is."""
        members = (
            [a for a in self.vocab.analytes if a.family == row.family] if family and row.family else [row]
        )
        units = {u for a in members for u in a.units}
        near = {
            unit
            for spelling, unit in self.unit_of.items()
            if unit in units and bounded_distance(token.lower(), spelling, 1) <= 1
        }
        return near.pop() if len(near) == 1 else None

    # ------------------------------------------------------------------ rows and dates

    def rows(self, text: PageText) -> list[LabRow]:
        """Each logical line is a row; a line that opens with a lab name is a listing row."""
        rows: list[LabRow] = []
        spans = text.logical_spans()
        report = _lab_report_pages(text)
        for n, span in enumerate(spans):
            ocr = any(w.word.source == WordSource.OCR for w in text.words_in(*span))
            on_report = text.line_pages[text.line_of(span[0])] in report
            for start, end in self._listing_rows(text, *span, ocr=ocr, report=on_report):
                line = text.text[start:end]
                names = self._names(line, ocr)
                if not names:
                    continue
                if end == span[1] and n + 1 < len(spans) and self._name_ends(line, names):
                    # "..., K/L ratio" / "45.23, Hgb 10.2": the value went to the next line
                    nxt = spans[n + 1]
                    if text.line_pages[text.line_of(nxt[0])] == text.line_pages[text.line_of(start)]:
                        end = nxt[1]
                        line = text.text[start:end]
                        names = self._names(line, ocr)
                opens = self._opens(line, names, report=on_report)
                # a long line opening with a lab name is a sentence, except on a lab report,
                # where it is a row the reading ran into the next (a name too damaged to cut at)
                short = len(line.split()) <= 16 or on_report
                rows.append(LabRow(start=start, end=end, listing=opens and short, ocr=ocr))
        return rows

    def _name_ends(self, line: str, names: list[tuple[int, int, str]]) -> bool:
        """The line ends on a lab name with no value after it ("..., K/L ratio"); a name the
        break cuts in two ("FLC" / "ratio") is joined by the logical line and the names' \\s+."""
        tail = line[names[-1][1] :]
        return not tail.strip(" \t\n:=,")

    def _opens(self, line: str, names: list[tuple[int, int, str]], *, report: bool = False) -> bool:
        """The line opens with a lab name; on a lab report, also after one short token the
        name's row begins with (a specimen column smeared past reading: "UPBP M-protein")."""
        lead = _BULLET.match(line)
        at = lead.end() if lead else 0
        panel = _PANEL_LABEL.match(line, at)
        if panel and names[0][0] == panel.end():
            return True
        if report:
            prefix = _SHORT_CELL.match(line, at)
            if prefix and names[0][0] == prefix.end():
                return True
        return names[0][0] <= at + 2

    def _listing_rows(
        self, text: PageText, start: int, end: int, *, ocr: bool = False, report: bool = False
    ) -> list[tuple[int, int]]:
        """A listing's logical line cut where a physical line opens with a lab name: rows
        whose last cell ends without punctuation ("... mg/L 3.3-19.4") were joined into one
        run-on line.  A line that does not open with a lab name is prose and stays whole."""
        cuts = [start]
        first_end = text.text.find("\n", start, end)
        first = text.text[start : first_end if first_end >= 0 else end]
        names = self._names(first, ocr)
        if not names or not self._opens(first, names, report=report):
            return [(start, end)]  # a sentence that names labs ("Labs 02/20/2026: ..."), not a listing
        at = first_end
        while at >= 0:
            nxt = at + 1
            line_end = text.text.find("\n", nxt, end)
            physical = text.text[nxt : line_end if line_end >= 0 else end]
            names = self._names(physical, ocr)
            if names and self._opens(physical, names, report=report):
                cuts.append(nxt)
            at = line_end
        bounds = [*cuts, end]
        return [(a, b if b == end else b - 1) for a, b in itertools.pairwise(bounds) if b > a]

    def headings(self, text: PageText, rows: Sequence[LabRow]) -> list[tuple[int, int, str, Evidence | None]]:
        """Collection-date headings, (offset, page, date, evidence): a date label on a line
        that reads no lab value ("Laboratory results (collected 10/02/2026):").  A visit's
        date ("Visit date:", "Date of service:" opening a line) heads a page's values only on
        a lab report: a page whose lines are mostly a table's rows, not a letter's prose."""
        report = _lab_report_pages(text)
        out: list[tuple[int, int, str, Evidence | None]] = []
        labels = [(m.start(), m.end(), bool(m.group("visit"))) for m in self.date_label.finditer(text.text)]
        labels = sorted([*labels, *self._damaged_labels(text, labels)])
        for start, label_end, visit in labels:
            tail = text.text[label_end : label_end + 30]
            dates = find_single_dates(tail)
            if (not dates or dates[0][0] > 2) and any(
                w.word.source is WordSource.OCR for w in text.words_in(label_end, label_end + 14)
            ):
                dates = _spaced_date(tail)
            if not dates or dates[0][0] > 2:
                continue
            line = text.line_of(start)
            page = text.line_pages[line]
            if self._names(text.line_text(line)):
                continue  # "Labs 10/01/2026: M-spike 2.1": the line's own date, not a heading
            if visit and page not in report:
                continue  # a letter's date of service is not when its labs were drawn
            _, end, value = dates[0]
            ev = text.evidence(start, label_end + end)
            out.append((start, page, value, ev))
        return self._collection_over_report(text, out)

    def _damaged_labels(
        self, text: PageText, found: Sequence[tuple[int, int, bool]]
    ) -> list[tuple[int, int, bool]]:
        """OCR words one glyph from a one-word date label, with its colon ("Coilected:"):
        a fax smears a label as often as a value.  Only long labels (a short one is one
        glyph from ordinary words) and only on OCR pages."""
        taken = {start for start, _, _ in found}
        out = []
        for placed in text.words:
            word = placed.word
            if word.source is not WordSource.OCR or placed.start in taken:
                continue
            token = text.text[placed.start : placed.end]
            if not token.endswith(":") or len(token) - 1 < _FUZZY_LABEL_MIN:
                continue
            stem = token[:-1].lower()
            if any(bounded_distance(stem, label, 1) <= 1 for label in self.single_labels):
                out.append((placed.start, placed.end, False))
        return out

    def _collection_over_report(
        self, text: PageText, found: list[tuple[int, int, str, Evidence | None]]
    ) -> list[tuple[int, int, str, Evidence | None]]:
        """'Collected: 03/03/2026 08:38 Reported: 03/04/2026': on a line giving both, the
        collection date heads the listing, not the later report date."""
        if self.report_label is None:
            return found
        report = self.report_label
        by_line: dict[int, list[tuple[int, int, str, Evidence | None]]] = {}
        for h in found:
            by_line.setdefault(text.line_of(h[0]), []).append(h)
        out = []
        for heads in by_line.values():
            drawn = [h for h in heads if not report.match(text.text[h[0] :].lstrip())]
            out.extend(drawn or heads)
        return sorted(out)


# one token of a few glyphs and its space, before a row's lab name
_SHORT_CELL = re.compile(r"[A-Za-z0-9]{2,5}[ ]+")
# a space OCR put between two digits of a date ("05/1 1/2026"): the glyphs' gap on a fax
_DIGIT_GAP = re.compile(r"(?<=[\d/]) (?=[\d/])")


def _spaced_date(tail: str) -> list[tuple[int, int, str]]:
    """The date after a label with one space OCR put between its digits taken out; the end
    offset is on ``tail`` as written, so the evidence covers the date as printed."""
    for gap in _DIGIT_GAP.finditer(tail[:12]):
        joined = tail[: gap.start()] + tail[gap.end() :]
        dates = find_single_dates(joined)
        if dates and dates[0][0] <= 2 and dates[0][1] > gap.start():
            start, end, value = dates[0]
            return [(start, end + 1, value)]
    return []


_FUZZY_LABEL_MIN = 7  # letters a date label needs before one smeared glyph is forgiven

# "Hemoglobin 11.2 L g/dL", "Creatinine 1.0 mg/dL": a result table's row
_TABLE_ROW = re.compile(r"^[\s\-•*]*[A-Za-z][\w ()/,.-]{1,32}?\s+[<>]?\d[\d.,]*(?:\s|$)")


def _lab_report_pages(text: PageText) -> set[int]:
    """Pages that read as a lab report: three table rows or more, and at least three in ten
    of the page's lines."""
    rows: dict[int, int] = {}
    lines: dict[int, int] = {}
    for n, page in enumerate(text.line_pages):
        lines[page] = lines.get(page, 0) + 1
        if _TABLE_ROW.match(text.line_text(n)):
            rows[page] = rows.get(page, 0) + 1
    return {page for page, count in rows.items() if count >= 3 and count * 10 >= 3 * lines[page]}


def _comparator(text: str | None) -> Comparator | None:
    if not text:
        return None
    mapped = {"≤": "<=", "≥": ">="}.get(text, text)
    return mapped if mapped in ("<", ">", "<=", ">=") else None  # type: ignore[return-value]


def _flag(
    text: str | None, value: float, low: float | None, high: float | None
) -> Literal["high", "low"] | None:
    if not text:
        return None
    word = text.lower()
    if word in ("h", "high"):
        return "high"
    if word in ("l", "low"):
        return "low"
    # "A" (abnormal) or "*": which side the printed range says
    if high is not None and value > high:
        return "high"
    if low is not None and value < low:
        return "low"
    return "high"


@lru_cache(maxsize=1)
def reader() -> LabReader:
    return LabReader(lab_vocabulary())


_QUOTES = "\u201c\u201d\u2018\u2019\"'`"


def _without_noise(text: PageText, row: LabRow, low_confidence: float) -> str:
    """The row with OCR noise blanked (same length, same offsets): a table's rules read as
    lone low-confidence glyphs ("7", "-", ";") between the cells, and quote marks glued to
    a word ("\u2018M-spike")."""
    chars = list(text.text[row.start : row.end])
    for placed in text.words_in(row.start, row.end):
        word = placed.word
        lo, hi = placed.start - row.start, placed.end - row.start
        token = text.text[placed.start : placed.end]
        lone = len(token.strip(_QUOTES)) <= 1 and (not token.isalpha() or token in "Il|")
        if lone and word.confidence is not None and word.confidence < low_confidence:
            for i in range(max(lo, 0), min(hi, len(chars))):
                chars[i] = " "
            continue
        for i in range(max(lo, 0), min(hi, len(chars))):
            if chars[i] in _QUOTES and (i == lo or i == hi - 1):
                chars[i] = " "
    return "".join(chars)


def _blanked(row_text: str, row: LabRow) -> str:
    chars = list(row_text)
    for lo, hi in row.blank:
        for i in range(max(lo - row.start, 0), min(hi - row.start, len(chars))):
            chars[i] = " "
    return "".join(chars)


def by_dated_column(text: PageText, row: LabRow, index: StructureIndex) -> list[LabRow]:
    """A row of a cumulative (trend) report as one row per dated result column.

    "kappa  63.0 H  805 H  mg/L" under "Test  05/08/2026  08/02/2026  Units" holds two
    results, each collected on its column's date: read as one line, the first value would
    take the row's unit from beyond the second and no date at all.  Each part keeps the row
    whole (name, unit, range) with the other dates' result cells blanked, and takes its
    column's date.  A row outside such a table is returned as it is.
    """
    words = text.words_in(row.start, row.end)
    placed = [(w, index.cell_of(w.page, [w.word])) for w in words]
    table = next((p.table for _, p in placed if p is not None), None)
    if table is None:
        return [row]
    dated = {
        c.index: (found[0][2], c.header.evidence())
        for c in table.columns
        if c.role == "result" and c.header is not None and len(found := find_single_dates(c.header.text)) == 1
    }
    if not dated:
        return [row]
    cells: dict[int, list[tuple[int, int]]] = {}
    for w, p in placed:
        if p is not None and p.table.id == table.id and p.cell.column in dated:
            cells.setdefault(p.cell.column, []).append((w.start, w.end))
    parts = []
    for column, (day, evidence) in sorted(dated.items()):
        if column not in cells:
            continue  # no result that day
        blank = tuple(span for other, spans in cells.items() if other != column for span in spans)
        parts.append(
            LabRow(
                start=row.start,
                end=row.end,
                listing=True,
                unit=row.unit,
                collected=day,
                collected_evidence=evidence,
                blank=blank,
                ocr=row.ocr,
            )
        )
    return parts or [row]


_RANGE = re.compile(r"\d+(?:[.,]\d+)?\s*[-–]\s*\d+(?:[.,]\d+)?")


@cache
def _date_after() -> re.Pattern[str]:
    """Between a value and its own date: punctuation and a word of cues.json "value_date_lead"."""
    return re.compile(rf"(?i)^[\s,;(\[]*(?:{cues.fragment('value_date_lead')}\s*)?[(\[]?\s*$")


def _masked(row_text: str, readings: list[_Reading]) -> str:
    """The row with its values and numeric ranges blanked: "3.3-19.4" is not March 2019."""
    masked = list(row_text)
    for r in readings:
        for i in range(*r.span):
            masked[i] = " "
    for m in _RANGE.finditer(row_text):
        if "." in m.group(0) or "," in m.group(0):
            for i in range(m.start(), m.end()):
                masked[i] = " "
    return "".join(masked)


def _reading_date(row_text: str, readings: list[_Reading], index: int) -> tuple[int, int, str] | None:
    """A value's own date: written right after it ("2.1 g/dL on 09/10/2026", "(9/2026)")
    before the next value, else the nearest written before it on the row ("Labs
    10/01/2026: M-spike 2.1 ...")."""
    dates = find_single_dates(_masked(row_text, readings))
    reading = readings[index]
    stop = readings[index + 1].span[0] if index + 1 < len(readings) else len(row_text)
    after = [d for d in dates if reading.span[1] <= d[0] < stop]
    if after and _date_after().match(row_text[reading.span[1] : after[0][0]]):
        return after[0]
    before = [d for d in dates if d[1] <= reading.span[0]]
    return before[-1] if before else None


def read_labs(
    text: PageText,
    rows: Sequence[LabRow] | None = None,
    *,
    diagnoses: Sequence[DiagnosisFact] = (),
    low_confidence: float = 0.6,
    index: StructureIndex | None = None,
) -> list[LabFact]:
    """Every lab value of the rows (default: the text's own lines), with derived ones.
    ``index``: the page structure's cells, so a trend report's row is read once per dated
    result column."""
    lab = reader()
    rows = lab.rows(text) if rows is None else rows
    if index is not None:
        rows = [part for row in rows for part in by_dated_column(text, row, index)]
    headings = lab.headings(text, rows)
    facts: list[LabFact] = []
    seen: set[tuple[str, float, str | None, str | None]] = set()
    for row in rows:
        row_text = _blanked(_without_noise(text, row, low_confidence), row)
        readings = lab.read_row(row_text, row.unit, row.ocr)
        if not readings:
            continue
        for n, r in enumerate(readings):
            collected, date_text, date_ev = _date_for(text, row, row_text, readings, n, headings)
            key = (r.analyte, r.value, r.unit, collected)
            if key in seen:
                continue  # the same value told twice (a table and the letter)
            seen.add(key)
            facts.append(_fact(text, row, r, collected, date_text, date_ev, low_confidence))
    return facts + derived_labs(facts, diagnoses)


def _date_for(
    text: PageText,
    row: LabRow,
    row_text: str,
    readings: list[_Reading],
    index: int,
    headings: list[tuple[int, int, str, Evidence | None]],
) -> tuple[str | None, str | None, Evidence | None]:
    own = _reading_date(row_text, readings, index)
    if own is not None:
        start, end, value = own
        return value, row_text[start:end], text.evidence(row.start + start, row.start + end)
    if row.collected is not None:
        return row.collected, row.collected, row.collected_evidence
    if row.listing:
        page = text.line_pages[text.line_of(row.start)]
        above = [h for h in headings if h[0] < row.start and h[1] == page]
        if above:
            _, _, value, ev = above[-1]
            return value, ev.text if ev else value, ev
    return None, None, None


def _fact(
    text: PageText,
    row: LabRow,
    r: _Reading,
    collected: str | None,
    date_text: str | None,
    date_ev: Evidence | None,
    low_confidence: float,
) -> LabFact:
    analyte = lab_vocabulary().analyte(r.analyte)
    std_unit = analyte.unit if analyte else None
    if r.note == "not detected":
        value_std: float | None = 0.0
    elif std_unit is None:
        value_std = r.value  # a ratio: no unit to convert
    elif r.unit is not None:
        value_std = to_analyte_unit(r.analyte, r.value, r.unit)
    else:
        value_std = None
    notes = [r.note] if r.note else []
    if std_unit is not None and r.unit is None and r.note != "not detected":
        notes.append("no unit written beside the value: not used until the unit is known")
    elif std_unit is not None and r.unit is not None and value_std is None:
        notes.append(f"{r.unit} is not a unit of the {analyte.label if analyte else r.analyte}")
    digits = [w.word.confidence for w in text.words_in(row.start + r.digits[0], row.start + r.digits[1])]
    confs = [c for c in digits if c is not None]
    low = bool(confs) and min(confs) < low_confidence
    if low:
        notes.append(f"digits read with low OCR confidence ({min(confs):.2f}): read them on the page")
    low = low or r.misread_unit or r.name_read is not None
    ev = _cells_evidence(text, row.start, r.cells)
    if ev is not None and r.name_share < 1.0 and ev.confidence is not None:
        ev = ev.model_copy(update={"confidence": ev.confidence * r.name_share})
    return LabFact(
        analyte=r.analyte,
        value=r.value,
        comparator=r.comparator,
        unit=r.unit,
        value_std=value_std,
        std_unit=std_unit,
        collected=collected,
        date_text=date_text,
        date_evidence=(date_ev,) if date_ev else (),
        flag=r.flag,
        reference_low=r.low,
        reference_high=r.high,
        needs_review=low,
        note="; ".join(notes),
        evidence=(ev,) if ev else (),
    )


def _cells_evidence(text: PageText, offset: int, cells: Sequence[tuple[int, int]]) -> Evidence | None:
    """Evidence of the name, value, flag and unit only: a table rule read as noise between
    them must not lower the confidence of what was read, nor widen the box.  The confidence
    is that of the value's own words (digits, flag, unit): the name matched the lexicon
    exactly, so a low score on it does not make the value doubtful."""
    words = [w for lo, hi in cells for w in text.words_in(offset + lo, offset + hi)]
    if not words:
        return None
    page = words[0].page
    unique = sorted({id(w): w for w in words if w.page == page}.values(), key=lambda w: w.start)
    name_end = offset + cells[0][1]
    value_words = [w for w in unique if w.start >= name_end] or unique
    confs = [w.word.confidence for w in value_words if w.word.confidence is not None]
    return Evidence(
        page=page,
        bbox=BBox.union([w.word.bbox for w in unique]),
        text=" ".join(text.text[w.start : w.end] for w in unique),
        confidence=min(confs) if confs else None,
    )


# --------------------------------------------------------------------------- derived values


@cache
def _chain() -> re.Pattern[str]:
    return re.compile(rf"(?i)\b({cues.fragment('light_chain')})\b")


def _light_chain(diagnoses: Sequence[DiagnosisFact]) -> str | None:
    """The myeloma's light chain as its diagnosis names it ("IgG kappa myeloma")."""
    chains = {
        {"κ": "kappa", "λ": "lambda"}.get(m.group(1).lower(), m.group(1).lower())
        for d in diagnoses
        if d.is_target and d.assertion == "received"
        for m in _chain().finditer(d.text)
    }
    return chains.pop() if len(chains) == 1 else None


def derived_labs(facts: Sequence[LabFact], diagnoses: Sequence[DiagnosisFact]) -> list[LabFact]:
    """A ratio from kappa and lambda drawn together, and the involved chain, when not written."""
    vocab = lab_vocabulary()
    ratio_row = vocab.analyte("flc_ratio")
    out: list[LabFact] = []
    groups: dict[tuple[str | None, int], dict[str, LabFact]] = {}
    for f in facts:
        if f.analyte in ("kappa_flc", "lambda_flc", "flc_ratio", "involved_flc") and f.evidence:
            groups.setdefault((f.collected, f.evidence[0].page), {}).setdefault(f.analyte, f)
    chain = _light_chain(diagnoses)
    for group in groups.values():
        kappa, lam, ratio = group.get("kappa_flc"), group.get("lambda_flc"), group.get("flc_ratio")
        if "involved_flc" in group:
            continue
        if (
            ratio is None
            and kappa
            and lam
            and kappa.value_std
            and lam.value_std
            and not (kappa.comparator or lam.comparator)
        ):
            ratio = LabFact(
                analyte="flc_ratio",
                value=round(kappa.value_std / lam.value_std, 2),
                value_std=round(kappa.value_std / lam.value_std, 2),
                collected=kappa.collected,
                date_text=kappa.date_text,
                date_evidence=kappa.date_evidence,
                derived="computed from the kappa and lambda values drawn together",
                needs_review=kappa.needs_review or lam.needs_review,
                evidence=kappa.evidence + lam.evidence,
            )
            out.append(ratio)
        involved = _involved(kappa, lam, ratio, chain, ratio_row)
        if involved is not None:
            source, why = involved
            out.append(
                source.model_copy(
                    update={
                        "analyte": "involved_flc",
                        "derived": f"the involved chain is {why}",
                        "evidence": source.evidence
                        + (ratio.evidence if ratio and not source.derived else ()),
                    }
                )
            )
    return out


def _involved(
    kappa: LabFact | None,
    lam: LabFact | None,
    ratio: LabFact | None,
    chain: str | None,
    ratio_row: LabAnalyte | None,
) -> tuple[LabFact, str] | None:
    if ratio is not None and ratio_row is not None:
        low = ratio.reference_low if ratio.reference_low is not None else ratio_row.reference_low
        high = ratio.reference_high if ratio.reference_high is not None else ratio_row.reference_high
        if high is not None and kappa is not None and ratio.value > high:
            return kappa, f"kappa: the FLC ratio {ratio.value:g} is above its range"
        if low is not None and lam is not None and ratio.value < low:
            return lam, f"lambda: the FLC ratio {ratio.value:g} is below its range"
    if chain == "kappa" and kappa is not None:
        return kappa, "kappa: the myeloma is a kappa myeloma"
    if chain == "lambda" and lam is not None:
        return lam, "lambda: the myeloma is a lambda myeloma"
    return None
