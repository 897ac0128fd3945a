"""The page-structure stage measured on the dev red-team probes, against their HTML sources.

``fixtures/probes/set1/P1`` and ``P2`` hold documents written by others as HTML (the way
offices print them), rendered to a text PDF and to one fax or scan each.  The expected
structure is read from the HTML itself with the standard library's ``html.parser``, not
from anything the stage wrote:

* **checkbox options**: every box glyph of the source ("☒", "☐", "□", "■", "✓", "[X]",
  "[ ]", "(x)", "( )") with its state, labelled by the text after it up to the next box,
  a line break, a cell's end or a run of non-breaking spaces (the label before it when
  nothing follows: "PA required: ✓");
* **tables**: every ``<table>`` whose first row is a header (all ``<th>``, or every cell
  bold) with at least one body row; each body cell's text, row and column (colspans kept);
  the other tables are forms (label and value cells) and must not come out as tables;
* **the member's date of birth**: the first date after a "DOB" / "Date of birth" label (in
  the label's cell or the cell beside or below it), checked against the truth file's age;
* **the request date**: the truth file's ``request_date``, counted where the source prints
  it as a labelled value (a label then that date: "Date of request", "Submitted:",
  "Date:"), the label kept to say which.

Predicted options are aligned with the expected ones in reading order by their labels
(a sequence alignment, so ten "Yes" options pair in order); a pair is right when the
states agree.  ``unreadable`` is not right (it is flagged, never guessed); ``ticked`` for
an unticked box is the error that must never happen.  An expected option nothing pairs
with is missed (typically absorbed into a question); a predicted option nothing pairs with
is a phantom.  A table cell is right when the predicted row that best matches the expected
row holds, in the column that the expected column's words went to, a cell whose text is
the expected text (compared on lower-case letters and digits, OCR-tolerant: a similarity
of at least 0.85).  Cells with no word read at all are counted apart (OCR loss).

Run ``python tests/structure_probe_measure.py`` (``--docs`` lists every document's misses,
``--json`` writes the figures).  Fax renderings replay ``fixtures/probes/set1/recorded-ocr``
while current, else readings kept in ``var/probe-ocr``; ``--live`` reads the rest with
tesseract (and keeps them there), otherwise they are skipped.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from difflib import SequenceMatcher
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PROBES = ROOT / "fixtures" / "probes" / "set1"
RECORDINGS = PROBES / "recorded-ocr"
# Live readings kept while the probes' own recordings are stale (var/ is not in git).
CACHE = ROOT / "var" / "probe-ocr"

# --------------------------------------------------------------------------- HTML truth

_TICKED = "☒☑■▣✓✔"
_UNTICKED = "☐□"
_GLYPH = re.compile(r"[☒☑■▣✓✔☐□]|\[\s*[xX✓]?\s*\]|\(\s*[xX✓]?\s*\)")
_BLOCKS = frozenset(
    {"br", "div", "p", "tr", "td", "th", "li", "ul", "ol", "table", "hr", "thead", "tbody"}
    | {"h1", "h2", "h3", "h4", "h5", "h6", "section", "header", "footer"}
)
_BOLD = frozenset({"b", "strong"})
_SKIP = frozenset({"style", "script", "title", "head"})
_DOB_LABEL = re.compile(r"(?i)\b(?:DOB|D\.O\.B\.?|date of birth|birth ?date)\b")
_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_DATE = re.compile(
    r"(?i)\b(?:(?P<m>\d{1,2})[/.-](?P<d>\d{1,2})[/.-](?P<y>\d{4}|\d{2})"
    r"|(?P<mon>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(?P<d2>\d{1,2}),?\s+(?P<y2>\d{4}))\b"
)


def _iso(match: re.Match[str]) -> str | None:
    try:
        if match.group("m"):
            year = int(match.group("y"))
            year += 1900 if year < 100 and year > 30 else (2000 if year < 100 else 0)
            return date(year, int(match.group("m")), int(match.group("d"))).isoformat()
        month = _MONTHS.index(match.group("mon").lower()[:3]) + 1
        return date(int(match.group("y2")), month, int(match.group("d2"))).isoformat()
    except ValueError:
        return None


def norm(text: str) -> str:
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.lower()).split())


@dataclass
class Token:
    kind: str  # "text", "glyph", "break"
    text: str = ""
    ticked: bool = False
    page: int = 1
    cell: int | None = None  # the table cell it stands in (an index into _Parser.cells)


@dataclass
class Cell:
    page: int
    table: int
    row: int
    column: int
    span: int
    header: bool  # <th>
    text: str = ""
    bold_chars: int = 0
    chars: int = 0


@dataclass
class HtmlTable:
    index: int
    page: int
    rows: list[list[Cell]] = field(default_factory=list)


_CSS_RULE = re.compile(r"\.([\w-]+)\s*\{([^}]*)\}")
_CSS_SIZE = re.compile(r"(?:^|;)\s*(width|height)\s*:\s*(\d+(?:\.\d+)?)px")
_MAX_BOX_PX = 16


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tokens: list[Token] = []
        self.cells: list[Cell] = []
        self.tables: list[HtmlTable] = []
        self._open: list[HtmlTable] = []
        self._cell: list[Cell | None] = []
        self._column: list[int] = []
        self._skip = 0
        self._bold = 0
        self._page = 0
        self._page_depth: int | None = None
        self._depth = 0
        self._style = False
        self.box_classes: set[str] = set()
        self._box: list[str] | None = None  # the text inside a drawn box being read
        self._box_depth = 0

    @property
    def page(self) -> int:
        return max(1, self._page)

    def _css(self, text: str) -> None:
        """Classes that draw a small bordered square: a checkbox drawn by the stylesheet
        (ticked when something is written inside it)."""
        for name, body in _CSS_RULE.findall(text):
            sizes = dict(_CSS_SIZE.findall(body))
            bordered = re.search(r"(?:^|;)\s*border\s*:", body)
            small = {"width", "height"} <= sizes.keys() and all(
                float(v) <= _MAX_BOX_PX for v in sizes.values()
            )
            if bordered and small:
                self.box_classes.add(name)

    def _break(self) -> None:
        if self.tokens and self.tokens[-1].kind != "break":
            self.tokens.append(Token("break", page=self.page))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skip += 1
            self._style = tag == "style"
            return
        if tag in ("br", "hr", "img", "meta", "link", "input"):
            if tag in ("br", "hr"):
                self._break()
            return
        self._depth += 1
        classes = (dict(attrs).get("class") or "").split()
        if self._box is None and self.box_classes & set(classes):
            self._box, self._box_depth = [], self._depth
        if tag == "div" and "page" in classes and self._page_depth is None:
            self._page += 1
            self._page_depth = self._depth
        if tag in _BOLD:
            self._bold += 1
        if tag in _BLOCKS:
            self._break()
        if tag == "table":
            table = HtmlTable(len(self.tables), self.page)
            self.tables.append(table)
            self._open.append(table)
            self._cell.append(None)
            self._column.append(0)
        elif tag == "tr" and self._open:
            self._open[-1].rows.append([])
            self._column[-1] = 0
        elif tag in ("td", "th") and self._open:
            table = self._open[-1]
            if not table.rows:
                table.rows.append([])
            span = int(dict(attrs).get("colspan") or 1)
            cell = Cell(self.page, table.index, len(table.rows) - 1, self._column[-1], span, tag == "th")
            self._column[-1] += span
            table.rows[-1].append(cell)
            self.cells.append(cell)
            self._cell[-1] = cell

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skip = max(0, self._skip - 1)
            return
        if tag in ("br", "hr", "img", "meta", "link", "input"):
            return
        if tag in _BOLD:
            self._bold = max(0, self._bold - 1)
        if self._box is not None and self._depth == self._box_depth:
            inside = "".join(self._box).strip()
            cell = self._cell[-1] if self._cell else None
            where = self.cells.index(cell) if cell is not None else None
            self.tokens.append(Token("glyph", inside or "□", ticked=bool(inside), page=self.page, cell=where))
            if cell is not None:
                cell.text += " □ "
            self._box = None
        if tag in _BLOCKS:
            self._break()
        if tag in ("td", "th") and self._cell:
            self._cell[-1] = None
        if tag == "table" and self._open:
            self._open.pop()
            self._cell.pop()
            self._column.pop()
        if self._page_depth is not None and self._depth == self._page_depth and tag == "div":
            self._page_depth = None
        self._depth -= 1

    def handle_data(self, data: str) -> None:
        if self._skip:
            if self._style:
                self._css(data)
            return
        if self._box is not None:
            self._box.append(data)
            return
        cell = self._cell[-1] if self._cell else None
        if cell is not None:
            cell.text += data
            visible = len(data.strip())
            cell.chars += visible
            if self._bold:
                cell.bold_chars += visible
        where = self.cells.index(cell) if cell is not None else None
        pos = 0
        for m in _GLYPH.finditer(data):
            if m.start() > pos:
                self.tokens.append(Token("text", data[pos : m.start()], page=self.page, cell=where))
            glyph = m.group(0)
            ticked = any(c in _TICKED for c in glyph) or "x" in glyph.lower() or "✓" in glyph
            self.tokens.append(Token("glyph", glyph, ticked=ticked, page=self.page, cell=where))
            pos = m.end()
        if pos < len(data):
            self.tokens.append(Token("text", data[pos:], page=self.page, cell=where))


@dataclass(frozen=True)
class ExpectedOption:
    page: int
    label: str
    ticked: bool
    before: bool = False  # labelled by the text before the box (nothing follows it)


@dataclass(frozen=True)
class ExpectedCell:
    row: int  # body row
    column: int
    span: int
    text: str


@dataclass
class ExpectedTable:
    page: int
    header: list[tuple[int, int, str]]  # (column, span, text)
    cells: list[ExpectedCell]
    rows: int


@dataclass
class ProbeTruth:
    id: str
    group: str
    kinds: tuple[str, ...]
    options: list[ExpectedOption]
    tables: list[ExpectedTable]
    dob: str | None
    request_date: str | None
    request_label: str | None  # the label the request date stands under, when printed as a field
    age: int | None


def _label_after(tokens: list[Token], k: int, cells: list[Cell]) -> str:
    out = ""
    glyph = tokens[k]
    home = cells[glyph.cell] if glyph.cell is not None else None
    alone = home is not None and not norm(_GLYPH.sub(" ", home.text.replace("□", " ")))
    for t in tokens[k + 1 :]:
        if t.kind == "break" and not norm(out) and alone and home is not None:
            continue  # a box alone in its cell: its label is the next cell
        if t.kind == "text" and alone and home is not None and t.cell is not None and t.cell != glyph.cell:
            other = cells[t.cell]
            if (other.table, other.row, other.column) != (home.table, home.row, home.column + home.span):
                break
        if t.kind != "text":
            break
        out += t.text
        if "\xa0" in out.strip(" \xa0\n\t"):
            break
    out = out.strip(" \xa0\n\t")
    return re.split(r"\xa0", out, maxsplit=1)[0].strip()


def _label_before(tokens: list[Token], k: int) -> str:
    out = ""
    for t in reversed(tokens[:k]):
        if t.kind != "text":
            break
        out = t.text + out
    return out.strip(" \xa0\n\t").split("\xa0")[-1].strip().rstrip(":").strip()


def _options(tokens: list[Token], cells: list[Cell]) -> list[ExpectedOption]:
    out: list[ExpectedOption] = []
    for k, t in enumerate(tokens):
        if t.kind != "glyph":
            continue
        label = _label_after(tokens, k, cells)
        before = False
        if not norm(label):
            label, before = _label_before(tokens, k), True
        if norm(label):
            out.append(ExpectedOption(t.page, label, t.ticked, before))
    return out


def _checklist_rows(parser: _Parser) -> list[ExpectedOption]:
    """A table whose first column holds boxes (a tick or nothing) beside labels: a row
    with an empty first cell is an item left unticked."""
    out: list[ExpectedOption] = []
    for table in parser.tables:
        firsts = [row[0] for row in table.rows if len(row) >= 2 and row[0].span == 1]
        ticks = [c for c in firsts if _GLYPH.fullmatch(c.text.strip(" \xa0\n\t"))]
        if len(ticks) < 2:
            continue
        for row in table.rows:
            blank = len(row) >= 2 and row[0].span == 1 and not norm(row[0].text)
            if blank and norm(row[1].text) and not _GLYPH.search(row[0].text):
                label = re.split(r"\s[—–-]\s|\xa0", " ".join(row[1].text.split()))[0]
                out.append(ExpectedOption(row[0].page, label, False))
    return out


def _is_header_row(row: list[Cell]) -> bool:
    filled = [c for c in row if c.text.strip()]
    if len(filled) < 2:
        return False
    return all(c.header for c in row) or all(c.chars and c.bold_chars >= c.chars for c in filled)


def _tables(parser: _Parser) -> list[ExpectedTable]:
    out: list[ExpectedTable] = []
    for table in parser.tables:
        if not table.rows or not _is_header_row(table.rows[0]):
            continue
        header = [(c.column, c.span, " ".join(c.text.split())) for c in table.rows[0]]
        cells: list[ExpectedCell] = []
        body = 0
        for row in table.rows[1:]:
            filled = [c for c in row if norm(c.text)]
            if not filled or (all(c.header for c in filled) and len(filled) == len(row) and body == 0):
                continue
            cells += [ExpectedCell(body, c.column, c.span, " ".join(c.text.split())) for c in filled]
            body += 1
        if body:
            out.append(ExpectedTable(table.rows[0][0].page, header, cells, body))
    return out


def _flow(tokens: list[Token]) -> str:
    return " ".join(t.text if t.kind != "break" else " | " for t in tokens)


def _dob(parser: _Parser) -> str | None:
    """The first date of birth the source prints: after the label in its cell or flow, or in
    the cell beside (a label cell) or below (a header cell) it."""
    found: list[tuple[int, str]] = []
    by_table: dict[int, HtmlTable] = {t.index: t for t in parser.tables}
    for k, cell in enumerate(parser.cells):
        if not _DOB_LABEL.fullmatch(cell.text.strip(" :\xa0\n\t")):
            continue
        table = by_table[cell.table]
        row = table.rows[cell.row]
        right = [c for c in row if c.column == cell.column + cell.span]
        below = (
            [c for c in table.rows[cell.row + 1] if c.column == cell.column]
            if cell.row + 1 < len(table.rows)
            else []
        )
        for other in right + below:
            m = _DATE.search(other.text)
            if m and (iso := _iso(m)):
                found.append((k, iso))
                break
    flow = _flow(parser.tokens)
    first_flow = None
    for m in _DOB_LABEL.finditer(flow):
        d = _DATE.search(flow, m.end(), m.end() + 40)
        if d and (iso := _iso(d)):
            first_flow = (m.start(), iso)
            break
    if first_flow is not None:
        return first_flow[1]
    return found[0][1] if found else None


def _request_label(parser: _Parser, request_date: str | None) -> str | None:
    """The label right before the request date where the source prints it as a field."""
    if not request_date:
        return None
    flow = _flow(parser.tokens)
    for m in _DATE.finditer(flow):
        if _iso(m) != request_date:
            continue
        before = flow[max(0, m.start() - 40) : m.start()]
        label = re.search(r"([A-Za-z][A-Za-z /().]{1,34}?)\s*[:#]?[\s|\xa0]*$", before)
        if label and not re.search(r"\d", label.group(1)):
            return " ".join(label.group(1).split())
    return None


_FORM_KINDS = {"payer_request_form", "prior_auth_form", "referral_intake_form", "referral_checklist"}
_TABLE_KINDS = {
    "treatment_table",
    "medication_list",
    "infusion_flowsheet",
    "infusion_record",
    "pharmacy_dispensing_history",
    "lab_table",
    "lab_report",
    "treatment_summary",
    "oncology_history",
}


def _group(kinds: tuple[str, ...]) -> str:
    if _FORM_KINDS & set(kinds):
        return "forms"
    if _TABLE_KINDS & set(kinds):
        return "tables"
    return "letters"


def probe_truth(html: Path) -> ProbeTruth:
    parser = _Parser()
    parser.feed(html.read_text(encoding="utf-8"))
    parser.close()
    meta = json.loads(html.with_suffix(".truth.json").read_text(encoding="utf-8"))
    kinds = tuple(meta.get("kinds", ()))
    request_date = meta.get("request_date")
    return ProbeTruth(
        id=meta["id"],
        group=_group(kinds),
        kinds=kinds,
        options=_options(parser.tokens, parser.cells) + _checklist_rows(parser),
        tables=_tables(parser),
        dob=_dob(parser),
        request_date=request_date,
        request_label=_request_label(parser, request_date),
        age=meta.get("age"),
    )


# --------------------------------------------------------------------------- reading


def rendering_name(path: Path) -> str:
    name = path.name.split(".", 1)[1]
    if name == "text.pdf":
        return "text"
    if name == "scan.pdf":
        return "scan"
    return "fax-204x196" if "204x196" in name else "fax-204x98"


def read(path: Path, *, live: bool) -> Any | None:
    from common.settings import Settings
    from reading.reader import read_document
    from reading.recorded import Recordings

    settings = Settings(workers=1)
    if path.name.endswith(".text.pdf"):
        return read_document(path, settings)
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    for folder in (RECORDINGS, CACHE):
        recorded = Recordings(folder).get(sha, settings)
        if recorded is not None:
            return recorded
    if not live:
        return None
    document = read_document(path, settings)
    Recordings(CACHE).put(document, settings)
    return document


# --------------------------------------------------------------------------- scoring


@dataclass
class Score:
    options: int = 0
    options_right: int = 0
    unreadable: int = 0
    false_ticked: int = 0  # an unticked box read ticked: must never happen
    false_unticked: int = 0
    missed: int = 0
    phantoms: int = 0
    phantoms_ticked: int = 0
    tables: int = 0
    tables_found: int = 0
    cells: int = 0
    cells_right: int = 0
    cells_lost: int = 0
    headers: int = 0
    headers_right: int = 0
    spurious_tables: int = 0
    dob: int = 0
    dob_right: int = 0
    request: int = 0
    request_right: int = 0
    documents: int = 0
    notes: list[str] = field(default_factory=list)

    def add(self, other: Score) -> None:
        for name, value in vars(other).items():
            if isinstance(value, int):
                setattr(self, name, getattr(self, name) + value)
            else:
                getattr(self, name).extend(value)


def _similar(a: str, b: str) -> float:
    if not a or not b:
        return 0.0
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def _label_score(expected: str, predicted: str) -> float:
    """How well a predicted option's text stands for an expected label (its first words)."""
    e, p = norm(expected).split()[:4], norm(predicted).split()
    if not e or not p:
        return 0.0
    return _similar(" ".join(e), " ".join(p[: len(e)]))


