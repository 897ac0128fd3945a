"""Forms: checkboxes (ticked, unticked, unreadable) and label-value fields.

A checkbox is found from what was read (a glyph of ``lexicons/structure/checkboxes.json``: "[X]",
"☐", and what tesseract makes of them: "IX]", "O", "m") and from what is on the page (a
closed square in the ink, or a square in a PDF's drawing).  Its state comes from both:

* the glyph's reading says ticked or unticked;
* the square's ink says empty, marked or solid (a drawn box: a character inside it);
* when both speak and disagree, or neither can tell, the box is ``unreadable`` and says
  why: a box OCR could not read is flagged, never guessed.

In a column of boxes, a row whose label lines up with the others but whose box reads as
nothing a box becomes (or as nothing at all) is an unreadable box, not a missing option;
in a column of ticks ("✓ Bortezomib" over "   Carfilzomib") a blank is an unticked option.
A field is a label ending in ":" and the words after it on the line.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from common.models import BBox, WordSource
from common.structure import Checkbox, CheckboxGroup, CheckState, FormField, WordSpan
from extractors import cues
from extractors.structure.geometry import PageGeometry, Placed, Square
from extractors.structure.rows import Row, char_width, phrase_gap, phrases, span
from extractors.structure.vocabulary import GlyphReading, StructureLexicon, normalise

_PAIR_GAP_CHARS = 1.2  # "[" and "]" read as two words (or "(" "x" ")" three): at most this far apart
_EMPTY_BOX_GAP_EM = 1.0  # "(" and ")" of an empty box printed wide: at most a text height apart
_LABEL_GAP_EM = 3.0  # a box's label starts within this many text heights of it
_COLUMN_TOLERANCE_CHARS = 1.5  # boxes of one column line up within this
_QUESTION_SPACE_CHARS = 1.0  # wider than a word space (about half a character): two spaces
_WRAP_GAP_LINES = 0.8  # a label's next line stands at most this far below (a cell's line spacing)
_GROUP_GAP_LINES = 2.2  # rows of one group of options are at most this far apart
_QUESTION_GAP_LINES = 2.6  # a question stands at most this far above its first option
_MAX_LABEL_WORDS = 6  # "Number of prior lines of therapy:" is a label; a sentence is not
_BOX_STYLES = frozenset({"bracket", "paren", "underline", "box"})


@dataclass
class Glyph:
    """A checkbox being read: its words (if any), its square (if any), its row."""

    row: Row
    words: list[Placed]
    reading: GlyphReading | None  # None: a square with no glyph words, or an unknown reading
    square: Square | None = None
    remainder: str = ""  # label text glued to the glyph ("[X]OptO" -> "OptO")
    slot: tuple[float, float] | None = None  # where a box that was not read would stand
    state: CheckState = "unreadable"
    why: str = ""
    label: list[Placed] = field(default_factory=list)

    @property
    def x0(self) -> float:
        xs = [w.x0 for w in self.words] + ([self.square.x0] if self.square else [])
        return min(xs) if xs else (self.slot or (0.0, 0.0))[0]

    @property
    def x1(self) -> float:
        if self.remainder and self.words:
            w = self.words[-1]
            share = 1 - len(self.remainder) / max(1, len(w.text))
            return w.x0 + share * w.width
        xs = [w.x1 for w in self.words] + ([self.square.x1] if self.square else [])
        return max(xs) if xs else (self.slot or (0.0, 0.0))[1]

    @property
    def style(self) -> str | None:
        return self.reading.style if self.reading else ("box" if self.square else None)

    @property
    def text(self) -> str | None:
        if not self.words:
            return None
        joined = "".join(w.text for w in self.words)
        return joined[: len(joined) - len(self.remainder)] if self.remainder else joined


# --------------------------------------------------------------------------- glyphs


_UNDERLINE = re.compile(r"_{6,}")


def glyph_key(text: str) -> str:
    """How a reading is compared: spaces removed, a long underline as five underscores, a
    trailing full stop or comma dropped ("___." is "___")."""
    key = _UNDERLINE.sub("_____", "".join(text.split()))
    return key[:-1] if len(key) > 1 and key[-1] in ".," else key


def _reading(text: str, lexicon: StructureLexicon) -> GlyphReading | None:
    return lexicon.glyphs.get(glyph_key(text))


def _ocr(word: Placed) -> bool:
    """Read by OCR.  What OCR makes of a box ("O", "m", "If", a dropped box) is guessed at
    only for OCR words: a text layer's "D" is a letter and a box it lacks was not printed."""
    return word.word.source is WordSource.OCR


def _word_reading(word: Placed, lexicon: StructureLexicon) -> GlyphReading | None:
    reading = _reading(word.text, lexicon)
    if reading is not None and not reading.certain and not _ocr(word):
        return None
    return reading


def _prefix(text: str, lexicon: StructureLexicon) -> tuple[GlyphReading, str] | None:
    """A certain glyph glued to its label: "[X]OptO", "_X_Opti2"."""
    for size in range(min(5, len(text) - 1), 1, -1):
        head, rest = text[:size], text[size:]
        reading = lexicon.glyphs.get(head)
        if reading and reading.certain and not head[-1].isalnum() and rest[:1].isalnum():
            return reading, rest
    return None


