"""What the fax asks for: the requested product and its billing code.

Read from a request form's drug field ("Drug requested: Carvykti"), request wording
("we request authorization for cilta-cel", "Abecma; prior authorization requested")
and billing codes ("HCPCS: Q2056").  The products and their codes are the lexicon's
(drugs.json, car_t.json); the cues are lexicons/request.json.  The strongest statement
wins; two products named with the same weight are both reported, for a reviewer.
A product mentioned in any other way (a prior infusion, a plan considered, a claim
line) is not a request.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from pydantic import Field

from common.models import Evidence, RequestFact, RequestHow
from extractors.lexicon import Row, load_lexicon, read_json
from extractors.mentions import unticked_box_before
from extractors.ocr_fuzzy import FuzzyVocabulary
from extractors.pagetext import PageText
from extractors.therapies import TherapyMention

FORM, WORDING, LABELLED_CODE, OWN_CODE = 3, 2, 2, 1


class RequestCues(Row):
    form_labels: list[str] = Field(min_length=1)
    before_cues: list[str] = Field(min_length=1)
    after_cues: list[str] = Field(min_length=1)
    gap: int = Field(ge=1, le=300)
    code_labels: list[str] = Field(min_length=1)
    code_pattern: str = Field(min_length=1)
    not_a_request_cues: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class _Product:
    ingredient: str
    brand: str | None
    hcpcs: str | None


@dataclass(frozen=True)
class _Candidate:
    weight: int
    how: RequestHow
    product: _Product | None
    code: str | None
    start: int
    end: int
    factor: float = 1.0  # an OCR-damaged name: the evidence's confidence is scaled by this


@dataclass(frozen=True)
class _Vocabulary:
    names: re.Pattern[str]
    by_name: dict[str, _Product]
    by_code: dict[str, _Product]
    form: re.Pattern[str]
    form_header: re.Pattern[str]
    before: re.Pattern[str]
    after: re.Pattern[str]
    code: re.Pattern[str]
    code_label: re.Pattern[str]
    not_a_request: re.Pattern[str] | None
    gap: int
    fuzzy: FuzzyVocabulary


def _alternation(patterns: list[str]) -> str:
    return "|".join(f"(?:{p})" for p in patterns)


@lru_cache(maxsize=1)
def vocabulary() -> _Vocabulary:
    raw = read_json("request.json")
    cues = RequestCues.model_validate({k: v for k, v in raw.items() if k in RequestCues.model_fields})
    lexicon = load_lexicon()
    by_name: dict[str, _Product] = {}
    by_code: dict[str, _Product] = {}
    for car_t in lexicon.car_t_products:
        product = _Product(car_t.ingredient, car_t.brands[0] if car_t.brands else None, car_t.hcpcs)
        for name in [car_t.ingredient, *car_t.brands, *car_t.synonyms]:
            by_name.setdefault(name.lower(), product)
        if car_t.hcpcs:
            by_code[car_t.hcpcs.upper()] = product
    for drug in lexicon.drugs:
        product = _Product(drug.ingredient, drug.brands[0] if drug.brands else None, None)
        # short forms ("len", "dara") name a drug in a history, never a request
        for name in [drug.ingredient, *drug.brands, *drug.synonyms, *drug.misspellings]:
            if len(name) >= 5:
                by_name.setdefault(name.lower(), product)
    names = sorted(by_name, key=len, reverse=True)
    return _Vocabulary(
        names=re.compile(r"(?i)(?<![\w-])(?:" + "|".join(re.escape(n) for n in names) + r")(?![\w-])"),
        by_name=by_name,
        by_code=by_code,
        # a field label at the start of a line, after a box or after another field
        form=re.compile(
            r"(?im)(?:^|\s{2,}|\|)[\s\[\]xX☐☒■]*(?:"
            + _alternation(cues.form_labels)
            + r")\s*[:#=]\s*(?P<value>[^\n|]*)"
        ),
        # the same labels as a form's column header, the value printed under them
        form_header=re.compile(
            r"(?i)(?<![\w-])(?:" + _alternation(cues.form_labels) + r")(?![\w-])(?!\s*[:#=])"
        ),
        before=re.compile(r"(?i)(?:" + _alternation(cues.before_cues) + r")\W"),
        after=re.compile(r"(?i)\W(?:" + _alternation(cues.after_cues) + r")\b"),
        code=re.compile(rf"(?<![\w-])(?P<code>{cues.code_pattern})(?![\w-])"),
        code_label=re.compile(r"(?i)\b(?:" + _alternation(cues.code_labels) + r")\s*[:#=]?\s*$"),
        not_a_request=re.compile(r"(?i)\b(?:" + _alternation(cues.not_a_request_cues) + r")")
        if cues.not_a_request_cues
        else None,
        gap=cues.gap,
        # single-word names only: the OCR-tolerant lookup compares one token
        fuzzy=FuzzyVocabulary({n: n for n in by_name if " " not in n and len(n) >= 6}),
    )


def _sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans: ends at . ! ? before a space, or at a blank line ("Plan: Abecma
    (ide-cel); prior authorization requested." is one sentence)."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in re.finditer(r"(?<=[.!?])\s+|\n\s*\n", text):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    return [(s, e) for s, e in spans if e > s]


def _form_candidates(text: str, vocab: _Vocabulary) -> list[_Candidate]:
    found: list[_Candidate] = []
    for field in vocab.form.finditer(text):
        for start, end, product, factor in _names_in(text, field.start("value"), field.end("value"), vocab):
            if unticked_box_before(text, start):
                continue  # "Product: [ ] Abecma  [X] Carvykti": an option not chosen
            found.append(_Candidate(FORM, "form_field", product, None, start, end, factor))
    return found


_PROSE = re.compile(r"[.;]\s+[A-Z]|[.;]\s*$")
# a box of a checkbox list, whole or half read ("[ ]", "[X}", "] Abecma", "☒")
_BOX_GLYPH = re.compile(r"[\[\]☐☒☑□■✅]|\(\s*[xX✓✔]?\s*\)")


def _under_header_candidates(text: PageText, vocab: _Vocabulary) -> list[_Candidate]:
    """A form's field whose label heads a column, the value on the first line with text under
    it ("Drug name / strength   Date of request" over "ELREXFIO (elranatamab-bcmm) 44 mg   07/20/2026"):
    the product named in the label's column."""
    found: list[_Candidate] = []
    for label in vocab.form_header.finditer(text.text):
        line_no = text.line_of(label.start())
        own = text.line_text(line_no)
        lead = text.text[text.line_starts[line_no] : label.start()]
        if lead.strip(" \t[]xX☐☒■|") or _PROSE.search(own):
            continue  # a field label opens its line of labels; prose is no form
        heading = text.line_text(line_no - 1) if line_no > 0 else ""
        if "request" not in label.group(0).lower() and "request" not in heading.lower():
            # "Drug name" heads a medication list's column too: only a requested drug's
            # label, or one under a "Drug requested" heading, names the request
            continue
        below = text.value_line_below(label.start(), label.end())
        if below is None:
            continue
        begin, line, x0, x1 = below
        if _BOX_GLYPH.search(line):
            continue  # "[ ] Abecma  [X] Carvykti": options, for the checkbox readers to read
        for start, end, product, factor in _names_in(text.text, begin, begin + len(line), vocab):
            if text.in_column(start, end, x0, x1):
                found.append(_Candidate(FORM, "form_field", product, None, start, end, factor))
    return found


