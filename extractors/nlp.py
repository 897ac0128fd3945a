"""The medspaCy pipeline, built once per process from the lexicon data.

blank English tokenizer -> line-aware sentence splitter -> scispacy abbreviation
detector -> medspaCy TargetMatcher (rules from lexicons/) -> OCR-tolerant drug
matcher -> document-defined abbreviations -> Sectionizer -> ConText.

No trained model is needed anywhere.  ``nlp.pipe(n_process>1)`` must not be used:
medspaCy target rules do not pickle.

Sentences come from our own line-aware splitter, not PyRuSH: measured on the synthetic
corpus (text documents), PyRuSH joined list lines and form answers into one sentence,
so a "none" or a plan on one line reached the next (5 assertion errors, 2 false prior
CAR-T, 1 line-count error where the line-aware splitter had none) and it was slower.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any, cast

import numpy
import spacy
from spacy.attrs import SENT_START
from spacy.language import Language
from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc, Span
from spacy.util import compile_infix_regex, compile_prefix_regex, compile_suffix_regex, filter_spans

from extractors.lexicon import Lexicon, load_lexicon
from extractors.ocr_fuzzy import (
    CONFUSION_FACTOR,
    FuzzyVocabulary,
    bounded_distance,
    confusion_key,
)

# PyRuSH (imported by medspacy) logs every token at DEBUG through loguru; keep it quiet.
try:  # pragma: no cover - depends on the installed loguru
    from loguru import logger as _loguru

    _loguru.disable("PyRuSH")
except ImportError:  # pragma: no cover
    pass
logging.getLogger("PyRuSH").setLevel(logging.WARNING)
logging.getLogger("medspacy").setLevel(logging.WARNING)

# Entity labels.  CLASS: a therapy class named as such ("proteasome inhibitor",
# "triple-class refractory"): class-level evidence, no drug named.
DRUG, REGIMEN, CAR_T, PROCEDURE, DIAGNOSIS, STATUS, CLASS = (
    "DRUG",
    "REGIMEN",
    "CAR_T",
    "PROCEDURE",
    "DIAGNOSIS",
    "STATUS",
    "CLASS",
)
# labels of a therapy named as itself (a drug, a regimen, a CAR-T, a procedure), not as a class
NAMED_THERAPY_LABELS = frozenset({DRUG, REGIMEN, CAR_T, PROCEDURE})
# A place of disease (lexicons/sites.json) and therapy named by its target alone
# (lexicons/targets.json): matched here so ConText decides "no CNS involvement".
SITE, TARGET = "SITE", "TARGET"

if not Span.has_extension("concept"):
    Span.set_extension("concept", default=None)
if not Span.has_extension("fuzzy_factor"):
    Span.set_extension("fuzzy_factor", default=1.0)
if not Span.has_extension("matched_term"):
    Span.set_extension("matched_term", default=None)

MATCH_GROUP = "lexicon_matches"
_SENTENCE_END = {".", "!", "?", ";", ":"}


@lru_cache(maxsize=1)
def _run_on_words() -> frozenset[str]:
    """A line ending in one of these words ran on into the next (wrapped prose in a letter):
    "I am writing to request coverage of / Abecma for this patient" (cues.json "run_on", whose
    phrases count by their last word)."""
    return frozenset(term.split()[-1].lower() for term in load_lexicon().cue("run_on").terms)


@lru_cache(maxsize=1)
def _sentence_openers() -> frozenset[str]:
    """Capitalised words that open a sentence and never follow a comma inside one (cues.json
    "sentence_opener"), matched as written."""
    return frozenset(load_lexicon().cue("sentence_opener").terms)


def _regimen_variants(name: str) -> set[str]:
    """'Dara-Rd' is also written 'Dara Rd', 'DaraRd' and 'Dara/Rd'."""
    variants = {name}
    if "-" in name:
        variants |= {name.replace("-", " "), name.replace("-", ""), name.replace("-", "/")}
    return {v for v in variants if len(v) >= 2}


def _phrases(
    label: str, concept: str, phrases: list[str], case_sensitive: list[str]
) -> Iterable[tuple[str, str, str, bool]]:
    """A lexicon row's terms: its phrases matched in any case, then its case-sensitive ones."""
    for term in phrases:
        yield label, concept, term, False
    for term in case_sensitive:
        yield label, concept, term, True