def _lcs(expected: list[int], predicted: list[int]) -> list[tuple[int, int]]:
    """The longest order-keeping pairing of two index lists (all pairs allowed)."""
    n, m = len(expected), len(predicted)
    best = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            best[i][j] = max(best[i + 1][j], best[i][j + 1], 1 + best[i + 1][j + 1])
    out: list[tuple[int, int]] = []
    i = j = 0
    while i < n and j < m:
        if best[i][j] == 1 + best[i + 1][j + 1]:
            out.append((expected[i], predicted[j]))
            i, j = i + 1, j + 1
        elif best[i][j] == best[i + 1][j]:
            i += 1
        else:
            j += 1
    return out


def _align(expected: list[ExpectedOption], predicted: list[Any]) -> list[tuple[int, int]]:
    """Pairs (expected index, predicted index).  Each predicted option goes with the label
    it reads best ("22 Outpatient" is not "21 Inpatient"), and the options of one label
    pair in reading order (the fifth "Yes" with the fifth)."""
    keys = [" ".join(norm(e.label).split()[:4]) for e in expected]
    first = {k: i for i, k in reversed(list(enumerate(keys)))}
    by_key: dict[str, list[int]] = defaultdict(list)
    for j, p in enumerate(predicted):
        scored = [(_label_score(expected[i].label, p.option.text), len(k), k) for k, i in first.items()]
        best = max(scored, default=None)
        if best is not None and best[0] >= 0.8:
            by_key[best[2]].append(j)
    pairs: list[tuple[int, int]] = []
    for key, fits in by_key.items():
        pairs += _lcs([i for i, k in enumerate(keys) if k == key], fits)
    return sorted(pairs)


