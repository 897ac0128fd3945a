"""Tables from word geometry: a header row naming columns, column bands, body rows.

The recipe, the same for text layers and OCR:

1. A header row is a row whose phrases name at least two column roles of
   ``lexicons/structure/table_columns.json`` and that is mostly such words (a header cell over two
   lines, "Reason" over "stopped", is joined first).
2. Column boundaries lie between header cells: at a vertical rule where the page has
   one, else in the widest gap that no body word covers (the x-band the rows share).
3. Body rows follow while they fit the columns: no word astride a boundary, no phrase
   across two boundaries (prose), no gap wider than a few lines, inside the ruled grid.
4. Text rows become body rows: between horizontal rules where the rows are ruled;
   otherwise a text row joins the row above when each of its cells continues the cell
   above (the first word would not have fit on that line: the cell wrapped), or the
   row below when it holds only the first lines of wrapped cells.
5. A table that runs to the foot of a page continues on the next page when that page
   starts with the same header, or with rows that fit its columns.
"""

from __future__ import annotations

import itertools
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from common.models import BBox
from common.structure import Table, TableCell, TableColumn, TablePart, TableRow
from extractors.dates import find_single_dates
from extractors.structure.geometry import Line, PageGeometry, Placed
from extractors.structure.rows import Row, char_width, phrases, span
from extractors.structure.vocabulary import StructureLexicon, normalise

_HEADER_MIN_ROLES = 2
_HEADER_ROLE_SHARE = 0.6  # of the row's words in cells that name a role
_HEADER_WORDS_PER_CELL = 4  # a header's cells are short labels: more words per cell is prose
_HEADER_EXTRA_LINES = 2  # header cells may run over this many more lines
_STRADDLE = 0.3  # a word is astride a boundary when this share of it lies on each side
_MAX_GAP_LINES = 2.5  # body rows further apart than this many text heights end the table
_FOOT_SHARE = 0.1  # a page's last tenth: footers ("Page 2 of 3"), not content
_HEAD_SHARE = 0.3  # where a continued table may resume on the next page
_HEAD_ROWS_SKIPPED = 4  # running header lines (fax banner, letterhead) before it resumes
_DATE_LIKE = re.compile(r"\d[/.-]\d|\d{4}")


@dataclass
class HeaderCell:
    """A column's header cell; a column the body shows but no header names has no words,
    only its band."""

    words: list[Placed]
    role: str | None
    band: tuple[float, float] | None = None
    dated: bool = False  # the cell is one whole date: a trend report's result column

    @property
    def x0(self) -> float:
        return min(w.x0 for w in self.words) if self.words else (self.band or (0.0, 0.0))[0]

    @property
    def x1(self) -> float:
        return max(w.x1 for w in self.words) if self.words else (self.band or (0.0, 0.0))[1]

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2.0


@dataclass
class BodyRow:
    """One body row being built: its text rows and each column's words."""

    rows: list[Row]
    cells: dict[int, list[Placed]] = field(default_factory=dict)

    @property
    def top(self) -> float:
        return min(r.top for r in self.rows)

    @property
    def bottom(self) -> float:
        return max(r.bottom for r in self.rows)


@dataclass
class Draft:
    """A table's part on one page, being built."""

    geometry: PageGeometry
    header_rows: list[Row]
    columns: list[HeaderCell]
    bounds: list[float]
    body: list[Row] = field(default_factory=list)
    ruled_columns: bool = False
    bottom_rule: float | None = None

    @property
    def page(self) -> int:
        return self.geometry.page.number

    @property
    def left(self) -> float:
        xs = [c.x0 for c in self.columns] + [w.x0 for r in self.body for w in r.words]
        return min(xs)

    @property
    def right(self) -> float:
        xs = [c.x1 for c in self.columns] + [w.x1 for r in self.body for w in r.words]
        return max(xs)

    def column_of(self, word: Placed) -> int:
        for index, bound in enumerate(self.bounds):
            if word.cx < bound:
                return index
        return len(self.bounds)


# --------------------------------------------------------------------------- headers


def _word_tokens(words: Sequence[Placed]) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for i, w in enumerate(words):
        out.extend((t, i) for t in normalise(w.text).split())
    return out


