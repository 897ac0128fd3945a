"""Therapy events: received drugs given together over a span, and the mentions that join them.

A mention is not an event.  Drugs named in one clause of one line (one regimen, a drug
written onto a regimen name, drugs "given with it", a form's one-drug-per-field rows
started in the same month) form one event.  Then each event is placed by what its
statement is:

* a history entry - dated, a list item, or numbered - stands as told;
* an undated statement of a new episode ("then", "at relapse she was started on ...",
  "re-treated with") may open a line;
* any other undated mention whose drugs an entry already holds re-mentions that entry:
  a recap ("triple-class exposed, having had lenalidomide ... and daratumumab"), a
  summary before the table, a detail told again.  It joins the entry and opens no line;
* an undated mention of drugs no entry holds, in a document whose history is told as
  entries, is evidence of exposure only: the drug was received (it counts for its class),
  but the document gives it no place among the lines, and the history is not complete.

With no entry at all (a one-paragraph note, "prior: VRd, DKd, Pd") the mentions are the
history and open lines as told.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache

from extractors import cues
from extractors.dates import find_dates, sort_key
from extractors.lexicon import load_lexicon
from extractors.pagetext import PageText
from extractors.therapies import LineLayout, TherapyMention


class Placement(StrEnum):
    ENTRY = "entry"  # a history entry: dated, a list item or a numbered line
    EPISODE = "episode"  # an undated statement of a new treatment episode
    MENTION = "mention"  # undated, no episode cue: a re-mention, a recap, a passing mention


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
    sentences: str = ""  # the sentences its items stand in (episode and summary cues)
    placement: Placement = Placement.MENTION
    # items of re-mentions that joined this event: their evidence, never their dates
    mentions: list[TherapyMention] = field(default_factory=list)

    @property
    def retold(self) -> bool:
        """The event tells its drugs given again after they stopped: "re-treated with VRd",
        or "restarted" in a sentence that tells a relapse ("He later relapsed ... and RVD was
        restarted"; restarted after a dose hold is not)."""
        return bool(
            cues.search("retreatment", self.clauses)
            or (cues.search("restart", self.clauses) and cues.search("relapse", self.sentences))
        )

    @property
    def carried(self) -> tuple[TherapyMention, ...]:
        """Every mention the event stands for, its own re-mentions too: what goes with it
        when it is folded into another event as a re-mention."""
        return (*self.items, *self.merged, *self.mentions)

    @property
    def ingredients(self) -> set[str]:
        return {i.ingredient for i in self.items}

    @property
    def core(self) -> set[str]:
        """Ingredients that define the regimen (steroids and lymphodepletion ride along)."""
        serving = self._serving()
        return {
            i.ingredient
            for i in self.items
            if i.therapy_class != "corticosteroid" and i.role == "systemic" and i.ingredient not in serving
        }

    def _serving(self) -> frozenset[str]:
        """Drugs that serve a step this event holds (lexicons/drugs.json "supports"): the
        melphalan of "a melphalan-conditioned autologous transplant", the cyclophosphamide of
        Flu/Cy before a CAR-T.  They ride along with that step, as steroids do."""
        steps = []
        if self.is_transplant:
            steps.append("conditioning")
        if any(
            i.role == "lymphodepletion" or i.phase == "lymphodepletion" or i.therapy_class == "car_t"
            for i in self.items
        ):
            steps.append("lymphodepletion")
        return drugs_supporting(*steps)

    @property
    def start(self) -> str | None:
        starts = [i.start for i in self.items if i.start]
        return min(starts, key=sort_key) if starts else None

    @property
    def end(self) -> str | None:
        ends = [i.end for i in self.items if i.end]
        return max(ends, key=sort_key) if ends else None

    @property
    def dated(self) -> bool:
        return any(i.start or i.end for i in self.items)

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
            and all(i.therapy_class in MOBILIZING_CLASSES for i in core)
            and bool(cues.search("mobilization", self.clauses))
        )


