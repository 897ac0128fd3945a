"""Who prescribes, and their specialty: signature blocks, a form's prescriber fields,
letterheads, "in consultation with" (lexicons/specialties.json).

Each finding says what it is: the prescriber (a signature, a prescriber field), the
practice (a page's letterhead), a consultant, or the referring physician (never the
prescriber).  Only phrases of the specialty lexicon name a specialty.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache

from pydantic import Field

from common.models import PrescriberFact, PrescriberRole
from extractors.answers import answered
from extractors.lexicon import Row, read_json
from extractors.pagetext import PageText
from extractors.structure.index import StructureIndex

_Add = Callable[[str, PrescriberRole, int, int], None]


class SpecialtyRow(Row):
    id: str = Field(min_length=1)
    label: str = Field(min_length=1)
    phrases: list[str] = Field(min_length=1)
    case_sensitive: list[str] = Field(default_factory=list)
    source: str = Field(min_length=2)


class PrescriberCues(Row):
    prescriber_labels: list[str] = Field(min_length=1)
    referring_labels: list[str] = Field(min_length=1)
    consultation_cues: list[str] = Field(min_length=1)
    signature_cues: list[str] = Field(min_length=1)
    credentials: list[str] = Field(min_length=1)
    letterhead_lines: int = Field(ge=1, le=20)
    not_a_letterhead_cues: list[str] = Field(default_factory=list)
    consultation_words: list[str] = Field(default_factory=list)
    denial_words: list[str] = Field(default_factory=list)


def _alternation(items: list[str], *, escape: bool) -> str:
    parts = sorted(items, key=len, reverse=True)
    return "|".join(re.escape(p) if escape else f"(?:{p})" for p in parts)


@dataclass(frozen=True)
class _Vocabulary:
    specialty: list[tuple[str, re.Pattern[str]]]
    prescriber_field: re.Pattern[str]
    referring_field: re.Pattern[str]
    consultation: re.Pattern[str]
    signature: re.Pattern[str]
    credential: re.Pattern[str]
    letterhead_lines: int
    not_letterhead: re.Pattern[str] | None
    consultation_word: re.Pattern[str] | None
    denial_word: re.Pattern[str] | None


@lru_cache(maxsize=1)
def vocabulary() -> _Vocabulary:
    raw = read_json("specialties.json")
    rows = [SpecialtyRow.model_validate(r) for r in raw.get("rows", [])]
    cues = PrescriberCues.model_validate({k: v for k, v in raw.items() if k in PrescriberCues.model_fields})
    specialty = []
    for row in rows:
        pattern = rf"(?i:(?<![\w/-])(?:{_alternation(row.phrases, escape=True)})(?![\w/-]))"
        if row.case_sensitive:
            pattern += rf"|(?<![\w/-])(?:{_alternation(row.case_sensitive, escape=True)})(?![\w/-])"
        specialty.append((row.id, re.compile(pattern)))
    field = r"\s*(?:\(\w+\))?\s*[:#=]\s*(?P<value>[^\n]*)"
    return _Vocabulary(
        specialty=specialty,
        prescriber_field=re.compile(
            rf"(?im)(?:^|\s{{2,}}|\|)\s*(?:{_alternation(cues.prescriber_labels, escape=True)}){field}"
        ),
        referring_field=re.compile(rf"(?im)\b(?:{_alternation(cues.referring_labels, escape=True)}){field}"),
        consultation=re.compile(rf"(?i)\b(?:{_alternation(cues.consultation_cues, escape=True)})\b"),
        signature=re.compile(rf"(?im)\b(?:{_alternation(cues.signature_cues, escape=True)})\b"),
        credential=re.compile(rf"(?<![\w.])(?:{_alternation(cues.credentials, escape=True)})(?![\w])"),
        letterhead_lines=cues.letterhead_lines,
        not_letterhead=re.compile(rf"(?i)\b(?:{_alternation(cues.not_a_letterhead_cues, escape=False)})")
        if cues.not_a_letterhead_cues
        else None,
        consultation_word=re.compile(rf"(?i)\b(?:{_alternation(cues.consultation_words, escape=True)})\b")
        if cues.consultation_words
        else None,
        denial_word=re.compile(rf"(?i)\b(?:{_alternation(cues.denial_words, escape=True)})\b")
        if cues.denial_words
        else None,
    )


def _specialties(text: str, vocab: _Vocabulary) -> Iterator[tuple[str, int, int]]:
    for sid, pattern in vocab.specialty:
        for m in pattern.finditer(text):
            yield sid, m.start(), m.end()


_SENTENCE_END = re.compile(r"(?<!\bDr)(?<!\bMr)(?<!\bMs)(?<!\bMrs)[.!?](?=\s+[A-Z])")


def _sentence(text: PageText, at: int) -> tuple[int, int]:
    """The sentence around an offset, within its logical line ("Dr. Lee" does not end it)."""
    start, end = text.logical_spans()[text.logical_index(at)]
    line = text.text[start:end]
    cut = at - start
    before = [m.end() for m in _SENTENCE_END.finditer(line) if m.end() <= cut]
    after = [m.end() for m in _SENTENCE_END.finditer(line) if m.end() > cut]
    return start + (before[-1] if before else 0), start + (after[0] if after else len(line))


_TITLE_WORD = re.compile(r"^[A-Z&(]")


def find_prescribers(text: PageText, index: StructureIndex | None = None) -> list[PrescriberFact]:
    vocab = vocabulary()
    found: dict[tuple[str, PrescriberRole, int], PrescriberFact] = {}

    def add(sid: str, role: PrescriberRole, start: int, end: int) -> None:
        ev = text.evidence(start, end)
        key = (sid, role, ev.page if ev else 0)
        if key not in found:
            found[key] = PrescriberFact(
                specialty=sid, role=role, text=text.text[start:end], evidence=(ev,) if ev else ()
            )

    body = text.text
    taken: set[tuple[int, int]] = set()
    fields: tuple[tuple[re.Pattern[str], PrescriberRole], ...] = (
        (vocab.referring_field, "referring"),
        (vocab.prescriber_field, "prescriber"),
    )
    for pattern, role in fields:
        for field in pattern.finditer(body):
            v0 = field.start("value")
            for sid, s, e in _specialties(field.group("value"), vocab):
                if (v0 + s, v0 + e) not in taken:
                    taken.add((v0 + s, v0 + e))
                    # "Prescriber specialty: [ ] Hematology/Oncology [X] Other": a form
                    # prints every choice; only the ticked one is the prescriber's
                    if answered(index, text, v0 + s, v0 + e, "received") == "received":
                        add(sid, role, field.start(), v0 + e)
    for cue in vocab.signature.finditer(body):
        line = text.line_of(cue.start())
        _signature(text, line, vocab, add, taken)
    for line in range(len(text.line_starts)):
        if vocab.credential.search(text.line_text(line)):
            _signature(text, line, vocab, add, taken)
    for cue in vocab.consultation.finditer(body):
        s0, s1 = _sentence(text, cue.start())
        if vocab.denial_word is not None and vocab.denial_word.search(
            body[max(s0, cue.start() - _DENIAL_REACH) : cue.start()]
        ):
            continue  # "has not been seen in consultation by hematology"
        for sid, s, e in _specialties(body[s0:s1], vocab):
            if (s0 + s, s0 + e) in taken:
                continue
            # "Prescribed in consultation with a hematologist/oncologist? [ ] Yes [x] No":
            # a form's question says nothing until its Yes is ticked
            said = answered(index, text, s0 + s, s0 + e, "received")
            if said == "negated":
                # "[ ] Yes [x] No": the form says no such specialist was consulted
                add(sid, "no_consultation", s0 + s, s0 + e)
                continue
            if said != "received":
                continue
            add(sid, "consultant", min(cue.start(), s0 + s), max(cue.end(), s0 + e))
    _letterheads(text, vocab, add, taken)
    _denied_consultations(text, vocab, add)
    return list(found.values())


# how far before the specialty a denial still governs it ("no hematology/oncology consult")
_DENIAL_REACH = 30


def _denied_consultations(text: PageText, vocab: _Vocabulary, add: _Add) -> None:
    """ "No hematology/oncology consultation has taken place": a sentence with a specialty,
    a consultation word and a denial shortly before the specialty."""
    if vocab.consultation_word is None or vocab.denial_word is None:
        return
    for cue in vocab.consultation_word.finditer(text.text):
        s0, s1 = _sentence(text, cue.start())
        sentence = text.text[s0:s1]
        for sid, s, _ in _specialties(sentence, vocab):
            before = sentence[max(0, s - _DENIAL_REACH) : s]
            if vocab.denial_word.search(before):
                add(sid, "no_consultation", s0, s1)


def _signature(text: PageText, line: int, vocab: _Vocabulary, add: _Add, taken: set[tuple[int, int]]) -> None:
    """The specialty on a signature's own line or the two below it, on the same page."""
    page = text.line_pages[line]
    for n in range(line, min(line + 3, len(text.line_starts))):
        if text.line_pages[n] != page:
            break
        if n > line and _a_sentence(text.line_text(n)):
            # the block has ended: "No hematology/oncology consultation has taken place."
            # under a family physician's signature is a statement, not their department
            break
        start = text.line_starts[n]
        for sid, s, e in _specialties(text.line_text(n), vocab):
            if (start + s, start + e) not in taken:
                taken.add((start + s, start + e))
                add(sid, "prescriber", start + s, start + e)


