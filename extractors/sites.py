"""Places of disease (lexicons/sites.json): "no CNS involvement", "history of
leptomeningeal myeloma", "MRI brain: no leptomeningeal disease".

The phrases are medspaCy targets, so ConText and the sections decide negation, family
history and plans.  Two things ConText does not see are decided here: a form's answer
after the phrase ("CNS involvement: none"), and a sentence that does not report the
member's condition (seizure prophylaxis before a CAR-T, neurotoxicity monitoring,
label warnings), which is "discussed", never a finding.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

from common.models import Assertion, SiteFinding
from extractors import cues
from extractors.answers import form_answer, form_place
from extractors.lexicon import Lexicon
from extractors.mentions import Mention, cue_regex
from extractors.nlp import SITE
from extractors.pagetext import PageText
from extractors.structure.index import StructureIndex


# "CNS involvement: none", "Leptomeningeal disease - no", "CNS disease: negative": the
# answer after the phrase (cues.json "answer_absent", "answer_present")
@cache
def _answer(cue: str) -> re.Pattern[str]:
    return re.compile(rf"(?i)^\s*[:\-–=]\s*{cues.fragment(cue)}\b")


# "MRI brain: no leptomeningeal disease": the lead-in "brain: no" is read by ConText as a
# form answer about what stands before the colon, so the plain negation just before the
# phrase is checked here.  Tight on purpose: "no improvement of CNS disease" stays found.
@cache
def _negation_before() -> re.Pattern[str]:
    return re.compile(
        rf"(?i)\b{cues.fragment('finding_negation')}\s+"
        rf"(?:{cues.fragment('finding_noun')}\s+(?:of|for)\s+)?(?:{cues.fragment('finding_qualifier')}\s+)?$"
    )


def site_findings(
    mentions: Sequence[Mention], text: PageText, lexicon: Lexicon, index: StructureIndex | None = None
) -> list[SiteFinding]:
    not_about = (
        cue_regex(tuple(lexicon.site_not_about_patient_cues)) if lexicon.site_not_about_patient_cues else None
    )
    out: list[SiteFinding] = []
    for m in mentions:
        if m.label != SITE:
            continue
        _, site, kind = m.concept.split(":", 2)
        assertion: Assertion = m.assertion  # type: ignore[assignment]
        option, question = form_place(index, text, m.start, m.end)
        after = text.text[m.end : m.end + 24]
        before = text.text[max(m.sent_start, m.start - 60) : m.start]
        if option is not None or question is not None:
            # "Active or prior CNS involvement? [ ] Yes [X] No": the ticked box answers
            assertion = form_answer(option, question, assertion)  # type: ignore[assignment]
        elif _answer("answer_absent").match(after) or (
            assertion == "received" and _negation_before().search(before)
        ):
            assertion = "negated"
        elif _answer("answer_present").match(after) and assertion == "uncertain":
            assertion = "received"
        sentence = text.text[m.sent_start : m.sent_end]
        if assertion == "received" and not_about is not None and not_about.search(sentence):
            assertion = "discussed"  # "seizure prophylaxis with levetiracetam per protocol"
        ev = text.evidence(m.start, m.end)
        near = text.text[max(m.sent_start, m.start - _NOW_REACH) : min(m.sent_end, m.end + _NOW_REACH)]
        out.append(
            SiteFinding(
                site=site,
                kind=kind,
                text=m.text,
                assertion=assertion,
                evidence=(ev,) if ev else (),
                current_only=assertion == "negated" and _current_only(near),
            )
        )
    return out + _answers(text, lexicon)


# How far around a denied place of disease a word may make the denial one of the present.
_NOW_REACH = 30


def _current_only(near: str) -> bool:
    """ "No active CNS disease", "no CNS disease at present": a denial of the present that
    says nothing of the disease's history; "no active or prior CNS disease" says both."""
    return cues.search("present_only", near) is not None and cues.search("history_too", near) is None


# "MRI brain 10/06/2026: no leptomeningeal disease", "CSF cytology (3/2/26): negative": the
# day the study was done may stand between the label and its answer
_LABEL_DATE = r"(?:\s+\(?(?:on\s+)?\d{1,4}[/.-]\d{1,2}(?:[/.-]\d{2,4})?\)?)?"


def _answers(text: PageText, lexicon: Lexicon) -> list[SiteFinding]:
    """A site's label answered on its line: "CNS: negative", "MRI brain: negative"."""
    out: list[SiteFinding] = []
    for site, labels in lexicon.site_answer_labels.items():
        alternation = "|".join(re.escape(label) for label in sorted(labels, key=len, reverse=True))
        studies = {label.lower() for label in lexicon.site_study_labels.get(site, ())}
        pattern = re.compile(
            rf"(?im)(?<![\w-])(?P<label>{alternation}){_LABEL_DATE}\s*[:\-–=]\s*"
            rf"(?:(?P<no>{cues.fragment('answer_absent')})|(?P<yes>{cues.fragment('answer_present')}))\b"
        )
        for match in pattern.finditer(text.text):
            assertion: Assertion = "negated" if match.group("no") else "received"
            ev = text.evidence(match.start(), match.end())
            out.append(
                SiteFinding(
                    site=site,
                    kind="involvement",
                    text=match.group(0),
                    assertion=assertion,
                    evidence=(ev,) if ev else (),
                    # a study's negative result is the state on its day, not the history
                    current_only=assertion == "negated" and match.group("label").lower() in studies,
                )
            )
    return out