# Non-myeloma chemotherapy given to mobilize stem cells (cyclophosphamide, etoposide)
# belongs to the transplant plan; a myeloma regimen written beside "stem cell collection"
# still counts as its own.
MOBILIZING_CLASSES = {"alkylating_agent", "topoisomerase_inhibitor", "other"}
# What may sit between a drug and a regimen written as one name: "Sarclisa-Pd",
# "Kyprolis-Pom-dex", "Daratumumab + Pd", "carfilzomib (KRd)".  Not "and" or a comma:
# "prior bortezomib, Rd" is a list of past therapies.
_NAME_JOIN = re.compile(r"[\s\-\u2013\u2014/+&(]{1,4}")
# The line number the text gives an item (extractors/numbering.py reads it).
ExplicitFor = Callable[[TherapyMention, str], int | None]
_LIST_ITEM = re.compile(r"^\s*(?:[-•*·▪◦‣>]|\(?\d{1,2}[.):]|\(?[a-z][.)])\s+")
_SENTENCE_BREAK = re.compile(r"[.;!?]\)?\s+[A-Z]")


def _list_item_head(event: Event, text: PageText) -> bool:
    """A list item's therapy that the item is about: in the item's first sentence.  An
    assessment's numbered problem ("1. Relapsed/refractory MM, progression on XVd.
    Refractory to lenalidomide, pomalidomide, carfilzomib.") is a list item too, but the
    drugs of its later sentences recap a history; they open no line of their own."""
    marker = _LIST_ITEM.match(event.text)
    if marker is None:
        return False
    first = min(item.offset for item in event.items)
    # the item may wrap: its text starts on the line of its marker, at or before the drug
    head = event.text.split("\n", 1)[0]
    item_start = text.text.rfind(head, 0, first + len(head))
    if item_start < 0:
        item_start = text.text.rfind("\n", 0, first) + 1
    return not _SENTENCE_BREAK.search(text.text[item_start + marker.end() : first])


# ------------------------------------------------------------------ forming events


def form_events(items: list[TherapyMention], text: PageText, explicit_for: ExplicitFor) -> list[Event]:
    received = sorted((i for i in items if i.assertion == "received"), key=lambda i: i.offset)
    clause_of = _ClauseReader(text)
    events: list[Event] = []
    for item in received:
        _date_from_fields(item, text)
        line = text.logical_text(item.line_no)
        explicit = explicit_for(item, line)
        last = events[-1] if events else None
        clause = clause_of(item)
        sentence = text.text[item.sent_start : item.sent_end]
        if last is not None and _same_event(last, item, text):
            last.items.append(item)
            if clause not in last.clauses:
                last.clauses += "\n" + clause
            if sentence not in last.sentences:
                last.sentences += "\n" + sentence
        else:
            events.append(Event([item], explicit, item.line_no, line, clauses=clause, sentences=sentence))
    events = _join_partners([e for e in events if e.core or e.is_transplant])
    for event in events:
        event.placement = _placement(event, text)
    _one_span_for_many(events)
    _dated_recaps(events, text)
    return events


def _dated_recaps(events: list[Event], text: PageText) -> None:
    """ "diagnosed 01/2019 ... who has relapsed after four prior lines and is now refractory to
    isatuximab, pomalidomide and dexamethasone": a summary cue before the drugs makes the
    clause a recap, though a date of its sentence reached it; what another entry tells it
    re-mentions (it had opened a line dated by the diagnosis)."""
    recaps = [
        e
        for e in events
        if e.placement is Placement.ENTRY
        and e.explicit is None
        and not any(i.entry == "table_row" for i in e.items)
        and _summed_up(e, text)
    ]
    if not recaps:
        return
    told, _ = _told_elsewhere(events, recaps)
    for event in recaps:
        if event.core and event.core <= told:
            event.placement = Placement.MENTION


