"""Is this text worth trusting?  Scores a page's words, from a PDF text layer or OCR.

A PDF can carry a text layer that is worse than no layer at all: an old invisible
OCR layer of garbage over a scanned fax, glyphs mapped to private-use code points
by a broken font, or a printed stamp over an image-only page.  We read such a page
again with OCR instead of trusting it.

Signals, each cheap and language-light:

* word-like tokens: letters (with inner apostrophes/hyphens), numbers, dates,
  doses, and upper-case codes (``C90.00``, ``Q2055``, ``CD38``); not runs of
  consonants (``xkcdfgh``) nor letters with digits inside (``pat1ent``, ``rnyel0ma``),
  which is what bad OCR makes;
* weird characters: control, private-use, replacement and symbol characters;
* mean token length;
* for prose-length pages, English function words ("the", "of", "with"): real
  prose has them in every sentence, a garbage layer almost never does.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_EDGE_PUNCT = "()[]{}\"'“”‘’.,:;!?*"
_CORE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.'’/\-%+&:,]*$")
_DIGIT_IN_WORD = re.compile(r"[a-z]{2,}[0-9]+[a-z]+|[a-z]+[0-9]+[a-z]{2,}")
_VOWELS = set("aeiouyAEIOUY")
_ALLOWED_PUNCT = set(" .,:;!?'\"()[]{}-_/\\&%$#@*+=<>|~`^’‘“”–—•°±×…§®©™µ")

# The commonest English function words; a page of prose without any is not prose.
_FUNCTION_WORDS_TEXT = """
a an the and or but nor of to in on at by for with from as into onto over under
after before since until than then that this these those there here is are was were
be been being has have had do does did not no yes he she it they we you his her its
their our your him them who which what when where while if so also per all any each
other such only both more most may will would should can could
"""
_FUNCTION_WORDS = frozenset(_FUNCTION_WORDS_TEXT.split())


@dataclass(frozen=True)
class TextScore:
    tokens: int
    chars: int
    good_share: float  # share of tokens that look like words, numbers or codes
    weird_share: float  # share of characters that are control, private-use or replacement chars
    mean_len: float
    function_share: float  # share of tokens that are English function words
    alpha_share: float = 0.0  # share of tokens made of letters only

    @property
    def readable(self) -> bool:
        """Good enough to use as is (thresholds measured on junk and on real text layers)."""
        if self.tokens == 0:
            return False
        if not (self.good_share >= 0.6 and self.weird_share <= 0.05 and 1.5 <= self.mean_len <= 15):
            return False
        # Prose-length, all-letters text with no function words is a garbage layer;
        # short pages and tables (labs, medication lists) legitimately have few.
        prose = self.tokens >= 40 and self.alpha_share >= 0.7
        return not prose or self.function_share >= 0.02


def _weird(ch: str) -> bool:
    if ch.isalnum() and ord(ch) < 0x250:  # Latin letters and digits
        return False
    if ch in _ALLOWED_PUNCT or ch.isspace():
        return False
    cat = unicodedata.category(ch)
    # Control, private use, unassigned, surrogates, U+FFFD, symbols, non-Latin scripts.
    return cat.startswith("C") or ch == "\ufffd" or cat in ("So", "Sk") or ord(ch) >= 0x250


def good_token(token: str) -> bool:
    core = token.strip(_EDGE_PUNCT)
    if not core or not _CORE.match(core):
        return False
    if _DIGIT_IN_WORD.search(core):
        return False
    letters = [c for c in core if c.isalpha()]
    has_digit = any(c.isdigit() for c in core)
    # Long runs of consonants ("xkcdfgh") are what garbage OCR layers are made of;
    # upper-case codes and abbreviations with digits are fine.
    return not (len(letters) >= 4 and not has_digit and not any(c in _VOWELS for c in letters))


def score_tokens(tokens: list[str]) -> TextScore:
    tokens = [t for t in tokens if t.strip()]
    chars = sum(len(t) for t in tokens)
    if not tokens:
        return TextScore(tokens=0, chars=0, good_share=0.0, weird_share=0.0, mean_len=0.0, function_share=0.0)
    good = sum(1 for t in tokens if good_token(t))
    weird = sum(1 for t in tokens for ch in t if _weird(ch))
    function = sum(1 for t in tokens if t.strip(_EDGE_PUNCT).lower() in _FUNCTION_WORDS)
    alpha = sum(1 for t in tokens if t.strip(_EDGE_PUNCT).isalpha())
    return TextScore(
        tokens=len(tokens),
        chars=chars,
        good_share=good / len(tokens),
        weird_share=weird / max(1, chars),
        mean_len=chars / len(tokens),
        function_share=function / len(tokens),
        alpha_share=alpha / len(tokens),
    )