def _split_phrase(words: list[Placed], lexicon: StructureLexicon) -> list[HeaderCell]:
    """One gap-delimited phrase of a header row -> its header cells (one per role named)."""
    toks = _word_tokens(words)
    names = [t for t, _ in toks]
    if not names:
        return []
    whole = lexicon.column_whole.whole(names)
    if whole is not None:
        return [HeaderCell(words, whole)]
    hits = lexicon.column_phrases.find_all(names)
    if len(hits) <= 1:
        return [HeaderCell(words, hits[0][2] if hits else None)]
    # Several roles in one phrase ("Regimen Start Stop" with tight gaps): one cell per
    # role, each unnamed word going with the role before it.
    cells: list[HeaderCell] = []
    first_word = {start: toks[start][1] for start, _, _ in hits}
    starts = sorted(first_word.values())
    for k, (start, _, role) in enumerate(hits):
        lo = 0 if k == 0 else first_word[start]
        hi = starts[k + 1] if k + 1 < len(starts) else len(words)
        if hi > lo:
            cells.append(HeaderCell(words[lo:hi], role))
    return cells


def _alnum(words: Sequence[Placed]) -> list[Placed]:
    """The words with a letter or digit: a stray "|" or ":" (a rule's fringe) is not a word."""
    return [w for w in words if any(ch.isalnum() for ch in w.text)]


def _is_header(cells: list[HeaderCell], header_rows: list[Row], named_runs: int) -> bool:
    named = [c for c in cells if c.role]
    roles = {c.role for c in named}
    if len(roles) < _HEADER_MIN_ROLES or len(cells) < 2:
        return False
    # "Treatment response:" names two roles in one run of words: a heading, not a header.
    if named_runs < 2 and len(roles) < 3:
        return False
    main = max(header_rows, key=lambda r: len(r.words))
    if main.text.rstrip().endswith((":", ".")):
        return False
    words = _alnum([w for r in header_rows for w in r.words])
    dated = {id(w) for c in cells if c.dated for w in c.words}
    if any(_DATE_LIKE.search(w.text) for w in words if id(w) not in dated):
        return False
    if len(words) > _HEADER_WORDS_PER_CELL * len(cells):
        # a sentence naming two roles ("...dispensed by this pharmacy only; drugs given in
        # clinic are not listed"), not a row of short column labels
        return False
    share = len(_alnum([w for c in named for w in c.words])) / max(1, len(words))
    return share >= _HEADER_ROLE_SHARE


def _header_at(
    rows: Sequence[Row], i: int, floor: int, geometry: PageGeometry, lexicon: StructureLexicon
) -> tuple[list[HeaderCell], list[Row]] | None:
    """The header cells and rows of a header on ``rows[i]`` (with the header lines joined
    above and below it), or None.  Rows at or above ``floor`` are taken."""
    row = rows[i]
    runs = phrases(row, geometry.lines)
    cells = [cell for run in runs for cell in _split_phrase(run, lexicon)]
    if not any(c.role for c in cells):
        return None
    header_rows = [row]
    if i - 1 > floor and _close(rows[i - 1], row, 1.2):
        joined = _join_header_line(cells, rows[i - 1], geometry, lexicon, below=False)
        if joined is not None:
            cells, header_rows = joined, [rows[i - 1], row]
    j = i + 1
    while j < len(rows) and j - i <= _HEADER_EXTRA_LINES and _close(header_rows[-1], rows[j], 1.2):
        joined = _join_header_line(cells, rows[j], geometry, lexicon, below=True)
        if joined is None:
            break
        cells = joined
        header_rows.append(rows[j])
        j += 1
    if any(w.text.replace(" ", "") in lexicon.box_glyphs for r in header_rows for w in r.words):
        # "Prior CAR-T therapy of any kind?  ☐ Yes  ☒ No": a form's question and its boxes,
        # never a row of column labels
        return None
    _date_result_columns(cells, lexicon)
    named_runs = sum(
        1 for run in runs if any(c.role and min(c.x1, run[-1].x1) > max(c.x0, run[0].x0) for c in cells)
    )
    return (cells, header_rows) if _is_header(cells, header_rows, named_runs) else None


def _date_result_columns(cells: list[HeaderCell], lexicon: StructureLexicon) -> None:
    """Header cells that are one whole date take the dated-column role ("Test  05/08/2026
    08/02/2026  Units": a cumulative report's result columns) when the header also names
    the column beside them (the tests'); the date stays in the column's header words."""
    rule = lexicon.dated_columns
    if rule is None or not any(c.role in rule.beside for c in cells):
        return
    for cell in cells:
        if cell.role is None and cell.words and _one_date(" ".join(w.text for w in cell.words)):
            cell.role, cell.dated = rule.role, True