def _told_elsewhere(events: list[Event], besides: list[Event]) -> tuple[set[str], bool]:
    """The drugs the entries other than ``besides`` hold, and whether one is a transplant:
    what a recap among ``besides`` may re-mention."""
    others = [e for e in events if e.placement is Placement.ENTRY and e not in besides]
    return set().union(*(e.core for e in others)), any(e.is_transplant for e in others)


# A sentence naming this many regimens or more, all dated by one span, sums a history up.
_SUMMARY_REGIMENS = 3


def _one_span_for_many(events: list[Event]) -> None:
    """ "Diagnosed 01/2019, treated with five lines: VRd/ASCT/len, DKd, Isa-Pd, VDT-PACE and
    most recently XKd, stopped 06/2025": one span dates the whole list, so it dates none of
    its regimens; the sentence is a recap, and its regimens re-mention the entries that tell
    them (each had opened a line of its own, dated 2019-2025)."""
    by_sentence: dict[int, list[Event]] = {}
    for event in events:
        if event.placement is Placement.ENTRY and event.explicit is None:
            by_sentence.setdefault(min(i.sent_start for i in event.items), []).append(event)
    for group in by_sentence.values():
        # regimens of their own: not a transplant, nor drugs another of them holds ("VRd
        # induction followed by a stem cell transplant and lenalidomide maintenance" is one
        # line, told in one span)
        drugs = [e.core for e in group if not e.is_transplant]
        regimens = [c for c in drugs if not any(c < other for other in drugs)]
        if len(regimens) < _SUMMARY_REGIMENS or any(i.entry == "table_row" for e in group for i in e.items):
            continue
        if len({(e.start, e.end) for e in group}) < len(regimens) and all(e.dated for e in group):
            # only what the history's entries tell elsewhere is re-mentioned; a regimen no
            # other entry holds stays an entry (a recap is no reason to lose it)
            told, transplant_told = _told_elsewhere(events, group)
            for event in group:
                if (event.core and event.core <= told) or (event.is_transplant and transplant_told):
                    event.placement = Placement.MENTION


def _placement(event: Event, text: PageText) -> Placement:
    if all(i.entry == "form" for i in event.items):
        # a form's checkbox list ("Prior agents received: [X] lenalidomide [X] bortezomib")
        # says what was received, not as a history: it opens no line
        return Placement.MENTION
    if event.dated or any(i.entry == "table_row" for i in event.items):
        return Placement.ENTRY  # a dated statement, or a row of a history table dated or not
    if event.explicit is not None and _recap_after_number(event, text):
        # "... his first line, the carfilzomib, and DPd - he has been exposed to
        # lenalidomide, bortezomib": the sentence's line number is not this recap's
        return Placement.MENTION
    if event.explicit is not None or _list_item_head(event, text):
        return Placement.ENTRY
    if _summed_up(event, text):
        # "Refractory to lenalidomide, pomalidomide, carfilzomib, bortezomib", "having had
        # ...": a recap of exposure, whatever sequence words its sentence also holds
        return Placement.MENTION
    if cues.search("episode", event.sentences) or cues.search("retreatment", event.sentences) or event.retold:
        return Placement.EPISODE
    return Placement.MENTION


def _sentence_before(event: Event, text: PageText) -> str:
    """The words of its sentence before the event's first drug."""
    first = min(event.items, key=lambda item: item.offset)
    return text.text[first.sent_start : first.offset]


def _summed_up(event: Event, text: PageText) -> bool:
    """A summary cue (lexicons/cues.json "summary") before the event's first drug in its
    sentence: the clause sums up exposure or refractoriness."""
    return cues.search("summary", _sentence_before(event, text)) is not None


def _recap_after_number(event: Event, text: PageText) -> bool:
    """A summary cue between the sentence's line number and the event's first drug: "...
    VCd/ASCT/len as his first line, the carfilzomib, and DPd - and he has been exposed to
    lenalidomide, bortezomib": the number was the earlier clause's, the drugs are a recap."""
    from extractors.numbering import explicit_number  # numbering builds on this module

    before = _sentence_before(event, text)
    found = list(cues.pattern("summary").finditer(before))
    return bool(found) and explicit_number(before[found[-1].end() :]) is None


