"""The document's own numbering of its lines: "Line 2:", "2nd line", "LOT 3", "2L", a
table's line column, a numbered list under a title that speaks of lines.

Honoured when it covers the history; "4L+" labels the line being entered, not a line
given.  An author's numbers for the phases of one plan ("Line 1: induction / Line 2:
ASCT / Line 3: maintenance") are folded by the IMWG rules into one line.
"""

from __future__ import annotations

import re

from extractors import cues, imwg
from extractors.dates import sort_key
from extractors.events import Event, Holder, distribute, merge_repeats, same_regimen
from extractors.pagetext import PageText
from extractors.therapies import TherapyMention


def _explicit_patterns() -> list[re.Pattern[str]]:
    word = cues.fragment("line_word")
    ordinal = "|".join(sorted(_ordinals(), key=len, reverse=True))
    return [
        re.compile(rf"(?i)\b{word}\s*(?:#|no\.?)?\s*(\d{{1,2}})\b(?!\s*(?:{cues.fragment('prior')}|lines))"),
        re.compile(r"(?i)\b(\d{1,2})(?:st|nd|rd|th)[\s-]+line\b"),
        # not "1L NS", nor "4L+" (the line being entered: "4th line and beyond")
        re.compile(rf"\b([1-9])L\b(?!\s*(?:{cues.fragment('not_after_line_letter')})\b|\s*\+)"),
        re.compile(r"^\s*L([1-9Iil|])\s*[:.)-]"),  # "L1:", or "Li:" as fax OCR reads it
        re.compile(rf"(?i)\b({ordinal})[\s-]+line\b"),
    ]


def _ordinals() -> list[str]:
    from extractors.lexicon import load_lexicon

    return list(load_lexicon().numbers.ordinals)


_PATTERNS: list[re.Pattern[str]] = []


def explicit_number(line: str) -> int | None:
    if not _PATTERNS:
        _PATTERNS.extend(_explicit_patterns())
    for pattern in _PATTERNS:
        match = pattern.search(line)
        if match:
            value = match.group(1)
            if value in {"I", "i", "l", "|"}:
                value = "1"
            number = int(value) if value.isdigit() else cues.ordinal(value)
            if number and 1 <= number <= 20:
                return number
    return None


_SENTENCE_BREAK = re.compile(r"(?<=[a-z0-9)\]%])\.\s+(?=[A-Z])")


def explicit_for_offset(line: str, position: int) -> int | None:
    """The line number the text gives the item at ``position``: "Her first line was D-VRd
    ..." numbers that sentence, not "At progression she received KPd" after it on the same
    wrapped paragraph."""
    number = explicit_number(line)
    if number is None:
        return None
    position = max(position, 0)
    breaks = list(_SENTENCE_BREAK.finditer(line))
    start = max((m.end() for m in breaks if m.end() <= position), default=0)
    end = min((m.start() for m in breaks if m.start() >= position), default=len(line))
    return explicit_number(line[start:end]) if (start, end) != (0, len(line)) else number


class NumberReader:
    """Reads the line number the document gives each item: written on its line, or by a
    numbered list under a lines title."""

    def __init__(self, text: PageText) -> None:
        self.text = text
        self.listed = numbered_list_lines(text)

    def __call__(self, item: TherapyMention, line: str) -> int | None:
        offset = item.offset - self.text.logical_spans()[item.line_no][0]
        return explicit_for_offset(line, offset) or self.listed.get(item.line_no)


# "1." or "1)" or "1:"; "1," before a capital is the full stop as fax OCR reads it
_LIST_ITEM = re.compile(r"^\s*(?:\|\s*)?(\d{1,2})\s*(?:[.)|:\t]|,(?=\s*[A-Z])|\s{2,})")
_FIRST_LIST_NUMBER_MAX = 3
_TABLE_ROW = re.compile(r"^\s*\|?\s*(\d{1,2})(?:\s*\||\t|\s+(?![/.-]?\d{1,2}/)(?=\S))")