def _names_in(text: str, start: int, end: int, vocab: _Vocabulary) -> list[tuple[int, int, _Product, float]]:
    """Product names in text[start:end]: exact, else OCR-damaged single words ("Abeema")."""
    found = [
        (start + m.start(), start + m.end(), vocab.by_name[m.group(0).lower()], 1.0)
        for m in vocab.names.finditer(text[start:end])
    ]
    if found:
        return found
    for word in re.finditer(r"[A-Za-z][\w-]{4,}", text[start:end]):
        hit = vocab.fuzzy.lookup(word.group(0))
        if hit is not None:
            found.append(
                (start + word.start(), start + word.end(), vocab.by_name[hit.term.lower()], hit.factor)
            )
    return found


def _cue_before(sentence: str, at: int, vocab: _Vocabulary) -> bool:
    window = sentence[max(0, at - vocab.gap) : at]
    cues = list(vocab.before.finditer(window))
    if not cues:
        return False
    between = window[cues[-1].end() :]
    # the cue's object runs on at most onto the next line ("request authorization for" over
    # "Abecma"); a name two lines down is another row's ("... referred for CAR-" / "T
    # evaluation" / "pomalidomide 3 mg PO daily" in a medication list's reason column)
    return ":" not in between and between.count("\n") <= 1