def _same_event(last: Event, item: TherapyMention, text: PageText) -> bool:
    """Given together: the same clause of the same line, and one regimen's components, or
    plain drugs listed together, or a drug written onto a regimen name."""
    previous = last.items[-1]
    if last.line_no != item.line_no or previous.clause != item.clause:
        return False
    if item.regimen_group != previous.regimen_group and find_dates(
        text.text[previous.offset + len(previous.text) : item.offset]
    ):
        # "daratumumab, bortezomib and dexamethasone from July 2019 to November 2020,
        # pomalidomide, cyclophosphamide and dexamethasone from December 2020 ...": a span
        # told after drugs closes their course; the drugs after it are the next one
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
        start_field = _field(line, "start_field")
        stop_field = _field(line, "stop_field")
        if start_field is None and stop_field is None:
            return
        rest = line[(start_field if start_field is not None else stop_field) or 0 :]
        dates = find_dates(rest)
        value = (dates[0].begin or dates[0].finish) if dates else None
        if start_field is not None:
            item.start = item.start or value
        else:
            item.end = item.end or value


def _field(line: str, cue: str) -> int | None:
    """Where the value of a "<label>:" field of the cue list starts on the line, if the line is one."""
    match = re.match(rf"(?i)^\s*{cues.fragment(cue)}(?:\s+date)?\s*[:=]", line)
    return match.end() if match else None


def _join_partners(events: list[Event]) -> list[Event]:
    """Events that are one regimen told in pieces: a drug "given with it" (the event just
    before), or drugs started in the same month as a regimen none of whose drugs they
    repeat (medication-administration rows, one form field per drug)."""
    kept: list[Event] = []
    for event in events:
        partner = None
        if (
            kept
            and not event.start
            and cues.search("given_together", event.clauses)
            and _may_join(kept[-1], event)
        ):
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
        partner.sentences += "\n" + event.sentences
        partner.explicit = partner.explicit or event.explicit
    return kept


def _may_join(regimen: Event, event: Event) -> bool:
    if regimen.is_transplant or event.is_transplant or not regimen.core or not event.core:
        return False
    if regimen.explicit and event.explicit and regimen.explicit != event.explicit:
        return False
    if not event.core.isdisjoint(regimen.core) or regimen.phases != event.phases:
        return False
    if named_regimen(regimen) and named_regimen(event):
        return False  # "Kd 03/2021 - 04/2021", "Pd 03/2021 - ...": each a whole regimen
    classes = {i.therapy_class for i in regimen.items if i.ingredient in regimen.core}
    if any(i.therapy_class in classes for i in event.items if i.ingredient in event.core):
        return False  # two PIs, two IMiDs: a switch, not partners
    return not cues.search("regimen_change", event.clauses)


def _class_clash(event: Event, item: TherapyMention) -> bool:
    """Two drugs of one class (two PIs, two IMiDs) are never one regimen: a list of past drugs."""
    if item.therapy_class in {"corticosteroid", "other"} or item.ingredient in event.ingredients:
        return False
    return any(i.therapy_class == item.therapy_class for i in event.items)


def _transplant_boundary(event: Event, item: TherapyMention) -> bool:
    return event.is_transplant != (item.therapy_class == "stem_cell_transplant")


def named_regimen(event: Event) -> bool:
    return any(i.label == "REGIMEN" for i in event.items)


# ------------------------------------------------------------------ re-mentions


@dataclass
class Placed:
    """The events that make lines, and the received mentions that make none."""

    events: list[Event]
    exposure_only: list[TherapyMention]


