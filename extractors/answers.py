"""What a form's boxes say of a statement printed inside them.

A form prints its questions and options whatever the answer: "Prior BCMA-directed
therapy? ☐ Yes ☐ No" states nothing until a box is ticked.  Every reader of statements
(drugs, drug classes, targets, sites of disease) asks here before trusting its wording.
"""

from __future__ import annotations

import re
from functools import cache

from common.structure import CheckboxGroup
from extractors import cues
from extractors.mentions import CHECKED_BOX
from extractors.pagetext import PageText
from extractors.structure.index import OptionPlace, StructureIndex


def form_answer(option: OptionPlace | None, question: CheckboxGroup | None, assertion: str) -> str:
    """What a form says of a statement named in a checkbox option or a group's question.

    An option unticked, or a box that could not be read, asserts nothing; a question is
    answered by its ticked option ("☐ Yes ☒ No": not received; "☒ None received": the
    class was not given); unanswered, it asserts nothing either."""
    if option is not None:
        if option.option.state != "ticked" or "?" in option.option.option.text:
            # unticked, unreadable, or a "label" that asks (a question's words taken for an
            # option: "as the member received prior CAR-T therapy? [|] Yes"): nothing said
            return "uncertain"
        return assertion
    if question is None:
        return assertion
    ticked = question.ticked
    said_texts = [_answer_text(o.option.text) for o in ticked]
    if any(cues.search("answer_no", t) for t in said_texts):
        return "negated"
    if any(cues.search("answer_yes", t) for t in said_texts):
        if assertion not in ("received", "uncertain"):
            return assertion
        # a Yes says "received" only to a question that asks it ("Has the member received
        # prior CAR-T?"), not to "Tocilizumab requested with CAR-T?"
        said = " ".join(o.option.text for o in ticked)
        asked = question.question.text if question.question is not None else ""
        asks_receipt = question.question is None or cues.search("receipt_question", f"{asked} {said}")
        return "received" if asks_receipt else "uncertain"
    if not ticked:
        return "uncertain"  # unanswered, or its boxes unreadable
    if assertion == "received":
        # ticked options that are neither a yes nor a no ("☒ Abecma" under "Prior CAR-T
        # product:"): the option's own words carry what it says; the question's are asked
        return "uncertain"
    return assertion


def _answer_text(label: str) -> str:
    """An option's label without the box glyph OCR glued to its first letter ("INo", "|Yes")."""
    label = label.strip()
    if len(label) > 2 and label[0] in "Il|[](){}" and label[1].isupper():
        return label[1:]
    return label


@cache
def _question_end() -> re.Pattern[str]:
    """The rest of a printed question up to its question mark, where the mark ends the line or
    stands before the choices (a box, a Yes or a No): "mg/m?, dexamethasone" is a unit OCR
    misread, not a question."""
    choices = cues.fragment("answer_yes") + "|" + cues.fragment("answer_no")
    # the question is the words' own: it does not run over a column gap, or a number standing
    # alone (a dose, a date; "CD38" is a word), into another field: "Lenalidomide 10 mg daily
    # 2019-2021   Transplant eligible?" does not ask about lenalidomide
    return re.compile(rf"(?i)(?:(?!\s{{3}}|\t|\s\d)[^.;!?])*\?(?=\s*(?:$|[\[(☐☒☑□■|]|(?:{choices})\b))")


def unanswered_question(line: str, end: int) -> bool:
    """The words at ``end`` stand in a question ("...CAR-T therapy?") that the line does not
    answer with a plain Yes: both choices printed ("Yes & No", "Yes v No") or none."""
    asked = _question_end().match(line, end)
    if asked is None:
        return _statement_with_choices(line, end)
    answer = line[asked.end() :]
    answer = answer[: min((answer.find(c) for c in ".;" if c in answer), default=len(answer))]
    yes, no = cues.search("answer_yes", answer), cues.search("answer_no", answer)
    # a plain Yes standing first, with no No printed beside it (the words from cues.json)
    return not (yes is not None and not answer[: yes.start()].strip() and no is None)


# A box read as characters: an empty square as "L!", "[]", "“", "(1"; a ticked one as "&".
_BOX_TOKEN_MAX = 3


