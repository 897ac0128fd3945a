"""Diagnoses, disease status, stated prior lines and the policy's informational findings."""

from __future__ import annotations

import re
from functools import cache, lru_cache

from common.models import DiagnosisFact, Evidence, Finding, StatusFact
from extractors import cues
from extractors.lexicon import Lexicon, load_lexicon
from extractors.mentions import Mention, cue_regex
from extractors.nlp import DIAGNOSIS, STATUS
from extractors.pagetext import PageText

_ICD = re.compile(r"\b([A-Z]\d{2}\.\d{1,2})\b")


@cache
def _prior_lines() -> re.Pattern[str]:
    # "four (4) prior lines": a legal letter's number written out, then in digits
    return re.compile(
        rf"(?i)\b(\d{{1,2}}|{cues.number_words('cardinals')})(?:\s*\(\d{{1,2}}\))?\+?\s*"
        rf"(?:{cues.fragment('prior')}|lines? of {cues.fragment('prior')}|total)?\s*"
        rf"{cues.fragment('line_count_noun')}"
        rf"(?:\s+of\s+(?:{cues.fragment('prior')}\s+)?{cues.fragment('therapy_noun')})?\b"
    )


# A form's field: "Number of prior lines of therapy: 5", "Prior LOT: 4", "# of prior regimens = 3".
# A list number ("Prior lines: 1. VRd") is not a count.
@cache
def _prior_lines_field() -> re.Pattern[str]:
    return re.compile(
        rf"(?im)\b(?:(?:total\s+)?(?:number|no\.?|#)\s+of\s+)?{cues.fragment('prior')}\s+"
        rf"{cues.fragment('line_count_noun')}(?:\s+of\s+{cues.fragment('therapy_noun')})?"
        rf"\s*(?:\(\s*#\s*\))?\s*[:=]\s*(?P<n>\d{{1,2}}|{cues.number_words('cardinals')})"
        r"\b(?![.)][ \t]*[A-Za-z(]|[.)/]\d|\s*[-/]\s*\d)"  # not a list number, not a date "12/2018"
    )


# The line about to start: "now in need of fourth-line therapy", "candidate for 5th line
# treatment", "now starting sixth-line therapy" - the lines before it are one fewer.
@cache
def _next_line() -> re.Pattern[str]:
    needs = cues.fragment("needs_line")
    return re.compile(
        rf"(?i)\b(?:(?:now|currently)\s+(?:{needs}|{cues.fragment('now_needs_line')})|{needs})\s+"
        r"(?:(?:his|her|their|a|the)\s+)?"
        rf"(?P<ord>{cues.number_words('ordinals', least=2)}|[2-9](?:nd|rd|th)|1[0-9]th)"
        rf"[\s-]+line\b(?:\s+(?:of\s+)?{cues.fragment('therapy_noun')})?"
    )


# Words of a sentence about other patients: a trial's population or a label's.
@cache
def _population_count() -> re.Pattern[str]:
    return re.compile(
        rf"(?i)\b(?:{cues.fragment('population_count')}|"
        rf"phase\s+(?:[1-3]|I{{1,3}})[ab]?\s+{cues.fragment('trial_word')})\b"
    )


@cache
def _label_words() -> re.Pattern[str]:
    return re.compile(rf"(?i){cues.fragment('label_wording')}")


@cache
def _prior_word() -> re.Pattern[str]:
    return re.compile(rf"(?i)\b(?:{cues.fragment('prior')}|{cues.fragment('lines_had')})\b")


# A disease word inside the name of a program or a department (letterheads, signatures).
# Capitalised words only between the disease and the keyword ("Myeloma and Cellular
# Therapy Program"), so "myeloma and is followed in our clinic" stays a diagnosis.
@cache
def _institution_after() -> re.Pattern[str]:
    return re.compile(
        r"[ \t]*(?:(?:and|&|/|,)?[ \t]*[A-Z][\w-]*[ \t]*){0,4}?(?:(?<=[ \t])|^)"
        rf"{cues.fragment('institution_word')}\b"
    )


