"""Dated progression and the last dose: the facts a policy times against each other
("progressive disease ... assessed within 60 days following the last dose").

A progression is a status mention of lexicons/events.json's statuses (progressive
disease, relapse), asserted for the member (not planned, negated, a relative's or a
trial's), with a date in its own sentence; the drugs named after an "on" cue are the
regimen it progressed on.  A last dose is a dated "last dose" statement.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from pydantic import Field

from common.models import DatedEvent
from extractors.dates import find_single_dates
from extractors.lexicon import Lexicon, Row, read_json
from extractors.mentions import Mention
from extractors.nlp import CAR_T, DRUG, REGIMEN, STATUS
from extractors.pagetext import PageText


class EventCues(Row):
    progression_statuses: list[str] = Field(min_length=1)
    on_cues: list[str] = Field(min_length=1)
    last_dose_cues: list[str] = Field(min_length=1)
    imwg_cues: list[str] = Field(min_length=1)
    negation_before: list[str] = Field(min_length=1)


@dataclass(frozen=True)
class _Compiled:
    statuses: frozenset[str]
    on_before: re.Pattern[str]
    last_dose: re.Pattern[str]
    imwg: re.Pattern[str]
    negated: re.Pattern[str]


def _alternation(patterns: Sequence[str]) -> str:
    return "|".join(f"(?:{p})" for p in patterns)


@lru_cache(maxsize=1)
def _cues() -> _Compiled:
    raw = read_json("events.json")
    cues = EventCues.model_validate({k: v for k, v in raw.items() if k in EventCues.model_fields})
    return _Compiled(
        statuses=frozenset(cues.progression_statuses),
        on_before=re.compile(rf"(?i)\b(?:{_alternation(cues.on_cues)})\s+(?:[\w/]+[\s/-]+){{0,2}}$"),
        last_dose=re.compile(rf"(?i)\b(?:{_alternation(cues.last_dose_cues)})\b"),
        imwg=re.compile(rf"(?i)\b(?:{_alternation(cues.imwg_cues)})\b"),
        negated=re.compile(rf"(?i)\b(?:{_alternation(cues.negation_before)})\s+(?:[\w-]+\s+){{0,3}}$"),
    )


def _ingredients(m: Mention, lexicon: Lexicon) -> list[str]:
    kind, _, rest = m.concept.partition(":")
    if kind == "regimen" and rest.isdigit() and int(rest) < len(lexicon.regimens):
        return list(lexicon.regimens[int(rest)].components)
    if kind in ("drug", "car_t"):
        return [rest]
    return []


def _date_near(
    text: str, start: int, end: int, sent_start: int, sent_end: int, therapy_starts: Sequence[int] = ()
) -> tuple[int, int, str] | None:
    """The date nearest after the mention in its sentence ("PD 08/2026"), else before it
    ("08/2026: progression") - but not a therapy's own date: in "KPd 06/2025 03/2026 PD"
    (a history row's stop reason) 03/2026 is when KPd stopped, not when progression was
    assessed."""
    sentence = text[sent_start:sent_end]
    dates = find_single_dates(sentence)
    after = [d for d in dates if d[0] + sent_start >= end]
    if after:
        # "refractory to Isa-Kd, which was discontinued in December 2025": a date that a
        # last-dose cue governs is when the therapy stopped, not when progression was seen
        between = text[end : after[0][0] + sent_start]
        return None if _cues().last_dose.search(between) else after[0]
    before = [
        d
        for d in dates
        if d[1] + sent_start <= start and not any(sent_start <= t < d[0] + sent_start for t in therapy_starts)
    ]
    return before[-1] if before else None


def progression_events(mentions: Sequence[Mention], text: PageText, lexicon: Lexicon) -> list[DatedEvent]:
    cues = _cues()
    therapies = [m for m in mentions if m.label in (DRUG, REGIMEN, CAR_T)]
    out: list[DatedEvent] = []
    seen: set[tuple[str | None, int]] = set()
    for m in mentions:
        if m.label != STATUS or m.assertion != "received":
            continue
        if m.concept.partition(":")[2] not in cues.statuses:
            continue
        if cues.negated.search(text.text[m.sent_start : m.start]):
            continue  # "No progression on 06/2026 imaging"
        found = _date_near(text.text, m.start, m.end, m.sent_start, m.sent_end, [t.start for t in therapies])
        if found is None:
            continue
        d_start, d_end, value = found
        key = (value, m.sent_start)
        if key in seen:
            continue
        seen.add(key)
        sentence = text.text[m.sent_start : m.sent_end]
        on = [
            ingredient
            for t in therapies
            if m.sent_start <= t.start < m.sent_end
            and cues.on_before.search(text.text[max(m.sent_start, t.start - 40) : t.start])
            for ingredient in _ingredients(t, lexicon)
        ]
        evidence = [
            e
            for e in (
                text.evidence(m.start, m.end),
                text.evidence(m.sent_start + d_start, m.sent_start + d_end),
            )
            if e
        ]
        out.append(
            DatedEvent(
                kind="progression",
                date=value,
                text=sentence.strip()[:200],
                imwg=bool(cues.imwg.search(sentence)),
                on_ingredients=tuple(dict.fromkeys(on)),
                evidence=tuple(evidence),
            )
        )
    return out


_LAST_DOSE_REACH = 60


def last_dose_events(text: PageText) -> list[DatedEvent]:
    """A last dose and its date: the first date after the cue in the same sentence."""
    cues = _cues()
    out: list[DatedEvent] = []
    for match in cues.last_dose.finditer(text.text):
        tail = text.text[match.end() : match.end() + _LAST_DOSE_REACH]
        stop = re.search(r"[.;!?](?:\s|$)|\n\s*\n", tail)
        tail = tail[: stop.start()] if stop else tail
        dates = find_single_dates(tail)
        if not dates:
            continue
        _, end, value = dates[0]
        ev = text.evidence(match.start(), match.end() + end)
        out.append(
            DatedEvent(
                kind="last_dose",
                date=value,
                text=text.text[match.start() : match.end() + end],
                evidence=(ev,) if ev else (),
            )
        )
    return out