def _blank_after_word(words: Sequence[Placed], i: int, lexicon: StructureLexicon) -> bool:
    """An underline right after a word (closer than phrases stand apart) is the blank that
    word asks to be filled; an underline box stands apart, before its label."""
    if i == 0:
        return False
    before = words[i - 1]
    if _reading(before.text, lexicon) is not None:
        return False
    return words[i].x0 - before.x1 <= phrase_gap(words)


def _candidates(row: Row, lexicon: StructureLexicon) -> list[Glyph]:
    out: list[Glyph] = []
    words = row.words
    cw = char_width(words)
    i = 0
    while i < len(words):
        w = words[i]
        # "[" "]" and "(" "x" ")": one box read as two or three words, close together
        joined = None
        for n in (3, 2):
            run = words[i : i + n]
            # an empty box printed wide, "(   )": its two halves with nothing between
            limit = _EMPTY_BOX_GAP_EM * row.height if n == 2 else _PAIR_GAP_CHARS * cw
            tight = all(b.x0 - a.x1 <= max(limit, _PAIR_GAP_CHARS * cw) for a, b in itertools.pairwise(run))
            if len(run) == n and tight and not _reading(w.text, lexicon):
                reading = _reading("".join(x.text for x in run), lexicon)
                if reading and reading.certain:
                    joined = Glyph(row, list(run), reading)
                    break
        if joined is not None:
            out.append(joined)
            i += len(joined.words)
            continue
        reading = _word_reading(w, lexicon)
        if reading and reading.style == "underline" and _blank_after_word(words, i, lexicon):
            reading = None  # "other: ________", "Received ________": a blank to fill, not a box
        if reading:
            out.append(Glyph(row, [w], reading))
        else:
            glued = _prefix(w.text, lexicon)
            if glued:
                out.append(Glyph(row, [w], glued[0], remainder=glued[1]))
        i += 1
    return out


def _overlaps(square: Square, words: Sequence[Placed]) -> bool:
    return any(
        min(square.x1, w.x1) > max(square.x0, w.x0) and min(square.y1, w.y1) > max(square.y0, w.y0)
        for w in words
    )


def _row_of(square: Square, rows: Sequence[Row]) -> Row | None:
    middle = (square.y0 + square.y1) / 2.0
    best = min(rows, key=lambda r: abs(r.middle - middle), default=None)
    if best is None or abs(best.middle - middle) > max(best.height, square.y1 - square.y0):
        return None
    return best


def _attach_squares(
    glyphs: list[Glyph], squares: Sequence[Square], rows: Sequence[Row], lexicon: StructureLexicon
) -> list[Glyph]:
    """Each square joins the glyph read over it, or becomes a glyph of its own."""
    for square in squares:
        over = [g for g in glyphs if g.square is None and _overlaps(square, g.words)]
        if over:
            over[0].square = square
            glyph = over[0]
            wide = max(w.x1 for w in glyph.words) - square.x1 > square.x1 - square.x0
            if not glyph.remainder and wide and not (glyph.reading and glyph.reading.certain):
                # "OO" read over a box and its label "0": the box's word holds the label too
                glyph.remainder = _glued_label(square, glyph.words, glyph.row)
            continue
        row = _row_of(square, rows)
        if row is None:
            continue
        inside = [w for w in row.words if _overlaps(square, [w])]
        if _letters_under(square, inside, lexicon):
            continue  # the "square" is a letter of a word ("H" of "Has the member ...")
        glyphs.append(Glyph(row, inside, None, square=square, remainder=_glued_label(square, inside, row)))
    return glyphs


def _letters_under(square: Square, inside: Sequence[Placed], lexicon: StructureLexicon) -> bool:
    """OCR read letters of a word where the square stands: the square lies inside a word
    (past its first letter), or over the first letters of an ordinary word.  On faxes an
    "H", "TH" or "OF" of a heading closes into a square of ink; a real box OCR reads as a
    glyph ("O", "[]", "|X]"), as nothing, or as one capital glued to its label."""
    for w in inside:
        if not _ocr(w) or not w.text[:1].isalpha():
            continue
        shared = min(square.x1, w.x1) - max(square.x0, w.x0)
        if shared < 0.6 * (square.x1 - square.x0):
            continue  # the box stands beside the word, its edge under the word's first letter
        cw = max(1.0, w.width / max(1, len(w.text)))
        if square.x0 > w.x0 + 0.8 * cw:
            return True  # a square in the middle of a word
        over = max(1, round(len(w.text) * (square.x1 - w.x0) / max(1.0, w.width)))
        head, rest = w.text[:over], w.text[over:]
        if not rest or not head.isalpha() or _reading(head, lexicon) is not None:
            continue
        # "AU" of "AUTHORIZATION", "ca" of "carfilzomib": two letters, or a small one, are a
        # word's.  One capital may be a box OCR took into its label's word ("Inpatient"
        # over a ticked square), so it stays a box; an "H" read as one stays too.
        if len(head) >= 2 or head.islower():
            return True
    return False


def _glued_label(square: Square, inside: Sequence[Placed], row: Row) -> str:
    """The label OCR read into the box's word ("[JO" over a box before "0"): the characters
    of the word right of the box."""
    if not inside:
        return ""
    last = max(inside, key=lambda w: w.x1)
    beyond = last.x1 - square.x1
    if beyond < 0.6 * char_width(row.words) or len(last.text) < 2:
        return ""
    over = max(1, round(len(last.text) * (square.x1 - last.x0) / max(1.0, last.width)))
    rest = last.text[over:]
    return rest if rest[:1].isalnum() else rest.lstrip("|])}")


