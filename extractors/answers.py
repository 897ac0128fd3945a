"""What a form's boxes say of a statement printed inside them.

A form prints its questions and options whatever the answer: "Prior BCMA-directed
therapy? ☐ Yes ☐ No" states nothing until a box is ticked.  Every reader of statements
(drugs, drug classes, targets, sites of disease) asks here before trusting its wording.
"""

from __future__ import annotations

from common.structure import CheckboxGroup
from extractors import cues
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
    if any(cues.search("answer_no", o.option.text) for o in ticked):
        return "negated"
    if any(cues.search("answer_yes", o.option.text) for o in ticked):
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
    return assertion


def form_place(
    index: StructureIndex | None, text: PageText, start: int, end: int
) -> tuple[OptionPlace | None, CheckboxGroup | None]:
    """The checkbox option, or else the question, the words ``text[start:end]`` stand in."""
    placed = text.words_in(start, end) if index is not None else []
    if index is None or not placed:
        return None, None
    page, words = placed[0].page, [w.word for w in placed]
    option = index.option_of(page, words)
    return option, (index.question_of(page, words) if option is None else None)


def answered(index: StructureIndex | None, text: PageText, start: int, end: int, assertion: str) -> str:
    """The assertion of the words ``text[start:end]`` once the form around them is read."""
    option, question = form_place(index, text, start, end)
    return form_answer(option, question, assertion)