def _statement_with_choices(line: str, end: int) -> bool:
    """A form's printed statement with no question mark, its boxes unread: "4. Member has
    received prior CAR-T therapy (any, including clinical trial)  ☐ Yes ☒ No" that fax OCR
    read "... trial) L! “Yes i Na".  The words run on, in their sentence, to a Yes choice
    with a No after it, or with a box read as a mark or two before it.  A plain "Yes" right
    after the words ("Prior CAR-T: Yes"), or a tick legible in the words ("[X] Yes"),
    answers, and is left to the readers of answers."""
    rest = line[end:]
    stop = min((rest.find(c) for c in ".;?" if c in rest), default=len(rest))
    rest = rest[:stop]
    if re.search(CHECKED_BOX, rest):
        return False  # a tick legible in the words: the readers of answers say what it answers
    yes = cues.search("choice_yes", rest)
    if yes is None:
        return False
    if cues.search("choice_no", rest[yes.end() :]) is not None:
        return True
    before = rest[: yes.start()].split()
    box = before[-1].strip(":-\u2013") if before else ""  # a label's colon or dash is no box
    return 0 < len(box) <= _BOX_TOKEN_MAX and not box.isalpha()


def asks_unanswered(text: PageText, end: int) -> bool:
    """:func:`unanswered_question` on the logical line the words ending at ``end`` stand in:
    a question a form wraps over two lines ("Prior anti-BCMA therapy (belantamab,
    teclistamab," / "elranatamab, BCMA CAR-T)? ☐ Yes ☐ No") asks of the first line's drugs too."""
    for start, stop in text.logical_spans():
        if start <= max(end - 1, 0) < stop:
            return unanswered_question(text.text[start:stop], end - start)
    return False


def form_place(
    index: StructureIndex | None, text: PageText, start: int, end: int
) -> tuple[OptionPlace | None, CheckboxGroup | None]:
    """The checkbox option, or else the question, the words ``text[start:end]`` stand in."""
    placed = text.words_in(start, end) if index is not None else []
    if index is None or not placed:
        return None, None
    page, words = placed[0].page, [w.word for w in placed]
    option = index.option_of(page, words)
    if option is not None and _asks_with_choices(text, end):
        # "Prior BCMA-directed therapy? [ ] Yes [x] No" whose first letter a fax closed into
        # a square: the words stand in the question, not in an option of their own
        return None, None
    return option, (index.question_of(page, words) if option is None else None)


def _asks_with_choices(text: PageText, end: int) -> bool:
    """The words ending at ``end`` run on to a question mark with its choices printed after
    it on the line ("...therapy (ADC, bispecific)? Yes No")."""
    line_no = text.line_of(max(end - 1, 0))
    line = text.line_text(line_no)
    asked = _question_end().match(line, max(0, end - text.line_starts[line_no]))
    if asked is None:
        return False
    after = line[asked.end() :]
    return bool(cues.search("answer_yes", after) or cues.search("answer_no", after))


def answered(index: StructureIndex | None, text: PageText, start: int, end: int, assertion: str) -> str:
    """The assertion of the words ``text[start:end]`` once the form around them is read."""
    option, question = form_place(index, text, start, end)
    if option is None and question is None and assertion == "received" and asks_unanswered(text, end):
        # a form whose boxes were not read: its printed question asks, it does not say
        return "uncertain"
    said = form_answer(option, question, assertion)
    if said == "received" and question is not None and bracketed(text, start, end):
        # the kinds a question lists as examples ("Prior BCMA-directed therapy (ADC,
        # bispecific antibody, or CAR-T)? [x] Yes - agent(s): teclistamab"): a Yes says one
        # of them was given, not which; the agent the answer names speaks for itself
        return "uncertain"
    return said


def option_gloss(text: PageText, start: int, end: int) -> bool:
    """The words ``text[start:end]`` stand in brackets after a box option's label: "✓ IMiD
    (len/pom/thal)", "[x] PI (bortezomib, carfilzomib)" - the form's printed examples of
    the option (which of them was given the form does not say), or a gloss of its name."""
    if not bracketed(text, start, end):
        return False  # bracketed: ``start`` stands in a logical line
    first, _ = text.logical_spans()[text.logical_index(start)]
    before = text.text[first:start]
    return bool(_OPTION_LABEL_BEFORE.search(before[: before.rfind("(")]))


# a box, ticked or not, and a short label up to the bracket: "✓ IMiD ", "[ ] Anti-CD38 "
_OPTION_LABEL_BEFORE = re.compile(rf"(?:{CHECKED_BOX}|[\[(]\s*\]|[☐□])\s*[^()\[\]✓✔☐☒☑□■✅]{{1,30}}$")


def bracketed(text: PageText, start: int, end: int) -> bool:
    """The words ``text[start:end]`` stand inside brackets on their logical line."""
    for first, stop in text.logical_spans():
        if first <= start < stop:
            before, after = text.text[first:start], text.text[end:stop]
            opened = before.rfind("(")
            return (
                opened > before.rfind(")")
                and ")" in after
                and after.find(")") < (after.find("(") if "(" in after else len(after))
            )
    return False
