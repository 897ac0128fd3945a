"""spaCy entities -> plain Mention records (no spaCy object leaves this package).

Here the ConText modifiers and the section a mention sits in become one assertion:
family > negated > planned > uncertain > received.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cache, lru_cache

from spacy.tokens import Doc, Span

from extractors import cues
from extractors.lexicon import Lexicon
from extractors.nlp import CAR_T, CLASS, DRUG, PROCEDURE, REGIMEN, TARGET

# Mentions whose assertion is a therapy's (a class named as such is told like a drug).
THERAPY_LABELS = {DRUG, REGIMEN, CAR_T, PROCEDURE, CLASS}


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


@lru_cache(maxsize=16)
def cue_regex(cues: tuple[str, ...]) -> re.Pattern[str]:
    """One case-insensitive pattern for lexicon cues that are regular expressions, matched
    as whole words ("s/p" and "day \\+\\d+" included)."""
    return re.compile(r"(?i)(?<![\w/])(?:" + "|".join(cues) + r")(?![\w/])")


def _cue_pattern(cues: list[str]) -> re.Pattern[str] | None:
    if not cues:
        return None
    return re.compile(r"(?i)(?<![\w/])(?:" + "|".join(re.escape(c) for c in cues) + r")(?![\w/])")


class AssertionResolver:
    def __init__(self, lexicon: Lexicon) -> None:
        self.context_assertions = [
            (a.category, a.assertion, set(a.kinds), a.together_with) for a in lexicon.context_assertions
        ]
        self.section_rules = [
            (
                rule.category,
                rule.assertion,
                _cue_pattern(rule.unless_cues),
                set(rule.applies_to),
                rule.same_line,
                rule.inline_line_only,
                rule.list_only,
            )
            for rule in lexicon.section_assertions
        ]
        self.inline_only = frozenset(r.category for r in lexicon.section_assertions if r.inline_line_only)

    def resolve(self, ent: Span, kind: str, section: str | None) -> str:
        if ent._.is_family or _family_subject().match(ent.sent.text):
            # "Brother with DLBCL s/p Yescarta 2021": "s/p" ends the ConText scope of
            # "brother", but the whole sentence is about him
            return "family"
        text = doc_text(ent.doc)
        if unticked_box_before(text, ent.start_char):
            # "[ ] Member has not received prior CAR-T", "[ ] Relapsed [ ] Refractory": a
            # form's printed option that nobody ticked asserts nothing
            return "uncertain"
        answer = checkbox_answer(text, ent.end_char)
        if answer is not None:
            # a form's question answered by a ticked box: "received prior CAR-T? [ ] Yes [X] No"
            return answer
        for category, assertion, unless, applies, same_line, inline_only, list_only in self.section_rules:
            if section != category or kind not in applies:
                continue
            if same_line and not _on_header_line(ent, text):
                continue
            if list_only and not _in_list_under_title(ent, text):
                continue
            if inline_only and _inline_title(ent, text) and not _title_line(ent, text):
                continue  # "Family history: his sister ..." labelled that line, not what follows
            if not (unless and unless.search(ent.sent.text)):
                if assertion == "family":
                    return "family"
                if assertion in ("planned", "recommended", "discussed", "uncertain") and (
                    self.from_modifiers(ent, kind) != "negated"
                ):
                    # a plan section's drugs are plans; an allergy list says a drug
                    # was met, not that it was given as treatment
                    return assertion
        return self.from_modifiers(ent, kind)

    def from_modifiers(self, ent: Span, kind: str) -> str:
        """The assertion of the highest-ranking ConText category among the mention's
        modifiers (lexicons/context_rules.json "assertions"), for the kinds it applies to:
        only a therapy can be planned; "is a 66-year-old with myeloma" is not a plan."""
        categories = {m.category for m in (getattr(ent._, "modifiers", None) or ())}
        for category, assertion, kinds, together_with in self.context_assertions:
            if (
                category in categories
                and kind in kinds
                and (together_with is None or together_with in categories)
            ):
                return assertion
        return "received"


@cache
def _family_subject() -> re.Pattern[str]:
    """A sentence that opens on a relative ("Her brother ...", "Sisters: ..."): family history."""
    # ... not when the relative tells it: "Daughter confirms she was infused there"
    return re.compile(
        rf"(?i)^\W*(?:(?:his|her|their|the patient's|patient's|pt's)\s+)?{cues.fragment('relative')}s?\b"
        rf"(?!\s+{cues.fragment('reporting_verb')}\b)"
    )


# A ticked box as a text layer or OCR writes it: its answer is legible in the words.
CHECKED_BOX = r"(?:\[\s*[xX✓✔]\s*\]|\(\s*[xX✓✔]\s*\)|[☒☑✅■✓✔])"
_BOX = re.compile(r"\[\s*[xX✓✔]?\s*\]|\(\s*[xX✓✔]?\s*\)|[☐☒☑□■✅]")
# a box, ticked or not, in any of the ways a text layer or OCR writes one
_BOX_OPENS = re.compile(rf"(?:{CHECKED_BOX}|{_BOX.pattern})")
_ANSWER_WORD = re.compile(r"(?i)\b(?:yes|no|n/a)\b")
# "☒ No" when the boxes precede their labels, "No ☒" when they follow them
_TICK_BEFORE = re.compile(rf"(?i){CHECKED_BOX}\s*(yes|no|n/a)\b")
_TICK_AFTER = re.compile(rf"(?i)\b(yes|no|n/a)\s*{CHECKED_BOX}")


def doc_text(doc: Doc) -> str:
    """The document's text, built once: spaCy joins every token on each ``Doc.text``."""
    cached = doc.user_data.get("intake_text")
    if cached is None:
        cached = doc.user_data["intake_text"] = doc.text
    return str(cached)


