"""Lexicon phrases with one glyph of a long word smeared by the fax ("chimeria antigen
receptor", "CNS involvemant"): found, with the evidence's confidence lowered by the share
of the word that matched.  Never for a short word, never when the smeared word is one edit
from two lexicon words, never for a word the lexicon's phrases already hold."""

from __future__ import annotations

from extract_support import facts_of

from extractors.nlp import OcrPhraseNorms, build_nlp, parse


def test_a_smeared_word_of_a_car_t_phrase_keeps_the_negated_car_t() -> None:
    facts = facts_of("She has never received chimeria antigen receptor (CAR) T-cell therapy.")
    assert [(t.ingredient, t.assertion) for t in facts.therapies] == [("car-t cell therapy", "negated")]


def test_a_smeared_site_word_keeps_the_negated_site() -> None:
    facts = facts_of("CNS involvemant: none.")
    assert [s.assertion for s in facts.sites] == ["negated"]


def test_the_phrase_found_through_a_smeared_word_carries_a_lower_factor() -> None:
    doc = parse("She has never received chimeria antigen receptor (CAR) T-cell therapy.")
    [car_t] = [e for e in doc.ents if e.text.startswith("chimeria")]
    assert 0.8 < car_t._.fuzzy_factor < 1.0
    clean = parse("She has never received chimeric antigen receptor (CAR) T-cell therapy.")
    assert {e._.fuzzy_factor for e in clean.ents} == {1.0}


def test_short_and_known_words_are_never_renormed() -> None:
    norms = OcrPhraseNorms()
    doc = norms(build_nlp().make_doc("the chimeric antigen is a receptor"))
    assert [t.norm_ for t in doc] == [t.lower_ for t in doc]
    doc = norms(build_nlp().make_doc("chimeria and the"))
    assert doc[0].norm_ == "chimeric" and doc[2].norm_ == "the"


def test_a_word_one_edit_from_two_lexicon_words_is_left_alone() -> None:
    norms = OcrPhraseNorms()
    norms.by_length = {9: ["allograft", "autograft"]}
    norms.cache.clear()
    assert norms._near("alkograft") == "allograft"
    assert norms._near("aulograft") is None  # one edit from both


def test_drug_names_are_left_to_the_drug_matcher() -> None:
    """A damaged drug name is OcrDrugMatcher's (its confusion key, its ratio): not a norm."""
    norms = OcrPhraseNorms()
    assert "bortezomib" not in norms.long and "bortezomib" in norms.every
