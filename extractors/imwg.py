"""The line rules of Rajkumar, Richardson & San Miguel (Blood 2015;126:921), over events.

* Induction, transplant, consolidation and maintenance given as one plan: one line.
* A new line starts when a regimen stops and another begins (rule 1), when drugs are
  added or swapped outside the plan (rule 2), or with each further transplant except a
  planned tandem (rule 3).
* The same regimen given again after it stopped (a re-treatment at relapse) is a new line;
  stem-cell mobilization chemotherapy belongs to the transplant plan; lymphodepleting
  chemotherapy never forms a line on its own.

:func:`split_reason` answers, for an event and the line so far, which rule makes it a
new line (None: it continues the line); the reason travels into ``LineOfTherapy.why``.
"""

from __future__ import annotations

from extractors import cues
from extractors.dates import sort_key
from extractors.events import Event, drugs_supporting
from extractors.lexicon import load_lexicon
from extractors.therapies import TherapyMention

# A gap this long between a regimen's end and its drugs' next start is a re-treatment
# (OHDSI: a drug unused for > 90 days is discontinued); with only years written, two years
# ("VRd 2017-2018 ... VRd 2021"), since "2019-2020" then "2021" may be one course.
_RETREATMENT_GAP_MONTHS = 3
_RETREATMENT_GAP_YEARS = 2

# Reasons, as LineOfTherapy.split_rule, with the sentence a reviewer reads.
RULES = {
    "first_line": "the first line of therapy told",
    "new_regimen": "a new regimen (IMWG 2015: a different regimen after the previous one stopped)",
    "unplanned_addition": "drugs added outside the plan (IMWG 2015: an unplanned addition is a new line)",
    "further_transplant": "a further stem cell transplant (IMWG 2015: each transplant after the first,"
    " unless a planned tandem, is a new line)",
    "retreatment": "the same drugs given again after they were stopped (a re-treatment is a new line)",
    "numbered_in_document": "numbered as a line of its own by the document",
}


def join_phases() -> set[str]:
    """Phases given as part of the plan of the line before (lexicons/phases.json)."""
    return {row.phase for row in load_lexicon().phases if row.joins_line}


def _lymphodepletion(event: Event) -> bool:
    """Lymphodepleting chemotherapy: drugs of that role or phase, steroids, and drugs that
    serve it beside one of that role (lexicons/drugs.json "supports": cyclophosphamide
    given with fludarabine is Flu/Cy, not a cyclophosphamide line)."""
    serves = drugs_supporting("lymphodepletion")

    def depletes(i: TherapyMention) -> bool:
        return i.role == "lymphodepletion" or i.phase == "lymphodepletion"

    return all(
        depletes(i)
        or i.therapy_class == "corticosteroid"
        or (i.ingredient in serves and any(depletes(j) for j in event.items))
        for i in event.items
    )


def core(group: list[Event]) -> set[str]:
    """The regimen-defining drugs of a line, those carried into it by an addition included."""
    carried = {i.ingredient for e in group for i in e.merged if i.therapy_class != "corticosteroid"}
    return set().union(*(e.core for e in group)) | carried


def order(events: list[Event]) -> list[Event]:
    """Chronological when dates allow; undated events travel with the event before them."""
    keys: list[str] = []
    previous = "0000"
    for event in events:
        key = event.start or previous
        keys.append(key + "~" if event.start is None else key)
        previous = key
    indexed = sorted(range(len(events)), key=lambda i: (sort_key(keys[i]), i))
    return [events[i] for i in indexed]


def only_later_phase(event: Event) -> bool:
    """Consolidation, maintenance or conditioning alone: every drug of the event but its
    steroid is given in such a phase (an induction regimen with one drug tagged
    "maintenance" is not a maintenance event)."""
    phased = [i.phase for i in event.items if i.therapy_class != "corticosteroid"]
    later = join_phases()
    return bool(phased) and all(p in later for p in phased)


def _salvage(current: list[Event], event: Event) -> bool:
    """A "second transplant" at relapse, or more than a year after the first, is a salvage
    transplant and a new line (IMWG); only a planned tandem joins the first."""
    if cues.search("relapse", event.clauses):
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


def split_reason(current: list[Event], event: Event) -> str | None:
    """The rule that makes ``event`` a new line after the line made of ``current``;
    None when it continues that line (the same plan)."""
    line_ingredients = core(current)
    has_transplant = any(e.is_transplant for e in current)
    if _induction_told_after_its_transplant(current, event):
        return None
    if event.is_transplant:
        if not has_transplant:
            return None
        salvage = _salvage(current, event)
        tandem = bool(cues.search("tandem", event.text)) and not salvage
        # one transplant told twice: "KRd x8 -> ASCT" in the summary, then "BMT 06/25/2019
        # melphalan 200" in the table; only a second date, or a relapse told before it,
        # makes it a second transplant
        dated_before = any(e.start for e in current if e.is_transplant)
        told_twice = not salvage and (not event.start or not dated_before or _within_span(current, event))
        return None if tandem or told_twice else "further_transplant"
    if only_later_phase(event) or (event.is_mobilization and current):
        return None
    if _lymphodepletion(event):
        return None  # lymphodepleting chemotherapy (Flu/Cy) never forms a line on its own
    if event.core <= line_ingredients:
        if _retreatment(current, event):
            return "retreatment"
        # the line's drugs named again ("bortezomib was added (VRd)"): a restatement
        if has_transplant and not current[-1].is_transplant and not event.phases:
            return None
        if not has_transplant or event.phases & join_phases():
            return None
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
        return None if len(event.core) < len(drugs) else "retreatment"
    # new drugs: added, swapped or a new regimen - a new line either way
    return "unplanned_addition" if cues.search("addition", event.text) else "new_regimen"


def _within_span(current: list[Event], event: Event) -> bool:
    """``event`` is dated inside the span the line's own dates give it: a table row "VRd x6 ->
    Mel200 ASCT -> len maint May 2017 - Nov 2019" and the letter's "autologous transplant in
    November 2017" tell one transplant; a second comes at relapse, after the line ended."""
    starts = [i.start for e in current for i in e.items if i.start]
    ends = [i.end for e in current for i in e.items if i.end]
    if not event.start or not starts or not ends:
        return False
    first, last = min(starts, key=sort_key), max(ends, key=sort_key)
    return sort_key(first) <= sort_key(event.start) < sort_key(last)


def _retreatment(current: list[Event], event: Event) -> bool:
    """The line's drugs given again after the line stopped: "re-treated with VRd", or a
    start months after the line's last end (IMWG: a regimen restarted after it was
    discontinued is a new line)."""
    if event.retold:
        return True
    ends = [i.end for e in current for i in e.items if i.end]
    if not event.start or not ends or cues.search("continued", event.clauses):
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


def planned_groups(events: list[Event]) -> tuple[list[list[Event]], list[str]]:
    """Lines by the rules, and the rule that opened each."""
    groups: list[list[Event]] = []
    reasons: list[str] = []
    for event in events:
        reason = split_reason(groups[-1], event) if groups else "first_line"
        if reason is None:
            groups[-1].append(event)
            continue
        if groups and reason == "unplanned_addition":
            # an unplanned addition carries the drugs still being given into the new line
            event.merged.extend(
                i for e in groups[-1] for i in e.items if i.ingredient not in event.ingredients
            )
        groups.append([event])
        reasons.append(reason)
    return groups, reasons