def target_terms(lexicon: Lexicon) -> Iterable[tuple[str, str, str, bool]]:
    """(label, concept, term, case_sensitive) for every matchable term in the lexicon."""
    for drug in lexicon.drugs:
        concept = f"drug:{drug.ingredient}"
        for term in [drug.ingredient, *drug.brands, *drug.synonyms, *drug.misspellings]:
            yield DRUG, concept, term, False
        for term in drug.case_sensitive:
            yield DRUG, concept, term, True
    for product in lexicon.car_t_products:
        concept = f"car_t:{product.ingredient}"
        yield CAR_T, concept, product.ingredient.split()[0], False
        for term in [product.ingredient, *product.brands, *product.synonyms]:
            yield CAR_T, concept, term, False
        for term in product.trials:
            yield CAR_T, f"car_t_trial:{product.ingredient}", term, False
    generic = lexicon.car_t_generic
    yield from _phrases(CAR_T, f"car_t:{generic.ingredient}", generic.phrases, generic.case_sensitive)
    yield from _phrases(CAR_T, f"car_t_wider:{generic.ingredient}", generic.wider_phrases, [])
    for index, regimen in enumerate(lexicon.regimens):
        for name in regimen.names:
            for variant in _regimen_variants(name):
                yield REGIMEN, f"regimen:{index}", variant, True
    for procedure in lexicon.procedures:
        concept = f"proc:{procedure.ingredient}:{procedure.phase or ''}"
        yield from _phrases(PROCEDURE, concept, procedure.phrases, procedure.case_sensitive)
    for diagnosis in lexicon.diagnoses:
        yield from _phrases(DIAGNOSIS, f"dx:{diagnosis.concept}", diagnosis.phrases, diagnosis.case_sensitive)
    for status in lexicon.statuses:
        yield from _phrases(STATUS, f"status:{status.status}", status.phrases, status.case_sensitive)
    for klass in lexicon.therapy_classes:
        yield from _phrases(CLASS, f"class:{klass.id}", klass.phrases, klass.case_sensitive)
    for index, composite in enumerate(lexicon.class_composites):
        yield from _phrases(CLASS, f"classes:{index}", composite.phrases, composite.case_sensitive)
    for site in lexicon.sites:
        yield from _phrases(SITE, f"site:{site.site}:{site.kind}", site.phrases, site.case_sensitive)
    for target in lexicon.targets:
        for name in target.names:
            for template in lexicon.target_templates:
                yield TARGET, f"target:{target.target}:exposure", template.format(t=name), False
            for template in lexicon.target_naive_templates:
                yield TARGET, f"target:{target.target}:naive", template.format(t=name), False


