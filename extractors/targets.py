"""Therapy named by its target alone (lexicons/targets.json): "no prior anti-BCMA therapy",
"BCMA-naive", "refractory to BCMA-directed therapy", "prior BCMA bispecific"; and one
sentence that denies every kind of therapy against a target ("no prior belantamab,
bispecific antibody or CAR-T").

A policy that bars prior therapy of a target reads these beside the drugs.  ConText
decides the statement; a "naive" phrase states that none was received.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from functools import cache

from common.models import Assertion, TargetStatement
from extractors import cues
from extractors.answers import answered
from extractors.lexicon import Lexicon
from extractors.mentions import Mention
from extractors.nlp import CAR_T, CLASS, DRUG, TARGET
from extractors.pagetext import PageText
from extractors.structure.index import StructureIndex

_FLIP: dict[str, Assertion] = {"received": "negated", "negated": "received"}


def target_statements(
    mentions: Sequence[Mention], text: PageText, index: StructureIndex | None = None
) -> list[TargetStatement]:
    out: list[TargetStatement] = []
    for m in mentions:
        if m.label != TARGET:
            continue
        _, target, mode = m.concept.split(":", 2)
        # "Prior BCMA-directed therapy? [ ] Yes [ ] No" says nothing until a box is ticked
        assertion: Assertion = answered(index, text, m.start, m.end, m.assertion)  # type: ignore[assignment]
        if mode == "naive":
            assertion = _FLIP.get(assertion, assertion)  # "BCMA-naive": none received
        ev = text.evidence(m.start, m.end)
        out.append(
            TargetStatement(target=target, text=m.text, assertion=assertion, evidence=(ev,) if ev else ())
        )
    return out


def _modalities(lexicon: Lexicon) -> dict[str, dict[str, frozenset[str]]]:
    """target -> therapy class -> the class's members directed against it (ingredients)."""
    out: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for drug in lexicon.drugs:
        for target in drug.targets:
            out[target][drug.therapy_class].add(drug.ingredient)
    for product in lexicon.car_t_products:
        out[product.target]["car_t"].add(product.ingredient)
    return {t: {c: frozenset(m) for c, m in classes.items()} for t, classes in out.items()}


@cache
def _list_glue() -> re.Pattern[str]:
    """Nothing but list separators and cues.json "list_glue" words."""
    return re.compile(rf"(?i)^[\s,;/]*(?:{cues.fragment('list_glue')}\b[\s,;/]*)*$")


def _kind_words_denied(group: Sequence[Mention], text: PageText, lexicon: Lexicon) -> tuple[set[str], int]:
    """The classes of kind words ("bispecific antibody") that stand in the list a denial
    governs: between its denied mentions, or joined to the list's end by "or", "nor", "no"."""
    first, last = min(m.start for m in group), max(m.end for m in group)
    sentence_end = max(m.sent_end for m in group)
    found = sorted(
        (hit.start(), hit.end(), kind.classes)
        for kind in lexicon.target_kind_words
        for hit in cues.phrase_pattern(tuple(kind.phrases)).finditer(text.text, first, sentence_end)
    )
    out: set[str] = set()
    for start, end, classes in found:
        if end <= last or _list_glue().match(text.text[last:start]):
            out |= set(classes)
            last = max(last, end)
    return out, last


def modality_denials(mentions: Sequence[Mention], text: PageText, lexicon: Lexicon) -> list[TargetStatement]:
    """A sentence that denies each kind of therapy against a target states that none was
    received, though it never names the target: "No prior belantamab, bispecific antibody
    or CAR-T therapy."  A kind is denied by its class's name, by the generic CAR-T phrase,
    or by naming every member of it against the target (belantamab is the one BCMA
    antibody-drug conjugate).  Targets with a single kind of therapy are left to their own
    phrases: one drug denied is not the whole target."""
    modalities = _modalities(lexicon)
    generic = f"car_t:{lexicon.car_t_generic.ingredient}"
    by_sentence: dict[int, list[Mention]] = defaultdict(list)
    for m in mentions:
        if m.assertion == "negated" and m.label in (DRUG, CAR_T, CLASS):
            by_sentence[m.sent_start].append(m)
    out: list[TargetStatement] = []
    for group in by_sentence.values():
        classes = {m.concept.split(":", 1)[1] for m in group if m.label == CLASS}
        if any(m.concept == generic for m in group):
            classes.add("car_t")
        named = {m.concept.split(":", 1)[1] for m in group if m.label in (DRUG, CAR_T)}
        kinds_denied, last = _kind_words_denied(group, text, lexicon)
        classes |= kinds_denied
        for target, kinds in modalities.items():
            if len(kinds) < 2:
                continue
            if all(kind in classes or members <= named for kind, members in kinds.items()):
                first = min(m.start for m in group)
                ev = text.evidence(first, last)
                out.append(
                    TargetStatement(
                        target=target,
                        text=text.text[first:last],
                        assertion="negated",
                        evidence=(ev,) if ev else (),
                    )
                )
    return out