def score_options(truth: ProbeTruth, structure: Any, score: Score) -> None:
    predicted = [o for page in structure.pages for g in page.checkboxes for o in g.options]
    questions = [
        (page.page, g.question.text) for page in structure.pages for g in page.checkboxes if g.question
    ]
    pairs = _align(truth.options, predicted)
    paired_e = {i for i, _ in pairs}
    paired_p = {j for _, j in pairs}
    score.options += len(truth.options)
    for i, j in pairs:
        e, p = truth.options[i], predicted[j]
        want = "ticked" if e.ticked else "unticked"
        if p.state == want:
            score.options_right += 1
        elif p.state == "unreadable":
            score.unreadable += 1
            score.notes.append(f"option p{e.page} {e.label!r}: unreadable ({p.why})")
        elif p.state == "ticked":
            score.false_ticked += 1
            score.notes.append(f"option p{e.page} {e.label!r}: TICKED, printed unticked ({p.why})")
        else:
            score.false_unticked += 1
            score.notes.append(f"option p{e.page} {e.label!r}: unticked, printed ticked ({p.why})")
    for i, e in enumerate(truth.options):
        if i in paired_e:
            continue
        score.missed += 1
        inside = next(
            (f"p{pg} {q!r}" for pg, q in questions if norm(e.label) and norm(e.label) in norm(q)), ""
        )
        score.notes.append(
            f"option p{e.page} {e.label!r} ({'ticked' if e.ticked else 'unticked'}) missed"
            + (f"; in the question {inside}" if inside else "")
        )
    for j, p in enumerate(predicted):
        if j in paired_p:
            continue
        score.phantoms += 1
        score.phantoms_ticked += int(p.state == "ticked")
        score.notes.append(f"phantom option p{p.page} {p.option.text!r} {p.state}")