@Language.component("line_sentences")
def line_sentences(doc: Doc) -> Doc:
    """Sentences that respect the page's lines.

    A new line starts a sentence unless the previous line ran on mid-sentence (no closing
    punctuation and the next line starts in lower case, or the line ends in a word such as
    "of" or "to" that cannot end a sentence) - wrapped prose in letters stays
    whole, while list items, table rows and "label: value" lines stay apart so a
    negation on one line never reaches the next.  Within a line, '.', '!' and ';' end a
    sentence; '?' does not, so a form's "Prior CAR-T therapy? No" stays one sentence.
    """
    # Computed in Python, written once as an array: setting token.is_sent_start one
    # token at a time re-checks the whole document each time (quadratic on long faxes).
    texts = [t.text for t in doc]
    spaces = [t.is_space for t in doc]
    gaps = [bool(t.whitespace_) for t in doc]
    starts = numpy.zeros(len(texts), dtype="int64")
    depth = 0  # open brackets: "(also reasonable; slot wait longer)" is one aside, not a sentence end
    for i, text in enumerate(texts):
        if i == 0:
            starts[i] = 1
            continue
        prev_text = texts[i - 1]
        if prev_text in {"(", "["}:
            depth += 1
        elif prev_text in {")", "]"} and depth:
            depth -= 1
        elif "\n" in prev_text:
            depth = 0  # a bracket never runs over a line of its own
        start = False
        if not spaces[i]:
            prev = texts[i - 1]
            if spaces[i - 1] and "\n" in prev:
                last = texts[i - 2].lower() if i >= 2 else "."
                continues = (
                    "\n\n" not in prev
                    and ((last not in _SENTENCE_END and text[:1].islower()) or last in _run_on_words())
                    # "... ( ) None received" then "Proteasome inhibitor: (x) Velcade": a line
                    # that opens with a label is a field of its own, however the last one ended
                    and not _opens_with_label(texts, i)
                )
                start = not continues
            elif (
                (prev == ";" and not depth)
                or prev == "!"
                # fax OCR reads a full stop as a comma ("...for several years, At progression
                # he received ..."): a capitalised pronoun or preposition after a comma opens a
                # sentence all the same, or one clause's dates reach every drug of the next
                or (prev == "," and not depth and text in _sentence_openers() and _after_word(texts, i - 2))
                or (
                    prev == "."
                    and (text[:1].isupper() or text[:1].isdigit())
                    and i >= 2
                    and _period_ends_sentence(texts, gaps, i - 2)
                )
            ):
                start = True
        starts[i] = 1 if start else -1
    if len(texts):
        doc.from_array([SENT_START], cast(Any, starts.astype("uint64")))  # spaCy stores -1 as uint64
    return doc


def _after_word(texts: list[str], index: int) -> bool:
    """The token before a comma is a word of prose, not a number ("Sep 30, On ...") or a name's
    initial."""
    return index >= 0 and len(texts[index]) > 1 and texts[index].isalpha() and texts[index].islower()


_LABEL_WORDS = 5  # "Anti-CD38 antibody:", "Prior BCMA bispecific/ADC:": a field's label is short


def _opens_with_label(texts: list[str], i: int) -> bool:
    """The line starting at token ``i`` opens with a capitalised label and its colon."""
    if not texts[i][:1].isupper():
        return False
    for j in range(i + 1, min(len(texts), i + _LABEL_WORDS + 1)):
        if "\n" in texts[j]:
            return False
        if texts[j] == ":":
            return True
    return False


# Abbreviations whose period does not end a sentence even before a capital or a digit
# ("approx. 5 months"); "Dr.", "vs." and "St." are single tokens already (spaCy exceptions).
_NO_BREAK_AFTER = {"approx", "appr", "ca", "cf", "est", "resp", "incl", "fig", "vol", "ref"}


_CLOSERS = {")", "]", "%", '"', "\u201d"}


def _period_ends_sentence(texts: list[str], gaps: list[bool], index: int) -> bool:
    """Whether the '.' after token ``index`` ends a sentence (the next word is capitalised).

    A one-character token before the period is usually an initial ("J. Doe", "Dr. A.
    Smith") and does not, but clinical shorthand ends sentences on one too:
    a count or age ("VRd x 4. DKd ...", "at age 8. Received ..."), or a letter that closes
    a term ("No prior CAR-T. She received ...", "denies prior CAR T. Treated ...").
    Left whole, a negation ran on into the next sentence and negated every drug in it.
    """
    word = texts[index]
    if len(word) > 1:
        return word.lower() not in _NO_BREAK_AFTER
    before = texts[index - 1] if index >= 1 else "\n"
    if word.isdigit():
        # "1. VRd" opening a line or sentence is a list number, not the end of one
        return not ("\n" in before or before in _SENTENCE_END or not before.strip())
    if word in _CLOSERS:
        # "(grade 0). Cilta-cel ...", "EF 55%. Daratumumab ...": a closed bracket or a
        # percentage ends the sentence as a word would
        return True
    if not word.isupper():
        return False
    # "CAR-T": the letter joined by a hyphen to the word before it (an initial never is)
    if before == "-" and not gaps[index - 1] and index >= 2 and not gaps[index - 2]:
        return True
    # "CAR T": the letter after an all-capitals term (not "John A. Smith")
    return len(before) >= 2 and before.isalpha() and before.isupper()