def _letterheads(text: PageText, vocab: _Vocabulary, add: _Add, taken: set[tuple[int, int]]) -> None:
    """A practice's name among the first lines of a page ("Hartwell Oncology Associates")."""
    seen_on_page: dict[int, int] = {}
    for n, page in enumerate(text.line_pages):
        line = text.line_text(n)
        if _DOCUMENT_RULE.match(line):
            # an EHR export's rule between two documents: the next lines head a new one
            seen_on_page[page] = 0
            continue
        seen_on_page[page] = seen_on_page.get(page, 0) + 1
        if seen_on_page[page] > vocab.letterhead_lines:
            continue
        if vocab.not_letterhead is not None and vocab.not_letterhead.search(line):
            continue
        if _a_sentence(line):
            continue  # a sentence, not a practice's name
        words = line.split()
        if sum(1 for w in words if _TITLE_WORD.match(w)) * 2 < len(words):
            continue
        start = text.line_starts[n]
        for sid, s, e in _specialties(line, vocab):
            if (start + s, start + e) not in taken:
                add(sid, "letterhead", start, start + len(line.rstrip()))


# a line of rule characters alone: "------", "======", "______"
_DOCUMENT_RULE = re.compile(r"^\s*(?:-{10,}|={10,}|_{10,})\s*$")


def _a_sentence(line: str) -> bool:
    """A line that says something (long, or ending as a sentence or a clause), not a name,
    a title or a department."""
    words = line.split()
    return not words or len(words) > 9 or line.rstrip().endswith((".", ",", ";", ":"))