def _in_context(glyph: Glyph, confirmed: Sequence[Glyph]) -> bool:
    """An uncertain reading ("O", "m", "Y") counts where boxes are: on a row with others, or
    in a column of them."""
    cw = char_width(glyph.row.words)
    for other in confirmed:
        if other is glyph:
            continue
        if other.row is glyph.row:
            return True
        near = abs(other.row.middle - glyph.row.middle) <= 4 * _GROUP_GAP_LINES * glyph.row.height
        if near and abs(other.x0 - glyph.x0) <= _COLUMN_TOLERANCE_CHARS * cw:
            return True
    return False


def _follows_glyph(glyph: Glyph, sure: Sequence[Glyph]) -> bool:
    """The word right after a box is its label: "[ ] 0" is an unticked option "0"."""
    if not glyph.words:
        return False
    start = glyph.words[0].x0
    for g in sure:
        if g.row is not glyph.row or g is glyph or g.x1 > start + 0.5:
            continue
        if start - g.x1 > _LABEL_GAP_EM * glyph.row.height:
            continue
        between = [w for w in glyph.row.words if w not in g.words and g.x1 - 0.5 < w.x0 < start - 0.5]
        if not between:
            return True
    return False


def _confirm(glyphs: list[Glyph]) -> list[Glyph]:
    sure = [g for g in glyphs if g.square is not None or (g.reading is not None and g.reading.certain)]
    maybe = [g for g in glyphs if g not in sure and not _follows_glyph(g, sure)]
    # Grow the sure set: an uncertain reading confirmed by a column may confirm the next.
    changed = True
    while changed:
        changed = False
        for g in list(maybe):
            if _in_context(g, sure) and not _follows_glyph(g, sure):
                sure.append(g)
                maybe.remove(g)
                changed = True
    return sorted(sure, key=lambda g: (g.row.index, g.x0))


# --------------------------------------------------------------------------- states


def _square_state(
    square: Square, words: Sequence[Placed], lexicon: StructureLexicon
) -> tuple[CheckState, str]:
    if square.fill is None:  # a drawn box: the tick is a character inside it
        inside = [w for w in words if _overlaps(square, [w])]
        ticks = [w for w in inside if (r := _reading(w.text, lexicon)) is not None and r.state == "ticked"]
        if ticks:
            return "ticked", f"a drawn box with '{ticks[0].text}' inside"
        if inside:
            return "unreadable", f"a drawn box with '{inside[0].text}' inside"
        return "unticked", "a drawn box, empty"
    limits = lexicon.mark_fill
    if square.fill <= limits.unticked_at_most:
        return "unticked", f"the box on the page is empty (ink {square.fill:.2f})"
    if square.fill >= limits.ticked_at_least:
        return "ticked", f"the box on the page is marked (ink {square.fill:.2f})"
    return "unreadable", f"the box's ink ({square.fill:.2f}) is neither empty nor marked"


def _decide(glyph: Glyph, lexicon: StructureLexicon) -> None:
    read: CheckState | None = glyph.reading.state if glyph.reading else None
    said = f"read '{glyph.text}'" if glyph.text else ""
    if glyph.square is None:
        if read is None:
            glyph.state, glyph.why = "unreadable", f"{said}: not a checkbox glyph"
        else:
            glyph.state, glyph.why = read, f"{said} ({read})"
        return
    ink, why = _square_state(glyph.square, glyph.row.words, lexicon)
    if glyph.square.fill is None and glyph.reading is None:
        glyph.state, glyph.why = ink, why
    elif read is None or ink == read:
        glyph.state, glyph.why = ink, (f"{why}; {said}" if said else why)
    elif ink == "unreadable":
        glyph.state, glyph.why = "unreadable", f"{said} ({read}), but {why}"
    else:
        glyph.state, glyph.why = "unreadable", f"{said} ({read}), but {why}: they disagree"


# --------------------------------------------------------------------------- labels


def _labels(glyphs: list[Glyph], used: set[int]) -> None:
    """Each glyph's label: the words after it, up to the next glyph or a column gap."""
    by_row: dict[int, list[Glyph]] = {}
    for g in glyphs:
        by_row.setdefault(g.row.index, []).append(g)
    for row_glyphs in by_row.values():
        row_glyphs.sort(key=lambda g: g.x0)
        row = row_glyphs[0].row
        gap = max(phrase_gap(row.words), _LABEL_GAP_EM * row.height)
        for k, g in enumerate(row_glyphs):
            stop = row_glyphs[k + 1].x0 if k + 1 < len(row_glyphs) else float("inf")
            # a label glued to the glyph ("____None received") has begun: the rest follows close
            glued = bool(g.remainder and g.words)
            last = g.words[-1].x1 if glued else g.x1
            label: list[Placed] = []
            for w in row.words:
                if w.index in used or w in g.words or w.x0 < g.x1 - 0.5 or w.cx >= stop:
                    continue
                if w.x0 - last > (gap if not (label or glued) else phrase_gap(row.words) * 1.5):
                    break
                label.append(w)
                last = w.x1
            if label and label[-1].text.endswith((":", "?")) and k + 1 < len(row_glyphs):
                label = _before_question(g, label, row)
            g.label = label