class OcrDrugMatcher:
    """Adds entities the phrase rules cannot see: OCR-damaged drug names (fuzzy), damaged
    regimen names on dated lines ("Ka" for "Kd"), and a regimen letter opening a
    maintenance row of a table ("R 09/2020 - 08/2022 Maintenance")."""

    def __init__(self, lexicon: Lexicon) -> None:
        terms: dict[str, str] = {}
        for drug in lexicon.drugs:
            for term in [drug.ingredient, *drug.brands]:
                if " " not in term and "-" not in term:
                    terms[term] = f"drug:{drug.ingredient}"
        for product in lexicon.car_t_products:
            for term in [product.ingredient.split()[0], *product.brands]:
                terms[term] = f"car_t:{product.ingredient}"
        self.vocabulary = FuzzyVocabulary(terms)
        self.regimen_variants = regimen_ocr_variants(lexicon)
        # CAR-T short names end in "-cel": "cilta-cel" read as "oilta-cel" or "calta-cel"
        self.cel_prefixes: dict[str, str] = {}
        for product in lexicon.car_t_products:
            for synonym in product.synonyms:
                if synonym.lower().endswith("-cel"):
                    self.cel_prefixes[synonym.lower()[: -len("-cel")]] = f"car_t:{product.ingredient}"
        self.letters = {
            letter: drug.ingredient for drug in lexicon.drugs for letter in drug.maintenance_letters
        }

    def _cel_name(self, doc: Doc, index: int) -> Span | None:
        """An OCR-damaged "<prefix>-cel" (tokens: prefix, "-", "cel")."""
        if (
            index + 2 >= len(doc)
            or doc[index + 1].text != "-"
            or doc[index + 2].lower_ not in {"cel", "ce1", "eel"}
        ):
            return None
        hit = _cel_prefix_hit(doc[index].lower_, self.cel_prefixes)
        if hit is None or doc[index + 2].i in {t.i for e in doc.ents for t in e}:
            return None
        span = Span(doc, index, index + 3, label=CAR_T)
        span._.concept, span._.fuzzy_factor = hit
        return span

    def __call__(self, doc: Doc) -> Doc:
        taken = {t.i for ent in doc.ents for t in ent}
        new: list[Span] = []
        for token in doc:
            if token.i in taken or (not token.is_alpha and not any(c.isdigit() for c in token.text)):
                continue
            if token.text in self.letters and _maintenance_row(doc, token.i):
                span = Span(doc, token.i, token.i + 1, label=DRUG)
                span._.concept = f"drug:{self.letters[token.text]}"
                new.append(span)
                continue
            cel = self._cel_name(doc, token.i)
            if cel is not None:
                new.append(cel)
                continue
            regimen = self.regimen_variants.get(token.text)
            if regimen is not None and _dated_line(doc, token.i):
                span = Span(doc, token.i, token.i + 1, label=REGIMEN)
                span._.concept = regimen
                span._.fuzzy_factor = CONFUSION_FACTOR
                new.append(span)
                continue
            hit = self.vocabulary.lookup(token.text)
            if hit is None:
                continue
            label = CAR_T if hit.concept.startswith("car_t:") else DRUG
            span = Span(doc, token.i, token.i + 1, label=label)
            span._.concept = hit.concept
            span._.fuzzy_factor = hit.factor
            span._.matched_term = hit.term
            new.append(span)
        if new:
            doc.ents = filter_spans([*doc.ents, *new])
        return doc


