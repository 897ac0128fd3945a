"""A form prints every question and choice whatever the answer: only ticked boxes speak.

These run with the page structure read (as the composer does), so a statement printed
inside a checkbox question or option takes the form's answer."""

from __future__ import annotations

from extract_support import facts_of, structured_facts_of

from common.models import BBox
from common.structure import Checkbox, CheckboxGroup, WordSpan
from extractors.answers import form_answer
from extractors.facts import extract_facts
from extractors.layout import pages_from_text
from extractors.structure import document_structure
from extractors.structure.index import OptionPlace


def test_an_unticked_specialty_choice_is_not_the_prescribers() -> None:
    facts = structured_facts_of(
        "Prescriber: Devon Primarycare, MD\n"
        "Prescriber specialty:  ☐ Hematology/Oncology  ☒ Other (internal medicine)\n"
    )
    assert {p.specialty for p in facts.prescribers if p.role == "prescriber"} == {"internal_medicine"}


def test_a_ticked_no_answers_a_target_question() -> None:
    facts = structured_facts_of("Prior BCMA-directed therapy (ADC, bispecific, CAR-T)?  ☐ Yes  ☒ No\n")
    assert {s.assertion for s in facts.target_statements if s.target == "BCMA"} == {"negated"}


def test_a_target_question_whose_boxes_were_not_read_states_nothing() -> None:
    """OCR read the boxes as '[J' and '[&]': the printed question asks, it does not say."""
    facts = structured_facts_of("Prior BCMA-directed therapy (ADC, bispecific, CAR-T)?  [J Yes  [&] No\n")
    assert "received" not in {s.assertion for s in facts.target_statements if s.target == "BCMA"}


def test_a_question_mark_misread_in_a_unit_asks_nothing() -> None:
    """'mg/m²' read as 'mg/m?' in a history row: a unit, not a printed question."""
    facts = structured_facts_of(
        "Line 2: DKd - daratumumab 16 mg/kg IV, carfilzomib 56 mg/m?, dexamethasone 03/2022 - 08/2023\n"
    )
    assert {t.assertion for t in facts.therapies if t.ingredient == "daratumumab"} == {"received"}


def test_an_unanswered_site_question_states_nothing() -> None:
    facts = structured_facts_of("Active or prior CNS involvement?  ☐ Yes  ☐ No\n")
    assert {s.assertion for s in facts.sites if s.site == "cns"} <= {"uncertain"}


def test_drugs_listed_as_a_class_questions_examples_are_not_each_received() -> None:
    """'Immunomodulatory agent (lenalidomide, pomalidomide, thalidomide): [X] Received' says
    the class was received; it does not say pomalidomide or thalidomide was."""
    facts = structured_facts_of(
        "Immunomodulatory agent (lenalidomide, pomalidomide, thalidomide):  ☒ Received  ☐ None received\n"
    )
    drugs = {t.ingredient: t.assertion for t in facts.therapies if not t.class_level}
    assert drugs.get("pomalidomide") != "received" and drugs.get("thalidomide") != "received"
    assert {t.assertion for t in facts.therapies if t.class_level} == {"received"}


def test_a_ticked_none_received_negates_the_class_and_its_examples() -> None:
    facts = structured_facts_of(
        "Proteasome inhibitor (bortezomib, carfilzomib, ixazomib):  ☐ Received  ☒ None received\n"
    )
    assert {t.assertion for t in facts.therapies} == {"negated"}


def test_a_yes_to_a_question_that_does_not_ask_about_receipt_says_nothing_of_it() -> None:
    facts = structured_facts_of("Tocilizumab requested with CAR-T?  ☒ Yes  ☐ No\n")
    assert "received" not in {t.assertion for t in facts.therapies if t.therapy_class == "car_t"}


def test_a_yes_to_a_receipt_question_is_received() -> None:
    facts = structured_facts_of("Has the member received prior CAR-T therapy?  ☒ Yes  ☐ No\n")
    assert "received" in {t.assertion for t in facts.therapies if t.therapy_class == "car_t"}


def _option(label: str, state: str) -> OptionPlace:
    box = BBox(x0=0.1, y0=0.1, x1=0.11, y1=0.11)
    span = WordSpan(page=1, text=label, word_ids=(0,), bbox=box)
    checkbox = Checkbox(page=1, option=span, state=state, glyph_bbox=box)
    return OptionPlace(group=CheckboxGroup(page=1, question=None, options=(checkbox,)), option=checkbox)


def test_a_ticked_option_whose_label_asks_is_a_question_taken_for_an_option() -> None:
    """On faxes the 'H' of 'Has the member received prior CAR-T therapy?' closed into a
    square of ink, ticked; what it 'labels' asks and answers nothing."""
    asked = _option("as the member received prior CAR-T therapy? [|] Yes", "ticked")
    assert form_answer(asked, None, "received") == "uncertain"
    assert form_answer(_option("Received", "ticked"), None, "received") == "received"


