"""Diagnoses, disease status, stated prior lines and the policy's informational findings."""

from __future__ import annotations

import re
from functools import lru_cache

from common.models import DiagnosisFact, Evidence, Finding, StatusFact
from extractors.lexicon import Lexicon, load_lexicon
from extractors.mentions import Mention
from extractors.nlp import DIAGNOSIS, STATUS
from extractors.pagetext import PageText

_ICD = re.compile(r"\b([A-Z]\d{2}\.\d{1,2})\b")
_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "multiple": 0, "several": 0,
}  # fmt: skip
_PRIOR_LINES = re.compile(
    r"(?i)\b(\d{1,2}|one|two|three|four|five|six|seven|eight|nine|ten)\+?\s*"
    r"(?:prior|previous|preceding|lines? of prior|total)?\s*"
    r"(?:lines?|LOTs?|regimens?)(?:\s+of\s+(?:prior\s+)?(?:therapy|therapies|treatment|treatments))?\b"
)
_LABEL_WORDS = re.compile(r"(?i)indicat|label|approved|policy|criteri|requires?|coverage")
_PRIOR_WORD = re.compile(
    r"(?i)\b(?:prior|previous|pretreated|received|s/p|after|failed|history|LOT|lines of)\b"
)


def diagnoses(mentions: list[Mention], text: PageText, lexicon: Lexicon) -> list[DiagnosisFact]:
    rows = {row.concept: row for row in lexicon.diagnoses}
    facts: list[DiagnosisFact] = []
    seen: set[tuple[str, str, str]] = set()
    for m in mentions:
        if m.label != DIAGNOSIS:
            continue
        concept = m.concept.split(":", 1)[1]
        key = (concept, m.text.lower(), m.assertion)
        if key in seen:
            continue
        seen.add(key)
        ev = text.evidence(m.start, m.end)
        facts.append(
            DiagnosisFact(
                concept=concept,
                is_target=rows[concept].is_target,
                text=m.text,
                assertion=m.assertion,
                evidence=(ev,) if ev else (),
            )
        )
    for match in _ICD.finditer(text.text):
        code = match.group(1)
        row = next(
            (
                r
                for r in lexicon.diagnoses
                if code in r.icd10 or any(code.startswith(p) for p in r.icd10_prefixes)
            ),
            None,
        )
        if row is None:
            continue
        ev = text.evidence(match.start(), match.end())
        facts.append(
            DiagnosisFact(
                concept=row.concept,
                is_target=row.is_target,
                text=code,
                icd10=code if code in row.icd10 else None,
                evidence=(ev,) if ev else (),
            )
        )
    return facts


def statuses(mentions: list[Mention], text: PageText, lexicon: Lexicon) -> list[StatusFact]:
    implied = {term: status for row in lexicon.diagnoses for term, status in row.implies_status.items()}
    facts: list[StatusFact] = []
    seen: set[tuple[str, str, str]] = set()
    for m in mentions:
        if m.label == STATUS:
            status = m.concept.split(":", 1)[1]
        elif m.label == DIAGNOSIS and m.text in implied:
            status = implied[m.text]
        else:
            continue
        key = (status, m.text.lower(), m.assertion)
        if key in seen:
            continue
        seen.add(key)
        ev = text.evidence(m.start, m.end)
        facts.append(
            StatusFact(status=status, text=m.text, assertion=m.assertion, evidence=(ev,) if ev else ())
        )
    for match in _ICD.finditer(text.text):
        code = match.group(1)
        coded = {"C90.02": "relapsed", "C90.01": "remission"}.get(code)
        if coded:
            ev = text.evidence(match.start(), match.end())
            facts.append(StatusFact(status=coded, text=code, evidence=(ev,) if ev else ()))
    return facts


def stated_prior_lines(text: PageText) -> tuple[int | None, tuple[Evidence, ...]]:
    """ "4 prior LOT", "3 prior lines of therapy", "heavily pretreated with 5 prior lines"."""
    for match in _PRIOR_LINES.finditer(text.text):
        window = text.text[max(0, match.start() - 40) : match.end() + 5]
        if not (_PRIOR_WORD.search(match.group(0)) or _PRIOR_WORD.search(window)):
            continue
        if _is_label_wording(text.text, match):
            continue
        word = match.group(1).lower()
        value = int(word) if word.isdigit() else _NUMBERS.get(word, 0)
        if 1 <= value <= 20:
            ev = text.evidence(match.start(), match.end())
            return value, (ev,) if ev else ()
    return None, ()


def _is_label_wording(text: str, match: re.Match[str]) -> bool:
    """ "after two or more prior lines" quoted from a label or policy is not this patient's count."""
    around = text[max(0, match.start() - 120) : match.end() + 40]
    minimum = re.search(
        r"(?i)\bor more\b|\bat least\b|\bor greater\b", text[match.start() - 12 : match.end() + 12]
    )
    return bool(minimum and _LABEL_WORDS.search(around))


@lru_cache(maxsize=1)
def _finding_patterns() -> list[tuple[str, list[re.Pattern[str]], re.Pattern[str] | None]]:
    lexicon = load_lexicon()
    return [
        (
            row.key,
            [re.compile(p, re.I) for p in row.patterns],
            re.compile(row.negation, re.I) if row.negation else None,
        )
        for row in lexicon.findings
    ]


def findings(text: PageText) -> list[Finding]:
    out: list[Finding] = []
    sentences = _sentences(text.text)
    for key, patterns, negation in _finding_patterns():
        for start, end in sentences:
            sentence = text.text[start:end]
            for pattern in patterns:
                match = pattern.search(sentence)
                if not match:
                    continue
                assertion = "negated" if negation and negation.search(sentence) else "received"
                ev = text.evidence(start + match.start(), start + match.end())
                out.append(
                    Finding(key=key, text=match.group(0), assertion=assertion, evidence=(ev,) if ev else ())
                )
                break
    return out


def _sentences(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    for match in re.finditer(
        r"(?<=[.!?])\s+(?=[A-Z(])|\n\s*\n|\n(?=\s*(?:[-•*]|\d+[.)]|[A-Z][\w /&]{0,40}:))", text
    ):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    return [(s, e) for s, e in spans if e > s]