# Glyphs fax OCR confuses in short regimen names: "Kd" read as "Ka" or "Kcl", "IRd" as "1Rd".
_REGIMEN_CONFUSIONS = {
    "d": ["a", "A", "cl"],
    "l": ["1", "I"],
    "I": ["1", "l"],
    "O": ["0"],
    "m": ["rn"],
    "V": ["Y"],
}
_YEAR_TOKEN = re.compile(r"(?:19|20)\d\d")


def regimen_ocr_variants(lexicon: Lexicon) -> dict[str, str]:
    """One-glyph OCR variants of regimen names that are not themselves a regimen name."""
    names = {name for row in lexicon.regimens for name in row.names}
    variants: dict[str, str] = {}
    for index, row in enumerate(lexicon.regimens):
        for name in row.names:
            # No variants of short names (three letters or fewer): "PA" for "Pd" in a
            # signature ("Jane Roe, PA"), "RA" for "Rd" in a problem list, "VA" for "Vd"
            # ("followed at the VA") - one fax away from a false therapy.
            if name in row.ambiguous or len(re.sub(r"[^A-Za-z0-9]", "", name)) <= 3:
                continue
            for position, char in enumerate(name):
                for replacement in _REGIMEN_CONFUSIONS.get(char, []):
                    variant = name[:position] + replacement + name[position + 1 :]
                    if variant.isalnum() and variant not in names:
                        variants.setdefault(variant, f"regimen:{index}")
    return variants


_MAINTENANCE_WORDS = {"maint", "maint.", "maintenance"}


def _maintenance_row(doc: Doc, index: int) -> bool:
    """A regimen letter opening a table row about maintenance: "R 09/2020 - 08/2022 Maintenance"."""
    if index > 0 and "\n" not in doc[index - 1].text:
        return False
    row = _line_tokens(doc, index)
    return any(t.lower_ in _MAINTENANCE_WORDS for t in row) and any(_YEAR_TOKEN.search(t.text) for t in row)


def _line_tokens(doc: Doc, index: int) -> Span:
    start = index
    while start > 0 and "\n" not in doc[start - 1].text:
        start -= 1
    end = index
    while end < len(doc) - 1 and "\n" not in doc[end + 1].text:
        end += 1
    return doc[start : end + 1]


def _dated_line(doc: Doc, index: int) -> bool:
    """A damaged regimen name counts only on a line that also carries a year (a history line)."""
    return any(_YEAR_TOKEN.search(t.text) for t in _line_tokens(doc, index))


def _cel_prefix_hit(prefix: str, prefixes: dict[str, str]) -> tuple[str, float] | None:
    """(concept, confidence factor) of an OCR-damaged CAR-T short name's prefix."""
    key = confusion_key(prefix)
    for known, concept in prefixes.items():
        if confusion_key(known) == key:
            return concept, CONFUSION_FACTOR
        if len(known) >= 4 and bounded_distance(key, confusion_key(known), 1) <= 1:
            # one edit in the whole name as written ("calta-cel" for "cilta-cel")
            return concept, 1 - 1 / (len(known) + len("-cel"))
    return None


@Language.component("longest_matches")
def longest_matches(doc: Doc) -> Doc:
    """Both target matchers' spans -> entities, the longest winning ("Dara-KRd" over "Dara")."""
    if MATCH_GROUP in doc.spans:
        spans = list(doc.spans[MATCH_GROUP])
        for span in spans:
            # a phrase found through a smeared word's norm (OcrPhraseNorms): the share of
            # the word that matched, as a fuzzily read drug name carries
            smeared = [t for t in span if t.is_alpha and t.norm_ != t.lower_]
            if smeared:
                span._.fuzzy_factor = min(1.0 - 1.0 / max(len(t.norm_), len(t.text)) for t in smeared)
        # two phrases of one span ("BCMA bispecific": a target's and a class's): the more
        # specific reading, in a fixed order - the matchers' own order of equal spans
        # changes with every phrase a lexicon adds
        spans.sort(key=lambda s: (s.start, -len(s), _TIE_RANK.get(s.label_, len(_TIE_RANK))))
        doc.ents = filter_spans(spans)
        del doc.spans[MATCH_GROUP]
    return doc