def diagnoses(mentions: list[Mention], text: PageText, lexicon: Lexicon) -> list[DiagnosisFact]:
    rows = {row.concept: row for row in lexicon.diagnoses}
    facts: list[DiagnosisFact] = []
    seen: set[tuple[str, str, str]] = set()
    for m in mentions:
        if m.label != DIAGNOSIS:
            continue
        concept = m.concept.split(":", 1)[1]
        if _institution_after().match(text.text, m.end):
            continue  # "Director, Myeloma and Cellular Therapy Program": a name, not a diagnosis
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


# A status word about something other than the myeloma: "relapse-free survival",
# "progression-free", "refractory hypertension", "progressive neuropathy", "relapsed
# prostate cancer".  Only a status of the myeloma may meet "relapsed or refractory".
_NEAR_DIAGNOSIS = 150  # characters: the same clause or the next, not the next paragraph
_FREE_AFTER = re.compile(r"(?i)^\s*-?\s*(?:free\b|remitting\b)")


# "to reduce the risk of relapse", "monitor for progression": a relapse talked about, not had
@cache
def _not_an_event_before() -> re.Pattern[str]:
    return re.compile(rf"(?i)\b{cues.fragment('not_an_event')}\s+(?:\w+\s+){{0,2}}$")


def _population(lexicon: Lexicon) -> re.Pattern[str]:
    return cue_regex(tuple(lexicon.car_t_population_cues))


_NEXT_WORD = re.compile(r"^[ \t]+([A-Za-z][\w-]*)")


def _about_something_else(
    m: Mention, text: PageText, lexicon: Lexicon, target_sentences: set[int], other_sentences: set[int]
) -> bool:
    after = text.text[m.end : m.end + 60]
    if _FREE_AFTER.match(after) or _not_an_event_before().search(text.text[max(0, m.start - 40) : m.start]):
        return True
    if m.section == "past_medical_history" and m.sent_start not in target_sentences:
        return True  # "PMH: colon cancer 2015, treated with surgery; relapsed 2024 ..."
    if _population(lexicon).search(text.text[m.sent_start : m.sent_end]):
        return True  # "In CARTITUDE-4, patients relapsed after a median of 2 prior lines"
    if m.text.lower() in lexicon.status_adjectives:
        nxt = _NEXT_WORD.match(after)
        if nxt and nxt.group(1).lower() not in lexicon.myeloma_next_words:
            return True
    # a sentence that names another disease and not the myeloma speaks of that disease
    return m.sent_start in other_sentences and m.sent_start not in target_sentences


def _after_another_disease(m: Mention, diagnosed: list[Mention], targets: set[str]) -> bool:
    """The nearest diagnosis before the status, close by, is another disease: "PMH: colon
    cancer 2015, treated with surgery; relapsed 2024 with liver metastases"."""
    if any(d.sent_start == m.sent_start for d in diagnosed):
        return False  # the sentence names its own disease: the sentence rule decides
    before = [d for d in diagnosed if d.end <= m.start and m.start - d.end <= _NEAR_DIAGNOSIS]
    if not before:
        return False
    nearest = max(before, key=lambda d: d.end)
    return nearest.concept.split(":", 1)[1] not in targets


def statuses(mentions: list[Mention], text: PageText, lexicon: Lexicon) -> list[StatusFact]:
    implied = {term: status for row in lexicon.diagnoses for term, status in row.implies_status.items()}
    targets = {row.concept for row in lexicon.diagnoses if row.is_target}
    diagnosed = [m for m in mentions if m.label == DIAGNOSIS]
    target_sentences = {m.sent_start for m in diagnosed if m.concept.split(":", 1)[1] in targets}
    other_sentences = {m.sent_start for m in diagnosed if m.concept.split(":", 1)[1] not in targets}
    facts: list[StatusFact] = []
    seen: set[tuple[str, str, str]] = set()
    for m in mentions:
        if m.label == STATUS:
            status = m.concept.split(":", 1)[1]
            if _about_something_else(m, text, lexicon, target_sentences, other_sentences):
                continue
            if _after_another_disease(m, diagnosed, targets):
                continue
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


_REGIMEN_COUNT = re.compile(r"(?i)\bregimens?\b")