def _one_date(text: str) -> bool:
    found = find_single_dates(text.strip())
    return len(found) == 1 and found[0][0] == 0 and found[0][1] == len(text.strip())


def _vocabulary_share(row: Row, lexicon: StructureLexicon) -> float:
    toks = [t for w in row.words for t in normalise(w.text).split()]
    if not toks:
        return 0.0
    return sum(1 for t in toks if lexicon.column_whole.knows(t)) / len(toks)


def _best_role(words: Sequence[Placed], lexicon: StructureLexicon) -> tuple[int, str | None]:
    """(length in words, role) of the longest header phrase in these words."""
    names = [t for t, _ in _word_tokens(words)]
    whole = lexicon.column_whole.whole(names)
    if whole is not None:
        return len(names), whole
    hits = lexicon.column_phrases.find_all(names)
    if not hits:
        return 0, None
    best = max(hits, key=lambda h: h[1])
    return best[1], best[2]


def _join_header_line(
    cells: list[HeaderCell], row: Row, geometry: PageGeometry, lexicon: StructureLexicon, *, below: bool
) -> list[HeaderCell] | None:
    """Header cells with a further line of header words ("Start" over "date") joined in, or
    None when ``row`` is not such a line: every piece must complete a longer header phrase
    in the cell it stands over (a table's title over its first column does not)."""
    if any(any(ch.isdigit() for ch in w.text) for w in row.words):
        return None
    # "Prior therapy:" over a table is its heading (a label), not a header line
    if row.text.rstrip().endswith(":") or _vocabulary_share(row, lexicon) < 0.5:
        return None
    joined = [HeaderCell(list(c.words), c.role) for c in cells]
    for phrase in phrases(row, geometry.lines):
        x0, x1 = phrase[0].x0, phrase[-1].x1
        over = [c for c in joined if min(c.x1, x1) - max(c.x0, x0) > 0]
        if len(over) > 1:
            return None
        if not over:
            # header words over a column the main line leaves empty
            role = _best_role(phrase, lexicon)[1]
            if role is None:
                return None
            joined.append(HeaderCell(list(phrase), role))
            continue
        target = over[0]
        before, _ = _best_role(target.words, lexicon)
        words = [*target.words, *phrase] if below else [*phrase, *target.words]
        after, role = _best_role(words, lexicon)
        if after <= before or role is None:
            return None
        target.words, target.role = words, role
    joined.sort(key=lambda c: c.x0)
    return joined


def _close(a: Row, b: Row, lines: float = 1.6) -> bool:
    return b.top - a.bottom <= lines * max(a.height, b.height)


# --------------------------------------------------------------------------- columns


def _vertical_rule_between(lines: Sequence[Line], a: HeaderCell, b: HeaderCell, y: float) -> float | None:
    xs = [ln.x0 for ln in lines if not ln.horizontal and a.cx < ln.x0 < b.cx and ln.y0 - 2 <= y <= ln.y1 + 2]
    if not xs:
        return None
    middle = (a.x1 + b.x0) / 2.0
    return min(xs, key=lambda x: abs(x - middle))


def _gutter(words: Sequence[Placed], lo: float, hi: float, fallback: float) -> float:
    """The middle of the widest x-band in [lo, hi] that the fewest words cover (none, in a
    table's body), the one nearest ``fallback`` among equals."""
    steps = int(hi - lo)
    if steps < 2 or not words:
        return fallback
    cover = [0] * steps
    for w in words:
        a, b = max(lo, w.x0), min(hi, w.x1)
        for i in range(max(0, int(a - lo)), min(steps, int(b - lo) + 1)):
            if b > a:
                cover[i] += 1
    least = min(cover)
    best: tuple[int, float] | None = None
    i = 0
    while i < steps:
        if cover[i] != least:
            i += 1
            continue
        j = i
        while j < steps and cover[j] == least:
            j += 1
        width, middle = j - i, lo + (i + j) / 2.0
        if (
            best is None
            or width > best[0]
            or (width == best[0] and abs(middle - fallback) < abs(best[1] - fallback))
        ):
            best = (width, middle)
        i = j
    return best[1] if best else fallback