def _one_label_per_phrase(
    terms: Iterable[tuple[str, str, str, bool]],
) -> list[tuple[str, str, str, bool]]:
    """A phrase two lexicons list ("BCMA bispecific": a target's and a class's) under one
    label only, the first of ``_TIE_RANK``: medspaCy keeps one of two equal matches by its
    rules' ids, which shift with every phrase a lexicon adds, and the reading flipped."""
    best: dict[tuple[str, bool], tuple[str, str, str, bool]] = {}
    out: list[tuple[str, str, str, bool]] = []
    for term in terms:
        label, _, text, case_sensitive = term
        key = (text if case_sensitive else text.lower(), case_sensitive)
        held = best.get(key)
        rank = _TIE_RANK.get(label, len(_TIE_RANK))
        if held is None:
            best[key] = term
            out.append(term)
        elif held[0] != label and rank < _TIE_RANK.get(held[0], len(_TIE_RANK)):
            out[out.index(held)] = term
            best[key] = term
        elif held[0] == label:
            out.append(term)  # the same label's concepts share a phrase as before
    return out


# Which label a span two phrases share is read as, first first.
_TIE_RANK = {label: rank for rank, label in enumerate((CAR_T, REGIMEN, DRUG, PROCEDURE, TARGET, CLASS))}


# Words of the lexicon's phrases this long or longer are matched with one glyph smeared
# (as long drug names are, extractors/ocr_fuzzy.py); a shorter word is one glyph from too
# many ordinary words.
_NORM_MIN = 7
_NORM_CACHE = 50_000  # words looked up before the cache starts again (as FuzzyVocabulary's)


@lru_cache(maxsize=1)
def phrase_words() -> tuple[frozenset[str], frozenset[str]]:
    """(the long words of the lexicon's case-insensitive phrases, every word of them).
    Drug, regimen and CAR-T product names are not among the first: OcrDrugMatcher reads
    those damaged, with its confusion key."""
    lexicon = load_lexicon()
    generic = f"car_t:{lexicon.car_t_generic.ingredient}"
    every: set[str] = set()
    phrases: set[str] = set()
    for label, concept, term, case_sensitive in target_terms(lexicon):
        words = re.findall(r"[a-z]+", term.lower())
        every.update(words)
        named = label in (DRUG, REGIMEN) or (label == CAR_T and concept != generic)
        if not case_sensitive and not named:
            phrases.update(words)
    return frozenset(w for w in phrases if len(w) >= _NORM_MIN), frozenset(every)


class OcrPhraseNorms:
    """A fax smears one glyph of a long word ("chimeria antigen receptor", "multiple
    myelonia"), and the phrase rules, matched on exact words, lose the whole phrase.  A
    word of seven letters or more that is no word of the lexicon's phrases, but one edit
    from exactly one that is, takes that word as its norm; the lower-case phrase matcher
    compares norms, so the phrase is found, and the entity carries the share of the word
    that matched as its fuzzy factor (its evidence's confidence is lowered by it)."""

    def __init__(self) -> None:
        self.long, self.every = phrase_words()
        self.by_length: dict[int, list[str]] = {}
        for w in self.long:
            self.by_length.setdefault(len(w), []).append(w)
        self.cache: dict[str, str | None] = {}

    def _near(self, word: str) -> str | None:
        if word not in self.cache:
            if len(self.cache) > _NORM_CACHE:
                self.cache.clear()  # one pipeline serves a whole service's documents
            near = [
                w
                for n in (len(word) - 1, len(word), len(word) + 1)
                for w in self.by_length.get(n, ())
                if bounded_distance(word, w, 1) <= 1
            ]
            self.cache[word] = near[0] if len(near) == 1 else None
        return self.cache[word]

    def __call__(self, doc: Doc) -> Doc:
        for token in doc:
            word = token.lower_
            if len(word) < _NORM_MIN or not token.is_alpha or word in self.every:
                continue
            near = self._near(word)
            if near is not None:
                token.norm_ = near
        return doc