# A box is the mention's own only when little stands between them and no other field
# label does ("[X] Relapsed [ ] Refractory   Treatment: VRd" - VRd is not an option).
_BOX_REACH = 40
_OTHER_FIELD = re.compile(r"\b[A-Za-z][\w /]{0,25}[:?]\s")


def unticked_box_before(text: str, before: int) -> bool:
    """Is the last box on the mention's line, just before it, an empty one?

    A single box opening the line heads the whole line ("[ ] Member is 18 years of age or
    older with relapsed or refractory multiple myeloma"); otherwise only a box close by.
    """
    line_start = text.rfind("\n", 0, before) + 1
    boxes = list(_BOX.finditer(text, line_start, before))
    if not boxes:
        return False
    heads_line = len(boxes) == 1 and not text[line_start : boxes[0].start()].strip()
    if not heads_line and before - boxes[-1].end() > _BOX_REACH:
        return False
    if _OTHER_FIELD.search(text, boxes[-1].end(), before):
        return False
    return re.fullmatch(CHECKED_BOX, boxes[-1].group(0)) is None


def checkbox_answer(text: str, after: int) -> str | None:
    """The ticked answer of a form's yes/no boxes later on the mention's line, if any.

    "Yes" is an answer of receipt ("received", the question's subject), "No" or "N/A" of
    none; boxes with nothing ticked leave the question open ("uncertain").
    """
    end = text.find("\n", after)
    rest = text[after : end if end >= 0 else len(text)]
    box, word = _BOX.search(rest), _ANSWER_WORD.search(rest)
    if box is None or word is None or min(box.start(), word.start()) > _BOX_REACH:
        return None  # the boxes of another question further along the line
    ticked = (_TICK_BEFORE if box.start() < word.start() else _TICK_AFTER).search(rest)
    if ticked is None:
        return "uncertain"
    return "received" if ticked.group(1).lower() == "yes" else "negated"


_LIST_MARKER = re.compile(r"^\s*(?:\(?\d{1,2}[.)]|\(?[a-hA-H][.)]|[-*\u2022\u25aa\u25cf\u2013])\s")
_SENTENCE_END = re.compile(r"[.!?:]\W*$")
_INLINE_ITEM = re.compile(r"\(\s*(?:[a-hA-H]|\d{1,2})\s*\)|(?<![\w.])\d{1,2}\)")
_ITEM_LOOKAHEAD = 6  # lines an item's wrapped sentences may run before the next item


