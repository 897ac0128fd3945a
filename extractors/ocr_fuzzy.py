"""OCR-tolerant drug-name matching.

Two steps, both cheap: a character-confusion key that folds the glyphs tesseract
mixes up on faxes (1/l/I/|, 0/O, rn/m, c/e, 5/s), then a bounded edit distance on
long tokens only.  Short tokens never match fuzzily: too many ordinary words
(Dana, daily, Velcro) sit one or two edits from a short drug name.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

MIN_FUZZY_LENGTH = 7  # tokens and vocabulary terms shorter than this match only through the confusion key
MIN_RATIO = 0.85  # 1 - distance / length of the longer key
CONFUSION_FACTOR = 0.9  # confidence kept when the match needed the confusion key
# A match that needed edits keeps the share of the word that matched: one edit in
# a nine-letter name keeps 0.89 of the confidence, two in ten keep 0.8.

_FOLD = str.maketrans({"1": "l", "|": "l", "i": "l", "!": "l", "0": "o", "5": "s", "e": "c", "8": "b"})


def confusion_key(text: str) -> str:
    key = text.lower().replace("rn", "m").replace("vv", "w").replace("cl", "d")
    return key.translate(_FOLD)


def bounded_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance, or limit + 1 once it must exceed ``limit`` (rapidfuzz's cutoff)."""
    return Levenshtein.distance(a, b, score_cutoff=limit)


@dataclass(frozen=True)
class FuzzyHit:
    term: str  # the vocabulary term matched
    concept: str
    factor: float  # multiply the evidence confidence by this


class FuzzyVocabulary:
    """Single-word vocabulary terms (generic names, brands) keyed for OCR-tolerant lookup."""

    def __init__(self, terms: dict[str, str]) -> None:
        self._exact = {t.lower(): c for t, c in terms.items()}
        self._keys: dict[str, tuple[str, str]] = {}
        for term, concept in terms.items():
            self._keys.setdefault(confusion_key(term), (term, concept))
        self._cache: dict[str, FuzzyHit | None] = {}
        self._long = [(k, t, c) for k, (t, c) in self._keys.items() if len(t) >= MIN_FUZZY_LENGTH]

    def lookup(self, token: str) -> FuzzyHit | None:
        if token not in self._cache:
            if len(self._cache) > 50_000:
                self._cache.clear()
            self._cache[token] = self._lookup(token)
        return self._cache[token]

    def _lookup(self, token: str) -> FuzzyHit | None:
        if len(token) < 5 or not any(ch.isalpha() for ch in token) or token.lower() in self._exact:
            return None
        key = confusion_key(token)
        if key in self._keys:
            term, concept = self._keys[key]
            return FuzzyHit(term, concept, CONFUSION_FACTOR)
        if len(token) < MIN_FUZZY_LENGTH or not token[:1].isalpha():
            return None
        limit = 1 if len(key) < 10 else 2
        best: tuple[int, str, str, float] | None = None
        for vocab_key, term, concept in self._long:
            if abs(len(vocab_key) - len(key)) > limit or (
                vocab_key[0] != key[0] and vocab_key[:2] != key[1:3]
            ):
                continue  # OCR damage rarely hits the first letter and the next two at once
            distance = bounded_distance(key, vocab_key, limit)
            ratio = 1 - distance / max(len(key), len(vocab_key))
            if distance <= limit and ratio >= MIN_RATIO and (best is None or distance < best[0]):
                best = (distance, term, concept, ratio)
        if best is None:
            return None
        return FuzzyHit(best[1], best[2], best[3])