def test_a_square_over_a_questions_first_letter_is_not_an_option_of_it() -> None:
    """On a fax the 'B' of 'BCMA-directed' closed into a ticked square, its 'option' the
    rest of the word: the words stand in the question (its choices printed after the
    question mark), and the question's own boxes were not read, so nothing is said."""
    pages = pages_from_text("Prior BCMA-directed therapy (ADC, bispecific, CAR-T)?  [J Yes  [&] No\n")
    read = document_structure(pages)
    words = pages[0].words
    at = next(i for i, w in enumerate(words) if w.text.startswith("BCMA"))
    phantom = Checkbox(
        page=1,
        option=WordSpan(page=1, text=words[at].text[1:], word_ids=(at,), bbox=words[at].bbox),
        state="ticked",
        glyph_bbox=words[at].bbox,
        glyph_text="B",
    )
    group = CheckboxGroup(page=1, question=None, options=(phantom,))
    page = read.pages[0].model_copy(update={"checkboxes": (group,)})
    structure = read.model_copy(update={"pages": (page,)})
    facts = extract_facts(pages, structure=structure, structure_pages=pages)
    assert "received" not in {s.assertion for s in facts.target_statements if s.target == "BCMA"}


def _question(options: list[tuple[str, str]]) -> CheckboxGroup:
    box = BBox(x0=0.1, y0=0.1, x1=0.11, y1=0.11)
    asked = WordSpan(
        page=1, text="Has the member previously received CAR-T cell therapy?", word_ids=(0,), bbox=box
    )
    boxes = tuple(
        Checkbox(
            page=1,
            option=WordSpan(page=1, text=label, word_ids=(i + 1,), bbox=box),
            state=state,
            glyph_bbox=box,
        )
        for i, (label, state) in enumerate(options)
    )
    return CheckboxGroup(page=1, question=asked, options=boxes)


def test_a_box_glyph_glued_to_its_answer_still_answers() -> None:
    """A fax read '[x] No' as one word 'INo': it is still the No."""
    assert form_answer(None, _question([("Yes", "unticked"), ("INo", "ticked")]), "received") == "negated"
    assert form_answer(None, _question([("|Yes", "ticked"), ("No", "unticked")]), "received") == "received"


def test_a_ticked_option_that_is_no_answer_leaves_the_questions_words_asked() -> None:
    """The question's own words say nothing when what is ticked reads as neither yes nor no."""
    assert (
        form_answer(None, _question([("OClYes", "unticked"), ("Abecma", "ticked")]), "received")
        == "uncertain"
    )


def test_the_kinds_a_question_lists_as_examples_are_not_what_its_yes_says_was_given() -> None:
    """ "(ADC, bispecific antibody, or CAR-T)" are the question's examples: a Yes naming
    teclistamab says a BCMA agent was given, not a CAR-T."""
    facts = structured_facts_of(
        "Prior BCMA-directed therapy (ADC, bispecific antibody, or CAR-T)"
        "  ☐ None  ☒ Yes - agent(s): teclistamab\n"
    )
    assert "received" not in {t.assertion for t in facts.therapies if t.therapy_class == "car_t"}


def test_a_grid_of_boxes_takes_its_answers_from_the_header_above_its_columns() -> None:
    """ "Item  Yes  No" printed once over a column of questions, each with two bare boxes."""
    facts = structured_facts_of(
        "D. CLINICAL CRITERIA                                  Yes   No\n"
        "8. Measurable disease within 30 days                  ☒     ☐\n"
        "9. Active or prior CNS involvement                    ☐     ☒\n"
        "10. Prior anti-BCMA therapy (belantamab,              ☐     ☒\n"
        "teclistamab, elranatamab, BCMA CAR-T, other)\n"
    )
    assert "received" not in {s.assertion for s in facts.sites if s.site == "cns"}
    assert "received" not in {s.assertion for s in facts.target_statements if s.target == "BCMA"}
    # the question's bracket runs on to the next line: its examples are asked, not given
    assert "teclistamab" not in {t.ingredient for t in facts.therapies if t.assertion == "received"}


def test_the_drugs_bracketed_after_a_ticked_class_option_are_its_printed_examples() -> None:
    """ "Drug classes received (check): ✓ IMiD (len/pom/thal)": the tick says a drug of the
    class was given, not which; before, thalidomide read as received, a drug in no listed
    line, and the whole history read as partial."""
    facts = facts_of(
        "Drug classes received (check):\n"
        "✓ IMiD (len/pom/thal)   ✓ PI (bortez/carfilz/ixaz)   ✓ Anti-CD38 (dara/isa)\n"
        "□ Elotuzumab   □ Selinexor"
    )
    assert not {t.ingredient for t in facts.therapies if t.assertion == "received"}
    # a drug's own option still says it was given
    ticked = facts_of("Prior agents: ✓ Velcade (bortezomib)   □ Kyprolis")
    assert "bortezomib" in {t.ingredient for t in ticked.therapies if t.assertion == "received"}


def test_a_none_after_a_labels_bracketed_gloss_leaves_the_label_open() -> None:
    """A label/value grid as a text layer reads it: the value "None" sits on the label's
    first line, after the start of its bracketed gloss ("Prior anti-BCMA therapy (ADC,
    None" over "bispecific, CAR-T)"). Read as a therapy named, the label gave "anti-BCMA
    therapy received", a wrong "not met"; the answer is left for the reviewer."""
    facts = facts_of(
        "Eligibility attestation (completed by ordering provider)\n"
        "Prior anti-BCMA therapy (ADC, None\nbispecific, CAR-T)\n"
    )
    assert "received" not in {s.assertion for s in facts.target_statements if s.target == "BCMA"}
    assert "received" not in {t.assertion for t in facts.therapies}