def _before_question(glyph: Glyph, label: list[Placed], row: Row) -> list[Placed]:
    """A label running into a question ("☒ No   CNS involvement: ☐ Yes"): the question asks
    the boxes after it, so the option ends at the widest space before it, when that is wider
    than a word space; widest right after the box, the box has no option of its own ("[X]"
    whose "No" the page lost, then "Active CNS disease: [ ] Yes").  With no such space the
    two cannot be told apart and stay together."""
    gaps = [(label[0].x0 - glyph.x1, 0)]
    gaps += [(b.x0 - a.x1, k + 1) for k, (a, b) in enumerate(itertools.pairwise(label))]
    width, cut = max(gaps)
    if width <= _QUESTION_SPACE_CHARS * char_width(row.words):
        return label
    return label[:cut]


def _right_limit(row: Row, after: float, geometry: PageGeometry, page_right: float) -> float:
    """Where a line of this row must break: the nearest vertical rule right of ``after``
    that crosses the row (a cell's border), else the page's right text margin."""
    rules = [
        ln.x0
        for ln in geometry.lines
        if not ln.horizontal and ln.x0 > after and ln.y0 - 1.0 <= row.middle <= ln.y1 + 1.0
    ]
    return min(rules, default=page_right)


def _wrapped_labels(glyphs: list[Glyph], rows: Sequence[Row], geometry: PageGeometry, used: set[int]) -> None:
    """The last option of a row whose label ran past the cell's edge goes on at the start
    of the options on the next line ("☒ lenalidomide ☐ pomalidomide ☐" over "thalidomide";
    "✓ Anti-" over "CD38"): the next line's first word there would not have fit after it."""
    by_row: dict[int, list[Glyph]] = {}
    for g in glyphs:
        by_row.setdefault(g.row.index, []).append(g)
    page_right = max((w.x1 for r in rows for w in r.words), default=0.0)
    taken = used | {w.index for g in glyphs for w in g.label}
    for index, row_glyphs in by_row.items():
        row_glyphs.sort(key=lambda g: g.x0)
        last, start = row_glyphs[-1], row_glyphs[0].x0
        row = last.row
        if index + 1 >= len(rows):
            continue
        below = rows[index + 1]  # rows are indexed top to bottom
        if below.top - row.bottom > _WRAP_GAP_LINES * row.height or any(g.row is below for g in glyphs):
            continue
        cw = char_width(row.words)
        reach = _COLUMN_TOLERANCE_CHARS * cw
        free = [w for w in below.words if w.index not in taken and w.x0 >= start - reach]
        if not free or abs(free[0].x0 - start) > reach:
            continue
        end = max([w.x1 for w in last.label] or [last.x1])
        limit = _right_limit(row, end, geometry, page_right)
        if any(end + 0.5 < w.x0 < limit for w in row.words):
            continue  # the line goes on after the option (in its cell): no wrap
        if end + 0.5 * cw + free[0].width <= limit + 1.0:
            continue  # the next line's first word would have fit: no wrap
        more = _until_gap(free, below)
        last.label = [*last.label, *more]
        taken |= {w.index for w in more}


def _label_before(glyphs: list[Glyph], used: set[int]) -> None:
    """A box with nothing after it, right after a label ending in ":" ("PA required: ✓"):
    the label is its option."""
    taken = used | {w.index for g in glyphs for w in g.label}
    for g in glyphs:
        if g.label or g.remainder or not g.words:
            continue
        row = g.row
        before = [w for w in row.words if w.x1 <= g.x0 + 0.5 and w.index not in taken]
        if not before or not before[-1].text.endswith(":"):
            continue
        if g.x0 - before[-1].x1 > _LABEL_GAP_EM * row.height:
            continue
        gap = phrase_gap(row.words)
        run = [before[-1]]
        for w in reversed(before[:-1]):
            if run[0].x0 - w.x1 > gap:
                break
            run.insert(0, w)
        if any(g2.row is row and g2 is not g and run[0].x0 < g2.x0 < g.x0 for g2 in glyphs):
            continue
        if len(run) <= _MAX_LABEL_WORDS:
            g.label = run
            taken |= {w.index for w in run}


_COLUMN_GULF = 2.0  # times twice a phrase gap: the space between a form's two columns
_HEAD_REACH_LINES = 40  # a grid's header of choices stands at most this many lines above a box


def _choice(text: str) -> bool:
    """A column header's plain answer (cues.json "grid_choice")."""
    return cues.pattern("grid_choice").fullmatch(text.strip(" :.|")) is not None