def _set_bounds(draft: Draft, words: Sequence[Placed]) -> None:
    cols = draft.columns
    y = statistics.median(r.middle for r in (draft.header_rows or draft.body[:1]))
    lines = draft.geometry.lines
    bounds: list[float] = []
    ruled = 0
    for a, b in itertools.pairwise(cols):
        rule = _vertical_rule_between(lines, a, b, y)
        if rule is not None:
            bounds.append(rule)
            ruled += 1
            continue
        fallback = (a.x1 + b.x0) / 2.0 if a.x1 < b.x0 else (a.cx + b.cx) / 2.0
        bounds.append(_gutter(words, a.cx, b.cx, fallback))
    draft.bounds = bounds
    draft.ruled_columns = bool(bounds) and ruled * 2 >= len(bounds)


_BAND_ROW_SHARE = 0.3  # a column the header does not name must hold words in this share of rows


def _bands(rows: Sequence[Row], gap: float) -> list[tuple[float, float, set[int]]]:
    """The x-bands the rows' words cover (gaps narrower than ``gap`` bridged), each with
    the rows that have words in it."""
    entries = sorted(((w, k) for k, r in enumerate(rows) for w in r.words), key=lambda e: e[0].x0)
    out: list[tuple[float, float, set[int]]] = []
    for w, k in entries:
        if out and w.x0 <= out[-1][1] + gap:
            lo, hi, members = out[-1]
            out[-1] = (lo, max(hi, w.x1), members)
        else:
            out.append((w.x0, w.x1, set()))
        out[-1][2].add(k)
    return out


def _add_unnamed_columns(draft: Draft) -> bool:
    """Columns the body rows share that no header cell stands over (a header word OCR
    dropped, a blank header cell) become columns of their own, unnamed."""
    words = [w for r in draft.body for w in r.words]
    if not words:
        return False
    gap = 1.5 * char_width(words)
    added = False
    for lo, hi, rows in _bands(draft.body, gap):
        if len(rows) < max(2, _BAND_ROW_SHARE * len(draft.body)):
            continue
        if any(min(c.x1, hi) - max(c.x0, lo) > -gap for c in draft.columns):
            continue
        if lo < draft.columns[0].x0 or hi > max(c.x1 for c in draft.columns) + 10 * gap:
            continue
        draft.columns.append(HeaderCell([], None, (lo, hi)))
        added = True
    draft.columns.sort(key=lambda c: c.x0)
    return added


def _window(rows: Sequence[Row], start: int, height: float) -> list[Placed]:
    """The words of the rows below a header, up to the first wide vertical gap."""
    words: list[Placed] = []
    previous: Row | None = None
    for row in rows[start:]:
        if previous is not None and row.top - previous.bottom > _MAX_GAP_LINES * max(height, row.height):
            break
        words.extend(row.words)
        previous = row
    return words


# --------------------------------------------------------------------------- body rows


def _straddles(word: Placed, bound: float) -> bool:
    left, right = bound - word.x0, word.x1 - bound
    return min(left, right) > _STRADDLE * word.width


def _fits(draft: Draft, row: Row, previous: Row) -> bool:
    geometry = draft.geometry
    seen = [r.height for r in (*draft.header_rows, *draft.body)] or [previous.height]
    height = statistics.median(seen)
    if row.top - previous.bottom > _MAX_GAP_LINES * max(height, row.height):
        return False
    if draft.bottom_rule is not None and row.middle > draft.bottom_rule + 1.0:
        return False
    cw = char_width(row.words)
    if row.x0 < draft.left - 3 * cw:
        return False
    if any(_straddles(w, b) for w in row.words for b in draft.bounds):
        return False
    crossing = 0
    for phrase in phrases(row, geometry.lines):
        crossed = sum(1 for b in draft.bounds if phrase[0].x0 < b < phrase[-1].x1)
        if crossed >= 2 or (crossed == 1 and len(phrase) >= 6):
            return False  # prose running across the columns
        crossing += crossed > 0
    # fields laid across the columns, each over a bound ("CAR-T: none.  BCMA-directed
    # therapy: none.  Clinical trials: none." under a borderless table): a cell may overflow
    # its column once; two phrases astride bounds are a line of their own
    return crossing < 2


def _bottom_rule(draft: Draft) -> float | None:
    """The lowest point of the vertical rules that cross the header: the grid's foot."""
    y = statistics.median(r.middle for r in draft.header_rows)
    left, right = draft.left - 5, draft.right + 5
    feet = [
        ln.y1
        for ln in draft.geometry.lines
        if not ln.horizontal and ln.y0 - 2 <= y <= ln.y1 + 2 and left <= ln.x0 <= right
    ]
    return max(feet) if feet else None


