"""Class-level evidence: a therapy class named as such, with no drug named.

"Triple-class refractory", "refractory to an IMiD, a PI and an anti-CD38 antibody",
"PI-exposed" are evidence that each class was received; "PI-naive", "never received a
proteasome inhibitor" are explicit statements that it was not.  Each becomes a Therapy
of the class with ``class_level`` set, so the reviewer sees that no drug was named; it
forms no line of therapy.  A short class name ("PI", "TCR") counts only in a clause that
speaks of exposure, refractoriness or treatment: "PI: Dr. Smith" is a trial's
investigator.
"""

from __future__ import annotations

import re
from functools import cache

from common.models import Therapy
from extractors import cues
from extractors.answers import answered
from extractors.lexicon import Lexicon
from extractors.mentions import Mention
from extractors.nlp import CLASS, STATUS
from extractors.pagetext import PageText
from extractors.structure.index import StructureIndex

_SHORT = 4  # letters: "PI", "PIs", "TCR", "IMiD"
_REACH = 60  # characters around a short class name in which its context must stand


def class_level_therapies(
    mentions: list[Mention], text: PageText, lexicon: Lexicon, index: StructureIndex | None = None
) -> list[Therapy]:
    labels = {row.id: row.label for row in lexicon.therapy_classes}
    # A composite phrase may also be a disease status ("triple-class refractory"): the
    # entity is the status's, the evidence of classes the same.
    composites = {
        phrase.lower(): tuple(row.classes)
        for row in lexicon.class_composites
        for phrase in [*row.phrases, *row.case_sensitive]
    }
    out: list[Therapy] = []
    for m in mentions:
        classes = _classes_named(m, lexicon, composites)
        if not classes:
            continue
        if len(re.sub(r"[^A-Za-z]", "", m.text)) <= _SHORT and not _exposure_context(m, text):
            continue
        assertion = m.assertion
        # a class named without a word of exposure about it is talked about, not given:
        # "Proteasome inhibitors are, of course, a mainstay of myeloma treatment"
        single_class = m.label == CLASS and not m.concept.startswith("classes:")
        if assertion == "received" and single_class and not _exposure_context(m, text):
            assertion = "discussed"
        if assertion == "negated" and refractoriness(m, text):
            # "she is not strictly dara-refractory", "not refractory to a PI": a denied
            # refractoriness says nothing against exposure (it was given, and did not fail)
            assertion = "discussed"
        if assertion == "negated" and single_class and narrowed(m, text):
            # "has not received a second-generation PI such as carfilzomib": a part of the
            # class denied, the class itself neither shown nor ruled out
            assertion = "discussed"
        # a form's class line: "b. Proteasome inhibitor  [ ] bortezomib  [X] None received"
        assertion = answered(index, text, m.start, m.end, assertion)
        if assertion == "received" and cues.search("general_statement", text.text[m.sent_start : m.sent_end]):
            assertion = "discussed"  # a label's, a policy's or a population's classes
        ev = text.evidence(m.start, m.end, confidence_factor=m.fuzzy_factor)
        for klass in classes:
            out.append(
                Therapy(
                    ingredient=f"{labels[klass]} (no drug named)",
                    therapy_class=klass,
                    assertion=assertion,
                    evidence=(ev,) if ev else (),
                    class_level=True,
                )
            )
    return out


def _classes_named(m: Mention, lexicon: Lexicon, composites: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    if m.label == STATUS:
        return composites.get(m.text.lower(), ())
    if m.label != CLASS:
        return ()
    kind, _, key = m.concept.partition(":")
    return (key,) if kind == "class" else tuple(lexicon.class_composites[int(key)].classes)


_NARROWING_REACH = 30  # characters before a class name in which its qualifier stands


_REFRACTORY_REACH = 20  # characters before a class name: "not refractory to an anti-CD38 antibody"


def refractoriness(m: Mention, text: PageText) -> bool:
    """The mention states refractoriness, not exposure: a composite status ("dara-refractory"),
    a drug or class written onto the word ("dara-refractory", "daratumumab refractory") or
    named right after it ("not refractory to an anti-CD38 antibody")."""
    if cues.search("refractoriness", m.text):
        return True  # the status named in the phrase itself: "triple-class refractory"
    if m.label == STATUS:
        return False
    before = text.text[max(m.sent_start, m.start - _REFRACTORY_REACH) : m.start]
    after = text.text[m.end : min(m.sent_end, m.end + _REFRACTORY_REACH)]
    return bool(
        cues.search("refractoriness", before) or cues.pattern("refractoriness").match(after.lstrip(" -"))
    )


def narrowed(m: Mention, text: PageText) -> bool:
    """A qualifier right before the class name, with at most an article between them."""
    before = text.text[max(m.sent_start, m.start - _NARROWING_REACH) : m.start]
    found = list(cues.pattern("class_narrowing").finditer(before))
    last = found[-1] if found else None
    if last is None or re.fullmatch(r"[\s,]*(?:an?\s+|the\s+)?", before[last.end() :]) is None:
        return False
    # "a BCMA-directed CAR-T or any other CAR-T product": after "or", "other" widens
    return _widening().search(before[: last.start()]) is None


@cache
def _widening() -> re.Pattern[str]:
    return re.compile(rf"(?i)(?<![\w/]){cues.fragment('class_widening')}\s*$")


def _exposure_context(m: Mention, text: PageText) -> bool:
    start = max(m.sent_start, m.start - _REACH)
    end = min(m.sent_end, m.end + _REACH)
    return bool(cues.search("class_context", text.text[start:end]))