def _column_heads(glyphs: list[Glyph], rows: Sequence[Row]) -> None:
    """A grid of boxes under a header of choices ("Item  Yes  No" over "9. Active or prior CNS
    involvement  ☐ ☒"): boxes with no words of their own take, in order, the choices printed
    above their columns, from the nearest row above that prints two choices or more.  A
    header cell is wider than its box, so the columns are matched by order, and only when
    the row holds as many such boxes under the header as it prints choices."""
    bare: dict[int, list[Glyph]] = {}
    for g in glyphs:
        if not (g.label or g.remainder):
            bare.setdefault(g.row.index, []).append(g)
    for index, row_glyphs in bare.items():
        row = row_glyphs[0].row
        cw = char_width(row.words)
        for above in reversed(rows[:index]):  # rows are indexed top to bottom
            if row.top - above.bottom > _HEAD_REACH_LINES * row.height:
                break
            heads = sorted((w for w in above.words if _choice(w.text)), key=lambda w: w.x0)
            if len(heads) < 2:
                continue
            # a box may stand anywhere in its header's column: up to half the columns' pitch
            pitch = (heads[-1].cx - heads[0].cx) / (len(heads) - 1)
            reach = max(2 * _COLUMN_TOLERANCE_CHARS * cw, pitch / 2)
            under = sorted(
                (g for g in row_glyphs if heads[0].x0 - reach <= g.x0 and g.x1 <= heads[-1].x1 + reach),
                key=lambda g: g.x0,
            )
            if len(under) == len(heads):
                for g, head in zip(under, heads, strict=True):
                    g.label = [head]
            break


def _glyph_words(glyphs: Sequence[Glyph]) -> set[int]:
    return {w.index for g in glyphs for w in g.words}


# --------------------------------------------------------------------------- missing boxes


