"""Lines of therapy from therapy events (IMWG 2015), each with why it is a line.

events (extractors/events.py): received mentions -> events given together; re-mentions
and recaps join the entry they name; exposure-only mentions stand apart.
numbering (extractors/numbering.py): the document's own line numbers, when they cover
the history.  imwg (extractors/imwg.py): otherwise, lines by the rules.

Only received therapies take part: planned, negated, family and uncertain ones never
form lines, and a steroid or lymphodepletion drug alone never starts one.
"""

from __future__ import annotations

from dataclasses import dataclass

from common.models import Evidence, LineOfTherapy
from extractors import imwg
from extractors.events import Event, fold_supporting, form_events, merge_repeats, place_mentions
from extractors.numbering import NumberReader, numbered_groups, numbering_covers
from extractors.pagetext import PageText
from extractors.therapies import TherapyMention, evidence_key


@dataclass(frozen=True)
class BuiltLines:
    lines: list[LineOfTherapy]
    membership: dict[int, int]  # id(TherapyMention) -> line number
    # received mentions no line holds, in a document that tells its history as entries:
    # the drug was received (it counts for its class), the document gives it no line
    exposure_only: list[TherapyMention]
    numbered: bool = False  # the lines follow the document's own numbering


def build_lines(items: list[TherapyMention], text: PageText) -> BuiltLines:
    """Lines of therapy and, for each received therapy mention (by id), its line number."""
    placed = place_mentions(fold_supporting(form_events(items, text, NumberReader(text))))
    events = placed.events
    if not events:
        return BuiltLines([], {}, placed.exposure_only)
    numbered = numbering_covers(events)
    if numbered:
        groups, numbers, folded = numbered_groups(events)
        reasons = ["numbered_in_document"] * len(groups)
    else:
        groups, reasons = imwg.planned_groups(imwg.order(merge_repeats(events)))
        groups = [merge_repeats(g) for g in groups]
        numbers = list(range(1, len(groups) + 1))
        folded = [0] * len(groups)
    lines: list[LineOfTherapy] = []
    membership: dict[int, int] = {}
    for number, group, reason, phases in zip(numbers, groups, reasons, folded, strict=True):
        lines.append(_line(number, group, reason, membership, phases))
    return BuiltLines(lines, membership, placed.exposure_only, numbered)


def _line(
    number: int, group: list[Event], reason: str, membership: dict[int, int], phases: int = 0
) -> LineOfTherapy:
    all_items = [i for e in group for i in (*e.items, *e.merged)]
    for e in group:
        for i in (*e.items, *e.merged, *e.mentions):
            membership.setdefault(id(i), number)
    starts = [i.start for e in group for i in e.items if i.start]
    ends = [i.end for e in group for i in e.items if i.end]
    regimens = tuple(dict.fromkeys(i.regimen for i in all_items if i.regimen))
    ingredients = tuple(dict.fromkeys(i.ingredient for i in all_items))
    unread = None if starts else next((i.start_unreadable for i in all_items if i.start_unreadable), None)
    # a line dated only from memory: every item that gives a start gives it so
    dated_items = [i for e in group for i in e.items if i.start]
    recalled = (
        dated_items[0].start_recalled
        if dated_items and all(i.start_recalled is not None for i in dated_items)
        else None
    )
    evidence: list[Evidence] = []
    seen: set[tuple[object, ...]] = set()
    for i in all_items:
        for ev in (*i.evidence, *([unread] if unread is not None and i.start_unreadable is unread else [])):
            if (key := evidence_key(ev)) not in seen:
                seen.add(key)
                evidence.append(ev)
    dated: list[Evidence] = []
    for i in all_items:
        for ev in i.dates_evidence:
            if (key := evidence_key(ev)) not in seen:
                seen.add(key)
                dated.append(ev)
    return LineOfTherapy(
        number=number,
        start=min(starts) if starts else None,
        end=max(ends) if ends else None,
        regimens=regimens,
        ingredients=ingredients,
        evidence=tuple(evidence),
        date_evidence=tuple(dated),
        start_unreadable=unread.text if unread is not None else None,
        start_recalled=recalled.text if recalled is not None else None,
        split_rule=reason,
        phases_numbered=phases,
        why=_why(group, reason, evidence, phases),
    )


def _why(group: list[Event], reason: str, evidence: list[Evidence], phases: int = 0) -> str:
    told = len(group)
    pages = sorted({e.page for e in evidence})
    where = f"page {pages[0]}" if len(pages) == 1 else "pages " + ", ".join(map(str, pages)) if pages else ""
    recaps = sum(1 for e in group if e.mentions)
    parts = [imwg.RULES[reason][:1].upper() + imwg.RULES[reason][1:]]
    parts.append(f"{told} statement(s) of what was given" + (f" ({where})" if where else ""))
    if phases:
        parts.append(
            f"{phases} more of the document's numbered lines are phases of this one (transplant,"
            " consolidation or maintenance given as one plan), one line by IMWG rules"
        )
    if recaps:
        parts.append("named again elsewhere without new dates (joined, not counted)")
    return "; ".join(parts) + "."
