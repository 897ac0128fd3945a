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

    def resolve(self, ent: Span, kind: str) -> str:
        if ent._.is_family:
            return "family"
        section = ent._.section_category
        sentence = ent.sent.text
        for category, assertion, unless, applies in self.section_rules:
            if section == category and kind in applies and not (unless and unless.search(sentence)):
                if assertion == "family":
                    return "family"
                if assertion == "planned" and not ent._.is_negated:
                    return "planned"
        if ent._.is_negated:
            return "negated"
        if ent._.is_hypothetical:
            return "planned"
        if ent._.is_uncertain:
            return "uncertain"
        return "received"


def collect_mentions(doc: Doc, resolver: AssertionResolver) -> list[Mention]:
    mentions: list[Mention] = []
    for ent in doc.ents:
        kind = "therapy" if ent.label_ in THERAPY_LABELS else ent.label_.lower()
        mentions.append(
            Mention(
                label=ent.label_,
                concept=ent._.concept or "",
                text=ent.text,
                start=ent.start_char,
                end=ent.end_char,
                sent_start=ent.sent.start_char,
                sent_end=ent.sent.end_char,
                section=ent._.section_category,
                assertion=resolver.resolve(ent, "status" if kind == "status" else kind),
                fuzzy_factor=ent._.fuzzy_factor,
            )
        )
    return mentions