def _tokens(text: str) -> set[str]:
    return set(norm(text).split())


def _row_tokens(row: Any) -> set[str]:
    return {t for c in row.cells for t in _tokens(c.text)}


def _table_tokens(table: Any) -> set[str]:
    return {t for row in table.rows for c in row.cells for t in _tokens(c.text)}


def score_tables(truth: ProbeTruth, structure: Any, document: Any, score: Score) -> None:
    page_words = {p.number: {t for w in p.words for t in _tokens(w.text)} for p in document.pages}
    all_words = set().union(*page_words.values()) if page_words else set()
    used: set[str] = set()
    for k, table in enumerate(truth.tables):
        score.tables += 1
        score.cells += len(table.cells)
        expected_tokens = {t for c in table.cells for t in _tokens(c.text)}
        best, best_overlap = None, 0
        for t in structure.tables:
            overlap = len(_table_tokens(t) & expected_tokens)
            if overlap > best_overlap:
                best, best_overlap = t, overlap
        lost = [c for c in table.cells if not (_tokens(c.text) & all_words)]
        score.cells_lost += len(lost)
        if best is None or best_overlap < 0.3 * len(expected_tokens):
            score.notes.append(
                f"table {k + 1} (p{table.page}, {' | '.join(h for _, _, h in table.header)}) not found"
            )
            continue
        used.add(best.id)
        score.tables_found += 1
        # rows: the predicted row sharing most words with each expected row
        rows: dict[int, Any] = {}
        for r in range(table.rows):
            words = {t for c in table.cells if c.row == r for t in _tokens(c.text)}
            cand = max(
                best.rows, key=lambda row: len(words & {t for c in row.cells for t in _tokens(c.text)})
            )
            if words & {t for c in cand.cells for t in _tokens(c.text)}:
                rows[r] = cand
        # columns: the predicted column most of an expected column's words went to
        votes: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        for c in table.cells:
            row = rows.get(c.row)
            if row is None:
                continue
            for pc in row.cells:
                votes[c.column][pc.column] += len(_tokens(c.text) & _tokens(pc.text))
        columns = {col: max(v, key=lambda x: v[x]) for col, v in votes.items() if any(v.values())}
        for c in table.cells:
            if c in lost:
                continue
            row = rows.get(c.row)
            col = columns.get(c.column)
            got = ""
            if row is not None and col is not None:
                cells = (
                    [pc for pc in row.cells if pc.column in range(col, col + c.span)] if c.span > 1 else []
                )
                one = row.column(col)
                got = " ".join(pc.text for pc in cells) if cells else (one.text if one else "")
            if _similar(norm(c.text), norm(got)) >= 0.85:
                score.cells_right += 1
            else:
                score.notes.append(
                    f"table {k + 1} row {c.row + 1} col {c.column + 1}: {c.text!r} read {got!r}"
                )
        for column, _span, text in table.header:
            if not norm(text):
                continue
            score.headers += 1
            col = columns.get(column)
            got = best.columns[col].header if col is not None and col < len(best.columns) else None
            if got is not None and _similar(norm(text), norm(got.text)) >= 0.85:
                score.headers_right += 1
            else:
                score.notes.append(f"table {k + 1} header {text!r} read {got.text if got else None!r}")
    for t in structure.tables:
        if t.id in used:
            continue
        score.spurious_tables += 1
        heads = [c.header.text if c.header else "-" for c in t.columns]
        score.notes.append(f"spurious table {t.id} {list(t.roles)} {heads} ({len(t.rows)} rows)")