def _table_header() -> re.Pattern[str]:
    """A table whose first column is the line number: "Line | Regimen | Dates"."""
    return re.compile(
        rf"(?i)^\|?\s*(?:{cues.fragment('line_word')}|#|no\.?)\s*(?:\||\t|\s{{1,}})\s*"
        rf"{cues.fragment('regimen_column')}\b"
    )


def numbered_list_lines(text: PageText) -> dict[int, int]:
    """Numbered list items count as line numbers only under a title that speaks of lines/regimens.

    A number that jumps ahead of the sequence ("1", "7", "2" in a table whose second row
    has a ditto mark or an arrow in its line cell, as fax OCR reads it) is not a line
    number: the row is left unnumbered, for the line rules to place.  Trusting it would
    add a line, and an extra line can turn "fewer than two prior lines" into "met".
    """
    found: dict[int, int] = {}
    active = False
    table_line_column = False
    last: int | None = None  # the list's last number
    header = _table_header()
    title = cues.pattern("lines_title")
    for line_no in range(len(text.logical_spans())):
        line = text.logical_text(line_no)
        stripped = line.strip()
        if not stripped:
            continue
        match = _TABLE_ROW.match(line) if table_line_column else _LIST_ITEM.match(line)
        if match and (active or table_line_column):
            number = int(match.group(1))
            # A bare number opens a list at 1 to 3 (a history may start with the lines
            # the letter cares about); past that it is a stray mark read as a digit.
            if number <= (last + 1 if last is not None else _FIRST_LIST_NUMBER_MAX):
                found[line_no] = number
                last = max(number, last or 0)
            continue
        last = None if not (active or table_line_column) else last
        if stripped.endswith(":") or stripped.isupper() or _short_heading(stripped, title):
            active = bool(title.search(stripped))
        if header.match(stripped):
            table_line_column, last = True, None  # a new table numbers from its own start
        elif stripped.endswith(":"):
            table_line_column = False
    return found


_HEADING_MAX_WORDS = 12


def _short_heading(line: str, title: re.Pattern[str]) -> bool:
    """A heading written without a colon: "E. Prior therapies (regimen - start - end)" - a
    short line that names a lines title and no date."""
    return (
        len(line.split()) <= _HEADING_MAX_WORDS
        and bool(title.search(line))
        and not re.search(r"\d{2,4}\b", line)
    )


def numbering_covers(events: list[Event]) -> bool:
    """Follow the text's numbering only if every regimen named before the first number is
    repeated under a number (a summary); otherwise the numbering is partial - count by rules."""
    if not any(e.explicit for e in events):
        return False
    first = next(i for i, e in enumerate(events) if e.explicit)
    numbered = set().union(*(e.core for e in events[first:]))
    return all(e.core <= numbered for e in events[:first])


_EMPTY_FIRST_CELL = re.compile(r"^\s*\|\s*\|")


def _wrapped_cell(event: Event) -> bool:
    """A table row with an empty line cell and no dates continues the regimen cell above."""
    return bool(_EMPTY_FIRST_CELL.match(event.text)) and not event.start and not event.end


def _phase_of_plan(current: list[Event], event: Event) -> bool:
    """A numbered "line" that is only a transplant, or only consolidation or maintenance,
    continuing the line before it by the plan rules."""
    # its conditioning ("Mel200 / autologous SCT") rides along with the transplant
    transplants = {i.ingredient for i in event.items if i.therapy_class == "stem_cell_transplant"}
    only_transplant = bool(transplants) and event.core <= transplants
    return (only_transplant or imwg.only_later_phase(event)) and imwg.split_reason(current, event) is None


def _placed_twin(by_number: dict[int, list[Event]], event: Event) -> int | None:
    """The line already holding this event: the same regimen, or its drugs given in that
    line's time span (maintenance told again, dated within the line)."""
    for number, group in by_number.items():
        if any(same_regimen(e, event) for e in group):
            return number
    if not event.start or not event.core:
        return None
    for number, group in by_number.items():
        starts = [e.start for e in group if e.start]
        ends = [e.end for e in group if e.end]
        if not starts or not ends or not event.core <= imwg.core(group):
            continue
        if sort_key(min(starts, key=sort_key)) <= sort_key(event.start) <= sort_key(max(ends, key=sort_key)):
            return number
    return None


