"""spaCy entities -> plain Mention records (no spaCy object leaves this package).

Here the ConText modifiers and the section a mention sits in become one assertion:
family > negated > planned > uncertain > received.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from spacy.tokens import Doc, Span

from extractors.lexicon import Lexicon
from extractors.nlp import CAR_T, DRUG, PROCEDURE, REGIMEN

THERAPY_LABELS = {DRUG, REGIMEN, CAR_T, PROCEDURE}


@dataclass(frozen=True)
class Mention:
    label: str
    concept: str
    text: str
    start: int  # character offsets in the document text
    end: int
    sent_start: int
    sent_end: int
    section: str | None
    assertion: str
    fuzzy_factor: float


def _cue_pattern(cues: list[str]) -> re.Pattern[str] | None:
    if not cues:
        return None
    return re.compile(r"(?i)(?<![\w/])(?:" + "|".join(re.escape(c) for c in cues) + r")(?![\w/])")


class AssertionResolver:
    def __init__(self, lexicon: Lexicon) -> None:
        self.section_rules = [
            (rule.category, rule.assertion, _cue_pattern(rule.unless_cues), set(rule.applies_to))
            for rule in lexicon.section_assertions
        ]

    def resolve(self, ent: Span, kind: str, section: str | None) -> str:
        if ent._.is_family:
            return "family"
        for category, assertion, unless, applies in self.section_rules:
            if section == category and kind in applies and not (unless and unless.search(ent.sent.text)):
                if assertion == "family":
                    return "family"
                if assertion == "planned" and not ent._.is_negated:
                    return "planned"
        if ent._.is_negated:
            return "negated"
        if ent._.is_hypothetical and kind == "therapy":
            # only a therapy can be planned; "is a 66-year-old with myeloma" is not a plan
            return "planned"
        if ent._.is_uncertain:
            return "uncertain"
        return "received"


def collect_mentions(
    doc: Doc, resolver: AssertionResolver, *, offset: int = 0, section: str | None = None
) -> list[Mention]:
    """Mentions of one parsed chunk (a page); ``offset`` places it in the document text and
    ``section`` is the section the previous page ended in (a section runs across pages)."""
    mentions: list[Mention] = []
    for ent in doc.ents:
        kind = "therapy" if ent.label_ in THERAPY_LABELS else ent.label_.lower()
        ent_section = ent._.section_category or section
        mentions.append(
            Mention(
                label=ent.label_,
                concept=ent._.concept or "",
                text=ent.text,
                start=ent.start_char + offset,
                end=ent.end_char + offset,
                sent_start=ent.sent.start_char + offset,
                sent_end=ent.sent.end_char + offset,
                section=ent_section,
                assertion=resolver.resolve(ent, "status" if kind == "status" else kind, ent_section),
                fuzzy_factor=ent._.fuzzy_factor,
            )
        )
    return mentions


def last_section(doc: Doc, before: str | None) -> str | None:
    sections = getattr(doc._, "sections", None) or []
    categories = [s.category for s in sections if s.category]
    return categories[-1] if categories else before