def _cue_after(sentence: str, at: int, vocab: _Vocabulary) -> bool:
    window = sentence[at : at + vocab.gap]
    cue = vocab.after.search(window)
    return cue is not None and ":" not in window[: cue.start()]


def _wording_candidates(text: str, vocab: _Vocabulary) -> list[_Candidate]:
    found: list[_Candidate] = []
    for s_start, s_end in _sentences(text):
        sentence = text[s_start:s_end]
        if vocab.not_a_request and vocab.not_a_request.search(sentence):
            continue
        for start, end, product, factor in _names_in(text, s_start, s_end, vocab):
            if _cue_before(sentence, start - s_start, vocab) or _cue_after(sentence, end - s_start, vocab):
                found.append(_Candidate(WORDING, "request_wording", product, None, start, end, factor))
    return found


def _code_candidates(text: str, vocab: _Vocabulary) -> list[_Candidate]:
    found: list[_Candidate] = []
    for match in vocab.code.finditer(text):
        line_start = text.rfind("\n", 0, match.start()) + 1
        line_end = text.find("\n", match.end())
        line = text[line_start : line_end if line_end >= 0 else len(text)]
        if vocab.not_a_request and vocab.not_a_request.search(line):
            continue  # "Q2055 Idecabtagene vicleucel, claim paid 05/2024"
        if unticked_box_before(text, match.start()):
            continue  # "[ ] Abecma (idecabtagene vicleucel) Q2055  [X] Carvykti ... Q2056"
        code = match.group("code").upper()
        product = vocab.by_code.get(code)
        labelled = (
            vocab.code_label.search(text[max(line_start, match.start() - 30) : match.start()]) is not None
        )
        if labelled:
            found.append(_Candidate(LABELLED_CODE, "billing_code", product, code, match.start(), match.end()))
        elif product is not None:
            found.append(_Candidate(OWN_CODE, "billing_code", product, code, match.start(), match.end()))
    return found