def _holders(by_number: dict[int, list[Event]]) -> list[Holder]:
    """Each numbered line, in order: the drugs it holds and where its re-mentions go."""
    return [
        (imwg.core(g) | {i.ingredient for e in g for i in e.items}, g[0].mentions)
        for _, g in sorted(by_number.items())
    ]


def numbered_groups(events: list[Event]) -> tuple[list[list[Event]], list[int], list[int]]:
    """The text numbers its lines: follow it.  An unnumbered event after a numbered one
    (a table's transplant or maintenance row) belongs to that line when the plan rules say
    so, to the line that already holds its drugs when it repeats them, else to a new line.

    Returns the groups, their numbers, and for each how many of the text's own numbers it
    folded in as phases of it (a count written beside such a table counts them too)."""
    by_number: dict[int, list[Event]] = {}
    folded: dict[int, int] = {}
    current: int | None = None
    absorbed: set[int] = set()  # the text's numbers of "lines" that are one phase of the line before
    written: int | None = None  # the text's number of the current line
    before: list[Event] = []  # narrative before the numbered history
    for event in events:
        explicit = event.explicit
        if (
            explicit is not None
            and explicit != written
            and current is not None
            and (explicit in absorbed or _phase_of_plan(by_number[current], event))
        ):
            # "Line 1: Dara-VRd induction / Line 2: ASCT / Line 3: Dara-R maintenance" is one
            # line under IMWG (induction, transplant and maintenance given as one plan);
            # counting the author's numbers would add two.
            if explicit not in absorbed:
                folded[current] = folded.get(current, 0) + 1
            absorbed.add(explicit)
            by_number[current].append(event)
            continue
        if event.explicit:
            written = event.explicit
            current = event.explicit - sum(1 for n in absorbed if n < event.explicit)
        elif current is None:
            before.append(event)  # narrative before the numbered history, which is authoritative
            continue
        elif (
            event.explicit is None
            and event.core
            and event.core <= set().union(*(imwg.core(g) for g in by_number.values()))
        ):
            # drugs the numbered lines already hold, told again in the narrative ("she relapsed
            # in 06/2021 and received daratumumab ..."): the narrative names the lines
            distribute(event, _holders(by_number))
            continue
        elif (twin := _placed_twin(by_number, event)) is not None:
            # The history told again (letter, then a table on the next page whose number
            # cells OCR lost): a repeated regimen stays in the line it was first placed in.
            by_number[twin].append(event)
            continue
        elif _wrapped_cell(event):
            pass  # "|   | pomalidomide + dex |" under "| 2 | daratumumab + |": the same regimen cell
        elif imwg.split_reason(by_number[current], event) is not None:
            holder = next(
                (n for n, g in by_number.items() if event.core <= imwg.core(g) and event.core), None
            )
            current = holder if holder is not None else max(by_number) + 1
        by_number.setdefault(current, []).append(event)
    for event in before:
        # the narrative re-mentions the numbered lines: its mentions join the line that
        # holds their drugs (their evidence, not their dates)
        holder = next(
            (n for n, g in sorted(by_number.items()) if any(same_regimen(e, event) for e in g)), None
        )
        if holder is None:
            holder = next(
                (n for n, g in sorted(by_number.items()) if event.core and event.core <= imwg.core(g)), None
            )
        if holder is None and (event.is_transplant or imwg.only_later_phase(event)):
            # a transplant, or its conditioning ("Mel200"), told before the numbered lines
            holder = next((n for n, g in sorted(by_number.items()) if any(e.is_transplant for e in g)), None)
        if holder is not None:
            by_number[holder][0].mentions.extend(event.carried)
        elif event.core and event.core <= set().union(*(imwg.core(g) for g in by_number.values())):
            distribute(event, _holders(by_number))  # a recap naming drugs of several lines
    numbers = sorted(by_number)
    return [merge_repeats(by_number[n]) for n in numbers], numbers, [folded.get(n, 0) for n in numbers]
