"""Is this text worth trusting?  Scores a page's words, from a PDF text layer or OCR.

A PDF can carry a text layer that is worse than no layer at all: an old invisible
OCR layer of garbage over a scanned fax, glyphs mapped to private-use code points
by a broken font, or a printed stamp over an image-only page.  We read such a page
again with OCR instead of trusting it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_WORDLIKE = re.compile(r"^[\(\[\"'“‘]*[A-Za-z][A-Za-z'’\-]*[A-Za-z]?[\)\]\"'”’.,:;!?]*$")
_NUMBER = re.compile(r"^[\(\[$#]*[0-9][0-9.,:/\-%]*[\)\].,:;%]*$|^[0-9]+[A-Za-z]{1,3}[.,]?$")
_VOWELS = set("aeiouyAEIOUY")
_ALLOWED_PUNCT = set(" .,:;!?'\"()[]{}-_/\\&%$#@*+=<>|~`^’‘“”–—•°±×…§®©™µ")


@dataclass(frozen=True)
class TextScore:
    tokens: int
    chars: int
    good_share: float  # share of tokens that look like words or numbers
    weird_share: float  # share of characters that are control, private-use or replacement chars
    mean_len: float

    @property
    def readable(self) -> bool:
        """Good enough to use as is (thresholds measured on junk and on real text layers)."""
        if self.tokens == 0:
            return False
        return self.good_share >= 0.6 and self.weird_share <= 0.05 and 1.5 <= self.mean_len <= 15


def _weird(ch: str) -> bool:
    if ch.isalnum() and ord(ch) < 0x250:  # Latin letters and digits
        return False
    if ch in _ALLOWED_PUNCT or ch.isspace():
        return False
    cat = unicodedata.category(ch)
    # Control, private use, unassigned, surrogates, and U+FFFD.
    return cat.startswith("C") or ch == "\ufffd" or cat in ("So", "Sk") or ord(ch) >= 0x250


def _good(token: str) -> bool:
    if _NUMBER.match(token):
        return True
    if not _WORDLIKE.match(token):
        return False
    letters = [c for c in token if c.isalpha()]
    # Long runs of consonants ("xkcdfgh") are what garbage OCR layers are made of.
    return not (len(letters) >= 4 and not any(c in _VOWELS for c in letters))


def score_tokens(tokens: list[str]) -> TextScore:
    tokens = [t for t in tokens if t.strip()]
    chars = sum(len(t) for t in tokens)
    if not tokens:
        return TextScore(tokens=0, chars=0, good_share=0.0, weird_share=0.0, mean_len=0.0)
    good = sum(1 for t in tokens if _good(t))
    weird = sum(1 for t in tokens for ch in t if _weird(ch))
    return TextScore(
        tokens=len(tokens),
        chars=chars,
        good_share=good / len(tokens),
        weird_share=weird / max(1, chars),
        mean_len=chars / len(tokens),
    )
