"""Lines of therapy, after Rajkumar, Richardson & San Miguel (Blood 2015;126:921).

* Induction, transplant, consolidation and maintenance given as one plan: one line.
* A new line starts when a regimen stops and another begins, or when drugs are added
  or swapped outside the plan ("Rd, then bortezomib added" is two lines).
* Each further transplant is a new line, except a planned tandem.
* Numbering written in the text ("Line 2:", "2nd line", "LOT 3", "2L", a table's line
  column, a numbered list under a "lines of therapy" title) is honoured.

Only received therapies take part: planned, negated, family and uncertain ones never
form lines, and a steroid or lymphodepletion drug alone never starts one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from common.models import Evidence, LineOfTherapy
from extractors.dates import sort_key
from extractors.pagetext import PageText
from extractors.therapies import TherapyMention, evidence_key

_ORDINALS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
}
_EXPLICIT = [
    re.compile(
        r"(?i)\b(?:line|LOT)\s*(?:of therapy\s*)?(?:#|no\.?)?\s*(\d{1,2})\b(?!\s*(?:prior|previous|lines))"
    ),
    re.compile(r"(?i)\b(\d{1,2})(?:st|nd|rd|th)[\s-]+line\b"),
    re.compile(r"\b([1-9])L\b(?!\s*(?:NS|LR|D5|normal|saline|fluids?|bolus|of|IV)\b)"),  # not "1L NS"
    re.compile(r"^\s*L([1-9Iil|])\s*[:.)-]"),  # "L1:", or "Li:" as fax OCR reads it
    re.compile(r"(?i)\b(first|second|third|fourth|fifth|sixth|seventh|eighth)[\s-]+line\b"),
]
_LIST_ITEM = re.compile(r"^\s*(?:\|\s*)?(\d{1,2})\s*(?:[.)|:\t]|\s{2,})")
_FIRST_LIST_NUMBER_MAX = 3
_TABLE_ROW = re.compile(r"^\s*\|?\s*(\d{1,2})(?:\s*\||\t|\s+(?![/.-]?\d{1,2}/)(?=\S))")
_LINES_TITLE = re.compile(r"(?i)\b(?:lines?|LOT|regimens)\b")
# A table whose first column is the line number: "Line | Regimen | Dates", "LOT  Regimen  Start".
_TABLE_HEADER = re.compile(
    r"(?i)^\|?\s*(?:line(?: of therapy)?|LOT|#|no\.?)\s*(?:\||\t|\s{1,})\s*"
    r"(?:regimen|therapy|treatment|drugs?|agents?|dates?|start)\b"
)
# An unplanned addition starts a new line that keeps the drugs still given ("Rd, then
# bortezomib added"); a swap ("switched to Kd") starts a new line without them.
_ADDED = re.compile(r"(?i)\b(?:added|adding|add(?:ition of)?|plus)\b")
_TANDEM = re.compile(r"(?i)\btandem\b|\bsecond (?:planned )?(?:auto|transplant)")
_JOIN_PHASES = {"consolidation", "maintenance", "conditioning", "lymphodepletion"}


@dataclass
class Event:
    """Received therapies given together: one clause of one line, or one regimen."""

    items: list[TherapyMention]
    explicit: int | None
    line_no: int
    text: str
    number: int | None = None
    merged: list[TherapyMention] = field(default_factory=list)

    @property
    def ingredients(self) -> set[str]:
        return {i.ingredient for i in self.items}

    @property
    def core(self) -> set[str]:
        """Ingredients that define the regimen (steroids and lymphodepletion ride along)."""
        return {
            i.ingredient for i in self.items if i.therapy_class != "corticosteroid" and i.role == "systemic"
        }

    @property
    def start(self) -> str | None:
        starts = [i.start for i in self.items if i.start]
        return min(starts) if starts else None

    @property
    def end(self) -> str | None:
        ends = [i.end for i in self.items if i.end]
        return max(ends) if ends else None

    @property
    def phases(self) -> set[str]:
        return {i.phase for i in self.items if i.phase}

    @property
    def is_transplant(self) -> bool:
        return any(i.therapy_class == "stem_cell_transplant" for i in self.items)


def explicit_number(line: str) -> int | None:
    for pattern in _EXPLICIT:
        match = pattern.search(line)
        if match:
            value = match.group(1)
            if value in {"I", "i", "l", "|"}:
                value = "1"
            number = _ORDINALS.get(value.lower()) if not value.isdigit() else int(value)
            if number and 1 <= number <= 20:
                return number
    return None


def _events(items: list[TherapyMention], text: PageText) -> list[Event]:
    received = [i for i in items if i.assertion == "received"]
    received.sort(key=lambda i: i.offset)
    numbered_list = _numbered_list_lines(text)
    events: list[Event] = []
    for item in received:
        line = text.logical_text(item.line_no)
        explicit = explicit_number(line) or numbered_list.get(item.line_no)
        last = events[-1] if events else None
        same_clause = (
            last is not None
            and last.line_no == item.line_no
            and last.items[-1].clause == item.clause
            and (
                item.regimen_group == last.items[-1].regimen_group
                or (
                    item.label != "REGIMEN"
                    and last.items[-1].label != "REGIMEN"
                    and not _class_clash(last, item)
                    and not _transplant_boundary(last, item)
                )
            )
        )
        if last is not None and same_clause:
            last.items.append(item)
        else:
            events.append(Event([item], explicit, item.line_no, line))
    return [e for e in events if e.core or e.is_transplant]


def _class_clash(event: Event, item: TherapyMention) -> bool:
    """Two drugs of one class (two PIs, two IMiDs) are never one regimen: a list of past drugs."""
    if item.therapy_class in {"corticosteroid", "other"} or item.ingredient in event.ingredients:
        return False
    return any(i.therapy_class == item.therapy_class for i in event.items)


def _transplant_boundary(event: Event, item: TherapyMention) -> bool:
    return event.is_transplant != (item.therapy_class == "stem_cell_transplant")


def _numbered_list_lines(text: PageText) -> dict[int, int]:
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
        if stripped.endswith(":") or stripped.isupper():
            active = (bool(_LINES_TITLE.search(stripped)) and "therap" in stripped.lower()) or (
                bool(
                    re.search(
                        r"(?i)\blines? of (?:therapy|treatment)\b|\bprior (?:lines|regimens)\b", stripped
                    )
                )
            )
        if _TABLE_HEADER.match(stripped):
            table_line_column, last = True, None  # a new table numbers from its own start
        elif stripped.endswith(":"):
            table_line_column = False
    return found


def _merge_repeats(events: list[Event]) -> list[Event]:
    """The same regimen named again (summary, then table) is one event, not a new line."""
    kept: list[Event] = []
    for event in events:
        twin = next((k for k in kept if _same_regimen(k, event)), None)
        if twin is None:
            kept.append(event)
            continue
        twin.merged.extend(event.items)
        twin.explicit = twin.explicit or event.explicit
        for item in event.items:
            if item.start and not any(i.start for i in twin.items):
                for twin_item in twin.items:
                    twin_item.start = twin_item.start or item.start
                    twin_item.end = twin_item.end or item.end
    return kept


def _same_regimen(a: Event, b: Event) -> bool:
    if a.is_transplant or b.is_transplant:
        # the same transplant named twice (letter and table) has the same month
        return a.core == b.core and bool(a.start and b.start and a.start[:7] == b.start[:7])
    if a.core != b.core or not a.core:
        return False
    if a.explicit and b.explicit and a.explicit != b.explicit:
        return False
    if a.start and b.start:
        return a.start[:7] == b.start[:7]
    return True


def _order(events: list[Event]) -> list[Event]:
    """Chronological when dates allow; undated events travel with the event before them."""
    keys: list[str] = []
    previous = "0000"
    for event in events:
        key = event.start or previous
        keys.append(key + "~" if event.start is None else key)
        previous = key
    indexed = sorted(range(len(events)), key=lambda i: (sort_key(keys[i]), i))
    return [events[i] for i in indexed]


def _joins(current: list[Event], event: Event) -> bool:
    """Does ``event`` continue the line made of ``current`` (same plan) rather than start one?"""
    line_ingredients = _core(current)
    has_transplant = any(e.is_transplant for e in current)
    if event.is_transplant:
        return not has_transplant or bool(_TANDEM.search(event.text))
    if event.phases & _JOIN_PHASES:
        return True
    if all(i.role == "lymphodepletion" or i.therapy_class == "corticosteroid" for i in event.items):
        return True
    if event.core <= line_ingredients:
        # the line's drugs named again ("bortezomib was added (VRd)"): a restatement
        if has_transplant and not current[-1].is_transplant and not event.phases:
            return True
        return not has_transplant or bool(event.phases & _JOIN_PHASES)
    return False  # new drugs: added, swapped or a new regimen - a new line either way


def _numbered_groups(events: list[Event]) -> tuple[list[list[Event]], list[int]]:
    """The text numbers its lines: follow it.  An unnumbered event after a numbered one
    (a table's transplant or maintenance row) belongs to that line when the plan rules say
    so, to the line that already holds its drugs when it repeats them, else to a new line."""
    by_number: dict[int, list[Event]] = {}
    current: int | None = None
    for event in events:
        if event.explicit:
            current = event.explicit
        elif current is None:
            continue  # narrative before the numbered history: the numbered history is authoritative
        elif (twin := _placed_twin(by_number, event)) is not None:
            # The history told again (letter, then a table on the next page whose number
            # cells OCR lost): a repeated regimen stays in the line it was first placed in.
            by_number[twin].append(event)
            continue
        elif not _joins(by_number[current], event):
            holder = next((n for n, g in by_number.items() if event.core <= _core(g) and event.core), None)
            current = holder if holder is not None else max(by_number) + 1
        by_number.setdefault(current, []).append(event)
    numbers = sorted(by_number)
    return [_merge_repeats(by_number[n]) for n in numbers], numbers


def _placed_twin(by_number: dict[int, list[Event]], event: Event) -> int | None:
    """The line already holding this event: the same regimen, or its drugs given in that
    line's time span (maintenance told again, dated within the line)."""
    for number, group in by_number.items():
        if any(_same_regimen(e, event) for e in group):
            return number
    if not event.start or not event.core:
        return None
    for number, group in by_number.items():
        starts = [e.start for e in group if e.start]
        ends = [e.end for e in group if e.end]
        if not starts or not ends or not event.core <= _core(group):
            continue
        if sort_key(min(starts, key=sort_key)) <= sort_key(event.start) <= sort_key(max(ends, key=sort_key)):
            return number
    return None


def _numbering_covers(events: list[Event]) -> bool:
    """Follow the text's numbering only if every regimen named before the first number is
    repeated under a number (a summary); otherwise the numbering is partial - count by rules."""
    first = next(i for i, e in enumerate(events) if e.explicit)
    numbered = set().union(*(e.core for e in events[first:]))
    return all(e.core <= numbered for e in events[:first])


def _planned_groups(events: list[Event]) -> list[list[Event]]:
    groups: list[list[Event]] = []
    for event in events:
        if groups and _joins(groups[-1], event):
            groups[-1].append(event)
            continue
        if groups and _ADDED.search(event.text):
            # an unplanned addition carries the drugs still being given into the new line
            event.merged.extend(
                i for e in groups[-1] for i in e.items if i.ingredient not in event.ingredients
            )
        groups.append([event])
    return groups


def _core(group: list[Event]) -> set[str]:
    """The regimen-defining drugs of a line, those carried into it by an addition included."""
    carried = {i.ingredient for e in group for i in e.merged if i.therapy_class != "corticosteroid"}
    return set().union(*(e.core for e in group)) | carried


def build_lines(items: list[TherapyMention], text: PageText) -> tuple[list[LineOfTherapy], dict[int, int]]:
    """Lines of therapy and, for each received therapy mention (by id), its line number."""
    events = _events(items, text)
    if not events:
        return [], {}
    if any(e.explicit for e in events) and _numbering_covers(events):
        groups, numbers = _numbered_groups(events)
    else:
        groups = _planned_groups(_order(_merge_repeats(events)))
        numbers = list(range(1, len(groups) + 1))
    lines: list[LineOfTherapy] = []
    membership: dict[int, int] = {}
    for number, group in zip(numbers, groups, strict=True):
        all_items = [i for e in group for i in (*e.items, *e.merged)]
        for e in group:
            for i in (*e.items, *e.merged):
                membership.setdefault(id(i), number)
        starts = [i.start for e in group for i in e.items if i.start]
        ends = [i.end for e in group for i in e.items if i.end]
        regimens = tuple(dict.fromkeys(i.regimen for i in all_items if i.regimen))
        ingredients = tuple(dict.fromkeys(i.ingredient for i in all_items))
        unread = None if starts else next((i.start_unreadable for i in all_items if i.start_unreadable), None)
        evidence: list[Evidence] = []
        seen: set[tuple[object, ...]] = set()
        for i in all_items:
            for ev in (
                *i.evidence,
                *([unread] if unread is not None and i.start_unreadable is unread else []),
            ):
                if (key := evidence_key(ev)) not in seen:
                    seen.add(key)
                    evidence.append(ev)
        lines.append(
            LineOfTherapy(
                number=number,
                start=min(starts) if starts else None,
                end=max(ends) if ends else None,
                regimens=regimens,
                ingredients=ingredients,
                evidence=tuple(evidence),
                start_unreadable=unread.text if unread is not None else None,
            )
        )
    return lines, membership