@Language.factory("ocr_phrase_norms")
def make_ocr_phrase_norms(nlp, name):
    # untyped: see make_ocr_drug_matcher
    return OcrPhraseNorms()


@Language.factory("ocr_drug_matcher")
def make_ocr_drug_matcher(nlp, name):
    # Untyped on purpose: spaCy resolves factory annotations at runtime, and postponed
    # annotations (from __future__ import annotations) would reach it as unresolved strings.
    return OcrDrugMatcher(load_lexicon())


@Language.component("defined_abbreviations")
def defined_abbreviations(doc: Doc) -> Doc:
    """A short form the document defines itself ("daratumumab ... dexamethasone (DPd)")
    takes the meaning of the entities in its long form wherever it recurs."""
    abbreviations = getattr(doc._, "abbreviations", None) or []
    if not abbreviations:
        return doc
    ents = list(doc.ents)
    taken = {t.i for ent in ents for t in ent}
    for short in abbreviations:
        long_form = short._.long_form
        if long_form is None or any(t.i in taken for t in short):
            continue
        inside = [e for e in ents if e.start >= long_form.start and e.end <= long_form.end]
        if len(inside) != 1 or inside[0].label_ not in {DRUG, CAR_T, REGIMEN, PROCEDURE}:
            continue  # several drugs in one long form would need a regimen row; leave to the lexicon
        words = [t for t in long_form if t.is_alpha]
        if len([t for t in inside[0] if t.is_alpha]) * 2 < len(words):
            continue  # "DIRA (daratumumab IFE reflex assay)": the short form names a test, not the drug
        span = Span(doc, short.start, short.end, label=inside[0].label_)
        span._.concept = inside[0]._.concept
        ents.append(span)
        taken |= {t.i for t in span}
    doc.ents = filter_spans(ents)
    return doc


_TOKENIZER = "intake_clinical_tokenizer.v1"


@spacy.registry.tokenizers(_TOKENIZER)
def clinical_tokenizer() -> Callable[[Language], Tokenizer]:
    """spaCy's English tokenizer tuned for clinical shorthand: "CAR-T." ends a sentence
    (spaCy keeps single-letter abbreviations like "T." whole) and "D-VRd+ASCT" is two
    therapies.  Named in the pipeline's config, so it is the only tokenizer built: changing
    a built tokenizer's rules, infixes or suffixes reloads its ~1,300 special cases each
    time (0.35 s of CPU for the three changes, 0.08 s for one build)."""

    def make(nlp: Language) -> Tokenizer:
        defaults = nlp.Defaults
        rules = {
            key: value
            for key, value in (defaults.tokenizer_exceptions or {}).items()
            if not re.fullmatch(r"[A-Za-z]\.", key)
        }
        infixes = [*(defaults.infixes or ()), r"\+", r"(?<=[A-Za-z])/(?=[A-Za-z0-9])"]
        suffixes = [*(defaults.suffixes or ()), r"(?<=[A-Z])\."]
        return Tokenizer(
            nlp.vocab,
            rules=rules,
            prefix_search=compile_prefix_regex(defaults.prefixes or ()).search,
            suffix_search=compile_suffix_regex(suffixes).search,
            infix_finditer=compile_infix_regex(infixes).finditer,
            token_match=defaults.token_match,
            url_match=defaults.url_match,
        )

    return make