def fold_supporting(events: list[Event]) -> list[Event]:
    """An event of drugs that only serve the step told beside it joins that step: "a
    melphalan-conditioned autologous stem cell transplant" is the transplant, "Flu/Cy, then
    cilta-cel" the CAR-T (lexicons/drugs.json "supports").  On the same line, dated alike
    or not at all."""
    out: list[Event] = []
    for event in events:
        previous = out[-1] if out else None
        if (
            previous is not None
            and previous.line_no == event.line_no
            and _dated_alike(previous, event)
            and (_serves(previous, event) or _serves(event, previous))
        ):
            previous.items.extend(event.items)
            previous.merged.extend(event.merged)
            previous.mentions.extend(event.mentions)
            continue
        out.append(event)
    return out


def _dated_alike(a: Event, b: Event) -> bool:
    return not a.start or not b.start or a.start == b.start


def _serves(helper: Event, step: Event) -> bool:
    """Every drug of ``helper`` supports a step ``step`` is (a transplant's conditioning, a
    CAR-T's lymphodepletion), and ``helper`` is no step itself."""
    if not helper.items or helper.is_transplant or any(i.therapy_class == "car_t" for i in helper.items):
        return False
    steps = []
    if step.is_transplant:
        steps.append("conditioning")
    if any(i.therapy_class == "car_t" for i in step.items):
        steps.append("lymphodepletion")
    if not steps:
        return False
    serving = drugs_supporting(*steps)
    return all(i.ingredient in serving or i.therapy_class == "corticosteroid" for i in helper.items)


@cache
def drugs_supporting(*steps: str) -> frozenset[str]:
    """The drugs that serve any of the steps ("conditioning", "lymphodepletion"; lexicons/
    drugs.json "supports"), read once: ``Event.core`` asks on every call."""
    wanted = set(steps)
    return frozenset(d.ingredient for d in load_lexicon().drugs if wanted & set(d.supports))


def place_mentions(events: list[Event]) -> Placed:
    """Fold re-mentions into the entries they name; keep exposure-only mentions apart.

    Only when the document tells its history as entries: otherwise every event stands.
    """
    entries = [e for e in events if e.placement is Placement.ENTRY]
    if not entries:
        return Placed(events, [])
    kept: list[Event] = []
    exposure: list[TherapyMention] = []
    placed_core: set[str] = set()
    for event in events:
        if event.placement is not Placement.ENTRY:
            continue
        placed_core |= event.core
    for event in events:
        if event.placement is Placement.ENTRY:
            kept.append(event)
            continue
        if event.placement is Placement.MENTION and (named := _named_by_class(event, entries)) is not None:
            # "stem cell transplant", "CAR-T" with no date, when an entry holds an
            # autologous transplant or a CAR-T product: the class named, not a therapy
            # the history left out
            named.mentions.extend(event.carried)
            continue
        holder = _holder(event, entries) if event.core and event.core <= placed_core else None
        if holder is not None and event.placement is Placement.MENTION:
            distribute(event, [(e.ingredients | e.core, e.mentions) for e in entries])
            continue
        if holder is not None and _restated(event, holder):
            # "She then received lenalidomide maintenance": an episode cue, but the drugs,
            # phase and plan of an entry already told - the entry, not a new line
            holder.mentions.extend(event.carried)
            continue
        if event.placement is Placement.MENTION:
            exposure.extend(event.items)
            continue
        kept.append(event)
    return Placed(kept, exposure)


def _holder(event: Event, entries: list[Event]) -> Event | None:
    """The entry a re-mention names: the one holding most of its drugs, the latest on a tie."""
    best: Event | None = None
    best_overlap = 0
    for entry in entries:
        overlap = len(event.core & entry.core)
        if overlap and overlap >= best_overlap:
            best, best_overlap = entry, overlap
    if best is None:
        return None
    # every drug of the mention must be in some entry; the holder takes the evidence
    return best