def _collect_body(draft: Draft, rows: Sequence[Row], start: int, lexicon: StructureLexicon) -> int:
    """Add the body rows from ``rows[start]`` on; returns the index after the last one."""
    previous = draft.header_rows[-1]
    i = start
    while i < len(rows):
        row = rows[i]
        if _header_at(rows, i, i - 1, draft.geometry, lexicon) is not None:
            break
        if not _fits(draft, row, previous):
            break
        draft.body.append(row)
        previous = row
        i += 1
    # A heading ("Assessment:") that fitted the first column ends the table, not a row.
    while draft.body and len(draft.body[-1].words) <= 4 and draft.body[-1].text.rstrip().endswith(":"):
        draft.body.pop()
        i -= 1
    return i


def _cells(draft: Draft, row: Row) -> dict[int, list[Placed]]:
    cells: dict[int, list[Placed]] = {}
    for w in row.words:
        cells.setdefault(draft.column_of(w), []).append(w)
    return cells


def _limits(draft: Draft, rows: Sequence[Row]) -> list[float]:
    """How far right each column's text may reach: where a line in that cell must wrap."""
    reach = [c.x1 for c in draft.columns]
    for row in rows:
        for w in row.words:
            col = draft.column_of(w)
            reach[col] = max(reach[col], w.x1)
    for i, bound in enumerate(draft.bounds):
        reach[i] = min(reach[i], bound)
    return reach


def _wraps(
    above: list[Placed], below: list[Placed], limit: float, space: float, joiners: frozenset[str]
) -> bool:
    """Does ``below`` continue the cell text ``above``?  Yes when its first word would not
    have fit at the end of the line above (so the line broke there), or the line above
    ends on a joining character."""
    last = max(above, key=lambda w: (w.y0, w.x1))
    line = [w for w in above if abs(w.cy - last.cy) < last.height / 2]
    end = max(w.x1 for w in line)
    first = min(below, key=lambda w: w.x0)
    if end + space + first.width > limit + 1.0:
        return True
    tail = line[-1].text if line else ""
    return tail.endswith((",", "-", "/", "+", "&")) or normalise(tail) in joiners


def _ruled_rows(draft: Draft, rows: Sequence[Row]) -> list[float] | None:
    """The y of horizontal rules between the body's text rows, when the rows are ruled."""
    if not rows:
        return None
    left, right = draft.left, draft.right
    width = right - left
    ys = sorted(
        ln.y0
        for ln in draft.geometry.lines
        if ln.horizontal and min(ln.x1, right) - max(ln.x0, left) >= 0.5 * width
    )
    inner = [y for y in ys if rows[0].bottom < y < rows[-1].top]
    return ys if inner else None


def _body_rows(draft: Draft, rows: Sequence[Row], joiners: frozenset[str]) -> list[BodyRow]:
    if not rows:
        return []
    rules = _ruled_rows(draft, rows)
    if rules is not None:
        out: list[BodyRow] = []
        for row in rows:
            band = sum(1 for y in rules if y < row.middle)
            if out and sum(1 for y in rules if y < out[-1].rows[-1].middle) == band:
                out[-1].rows.append(row)
            else:
                out.append(BodyRow([row]))
        for body in out:
            for row in body.rows:
                for col, words in _cells(draft, row).items():
                    body.cells.setdefault(col, []).extend(words)
        return out
    return _wrapped_rows(draft, rows, joiners)


@dataclass
class _Wrapping:
    """What the wrapped-row decisions need about the body's text rows."""

    draft: Draft
    rows: Sequence[Row]
    cells: list[dict[int, list[Placed]]]
    limits: list[float]
    space: float
    entry_min: int
    joiners: frozenset[str]

    def sparse(self, i: int) -> bool:
        """Too few cells to be an entry of its own: a line of wrapped cells, if anything."""
        return len(self.cells[i]) < self.entry_min

    def wraps_into(self, above: dict[int, list[Placed]], i: int) -> bool:
        """Every cell of text row ``i`` continues the cell above it in ``above``."""
        below = self.cells[i]
        return set(below) <= set(above) and all(
            _wraps(above[c], below[c], self.limits[c], self.space, self.joiners) for c in below
        )

    def lead_run(self, i: int) -> int | None:
        """When text rows i.. hold only the first lines of cells that end on an entry below
        (cells aligned to the bottom), the index of that entry."""
        j = i
        while j + 1 < len(self.rows) and _close(self.rows[j], self.rows[j + 1]):
            above, below = self.cells[j], self.cells[j + 1]
            if not set(above) <= set(below) or not all(
                _wraps(above[c], below[c], self.limits[c], self.space, self.joiners) for c in above
            ):
                return None
            if not self.sparse(j + 1):
                return j + 1
            j += 1
        return None