@dataclass
class _Column:
    glyphs: list[Glyph]

    @property
    def x0(self) -> float:
        return min(g.x0 for g in self.glyphs)

    @property
    def label_x(self) -> float | None:
        xs = [g.label[0].x0 for g in self.glyphs if g.label and not g.remainder]
        return sorted(xs)[len(xs) // 2] if xs else None


def _columns(glyphs: Sequence[Glyph]) -> list[_Column]:
    columns: list[_Column] = []
    for g in sorted(glyphs, key=lambda g: (g.row.index, g.x0)):
        cw = char_width(g.row.words)
        for col in columns:
            last = col.glyphs[-1]
            if (
                abs(col.x0 - g.x0) <= _COLUMN_TOLERANCE_CHARS * cw
                and g.row.index > last.row.index
                and g.row.top - last.row.bottom <= _GROUP_GAP_LINES * 2 * g.row.height
            ):
                col.glyphs.append(g)
                break
        else:
            columns.append(_Column([g]))
    return columns


def _missing(
    glyphs: list[Glyph], rows: Sequence[Row], used: set[int], lexicon: StructureLexicon
) -> list[Glyph]:
    """Rows inside a column of options whose label lines up but whose box was not read."""
    found: list[Glyph] = []
    for col in _columns(glyphs):
        label_x = col.label_x
        if label_x is None or len(col.glyphs) < 2:
            continue
        first, last = col.glyphs[0].row.index, col.glyphs[-1].row.index
        styles = {g.style for g in col.glyphs}
        pitch = (col.glyphs[-1].row.middle - col.glyphs[0].row.middle) / max(1, len(col.glyphs) - 1)
        span_rows = [r for r in rows if first < r.index < last]
        after = [r for r in rows if r.index > last][:1]
        if after and abs(after[0].middle - col.glyphs[-1].row.middle - pitch) <= 0.25 * pitch:
            span_rows += after
        before_rows = [r for r in rows if r.index < first][-1:]
        if before_rows and abs(col.glyphs[0].row.middle - before_rows[0].middle - pitch) <= 0.25 * pitch:
            span_rows += before_rows
        have = {g.row.index for g in col.glyphs}
        for row in span_rows:
            if row.index in have or any(g.row is row for g in glyphs):
                continue
            cw = char_width(row.words)
            free = [w for w in row.words if w.index not in used]
            label = [w for w in free if abs(w.x0 - label_x) <= _COLUMN_TOLERANCE_CHARS * cw]
            if not label or label[0].text.rstrip().endswith((":", "?")):
                continue
            start = label[0]
            before = [w for w in free if w.x1 <= start.x0 + 0.5 and w.x0 >= col.x0 - cw]
            words_after = [w for w in free if w.x0 >= start.x0]
            stub = Glyph(row, before, None, slot=(col.x0, start.x0 - 0.5))
            stub.label = _until_gap(words_after, row)
            if styles <= {"check"} and not before:
                stub.state, stub.why = "unticked", "no tick beside an option of a column of ticks"
            elif not _ocr(start):
                continue  # a text layer prints every box it has: none here
            elif before:
                text = "".join(w.text for w in before)
                stub.state, stub.why = "unreadable", f"the box reads '{text}', not a checkbox glyph"
            else:
                stub.state, stub.why = "unreadable", "no box was read where the column of boxes has one"
            found.append(stub)
    return found


_STUB_MAX_CHARS = 3  # what a box becomes when OCR cannot read it: "“", "LO", "(1"
_STUB_LABEL_WORDS = 4


def _row_missing(glyphs: list[Glyph], used: set[int]) -> list[Glyph]:
    """On a row of options, a short unread token before a short label, where the next box
    would stand ("[ ] Yes  “ No"), is an option whose box OCR could not read."""
    found: list[Glyph] = []
    rows: dict[int, list[Glyph]] = {}
    for g in glyphs:
        rows.setdefault(g.row.index, []).append(g)
    for row_glyphs in rows.values():
        row = row_glyphs[0].row
        words = row.words
        gap = phrase_gap(words)
        # the question is the row's first run of words; an option may stand before the first box read
        first_run_end = 0
        while first_run_end + 1 < len(words) and words[first_run_end + 1].x0 - words[first_run_end].x1 <= gap:
            first_run_end += 1
        k = first_run_end + 1 if words and words[0].index not in used else 0
        while k < len(words):
            head = words[k]
            if (
                head.index in used
                or not _ocr(head)
                or len(head.text) > _STUB_MAX_CHARS
                or (head.text.isalpha() and head.text.islower())
            ):
                k += 1
                continue
            label: list[Placed] = []
            j, last = k + 1, head.x1
            while j < len(words) and words[j].index not in used and len(label) <= _STUB_LABEL_WORDS:
                limit = _LABEL_GAP_EM * row.height if not label else 1.5 * gap
                if words[j].x0 - last > limit:
                    break
                label.append(words[j])
                last = words[j].x1
                j += 1
            if not label or len(label) > _STUB_LABEL_WORDS or label[-1].text.endswith((":", "?")):
                k += 1
                continue  # "or", "if": words of a sentence, not a box
            stub = Glyph(row, [head], None)
            stub.label = label
            stub.state, stub.why = "unreadable", f"the box reads '{head.text}', not a checkbox glyph"
            found.append(stub)
            k = j
    return found


def _until_gap(words: Sequence[Placed], row: Row) -> list[Placed]:
    out: list[Placed] = []
    gap = phrase_gap(row.words) * 1.5
    for w in words:
        if out and w.x0 - out[-1].x1 > gap:
            break
        out.append(w)
    return out


# --------------------------------------------------------------------------- questions


def _question(group: list[Glyph], rows: Sequence[Row], used: set[int]) -> list[Placed]:
    first = min(group, key=lambda g: (g.row.index, g.x0))
    asked = _question_on_row(first, rows, used)
    return asked + _bracket_continued(asked, first, rows, used) if asked else asked


def _bracket_continued(
    asked: list[Placed], first: Glyph, rows: Sequence[Row], used: set[int]
) -> list[Placed]:
    """A question whose bracket stays open runs on in its column on the next line ("10. Prior
    anti-BCMA therapy (belantamab," over "teclistamab, elranatamab, BCMA CAR-T, other)"): its
    examples are asked too, up to the closing bracket."""
    text = " ".join(w.text for w in asked)
    if text.count("(") <= text.count(")") or first.row.index + 1 >= len(rows):
        return []
    below = rows[first.row.index + 1]
    if below.top - first.row.bottom > _WRAP_GAP_LINES * first.row.height:
        return []
    cw = char_width(first.row.words)
    more: list[Placed] = []
    for w in below.words:
        if w.index in used or w.x0 < asked[0].x0 - 2 * cw or w.x1 > first.x0 + 0.5:
            continue
        more.append(w)
        if ")" in w.text:
            return more
    return []


def _question_on_row(first: Glyph, rows: Sequence[Row], used: set[int]) -> list[Placed]:
    """The question's words on its own row, or on the row above."""
    # the question stands after the options left of it on the row (a form's other column:
    # "1. Disease status: ☒ Relapsed   2. Number of prior lines: ☐ 1 ☒ 4 or more")
    taken = [
        w.x1 for w in first.row.words if w.index in used and w.x1 <= first.x0 + 0.5 and w not in first.words
    ]
    limit = max(taken, default=float("-inf"))
    before = [w for w in first.row.words if limit <= w.x0 and w.x1 <= first.x0 + 0.5 and w.index not in used]
    if before:
        # "7. Prior CAR-T therapy of any kind?   8. ECOG: ☐ 0 ☒ 1": the question is the
        # phrase nearest the boxes; one a column away asks of the options under it
        gap = 2 * phrase_gap(first.row.words)
        asks = (":", "?")
        cut = [
            k
            for k in range(1, len(before))
            if before[k].x0 - before[k - 1].x1 > gap and before[k - 1].text.endswith(asks)
        ]
        # two questions, the nearer one a label or a question too (not a lone "Yes")
        if cut and before[-1].text.endswith(asks):
            return before[cut[-1] :]
        # a form's other column before it ("Phone: (501) 555-0917      2. Member is 18 years
        # of age or older ☒ ☐"): the question starts after the gulf between the columns
        gulf = [k for k in range(1, len(before)) if before[k].x0 - before[k - 1].x1 > _COLUMN_GULF * gap]
        if gulf:
            return before[gulf[-1] :]
        return before
    row = _row_above(first, rows)
    if row is None:
        return []
    words = [w for w in row.words if w.index not in used]
    if not words or words[0].x0 > first.x0 + 2 * char_width(row.words):
        return []
    runs = _runs(row, used)
    if len(runs) > 1:
        # questions side by side: the one whose words start over the group's first option
        over = [r for r in runs if r[0].x0 <= first.x0 + 2 * char_width(row.words)]
        return over[-1] if over else words
    return words


def _groups(glyphs: list[Glyph], rows: Sequence[Row], used: set[int]) -> list[list[Glyph]]:
    """Options that answer one question: a row of options with its question before them,
    or consecutive rows of options under a question line."""
    ordered = sorted(glyphs, key=lambda g: (g.row.index, g.x0))
    groups: list[list[Glyph]] = []
    for g in ordered:
        if groups:
            group = groups[_column_group(g, groups)]
            last = group[-1]
            same_row = last.row is g.row
            inline_question = any(
                w.x1 <= g.x0 + 0.5 and w.index not in used for w in g.row.words if w not in g.words
            ) and not any(o.row is g.row for o in group)
            follows = (
                g.row.index > last.row.index
                and g.row.top - last.row.bottom <= _GROUP_GAP_LINES * g.row.height
                and not inline_question
                and not _has_question_before(g, used)
                and not _asked_between(last, g, rows, used)
            )
            # "Active infection: ☐ Yes ☒ No   CNS involvement: ☐ Yes ☒ No": a question between
            # options of one row starts the next group
            asked = same_row and any(
                last.x1 - 0.5 < w.x0 and w.x1 <= g.x0 + 0.5 and w.index not in used
                for w in g.row.words
                if w not in g.words
            )
            if same_row and not asked:
                asked = _column_break(last, g, rows, used)
            if (same_row and not asked) or follows:
                group.append(g)
                continue
        groups.append([g])
    return groups


def _runs(row: Row, used: set[int]) -> list[list[Placed]]:
    """The row's free words cut where a form's column starts: a gap of two phrase gaps."""
    runs = phrases(row, gap=2 * phrase_gap(row.words))
    return [kept for run in runs if (kept := [w for w in run if w.index not in used])]


def _row_above(g: Glyph, rows: Sequence[Row]) -> Row | None:
    above = [r for r in rows if r.index < g.row.index][-1:]
    if not above or g.row.top - above[0].bottom > _QUESTION_GAP_LINES * g.row.height:
        return None
    return above[0]


def _asked_between(last: Glyph, g: Glyph, rows: Sequence[Row], used: set[int]) -> bool:
    """A line of words over the glyph's column between its row and the group's last row
    ("3. Prior therapy includes (check):" under the options of "1. Disease status:"): a
    question of its own, whose options these are."""
    tolerance = _COLUMN_TOLERANCE_CHARS * char_width(g.row.words)
    between = [r for r in rows if last.row.index < r.index < g.row.index]
    return any(abs(run[0].x0 - g.x0) <= tolerance for r in between for run in _runs(r, used))


def _column_break(last: Glyph, g: Glyph, rows: Sequence[Row], used: set[int]) -> bool:
    """Two options of one row under two questions side by side ("1. Disease status:
    2. Number of prior lines:" above "[x] Relapsed [ ] Newly diagnosed [ ] 1 [x] 4 or
    more"): a question of the row above starts between them, so they answer two."""
    above = _row_above(g, rows)
    if above is None:
        return False
    tolerance = _COLUMN_TOLERANCE_CHARS * char_width(g.row.words)
    return any(last.x1 < run[0].x0 <= g.x0 + tolerance for run in _runs(above, used)[1:])


def _column_group(g: Glyph, groups: list[list[Glyph]]) -> int:
    """The group a glyph on a new row may continue: on a form of two columns, two groups
    end on the rows just above, and the glyph continues the one in its own column (the
    nearest whose last row's options start at or left of it), not the last one read."""
    last = groups[-1][-1]
    if last.row is g.row:
        return -1
    reach = _GROUP_GAP_LINES * 2 * g.row.height
    open_groups = [
        n
        for n, grp in enumerate(groups)
        if grp[-1].row.index < g.row.index and g.row.top - grp[-1].row.bottom <= reach
    ]
    if len(open_groups) < 2:
        return -1
    tolerance = _COLUMN_TOLERANCE_CHARS * char_width(g.row.words)
    starts = {n: min(o.x0 for o in groups[n] if o.row is groups[n][-1].row) for n in open_groups}
    left = [n for n in open_groups if starts[n] <= g.x0 + tolerance]
    if not left:
        return min(open_groups, key=lambda n: starts[n])
    # the nearest column at or left of the glyph; in it, the group that ended last
    column = max(starts[n] for n in left)
    return max((n for n in left if starts[n] >= column - tolerance), key=lambda n: groups[n][-1].row.index)


def _has_question_before(g: Glyph, used: set[int]) -> bool:
    row_glyphs_x = g.x0
    return any(w.x1 <= row_glyphs_x + 0.5 and w.index not in used for w in g.row.words if w not in g.words)


# --------------------------------------------------------------------------- page


@dataclass(frozen=True)
class PageForms:
    checkboxes: tuple[CheckboxGroup, ...]
    fields: tuple[FormField, ...]
    used: frozenset[int]  # word indices taken by checkboxes


def _glyph_bbox(g: Glyph, page: int) -> BBox:
    if g.square is not None:
        return g.square.bbox
    if g.words:
        box = BBox.union([w.word.bbox for w in g.words])
        if box is not None:
            return box
    label_box = BBox.union([w.word.bbox for w in g.label])
    if label_box is None:
        return BBox(x0=0, y0=0, x1=0, y1=0)
    # no box read: the place a box would stand, just left of the label
    width = min(label_box.x0, max(0.005, (label_box.y1 - label_box.y0)))
    return BBox(x0=max(0.0, label_box.x0 - 1.6 * width), y0=label_box.y0, x1=label_box.x0, y1=label_box.y1)


def _option_span(g: Glyph, page: int) -> WordSpan | None:
    words = list(g.label)
    if g.remainder and g.words:
        glued = g.words[-1]
        base = span(page, [glued, *words])
        return base.model_copy(update={"text": " ".join([g.remainder, *(w.text for w in words)])})
    return span(page, words) if words else None


def read_forms(geometry: PageGeometry, rows: Sequence[Row], lexicon: StructureLexicon) -> PageForms:
    page = geometry.page.number
    glyphs: list[Glyph] = []
    for row in rows:
        glyphs.extend(_candidates(row, lexicon))
    glyphs = _attach_squares(glyphs, geometry.squares, rows, lexicon)
    glyphs = _confirm(glyphs)
    used = _glyph_words(glyphs)
    _labels(glyphs, used)
    _wrapped_labels(glyphs, rows, geometry, used)
    _label_before(glyphs, used)
    _column_heads(glyphs, rows)
    # a printed box with no option (its label lost off the page) is no option, and never
    # the text of a question or a field either ("[X] Active CNS disease")
    unlabelled = [
        g
        for g in glyphs
        if not (g.label or g.remainder)
        and g.reading is not None
        and g.reading.certain
        and g.style != "underline"
    ]
    glyphs = [g for g in glyphs if g.label or g.remainder]
    for g in glyphs:
        _decide(g, lexicon)
    used = _glyph_words([*glyphs, *unlabelled]) | {w.index for g in glyphs for w in g.label}
    extra = _missing(glyphs, rows, used, lexicon)
    glyphs += extra
    used |= _glyph_words(extra) | {w.index for g in extra for w in g.label}
    inline = _row_missing(glyphs, used)
    glyphs += inline
    used |= _glyph_words(inline) | {w.index for g in inline for w in g.label}

    groups: list[CheckboxGroup] = []
    for group in _groups(glyphs, rows, used):
        question = _question(group, rows, used)
        used |= {w.index for w in question}
        options = []
        for g in sorted(group, key=lambda g: (g.row.index, g.x0)):
            option = _option_span(g, page)
            if option is None:
                continue
            options.append(
                Checkbox(
                    page=page,
                    option=option,
                    state=g.state,
                    glyph_bbox=_glyph_bbox(g, page),
                    glyph_text=g.text,
                    fill=g.square.fill if g.square else None,
                    why=g.why,
                )
            )
        if options:
            groups.append(
                CheckboxGroup(
                    page=page,
                    question=_strip_span(span(page, question)) if question else None,
                    options=tuple(options),
                )
            )
    fields = _fields(geometry, rows, used, lexicon)
    return PageForms(checkboxes=tuple(groups), fields=tuple(fields), used=frozenset(used))


def _strip_span(s: WordSpan) -> WordSpan:
    return s.model_copy(update={"text": s.text.rstrip(" :?")}) if s.text.rstrip().endswith((":", "?")) else s


# --------------------------------------------------------------------------- fields


def _label_start(words: Sequence[Placed], colon: int, floor: int, lexicon: StructureLexicon) -> int:
    """Where a label after another field's value begins: a known label's first word
    ("Date of birth:"), else the word with the colon."""
    for n in range(min(5, colon - floor + 1), 0, -1):
        start = colon - n + 1
        toks = [t for w in words[start : colon + 1] for t in normalise(w.text).split()]
        if toks and lexicon.identity.whole(toks):
            return start
    # an unknown label after a value: its last word ("Time: 10:15" after a date)
    return max(floor, colon - 1 if words[colon].text == ":" else colon)


def _fields(
    geometry: PageGeometry, rows: Sequence[Row], used: set[int], lexicon: StructureLexicon
) -> list[FormField]:
    page = geometry.page.number
    out: list[FormField] = []
    for row in rows:
        runs: list[list[Placed]] = [[]]
        gap = phrase_gap(row.words)
        for w in row.words:
            if runs[-1] and w.x0 - runs[-1][-1].x1 > gap:
                runs.append([])
            runs[-1].append(w)
        for run in runs:
            out.extend(_run_fields(run, page, used, lexicon))
    return out


def _is_label_end(word: Placed) -> bool:
    text = word.text
    # "10:15" and "http://" are not labels; "DOB:" and a lone ":" after a label are
    return text.endswith(":") and not text[:-1].rstrip(":").isdigit()


def _run_fields(run: list[Placed], page: int, used: set[int], lexicon: StructureLexicon) -> list[FormField]:
    colons = [i for i, w in enumerate(run) if _is_label_end(w)]
    if not colons:
        return []
    out: list[FormField] = []
    starts: list[int] = []
    floor = 0
    for c in colons:
        start = _label_start(run, c, floor, lexicon) if starts else 0
        if c - start + 1 > _MAX_LABEL_WORDS:
            break  # a sentence with a colon in it, not a label
        starts.append(start)
        floor = c + 1
    for k, start in enumerate(starts):
        colon = colons[k]
        end = starts[k + 1] if k + 1 < len(starts) else len(run)
        label_words = run[start : colon + 1]
        if all(w.index in used for w in label_words):
            continue  # a checkbox group's question
        value_words = [w for w in run[colon + 1 : end] if w.index not in used]
        label = span(page, label_words)
        label = label.model_copy(update={"text": label.text.rstrip(":").rstrip()})
        if not normalise(label.text):
            continue
        toks = normalise(label.text).split()
        key = lexicon.identity.whole(toks)
        out.append(
            FormField(page=page, label=label, value=span(page, value_words) if value_words else None, key=key)
        )
    return out