def find_request(text: PageText) -> RequestFact | None:
    """The requested product, its code as written, and the statements that say so."""
    vocab = vocabulary()
    candidates = (
        _form_candidates(text.text, vocab)
        + _under_header_candidates(text, vocab)
        + _wording_candidates(text.text, vocab)
        + _code_candidates(text.text, vocab)
    )
    if not candidates:
        return None
    named = [c for c in candidates if c.product is not None]
    codes = [c for c in candidates if c.code is not None]
    if named:
        top = max(c.weight for c in named)
        best = [c for c in named if c.weight == top]
        counts: dict[str, int] = {}
        for c in best:
            assert c.product is not None
            counts[c.product.ingredient] = counts.get(c.product.ingredient, 0) + 1
        # the product most often named at the top weight, the first written on a tie
        chosen_name = max(
            counts,
            key=lambda k: (counts[k], -min(c.start for c in best if c.product and c.product.ingredient == k)),
        )
        chosen = [c for c in best if c.product is not None and c.product.ingredient == chosen_name]
        product = chosen[0].product
        also = sorted(set(counts) - {chosen_name})
    else:
        chosen, product, also = [], None, []
    # the code written for it: its own, or a labelled code no product of the lexicon has
    code_for = [
        c
        for c in codes
        if (product is not None and c.product == product) or (c.product is None and c.weight == LABELLED_CODE)
    ]
    if product is None and codes:
        code_for = sorted(codes, key=lambda c: -c.weight)[:1]
    other_codes = sorted(
        {
            c.product.ingredient
            for c in codes
            if c.product is not None and product is not None and c.product != product
        }
    )
    if other_codes and max((c.weight for c in codes if c.product and c.product != product), default=0) >= (
        chosen[0].weight if chosen else 0
    ):
        also = sorted(set(also) | set(other_codes))
    used = chosen[:2] + code_for[:1]
    evidence: list[Evidence] = [
        ev for c in used if (ev := text.evidence(c.start, c.end, confidence_factor=c.factor)) is not None
    ]
    first = used[0]
    return RequestFact(
        product=product.ingredient
        if product
        else (code_for[0].product.ingredient if code_for and code_for[0].product else None),
        brand=product.brand
        if product
        else (code_for[0].product.brand if code_for and code_for[0].product else None),
        hcpcs=code_for[0].code if code_for else None,
        how=first.how,
        text=" / ".join(text.text[c.start : c.end] for c in used),
        evidence=tuple(evidence),
        also_named=tuple(also),
    )


def name_alternation(product: str | None) -> dict[str, str]:
    """Regular-expression alternations of the requested product's names ('{product}') and
    of every other CAR-T product's ('{other_car_t}'), for lexicon patterns that name them.
    Empty when no product is requested."""
    if product is None:
        return {}
    vocab = vocabulary()
    mine = sorted((n for n, p in vocab.by_name.items() if p.ingredient == product), key=len, reverse=True)
    cars = {p.ingredient for p in vocab.by_code.values()} | {
        c.ingredient for c in load_lexicon().car_t_products
    }
    others = sorted(
        (n for n, p in vocab.by_name.items() if p.ingredient in cars and p.ingredient != product),
        key=len,
        reverse=True,
    )
    if not mine:
        return {}
    fills = {"{product}": "|".join(re.escape(n) for n in mine)}
    if others:
        fills["{other_car_t}"] = "|".join(re.escape(n) for n in others)
    return fills


# Mentions that say nothing of what is asked for: given, denied, a relative's, another's.
_NOT_A_PLAN = {"received", "negated", "family", "other_patient", "collected_not_given"}


def infer_request(items: Sequence[TherapyMention]) -> RequestFact | None:
    """No statement says what is requested: the CAR-T product the documentation names as
    planned or considered (never as given) is taken for it, and every other product so
    named is reported beside it, for a reviewer (which holds ``criteria_met`` back)."""
    counts: dict[str, list[TherapyMention]] = {}
    for item in items:
        if item.therapy_class != "car_t" or item.assertion in _NOT_A_PLAN:
            continue
        if item.ingredient not in _products():
            continue  # "CAR-T" names no product
        counts.setdefault(item.ingredient, []).append(item)
    if not counts:
        return None
    chosen = max(counts, key=lambda k: (len(counts[k]), -min(i.offset for i in counts[k])))
    product = _products()[chosen]
    evidence = tuple(e for i in counts[chosen][:2] for e in i.evidence)
    return RequestFact(
        product=product.ingredient,
        brand=product.brand,
        hcpcs=product.hcpcs,
        how="mentioned",
        text=counts[chosen][0].text,
        evidence=evidence,
        also_named=tuple(sorted(set(counts) - {chosen})),
    )


@lru_cache(maxsize=1)
def _products() -> dict[str, _Product]:
    return {p.ingredient: p for p in vocabulary().by_name.values() if p.ingredient}