def _wrapped_rows(draft: Draft, rows: Sequence[Row], joiners: frozenset[str]) -> list[BodyRow]:
    cells = [_cells(draft, r) for r in rows]
    counts = sorted(len(c) for c in cells)
    full = counts[int(0.75 * (len(counts) - 1))]
    w = _Wrapping(
        draft=draft,
        rows=rows,
        cells=cells,
        limits=_limits(draft, rows),
        space=0.5 * char_width([w for r in rows for w in r.words]),
        entry_min=max(2, -(-6 * full // 10)),  # 60% of a full row's cells, at least two
        joiners=joiners,
    )
    out: list[BodyRow] = []
    i = 0
    while i < len(rows):
        current = out[-1] if out else None
        if w.sparse(i):
            continues = (
                current is not None and _close(current.rows[-1], rows[i]) and w.wraps_into(current.cells, i)
            )
            entry = w.lead_run(i)
            if continues and entry is not None and current is not None:
                # Both readings fit: the nearer line decides (a cell's lines are closer
                # together than two rows, which have padding between them).
                gap_above = rows[i].top - current.rows[-1].bottom
                gap_below = rows[i + 1].top - rows[i].bottom
                continues = gap_above <= gap_below + 1.0
            if continues and current is not None:
                current.rows.append(rows[i])
                for c, words in cells[i].items():
                    current.cells[c].extend(words)
                i += 1
                continue
            if entry is not None:
                body = BodyRow(list(rows[i : entry + 1]))
                for k in range(i, entry + 1):
                    for c, words in cells[k].items():
                        body.cells.setdefault(c, []).extend(words)
                out.append(body)
                i = entry + 1
                continue
        out.append(BodyRow([rows[i]], {c: list(ws) for c, ws in cells[i].items()}))
        i += 1
    return out


# --------------------------------------------------------------------------- page


_CROWDED_GAP_CHARS = 3.0  # header cells closer than this are one cell's words, unless ruled apart
_CROWDED_ROWS = 3  # the first body rows that decide it


def _join_crowded_heads(draft: Draft, first_rows: Sequence[Row], window: Sequence[Placed]) -> None:
    """One header cell that names two things ("Best resp / reason stopped") reads as two
    columns a word apart; its cells then write across the bound between them ("VGPR /
    completed;") and ended the table at its first row.  Two
    header cells no column gap apart, with no rule between them, are one column when a
    first body row's word straddles their bound."""
    y = statistics.median(r.middle for r in draft.header_rows)
    cw = char_width([w for c in draft.columns for w in c.words] or list(window))
    changed = True
    while changed:
        changed = False
        for k, (a, b) in enumerate(itertools.pairwise(draft.columns)):
            if not (a.words and b.words) or b.x0 - a.x1 > _CROWDED_GAP_CHARS * cw:
                continue
            if _vertical_rule_between(draft.geometry.lines, a, b, y) is not None:
                continue
            bound = draft.bounds[k]
            if any(_straddles(w, bound) for r in first_rows for w in r.words):
                draft.columns[k : k + 2] = [HeaderCell(a.words + b.words, a.role or b.role)]
                _set_bounds(draft, window)
                changed = True
                break


def _draft_at(
    rows: Sequence[Row], i: int, floor: int, geometry: PageGeometry, lexicon: StructureLexicon
) -> tuple[Draft, int] | None:
    """A table whose header is (or includes) ``rows[i]``, and the index after its body.
    Rows at or above ``floor`` belong to a table already found."""
    found = _header_at(rows, i, floor, geometry, lexicon)
    if found is None:
        return None
    cells, header_rows = found
    j = rows.index(header_rows[-1]) + 1
    draft = Draft(geometry=geometry, header_rows=header_rows, columns=cells, bounds=[])
    height = statistics.median(r.height for r in header_rows)
    window = _window(rows, j, height)
    _set_bounds(draft, window)
    _join_crowded_heads(draft, rows[j : j + _CROWDED_ROWS], window)
    draft.bottom_rule = _bottom_rule(draft)
    end = _collect_body(draft, rows, j, lexicon)
    if not draft.body:
        return None
    # Boundaries again from the body alone: the x-bands its rows share.
    _add_unnamed_columns(draft)
    _set_bounds(draft, [w for r in draft.body for w in r.words])
    return draft, end


def page_drafts(geometry: PageGeometry, rows: Sequence[Row], lexicon: StructureLexicon) -> list[Draft]:
    drafts: list[Draft] = []
    i, floor = 0, -1
    while i < len(rows):
        found = _draft_at(rows, i, floor, geometry, lexicon)
        if found is None:
            i += 1
            continue
        draft, end = found
        drafts.append(draft)
        floor = end - 1
        i = end
    return drafts


# --------------------------------------------------------------------------- across pages


def _runs_to_foot(draft: Draft, rows: Sequence[Row]) -> bool:
    last = draft.body[-1]
    foot = draft.geometry.height * (1 - _FOOT_SHARE)
    return all(r.top >= foot for r in rows if r.top > last.bottom + 0.5)


def _resumes(
    previous: Draft, geometry: PageGeometry, rows: Sequence[Row], before: int | None
) -> Draft | None:
    """The rows at the head of the next page that continue ``previous`` without a header
    (its columns carried over: the pages share a layout), stopping at row ``before``."""
    head = geometry.height * _HEAD_SHARE
    carried = Draft(
        geometry=geometry,
        header_rows=[],
        columns=previous.columns,
        bounds=list(previous.bounds),
        ruled_columns=previous.ruled_columns,
    )
    candidates = [r for r in rows if before is None or r.index < before]
    start = None
    for k, row in enumerate(candidates[: _HEAD_ROWS_SKIPPED + 1]):
        if row.top > head:
            break
        fits_columns = not any(_straddles(w, b) for w in row.words for b in carried.bounds)
        if len(_cells(carried, row)) >= 2 and fits_columns and row.x0 >= previous.left - 10:
            start = k
            break
    if start is None:
        return None
    carried.body = [candidates[start]]
    for row in candidates[start + 1 :]:
        if not _fits(carried, row, carried.body[-1]):
            break
        carried.body.append(row)
    return carried


@dataclass
class Chain:
    """A table's parts, page after page; ``repeated``: the part starts with the header again."""

    parts: list[Draft]
    repeated: list[bool]


def _aligned(a: HeaderCell, b: HeaderCell) -> bool:
    narrower = max(1.0, min(a.x1 - a.x0, b.x1 - b.x0))
    return min(a.x1, b.x1) - max(a.x0, b.x0) >= 0.4 * narrower


def _same_header(a: list[HeaderCell], b: list[HeaderCell]) -> bool:
    """The header again (OCR may read a word of it differently or not at all): the columns
    stand where they stood and the roles both name agree, two at least."""
    agree = 0
    for cell in a:
        other = next((c for c in b if _aligned(cell, c)), None)
        if other is None:
            continue
        if cell.role and other.role:
            if cell.role != other.role:
                return False
            agree += 1
    return agree >= 2 and agree >= 0.5 * min(sum(1 for c in a if c.role), sum(1 for c in b if c.role))


def _merged_columns(a: list[HeaderCell], b: list[HeaderCell]) -> list[HeaderCell]:
    """The columns of a table from two of its parts: a column either part names is kept."""
    out = [HeaderCell(list(c.words), c.role, c.band) for c in a]
    for cell in b:
        mine = next((c for c in out if _aligned(c, cell)), None)
        if mine is None:
            out.append(HeaderCell(list(cell.words), cell.role, cell.band or (cell.x0, cell.x1)))
        elif mine.role is None and cell.role is not None:
            mine.role = cell.role
            if not mine.words:
                mine.words = list(cell.words)
    out.sort(key=lambda c: c.x0)
    return out


def _repeats(first: Draft, last: Draft, rows: Sequence[Row]) -> bool:
    geometry = first.geometry
    before = [r for r in rows if r.index < first.header_rows[0].index]
    return (
        first.header_rows[0].top <= geometry.height * _HEAD_SHARE
        and len(before) <= _HEAD_ROWS_SKIPPED
        and _same_header(first.columns, last.columns)
    )


def _unify(chain: Chain) -> None:
    """Give every part of a table the same columns, and each part its boundaries from its
    own rows."""
    columns = chain.parts[0].columns
    for part in chain.parts[1:]:
        columns = _merged_columns(columns, part.columns)
    for part in chain.parts:
        part.columns = [HeaderCell(list(c.words), c.role, c.band or (c.x0, c.x1)) for c in columns]
        _set_bounds(part, [w for r in part.body for w in r.words])


def chain_tables(pages: Sequence[tuple[PageGeometry, list[Row], list[Draft]]]) -> list[Chain]:
    chains: list[Chain] = []
    open_chain: Chain | None = None  # a table that ran to the foot of the page before
    for geometry, rows, page_drafts_ in pages:
        drafts = list(page_drafts_)
        if open_chain is not None:
            last = open_chain.parts[-1]
            first = drafts[0] if drafts else None
            if first is not None and _repeats(first, last, rows):
                open_chain.parts.append(first)
                open_chain.repeated.append(True)
                drafts = drafts[1:]
            else:
                before = first.header_rows[0].index if first is not None else None
                resumed = _resumes(last, geometry, rows, before)
                if resumed is not None:
                    open_chain.parts.append(resumed)
                    open_chain.repeated.append(False)
        chains.extend(Chain([d], [False]) for d in drafts)
        on_page = [c for c in chains if c.parts[-1].page == geometry.page.number]
        lowest = max(on_page, key=lambda c: c.parts[-1].body[-1].bottom, default=None)
        open_chain = lowest if lowest is not None and _runs_to_foot(lowest.parts[-1], rows) else None
    for chain in chains:
        if len(chain.parts) > 1:
            _unify(chain)
    return chains


# --------------------------------------------------------------------------- models


def _column_models(draft: Draft) -> tuple[TableColumn, ...]:
    page = draft.page
    cols: list[TableColumn] = []
    for index, cell in enumerate(draft.columns):
        x0 = draft.bounds[index - 1] if index > 0 else draft.left
        x1 = draft.bounds[index] if index < len(draft.bounds) else draft.right
        header_words = sorted(cell.words, key=lambda w: (w.cy, w.x0))
        cols.append(
            TableColumn(
                index=index,
                role=cell.role,
                header=span(page, _reading_order(header_words)) if header_words else None,
                x0=round(x0, 2),
                x1=round(x1, 2),
            )
        )
    return tuple(cols)


def _reading_order(words: Sequence[Placed]) -> list[Placed]:
    """Lines top to bottom, each left to right."""
    lines: list[list[Placed]] = []
    for w in sorted(words, key=lambda w: w.cy):
        if lines and abs(lines[-1][0].cy - w.cy) < 0.5 * max(lines[-1][0].height, w.height):
            lines[-1].append(w)
        else:
            lines.append([w])
    return [w for line in lines for w in sorted(line, key=lambda w: w.x0)]


def to_table(chain: Chain, table_id: str, lexicon: StructureLexicon) -> Table:
    head = chain.parts[0]
    columns = _column_models(head)
    body_rows: list[TableRow] = []
    parts: list[TablePart] = []
    for draft, repeated in zip(chain.parts, chain.repeated, strict=True):
        page = draft.page
        built = _body_rows(draft, draft.body, lexicon.wrap_joiners)
        boxes: list[BBox] = []
        for body in built:
            cells = []
            for col in sorted(body.cells):
                words = _reading_order(body.cells[col])
                cell_span = span(page, words)
                cells.append(TableCell(column=col, role=columns[col].role, span=cell_span))
                if cell_span.bbox:
                    boxes.append(cell_span.bbox)
            row_box = BBox.union([c.span.bbox for c in cells if c.span.bbox])
            body_rows.append(
                TableRow(
                    index=len(body_rows), page=page, cells=tuple(cells), bbox=row_box, lines=len(body.rows)
                )
            )
        header_boxes = [w.word.bbox for r in draft.header_rows for w in r.words]
        parts.append(
            TablePart(
                page=page,
                bbox=BBox.union(boxes + header_boxes),
                header_repeated=repeated,
                ruled=draft.ruled_columns or _ruled_rows(draft, draft.body) is not None,
            )
        )
    return Table(id=table_id, columns=columns, rows=tuple(body_rows), parts=tuple(parts))
