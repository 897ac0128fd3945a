"""Cue lists from ``lexicons/cues.json``, compiled once into whole-word patterns.

The clinical vocabulary lives in data; code asks for a notion by its id
("episode", "retreatment") and gets one pattern.  A term ending in ``*`` matches
any ending ("relaps*": relapse, relapsed, relapsing); a term is matched as a whole
word, case-insensitively, with runs of spaces and hyphens in a phrase matching any
run of spaces or hyphens (fax OCR and typists differ on "re-treated").
"""

from __future__ import annotations

import re
from functools import cache
from typing import Literal

from extractors.lexicon import load_lexicon


def _term(term: str) -> str:
    wild = term.endswith("*")
    body = term[:-1] if wild else term
    parts = [re.escape(p) for p in re.split(r"[\s-]+", body) if p]
    joined = r"[\s-]+".join(parts)
    if body.endswith("-"):
        joined += "-"
    return joined + (r"[\w-]*" if wild else "")


def fragment(cue: str) -> str:
    """The alternation of one list's terms and patterns, for embedding in a larger pattern."""
    row = load_lexicon().cue(cue)
    alternatives = sorted((_term(t) for t in row.terms), key=len, reverse=True) + list(row.patterns)
    return "(?:" + "|".join(alternatives) + ")"


@cache
def pattern(*cues: str) -> re.Pattern[str]:
    """Whole-word, case-insensitive pattern for one or more cue lists."""
    body = "|".join(fragment(c) for c in cues)
    return re.compile(rf"(?i)(?<![\w/])(?:{body})(?![\w/])")


@cache
def phrase_pattern(terms: tuple[str, ...]) -> re.Pattern[str]:
    """Whole-word, case-insensitive pattern for terms a lexicon file other than cues.json
    lists, written as cues.json's terms are."""
    body = "|".join(sorted((_term(t) for t in terms), key=len, reverse=True))
    return re.compile(rf"(?i)(?<![\w/])(?:{body})(?![\w/])")


def search(cue: str, text: str) -> re.Match[str] | None:
    return pattern(cue).search(text)


def number_words(kind: Literal["cardinals", "ordinals"], least: int = 0) -> str:
    """The alternation of the number words of cues.json's "numbers" ("four", "fourth") whose
    value is at least ``least``, for embedding in a larger pattern."""
    numbers = load_lexicon().numbers
    words = numbers.cardinals if kind == "cardinals" else numbers.ordinals
    alternatives = sorted((re.escape(w) for w, n in words.items() if n >= least), key=len, reverse=True)
    return "(?:" + "|".join(alternatives) + ")"


def ordinal(word: str) -> int | None:
    return load_lexicon().numbers.ordinals.get(word.lower())


def number_word(word: str) -> int | None:
    """A cardinal or ordinal written as a word, or digits."""
    word = word.lower()
    if word.isdigit():
        return int(word)
    numbers = load_lexicon().numbers
    return numbers.cardinals.get(word) or numbers.ordinals.get(word)