def _named_by_class(event: Event, entries: list[Event]) -> Event | None:
    """The entry that holds, by name, the therapy a class-name mention speaks of: the latest
    entry with a therapy of each of the mention's classes.  None unless every therapy of
    the mention is a class name ("stem cell transplant", "CAR-T")."""
    core = [i for i in event.items if i.ingredient in event.core]
    if not core or not all(i.generic for i in core):
        return None
    classes = {i.therapy_class for i in core}
    holding = [e for e in entries if classes <= {i.therapy_class for i in e.items if not i.generic}]
    return holding[-1] if holding else None


Holder = tuple[set[str], list[TherapyMention]]  # what an entry or line holds, and its re-mentions


def distribute(event: Event, holders: list[Holder]) -> None:
    """A re-mention's drugs join the entries that hold them, each its own.

    A recap names drugs of several lines ("having had lenalidomide and pomalidomide,
    bortezomib and carfilzomib"): each drug joins a holder that holds it, the one sharing
    most of the event's drugs (a regimen's components stay together), the later on a tie.
    A drug no holder names (a steroid told with its partner) joins the best holder of all."""
    if not holders:
        return

    def best(candidates: list[Holder]) -> Holder:
        return max(reversed(candidates), key=lambda h: len(event.core & h[0]))

    overall = best(holders)
    # the event's own re-mentions go with it: a list told again on a later page carries
    # the recap that named it ("... after DKd")
    for item in event.carried:
        holding = [h for h in holders if item.ingredient in h[0]]
        (best(holding) if holding else overall)[1].append(item)


def _restated(event: Event, holder: Event) -> bool:
    return (
        not cues.search("retreatment", event.sentences)
        and not event.retold
        and event.core <= holder.core
        and bool(event.phases)
        and event.phases <= holder.phases
    )


# ------------------------------------------------------------------ event identity


def compatible_dates(a: str | None, b: str | None) -> bool:
    """Two starts name the same month, at the coarser of their precisions ("2019" and
    "2019-03" agree; "2019-03" and "2019-04" do not)."""
    if not a or not b:
        return False
    n = min(len(a), len(b), 7)
    return a[:n] == b[:n]


def same_regimen(a: Event, b: Event) -> bool:
    if a.is_transplant or b.is_transplant:
        # the same transplant named twice (letter and table) has the same month; one
        # telling may name only the class ("HCT 7/16/2024" beside "autologous
        # transplant 07/2024")
        return _same_kind(a, b) and compatible_dates(a.start, b.start)
    if a.core != b.core or not a.core:
        return False
    if a.retold != b.retold:
        return False  # a re-treatment is the regimen given again, not the first telling of it
    if a.explicit and b.explicit and a.explicit != b.explicit:
        return False
    if a.start and b.start:
        return compatible_dates(a.start, b.start)
    return True


def _same_kind(a: Event, b: Event) -> bool:
    """The same therapies, or one side names only their class (a generic name)."""
    if a.core == b.core:
        return True
    core_a = [i for i in a.items if i.ingredient in a.core]
    core_b = [i for i in b.items if i.ingredient in b.core]
    if not core_a or not core_b:
        return False
    classes_a = {i.therapy_class for i in core_a}
    classes_b = {i.therapy_class for i in core_b}
    if all(i.generic for i in core_a):
        return classes_a <= classes_b
    if all(i.generic for i in core_b):
        return classes_b <= classes_a
    return False


def merge_repeats(events: list[Event]) -> list[Event]:
    """The same regimen named again (summary, then table) is one event, not a new line."""
    kept: list[Event] = []
    for event in events:
        twin = next((k for k in kept if same_regimen(k, event)), None)
        if twin is None:
            kept.append(event)
            continue
        twin.merged.extend(event.items)
        twin.mentions.extend(event.mentions)
        twin.explicit = twin.explicit or event.explicit
        for item in event.items:
            if item.start and not any(i.start for i in twin.items):
                for twin_item in twin.items:
                    twin_item.start = twin_item.start or item.start
                    twin_item.end = twin_item.end or item.end
    return kept
