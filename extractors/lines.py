"""Lines of therapy, after Rajkumar, Richardson & San Miguel (Blood 2015;126:921).

* Induction, transplant, consolidation and maintenance given as one plan: one line.
* A new line starts when a regimen stops and another begins, or when drugs are added
  or swapped outside the plan ("Rd, then bortezomib added" is two lines).
* Each further transplant is a new line, except a planned tandem.
* Numbering written in the text ("Line 2:", "2nd line", "LOT 3", "2L", a table's line
  column, a numbered list under a "lines of therapy" title) is honoured; "4L+" labels the
  line being entered, not a line given.
* Drugs started together are one regimen: a drug written onto a regimen name
  ("Sarclisa-Pd", "carfilzomib (KRd)"), drugs "given with it", and drugs whose starts
  fall in the same month when none of them is already in that regimen (OHDSI's 30-day
  combination window, at the month precision notes give).
* The same regimen given again after it stopped (a re-treatment at relapse) is a new line;
  stem-cell mobilization chemotherapy belongs to the transplant plan.

Only received therapies take part: planned, negated, family and uncertain ones never
form lines, and a steroid or lymphodepletion drug alone never starts one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from common.models import Evidence, LineOfTherapy
from extractors.dates import find_dates, sort_key
from extractors.pagetext import PageText
from extractors.therapies import LineLayout, TherapyMention, evidence_key

# Ordinal words for line numbers; clinical.py reads "now in need of fourth-line therapy" with it.
ORDINALS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
}
_EXPLICIT = [
    re.compile(
        r"(?i)\b(?:line|LOT)\s*(?:of therapy\s*)?(?:#|no\.?)?\s*(\d{1,2})\b(?!\s*(?:prior|previous|lines))"
    ),
    re.compile(r"(?i)\b(\d{1,2})(?:st|nd|rd|th)[\s-]+line\b"),
    # not "1L NS", nor "4L+" (the line being entered: "4th line and beyond")
    re.compile(r"\b([1-9])L\b(?!\s*(?:NS|LR|D5|normal|saline|fluids?|bolus|of|IV)\b|\s*\+)"),
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
_RELAPSE = re.compile(r"(?i)\b(?:relaps\w*|progress\w*|salvage|PD)\b")
_TANDEM = re.compile(r"(?i)\btandem\b|\bsecond (?:planned )?(?:auto|transplant)")
_JOIN_PHASES = {"consolidation", "maintenance", "conditioning", "lymphodepletion", "mobilization"}
# What may sit between a drug and a regimen written as one name: "Sarclisa-Pd",
# "Kyprolis-Pom-dex", "Daratumumab + Pd", "carfilzomib (KRd)".  Not "and" or a comma:
# "prior bortezomib, Rd" is a list of past therapies.
_NAME_JOIN = re.compile(r"[\s\-\u2013\u2014/+&(]{1,4}")
# A drug said to be given with the one just named: "Pd were given with it".
_COMBINED = re.compile(
    r"(?i)\bwith (?:it|this|that|them|these)\b|\b(?:along|together|in combination|combined) with\b"
    r"|\bconcurrent(?:ly)?\b|\bconcomitant(?:ly)?\b"
)
# A change to the regimen (a new line), never a partner started with it.
_CHANGED = re.compile(
    r"(?i)\b(?:switch\w*|chang\w*|replac\w*|substitut\w*|instead|add(?:ed|ing|ition)?|escalat\w*)\b"
)
_RETREATED = re.compile(r"(?i)\bre-?(?:treat\w*|challeng\w*)\b")
# The line's drugs kept on after some stopped ("Rd continued 2020-2022") are the same line.
_CONTINUED = re.compile(r"(?i)\bcontinu\w*|\b(?:stayed|remained|kept) on\b|\bresum\w*")
# Stem-cell mobilization ("cyclophosphamide mobilization 5/2021") is part of the transplant
# plan (IMWG 2015: induction, SCT, consolidation and maintenance are one line).  The phase
# lexicon has no mobilization word yet; only non-myeloma chemotherapy qualifies, so a
# myeloma regimen written beside "stem cell collection" still counts.
_MOBILIZATION = re.compile(r"(?i)\bmobili[sz]\w*|\bstem[- ]cell (?:collection|harvest)|\bpriming\b")
_MOBILIZING_CLASSES = {"alkylating_agent", "topoisomerase_inhibitor", "other"}
# A form that gives the start on its own field line under the regimen line.
_DATE_FIELD = re.compile(
    r"(?i)^\s*(?:(start(?:ed)?|begin|began|initiated)|(stop(?:ped)?|end(?:ed)?|discontinued))"
    r"(?:\s+date)?\s*[:=]"
)
# A gap this long between a regimen's end and its drugs' next start is a re-treatment
# (OHDSI: a drug unused for > 90 days is discontinued); with only years written, two years
# ("VRd 2017-2018 ... VRd 2021"), since "2019-2020" then "2021" may be one course.
_RETREATMENT_GAP_MONTHS = 3
_RETREATMENT_GAP_YEARS = 2


@dataclass
class Event:
    """Received therapies given together: one clause of one line, or one regimen."""

    items: list[TherapyMention]
    explicit: int | None
    line_no: int
    text: str
    number: int | None = None
    merged: list[TherapyMention] = field(default_factory=list)
    clauses: str = ""  # the text of the clauses its items stand in (cue words)

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

    @property
    def is_mobilization(self) -> bool:
        core = [i for i in self.items if i.ingredient in self.core]
        return (
            bool(core)
            and all(i.therapy_class in _MOBILIZING_CLASSES for i in core)
            and bool(_MOBILIZATION.search(self.clauses))
        )


def explicit_number(line: str) -> int | None:
    for pattern in _EXPLICIT:
        match = pattern.search(line)
        if match:
            value = match.group(1)
            if value in {"I", "i", "l", "|"}:
                value = "1"
            number = ORDINALS.get(value.lower()) if not value.isdigit() else int(value)
            if number and 1 <= number <= 20:
                return number
    return None


_SENTENCE_BREAK = re.compile(r"(?<=[a-z0-9)\]%])\.\s+(?=[A-Z])")


def _explicit_for(line: str, position: int) -> int | None:
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


def _events(items: list[TherapyMention], text: PageText) -> list[Event]:
    received = [i for i in items if i.assertion == "received"]
    received.sort(key=lambda i: i.offset)
    numbered_list = _numbered_list_lines(text)
    clause_of = _ClauseReader(text)
    events: list[Event] = []
    for item in received:
        _date_from_fields(item, text)
        line = text.logical_text(item.line_no)
        explicit = _explicit_for(line, item.offset - text.logical_spans()[item.line_no][0])
        explicit = explicit or numbered_list.get(item.line_no)
        last = events[-1] if events else None
        clause = clause_of(item)
        if last is not None and _same_event(last, item, text):
            last.items.append(item)
            if clause not in last.clauses:
                last.clauses += "\n" + clause
        else:
            events.append(Event([item], explicit, item.line_no, line, clauses=clause))
    return _join_partners([e for e in events if e.core or e.is_transplant])


def _same_event(last: Event, item: TherapyMention, text: PageText) -> bool:
    """Given together: the same clause of the same line, and one regimen's components, or
    plain drugs listed together, or a drug written onto a regimen name."""
    previous = last.items[-1]
    if last.line_no != item.line_no or previous.clause != item.clause:
        return False
    if item.regimen_group == previous.regimen_group:
        return True
    plain = item.label != "REGIMEN" and previous.label != "REGIMEN"
    return (
        (plain or _one_name(previous, item, text))
        and not _class_clash(last, item)
        and not _transplant_boundary(last, item)
    )


class _ClauseReader:
    """The clause a mention stands in, for cue words ("given with it", "mobilization")."""

    def __init__(self, text: PageText) -> None:
        self.text = text
        self.layouts: dict[int, LineLayout] = {}

    def __call__(self, item: TherapyMention) -> str:
        line = self.text.logical_text(item.line_no)
        layout = self.layouts.get(item.line_no)
        if layout is None:
            layout = self.layouts[item.line_no] = LineLayout.of(line, [])
        rel = item.offset - self.text.logical_spans()[item.line_no][0]
        lo, hi = layout.clause_bounds(max(rel, 0))
        return line[lo:hi]


def _one_name(previous: TherapyMention, item: TherapyMention, text: PageText) -> bool:
    """A drug and a regimen written as one name ("Sarclisa-Pd", "carfilzomib (KRd)") are one
    regimen.  Mentions of one regimen arrive as separate drug and regimen mentions."""
    if previous.regimen_group == item.regimen_group or "REGIMEN" not in {previous.label, item.label}:
        return False
    if previous.label == "REGIMEN" and item.label == "REGIMEN":
        return False  # "VRd/KRd": two regimens
    between = text.text[previous.offset + len(previous.text) : item.offset]
    return bool(_NAME_JOIN.fullmatch(between))


def _date_from_fields(item: TherapyMention, text: PageText) -> None:
    """A form's field lines under the regimen line: "Regimen: Daratumumab SC" then
    "Start date: 03/2021".  Only for a mention with no date of its own."""
    if item.start or item.end or find_dates(text.logical_text(item.line_no)):
        return
    for line_no in range(item.line_no + 1, min(item.line_no + 3, len(text.logical_spans()))):
        line = text.logical_text(line_no)
        field_name = _DATE_FIELD.match(line)
        if not field_name:
            return
        dates = find_dates(line[field_name.end() :])
        value = (dates[0].begin or dates[0].finish) if dates else None
        if field_name.group(1):
            item.start = item.start or value
        else:
            item.end = item.end or value


def _join_partners(events: list[Event]) -> list[Event]:
    """Events that are one regimen told in pieces: a drug "given with it" (the event just
    before), or drugs started in the same month as a regimen none of whose drugs they
    repeat (medication-administration rows, one form field per drug)."""
    kept: list[Event] = []
    for event in events:
        partner = None
        if kept and not event.start and _COMBINED.search(event.clauses) and _may_join(kept[-1], event):
            partner = kept[-1]
        elif event.start and len(event.start) >= 7:
            partner = next(
                (
                    k
                    for k in kept
                    if k.start
                    and len(k.start) >= 7
                    and k.start[:7] == event.start[:7]
                    and _may_join(k, event)
                ),
                None,
            )
        if partner is None:
            kept.append(event)
            continue
        partner.items.extend(event.items)
        partner.clauses += "\n" + event.clauses
        partner.explicit = partner.explicit or event.explicit
    return kept


def _may_join(regimen: Event, event: Event) -> bool:
    if regimen.is_transplant or event.is_transplant or not regimen.core or not event.core:
        return False
    if regimen.explicit and event.explicit and regimen.explicit != event.explicit:
        return False
    if not event.core.isdisjoint(regimen.core) or regimen.phases != event.phases:
        return False
    if _named_regimen(regimen) and _named_regimen(event):
        return False  # "Kd 03/2021 - 04/2021", "Pd 03/2021 - ...": each a whole regimen
    classes = {i.therapy_class for i in regimen.items if i.ingredient in regimen.core}
    if any(i.therapy_class in classes for i in event.items if i.ingredient in event.core):
        return False  # two PIs, two IMiDs: a switch, not partners
    return not _CHANGED.search(event.clauses)


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


def _only_later_phase(event: Event) -> bool:
    """Consolidation, maintenance or conditioning alone: every drug of the event but its
    steroid is given in such a phase (an induction regimen with one drug tagged
    "maintenance" is not a maintenance event)."""
    phased = [i.phase for i in event.items if i.therapy_class != "corticosteroid"]
    return bool(phased) and all(p in _JOIN_PHASES for p in phased)


def _salvage(current: list[Event], event: Event) -> bool:
    """A "second transplant" at relapse, or more than a year after the first, is a salvage
    transplant and a new line (IMWG); only a planned tandem joins the first."""
    if _RELAPSE.search(event.clauses):
        return True
    first = [e.start for e in current if e.is_transplant and e.start]
    if not first or not event.start:
        return False
    return int(event.start[:4]) - int(min(first, key=sort_key)[:4]) >= 2 or (
        len(event.start) >= 7
        and len(first[0]) >= 7
        and (int(event.start[:4]) - int(first[0][:4])) * 12 + int(event.start[5:7]) - int(first[0][5:7]) > 12
    )


def _induction_told_after_its_transplant(current: list[Event], event: Event) -> bool:
    """ "Auto-SCT 2016 after VCd induction": the line so far is only the transplant and the
    induction, told second, is undated or started before it - one plan, one line."""
    if not current or not all(e.is_transplant for e in current) or "induction" not in event.phases:
        return False
    transplant_start = min((e.start for e in current if e.start), key=sort_key, default=None)
    return not event.start or not transplant_start or sort_key(event.start) <= sort_key(transplant_start)


def _joins(current: list[Event], event: Event) -> bool:
    """Does ``event`` continue the line made of ``current`` (same plan) rather than start one?"""
    line_ingredients = _core(current)
    has_transplant = any(e.is_transplant for e in current)
    if _induction_told_after_its_transplant(current, event):
        return True
    if event.is_transplant:
        return not has_transplant or (bool(_TANDEM.search(event.text)) and not _salvage(current, event))
    if _only_later_phase(event) or (event.is_mobilization and current):
        return True
    if all(
        i.role == "lymphodepletion" or i.phase == "lymphodepletion" or i.therapy_class == "corticosteroid"
        for i in event.items
    ):
        return True  # lymphodepleting chemotherapy (Flu/Cy) never forms a line on its own
    if event.core <= line_ingredients:
        if _retreatment(current, event):
            return False
        # the line's drugs named again ("bortezomib was added (VRd)"): a restatement
        if has_transplant and not current[-1].is_transplant and not event.phases:
            return True
        if not has_transplant or event.phases & _JOIN_PHASES:
            return True
        # after the transplant, fewer of the induction's drugs given on ("VRd -> auto-SCT ->
        # Revlimid"): maintenance in all but name
        drugs = {
            i
            for i in line_ingredients
            if not any(
                x.ingredient == i and x.therapy_class == "stem_cell_transplant"
                for e in current
                for x in e.items
            )
        }
        return len(event.core) < len(drugs)
    return False  # new drugs: added, swapped or a new regimen - a new line either way


def _named_regimen(event: Event) -> bool:
    return any(i.label == "REGIMEN" for i in event.items)


def _retreatment(current: list[Event], event: Event) -> bool:
    """The line's drugs given again after the line stopped: "re-treated with VRd", or a
    start months after the line's last end (IMWG: a regimen restarted after it was
    discontinued is a new line)."""
    if _RETREATED.search(event.clauses):
        return True
    ends = [i.end for e in current for i in e.items if i.end]
    if not event.start or not ends or _CONTINUED.search(event.clauses):
        return False
    # a drug of the line still running (started, no end: maintenance "from 09/2021") before
    # this start: a change of form or brand ("IV daratumumab changed to subcutaneous"), not
    # a restart
    if any(
        i.start
        and not i.end
        and i.therapy_class != "stem_cell_transplant"  # a transplant is a day, never "running"
        and sort_key(i.start) <= sort_key(event.start)
        for e in current
        for i in e.items
    ):
        return False
    end = max(ends, key=sort_key)
    if len(end) >= 7 and len(event.start) >= 7:
        months = (int(event.start[:4]) - int(end[:4])) * 12 + int(event.start[5:7]) - int(end[5:7])
        return months >= _RETREATMENT_GAP_MONTHS
    return int(event.start[:4]) - int(end[:4]) >= _RETREATMENT_GAP_YEARS


def _numbered_groups(events: list[Event]) -> tuple[list[list[Event]], list[int]]:
    """The text numbers its lines: follow it.  An unnumbered event after a numbered one
    (a table's transplant or maintenance row) belongs to that line when the plan rules say
    so, to the line that already holds its drugs when it repeats them, else to a new line."""
    by_number: dict[int, list[Event]] = {}
    current: int | None = None
    absorbed: set[int] = set()  # the text's numbers of "lines" that are one phase of the line before
    written: int | None = None  # the text's number of the current line
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
            absorbed.add(explicit)
            by_number[current].append(event)
            continue
        if event.explicit:
            written = event.explicit
            current = event.explicit - sum(1 for n in absorbed if n < event.explicit)
        elif current is None:
            continue  # narrative before the numbered history: the numbered history is authoritative
        elif (twin := _placed_twin(by_number, event)) is not None:
            # The history told again (letter, then a table on the next page whose number
            # cells OCR lost): a repeated regimen stays in the line it was first placed in.
            by_number[twin].append(event)
            continue
        elif _wrapped_cell(event):
            pass  # "|   | pomalidomide + dex |" under "| 2 | daratumumab + |": the same regimen cell
        elif not _joins(by_number[current], event):
            holder = next((n for n, g in by_number.items() if event.core <= _core(g) and event.core), None)
            current = holder if holder is not None else max(by_number) + 1
        by_number.setdefault(current, []).append(event)
    numbers = sorted(by_number)
    return [_merge_repeats(by_number[n]) for n in numbers], numbers


_EMPTY_FIRST_CELL = re.compile(r"^\s*\|\s*\|")


def _wrapped_cell(event: Event) -> bool:
    """A table row with an empty line cell and no dates continues the regimen cell above."""
    return bool(_EMPTY_FIRST_CELL.match(event.text)) and not event.start and not event.end


def _phase_of_plan(current: list[Event], event: Event) -> bool:
    """A numbered "line" that is only a transplant, or only consolidation or maintenance,
    continuing the line before it by the plan rules."""
    only_transplant = all(i.therapy_class == "stem_cell_transplant" for i in event.items)
    return (only_transplant or _only_later_phase(event)) and _joins(current, event)


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