def _in_list_under_title(ent: Span, text: str) -> bool:
    """Whether the mention lies in the list its section's lead-in opens.  The list runs over
    lines that start with a list marker and the lines that wrap them.  A line that opens a
    sentence without a marker, after a line that ended one, may still wrap an item ("1. Cilta-cel
    (CARTITUDE-4)." / "Highest depth of response ..."): it is in the list when another item
    follows within a few lines, else the list has ended there."""
    title = getattr(ent._, "section_title", None)
    if title is None:
        return True
    start = text.find("\n", title.end_char)
    if start < 0 or start >= ent.start_char:
        return True  # on the lead-in's own line
    line_end = text.find("\n", ent.start_char)
    lines = text[start + 1 : line_end if line_end >= 0 else len(text)].split("\n")
    after = text[line_end + 1 :].split("\n", _ITEM_LOOKAHEAD)[:_ITEM_LOOKAHEAD] if line_end >= 0 else []
    previous = text[title.start_char : start]
    # a list that starts on the lead-in's own line ("Options: (a) ide-cel, (b) cilta-cel,")
    items = 1 if _INLINE_ITEM.search(text, title.end_char, start) else 0
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        if _LIST_MARKER.match(line):
            items += 1
        elif items == 0:
            return False
        elif _SENTENCE_END.search(previous) and stripped[:1].isupper():
            ahead = lines[index + 1 :] + after
            if not any(_LIST_MARKER.match(later) for later in ahead[:_ITEM_LOOKAHEAD]):
                return False
        previous = stripped
    return True


def _on_header_line(ent: Span, text: str) -> bool:
    """The mention is in the header's own field: same line, no sentence end or other label
    between ("Allergies: NKDA    Current meds: lenalidomide" is not an allergy)."""
    title = getattr(ent._, "section_title", None)
    if title is None:
        return False  # the section began on an earlier page: not the header's line
    between = text[title.end_char : ent.start_char]
    return "\n" not in between and not _SENTENCE_OR_FIELD.search(between)


def _inline_title(ent: Span, text: str) -> bool:
    """The section's title has content after it on its own line."""
    title = getattr(ent._, "section_title", None)
    if title is None:
        return False
    line_end = text.find("\n", title.end_char)
    rest = text[title.end_char : line_end if line_end >= 0 else len(text)]
    return bool(rest.strip(" \t:"))


def _box_field(title: Span | None, text: str) -> bool:
    """The title is a form's field whose answer is a box on its own line ("Plan: [x] MA HMO
    [ ] MA PPO", the member's health plan): a choice, not the heading of a section."""
    if title is None:
        return False
    line_end = text.find("\n", title.end_char)
    rest = text[title.end_char : line_end if line_end >= 0 else len(text)].lstrip(" \t:")
    return _BOX_OPENS.match(rest) is not None


def _title_line(ent: Span, text: str) -> bool:
    """The mention stands on its section title's line."""
    title = getattr(ent._, "section_title", None)
    return title is not None and "\n" not in text[title.end_char : ent.start_char]


_SENTENCE_OR_FIELD = re.compile(r"[.;](?:\s+[A-Z]|\s*$)|\b[A-Z][\w ]{0,25}:")


def collect_mentions(
    doc: Doc, resolver: AssertionResolver, *, offset: int = 0, section: str | None = None
) -> list[Mention]:
    """Mentions of one parsed chunk (a page); ``offset`` places it in the document text and
    ``section`` is the section the previous page ended in (a section runs across pages)."""
    mentions: list[Mention] = []
    for ent in doc.ents:
        kind = "therapy" if ent.label_ in THERAPY_LABELS else ent.label_.lower()
        ent_section = ent._.section_category or section
        if ent._.section_category and _box_field(getattr(ent._, "section_title", None), doc.text):
            ent_section = None
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
                assertion=_answered_no(
                    ent, resolver.resolve(ent, "status" if kind == "status" else kind, ent_section)
                ),
                fuzzy_factor=ent._.fuzzy_factor,
            )
        )
    return _bracketed_examples(mentions, doc.text, offset)