def stated_prior_lines(text: PageText) -> tuple[int | None, tuple[Evidence, ...]]:
    """The member's count of prior lines as the note states it, the first one written:
    "4 prior LOT", "3 prior lines of therapy", "heavily pretreated with 5 prior lines",
    a form's "Number of prior lines of therapy: 5", or "now in need of fourth-line therapy"
    (the line being requested is the fourth: three before it).

    Not counted: a label's or policy's minimum ("after two or more prior lines") and a
    statement about other patients ("In KarMMa, patients had a median of 6 prior lines").
    """
    found: list[tuple[int, int, int]] = []  # (offset, value, end)
    for match in _prior_lines().finditer(text.text):
        window = text.text[max(0, match.start() - 40) : match.end() + 5]
        if not (_prior_word().search(match.group(0)) or _prior_word().search(window)):
            continue
        if _is_label_wording(text.text, match):
            continue
        found.append((match.start(), _count(match.group(1)), match.end()))
    for match in _prior_lines_field().finditer(text.text):
        found.append((match.start(), _count(match.group("n")), match.end()))
    for match in _next_line().finditer(text.text):
        if _is_label_wording(text.text, match):
            continue
        ordinal = match.group("ord").lower()
        number = int(ordinal[:-2]) if ordinal[:1].isdigit() else (cues.ordinal(ordinal) or 0)
        found.append((match.start(), number - 1, match.end()))
    # "3 prior regimens; 2 prior lines per IMWG": a count of lines beats a count of
    # regimens (a line may hold several regimens), then the first written
    usable = [
        f for f in sorted(found) if 1 <= f[1] <= 20 and not _about_other_patients(text.text, f[0], f[2])
    ]
    lines = [f for f in usable if _REGIMEN_COUNT.search(text.text[f[0] : f[2]]) is None]
    for start, value, end in (lines or usable)[:1]:
        ev = text.evidence(start, end)
        return value, (ev,) if ev else ()
    return None, ()


def _count(word: str) -> int:
    word = word.lower()
    return cues.number_word(word) or 0


def _about_other_patients(text: str, start: int, end: int) -> bool:
    """A count in a sentence about a trial's or the label's population, not this member."""
    sentence = next((text[s:e] for s, e in _sentences(text) if s <= start < e), text[start:end])
    return bool(_population_count().search(sentence) or _trial_names().search(sentence))


@lru_cache(maxsize=1)
def _trial_names() -> re.Pattern[str]:
    names = sorted({trial for p in load_lexicon().car_t_products for trial in p.trials}, key=len)
    names = [re.escape(n) for n in reversed(names)]
    return re.compile(rf"(?i)\b(?:{'|'.join(names)})\b" if names else r"(?!)")


def _is_label_wording(text: str, match: re.Match[str]) -> bool:
    """ "after two or more prior lines" quoted from a label or policy is not this patient's count."""
    around = text[max(0, match.start() - 120) : match.end() + 40]
    minimum = re.search(
        r"(?i)\bor more\b|\bat least\b|\bor greater\b", text[match.start() - 12 : match.end() + 12]
    )
    return bool(minimum and _label_words().search(around))


@lru_cache(maxsize=8)
def _finding_patterns(product: str | None) -> list[tuple[str, list[re.Pattern[str]], re.Pattern[str] | None]]:
    """The rows' patterns, '{product}' and '{other_car_t}' filled with the requested
    product's names and every other CAR-T product's; such rows wait for a product."""
    from extractors.request import name_alternation

    lexicon = load_lexicon()
    fills = name_alternation(product)
    out = []
    for row in lexicon.findings:
        patterns = []
        for pattern in row.patterns:
            for placeholder, names in fills.items():
                pattern = pattern.replace(placeholder, names)
            if "{product}" in pattern or "{other_car_t}" in pattern:
                continue  # no product requested: nothing to fill it with
            patterns.append(re.compile(pattern, re.I))
        out.append((row.key, patterns, re.compile(row.negation, re.I) if row.negation else None))
    return out


def findings(text: PageText, product: str | None = None) -> list[Finding]:
    out: list[Finding] = []
    sentences = _sentences(text.text)
    for key, patterns, negation in _finding_patterns(product):
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