def _age(dob: str, on: str) -> int:
    b, d = date.fromisoformat(dob), date.fromisoformat(on)
    return d.year - b.year - ((d.month, d.day) < (b.month, b.day))


def score_identity(truth: ProbeTruth, structure: Any, score: Score) -> None:
    if truth.dob:
        score.dob += 1
        got = structure.member.date_of_birth.value if structure.member.date_of_birth else None
        if got == truth.dob:
            score.dob_right += 1
        else:
            score.notes.append(f"date of birth {truth.dob} read {got}")
    if truth.request_date and truth.request_label:
        score.request += 1
        got = getattr(structure, "request_date", None)
        value = got.value if got is not None else None
        if value == truth.request_date:
            score.request_right += 1
        else:
            score.notes.append(f"request date {truth.request_date} ({truth.request_label!r}) read {value}")


def score_document(truth: ProbeTruth, document: Any) -> Score:
    from extractors.structure import document_structure

    structure = document_structure(document.pages)
    score = Score(documents=1)
    score_options(truth, structure, score)
    score_tables(truth, structure, document, score)
    score_identity(truth, structure, score)
    return score


# --------------------------------------------------------------------------- report


def _pct(right: int, total: int) -> str:
    return f"{right}/{total} ({right / total:.3f})" if total else "-"