# a sentence that opens inside a bracket: "(Blenrep, Tecvayli, Elrexfio)."
_OPENS_BRACKET = re.compile(r"\s*\([^()]*")


def _bracketed_examples(mentions: list[Mention], text: str, offset: int) -> list[Mention]:
    """Drugs in a bracket that opens a line right after a class or target named with no
    stop between ("he has never had any of the BCMA drugs" + "(Blenrep, Tecvayli,
    Elrexfio)"): the bracket lists what the name before it names, so its drugs are told as
    that name is.  The line break parts them into two sentences, which ConText does not
    cross."""
    out: list[Mention] = []
    named: Mention | None = None  # the last class or target named before
    for m in mentions:
        if m.label in (CLASS, TARGET):
            named = m
        elif (
            named is not None
            and m.label in (DRUG, REGIMEN)
            and m.sent_start >= named.end
            and m.assertion != named.assertion
            and not text[named.end - offset : m.sent_start - offset].strip()
            and _OPENS_BRACKET.fullmatch(text[m.sent_start - offset : m.start - offset])
        ):
            m = replace(m, assertion=named.assertion)
        out.append(m)
    return out


# Findings whose wrong "present" is a wrong "not met": a CAR-T received, a place of disease,
# a therapy by its target.  A denial later on the same line that ConText did not reach
# (fax noise between: "CNS involvement _ _ 7 None no known CNS ...") leaves it open.
_ANSWER_CHECKED = {"CAR_T", "SITE", "TARGET"}
# the answer comes next, after nothing but marks and fragments (two letters, one digit),
# or the label's own bracketed gloss, closed or cut by the value's column ("Prior anti-BCMA
# therapy (ADC,   None" over "bispecific, CAR-T)" in a label/value grid)
_FRAGMENT = r"(?:[^\W\d]{1,2}|\d|_+)"
_GLOSS = r"(?:\([^()\n]{0,40}\)?[^\w\n]*)?"


@cache
def _denial_after() -> re.Pattern[str]:
    return re.compile(
        rf"(?i)^[^\w\n]*{_GLOSS}(?:{_FRAGMENT}[^\w\n]+){{0,4}}{cues.fragment('answer_absent')}\b"
    )


_DENIAL_REACH = 40


def _answered_no(ent: Span, assertion: str) -> str:
    if assertion != "received" or ent.label_ not in _ANSWER_CHECKED:
        return assertion
    if (ent._.concept or "").endswith(":naive"):
        # "BCMA-naive (no belantamab, no bispecific)": the denial after a naive phrase
        # agrees with it; it answers no question
        return assertion
    text = doc_text(ent.doc)
    end = text.find("\n", ent.end_char)
    rest = text[ent.end_char : min(end if end >= 0 else len(text), ent.end_char + _DENIAL_REACH)]
    # a denial after a full stop is the next sentence's ("... plasmacytoma (status post
    # radiosurgery 05/2024). No new enhancing lesion.")
    rest = FULL_STOP.split(rest, maxsplit=1)[0]
    return "uncertain" if _denial_after().match(rest) else assertion


# a sentence's full stop (not a decimal point's or an abbreviation's inside a word)
FULL_STOP = re.compile(r"\.(?:\s|$)")


def last_section(doc: Doc, before: str | None, inline_only: frozenset[str] = frozenset()) -> str | None:
    """The section a page ends in, carried over to the next page.  A title of an inline-only
    section written as a label with its content on its own line ("Family history. Mother
    with breast cancer") covered that line only: the next page is in no section of it."""
    sections = [
        s
        for s in getattr(doc._, "sections", None) or []
        if s.category
        and not (
            getattr(s, "title_span", None) and _box_field(doc[s.title_span[0] : s.title_span[1]], doc.text)
        )
    ]
    if not sections:
        return before
    last = sections[-1]
    span = getattr(last, "title_span", None)  # medspaCy keeps (start, end) token indices
    if last.category in inline_only and span is not None:
        text, title_end = doc.text, doc[span[0] : span[1]].end_char
        line_end = text.find("\n", title_end)
        if text[title_end : line_end if line_end >= 0 else len(text)].strip(" \t:.-"):
            return None
    return str(last.category)