@lru_cache(maxsize=1)
def build_nlp() -> Language:
    """The pipeline; built once per process (0.4-0.6 s of CPU: ~2,500 rules) and then reused."""
    import medspacy  # noqa: F401  (registers the medspaCy factories)
    from medspacy.context import ConText, ConTextRule
    from medspacy.section_detection import Sectionizer, SectionRule
    from medspacy.target_matcher import TargetMatcher, TargetRule
    from scispacy import abbreviation  # noqa: F401  (registers abbreviation_detector; needs no model)

    lexicon = load_lexicon()
    nlp = spacy.blank("en", config={"nlp": {"tokenizer": {"@tokenizers": _TOKENIZER}}})
    nlp.add_pipe("line_sentences")
    nlp.add_pipe("abbreviation_detector")

    # Two TargetMatchers, both on literal phrase rules (a PhraseMatcher is far cheaper than
    # token patterns): one compares lower case, the other the exact text, for short forms
    # such as "PD" (progression) versus "Pd" (pomalidomide-dexamethasone).
    group = {"result_type": "group", "span_group_name": MATCH_GROUP}
    nlp.add_pipe("ocr_phrase_norms")
    # norms are lower case, but a smeared word's norm is the lexicon word it was one glyph from
    matcher = cast(
        TargetMatcher,
        nlp.add_pipe("medspacy_target_matcher", config={**group, "phrase_matcher_attr": "NORM"}),
    )
    exact = cast(
        TargetMatcher,
        nlp.add_pipe(
            "medspacy_target_matcher",
            name="exact_target_matcher",
            config={**group, "phrase_matcher_attr": "ORTH"},
        ),
    )
    rules: list[TargetRule] = []
    exact_rules: list[TargetRule] = []
    for label, concept, term, case_sensitive in _one_label_per_phrase(target_terms(lexicon)):
        rule = TargetRule(term, label, attributes={"concept": concept})
        (exact_rules if case_sensitive else rules).append(rule)
    exact.add(exact_rules)
    maintenance = {"LOWER": {"IN": ["maint", "maint.", "maintenance", "maintainance"]}}
    for drug in lexicon.drugs:
        for letter in drug.maintenance_letters:
            letter_pattern: list[dict[str, Any]] = [{"TEXT": letter}, {"TEXT": "-", "OP": "?"}, maintenance]
            rules.append(
                TargetRule(
                    f"{letter} maint",
                    DRUG,
                    pattern=letter_pattern,
                    attributes={"concept": f"drug:{drug.ingredient}"},
                )
            )
    matcher.add(rules)

    nlp.add_pipe("longest_matches")
    nlp.add_pipe("ocr_drug_matcher")
    nlp.add_pipe("defined_abbreviations")

    sectionizer: Sectionizer = nlp.add_pipe(
        # span_attrs None: medspaCy would mark every entity of a family-history section as
        # family until the next header ("He received cilta-cel" under it included); the
        # section rules of lexicons/sections.json decide instead, with their exceptions.
        "medspacy_sectionizer",
        config={"rules": None, "require_start_line": True, "span_attrs": None},
    )
    sectionizer.add([SectionRule(s.literal, s.category, pattern=s.pattern) for s in lexicon.sections])

    context = cast(ConText, nlp.add_pipe("medspacy_context", config={"rules": None}))
    # medspaCy's defaults, minus those our file drops or redefines (rules are keyed by literal)
    dropped = {literal.lower() for literal in lexicon.dropped_default_context_rules}
    dropped |= {rule.literal.lower() for rule in lexicon.context_rules}
    defaults = ConTextRule.from_json(context.DEFAULT_RULES_FILEPATH)
    context.add([rule for rule in defaults if rule.literal.lower() not in dropped])
    context.add(
        [
            ConTextRule(
                r.literal,
                r.category,
                direction=r.direction,
                max_scope=r.max_scope,
                pattern=r.pattern,
                allowed_types=set(r.allowed_types) if r.allowed_types else None,
                excluded_types=set(r.excluded_types) if r.excluded_types else None,
                terminated_by=set(r.terminated_by) if r.terminated_by else None,
            )
            for r in lexicon.context_rules
        ]
    )
    return nlp


def parse(text: str) -> Doc:
    """Run the pipeline.  spaCy warns (W036) on every document that one of the internal
    matchers holds no token patterns - true by design here (phrase rules only, and
    scispacy's per-document matcher starts empty) - so that one warning is silenced."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*\[W036\]")
        return build_nlp()(text)