def figures(score: Score) -> dict[str, Any]:
    return {
        "documents": score.documents,
        "options": score.options,
        "options_right": score.options_right,
        "options_unreadable": score.unreadable,
        "options_false_ticked": score.false_ticked,
        "options_false_unticked": score.false_unticked,
        "options_missed": score.missed,
        "phantom_options": score.phantoms,
        "phantom_options_ticked": score.phantoms_ticked,
        "tables": score.tables,
        "tables_found": score.tables_found,
        "spurious_tables": score.spurious_tables,
        "cells": score.cells,
        "cells_right": score.cells_right,
        "cells_lost_to_ocr": score.cells_lost,
        "headers": score.headers,
        "headers_right": score.headers_right,
        "dob": score.dob,
        "dob_right": score.dob_right,
        "request_date": score.request,
        "request_date_right": score.request_right,
    }


def render(groups: dict[tuple[str, str], Score]) -> str:
    lines = [
        f"{'kind':8} {'rendering':12} {'docs':>4}  {'options right':>18} {'unread':>6} {'false+':>6} "
        f"{'false-':>6} {'missed':>6} {'phantom':>8}  {'tables':>7} {'spur.':>5} {'cells right':>18} "
        f"{'lost':>4}  {'DOB':>10} {'request date':>12}"
    ]
    for (kind, rendering), s in sorted(groups.items()):
        lines.append(
            f"{kind:8} {rendering:12} {s.documents:>4}  {_pct(s.options_right, s.options):>18} "
            f"{s.unreadable:>6} {s.false_ticked:>6} {s.false_unticked:>6} {s.missed:>6} "
            f"{s.phantoms:>4}/{s.phantoms_ticked:<3}  {s.tables_found:>3}/{s.tables:<3} "
            f"{s.spurious_tables:>5} "
            f"{_pct(s.cells_right, s.cells - s.cells_lost):>18} {s.cells_lost:>4}  "
            f"{s.dob_right:>4}/{s.dob:<5} {s.request_right:>5}/{s.request:<6}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("ids", nargs="*", help="probe ids (P1/004); all by default")
    ap.add_argument("--docs", action="store_true", help="every document's misses")
    ap.add_argument("--json", type=Path, help="write the figures here")
    ap.add_argument("--live", action="store_true", help="OCR the faxes with no current recording")
    ap.add_argument("--renderings", default="", help="comma-separated: text,fax-204x196,fax-204x98,scan")
    args = ap.parse_args(argv)
    wanted = set(filter(None, args.renderings.split(",")))
    groups: dict[tuple[str, str], Score] = defaultdict(Score)
    per_doc: dict[str, dict[str, Any]] = {}
    skipped: list[str] = []
    for html in sorted(PROBES.glob("P*/*.html")):
        ident = f"{html.parent.name}/{html.stem}"
        if args.ids and ident not in args.ids:
            continue
        truth = probe_truth(html)
        if (
            truth.dob
            and truth.age is not None
            and truth.request_date
            and _age(truth.dob, truth.request_date) != truth.age
        ):
            print(
                f"{ident}: the source's date of birth {truth.dob} does not give the truth's age",
                file=sys.stderr,
            )
        for path in sorted(html.parent.glob(f"{html.stem}.*")):
            if path.suffix not in (".pdf", ".tif"):
                continue
            rendering = rendering_name(path)
            if wanted and rendering not in wanted:
                continue
            document = read(path, live=args.live)
            if document is None:
                skipped.append(path.name)
                continue
            score = score_document(truth, document)
            groups[(truth.group, rendering)].add(score)
            groups[("all", rendering)].add(score)
            per_doc[f"{ident} {rendering}"] = {**figures(score), "notes": score.notes}
            if args.docs and score.notes:
                print(f"--- {ident} {rendering} ({truth.group})")
                for note in score.notes:
                    print("   ", note)
    print(render(groups))
    if skipped:
        print(f"skipped (no current OCR recording; --live reads them): {', '.join(skipped)}")
    if args.json:
        out = {f"{k} {r}": figures(s) for (k, r), s in sorted(groups.items())}
        args.json.write_text(json.dumps({"groups": out, "documents": per_doc}, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
