"""The page-structure vocabulary: column roles, checkbox glyphs, identity labels, page roles.

Four lexicon files in ``lexicons/structure/`` (a stage of its own, beside the clinical
lexicons), each validated against its schema when loaded (a malformed row
raises :class:`common.errors.LexiconError` naming the file and the row), and a phrase
matcher that compares words the same way for all of them: lower case, every character
but letters, digits and ``#`` a space, and OCR-tolerant for words of five letters or
more (the confusion key of :mod:`extractors.ocr_fuzzy`, then one edit, measured by rapidfuzz).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from common.errors import LexiconError
from common.structure import IdentityKind
from extractors.lexicon import Row, parse_rows, read_json
from extractors.ocr_fuzzy import confusion_key

_NOT_WORD = re.compile(r"[^0-9a-z#]+")
_FUZZY_MIN = 5  # shorter words match exactly (or not at all)
_EDIT_MIN = 7  # words this long may also be one edit away


def normalise(text: str) -> str:
    """'Start/Stop' -> 'start stop'; 'D.O.B.:' -> 'd o b'; 'Agent(s)' -> 'agent s'."""
    return " ".join(_NOT_WORD.sub(" ", text.lower()).split())


def tokens(text: str) -> tuple[str, ...]:
    return tuple(normalise(text).split())


# --------------------------------------------------------------------------- schemas


class ColumnRow(Row):
    role: str = Field(pattern=r"^[a-z_]+$")
    label: str = Field(min_length=2)
    phrases: list[str] = Field(min_length=1)
    whole_cell: list[str] = Field(default_factory=list)
    source: str = Field(min_length=2)


class DatedColumns(Row):
    """A header cell that is one whole date names a column of this role (a trend report's
    result columns), in a header that names one of the ``beside`` roles too."""

    role: str = Field(pattern=r"^[a-z_]+$")
    beside: list[str] = Field(min_length=1)
    why: str = Field(min_length=2)
    source: str = Field(min_length=2)


class GlyphReading(Row):
    text: str = Field(min_length=1)
    state: Literal["ticked", "unticked"]
    style: Literal["bracket", "paren", "underline", "box", "check"]
    certain: bool
    source: str = Field(min_length=2)


class MarkFill(Row):
    unticked_at_most: float = Field(ge=0.0, le=1.0)
    ticked_at_least: float = Field(ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _ordered(self) -> MarkFill:
        if self.unticked_at_most >= self.ticked_at_least:
            raise ValueError("unticked_at_most must be below ticked_at_least")
        return self


class IdentityLabel(Row):
    kind: IdentityKind
    phrases: list[str] = Field(min_length=1)
    source: str = Field(min_length=2)


class RoleRow(Row):
    role: Literal["cover_sheet", "insurance_card", "demographics", "request_form"]
    titles: list[str] = Field(min_length=1)
    cues: list[str] = Field(default_factory=list)
    min_cues: int = Field(ge=0)
    required_cues: list[str] = Field(default_factory=list)  # one of these must be among the cues found
    max_words: int | None = None
    source: str = Field(min_length=2)


class PageCountWords(Row):
    labels_before_number: list[str] = Field(min_length=1)
    labels_after_number: list[str] = Field(min_length=1)
    excluding_cover: list[str] = Field(default_factory=list)


# --------------------------------------------------------------------------- matching


class PhraseMatcher:
    """Phrases (normalised token runs) -> a value; finds the longest phrase at a position.

    OCR-tolerant per word: a word of five letters or more matches a vocabulary word with
    the same confusion key ("Regimeu" -> "regimen" needs an edit: seven letters or more).
    """

    def __init__(self, phrases: Iterable[tuple[str, str]]) -> None:
        self._phrases: dict[tuple[str, ...], str] = {}
        for phrase, value in phrases:
            key = tokens(phrase)
            if key:
                self._phrases.setdefault(key, value)
        self.longest = max((len(k) for k in self._phrases), default=0)
        self._vocab = {t for k in self._phrases for t in k}
        self._by_key: dict[str, str] = {}
        for word in sorted(self._vocab):
            if len(word) >= _FUZZY_MIN and word.isalpha():
                self._by_key.setdefault(confusion_key(word), word)
        # the words one edit may reach, with their keys, in the same order
        self._edit_keys = [k for k, v in self._by_key.items() if len(v) >= _EDIT_MIN]
        self._edit_words = [v for v in self._by_key.values() if len(v) >= _EDIT_MIN]
        self._cache: dict[str, str] = {}

    @property
    def vocabulary(self) -> frozenset[str]:
        return frozenset(self._vocab)

    def knows(self, word: str) -> bool:
        return self.canonical(word) in self._vocab

    def canonical(self, word: str) -> str:
        """The vocabulary word an OCR reading stands for, or the word itself."""
        if word in self._vocab or len(word) < _FUZZY_MIN or not any(c.isalpha() for c in word):
            return word
        if word not in self._cache:
            self._cache[word] = self._canonical(word)
        return self._cache[word]

    def _canonical(self, word: str) -> str:
        key = confusion_key(word)
        if key in self._by_key:
            return self._by_key[key]
        if len(word) < _EDIT_MIN:
            return word
        # a word one edit from the reading, by confusion key or as spelled
        near = {
            self._edit_words[i]
            for query, choices in ((key, self._edit_keys), (word, self._edit_words))
            for _, _, i in process.extract(
                query, choices, scorer=Levenshtein.distance, score_cutoff=1, limit=None
            )
        }
        return near.pop() if len(near) == 1 else word

    def canonical_tokens(self, words: Sequence[str]) -> tuple[str, ...]:
        return tuple(self.canonical(w) for w in words)

    def read(self, text: str) -> list[str]:
        """The text's words as this vocabulary would spell them ("ineluding" -> "including")."""
        return [self.canonical(w) for w in tokens(text)]

    def whole(self, words: Sequence[str]) -> str | None:
        """The value of the phrase that is exactly these (normalised) words."""
        return self._phrases.get(self.canonical_tokens(words))

    def at(self, words: Sequence[str], start: int) -> tuple[int, str] | None:
        """(length, value) of the longest phrase starting at ``start``."""
        canon = self.canonical_tokens(words[start : start + self.longest])
        for n in range(min(self.longest, len(canon)), 0, -1):
            value = self._phrases.get(canon[:n])
            if value is not None:
                return n, value
        return None

    def find_all(self, words: Sequence[str]) -> list[tuple[int, int, str]]:
        """Non-overlapping (start, length, value), longest first at each position, left to right."""
        out: list[tuple[int, int, str]] = []
        i = 0
        while i < len(words):
            hit = self.at(words, i)
            if hit:
                out.append((i, hit[0], hit[1]))
                i += hit[0]
            else:
                i += 1
        return out


class StructureLexicon(BaseModel):
    """The four files, validated, with their matchers."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    columns: list[ColumnRow]
    readings: list[GlyphReading]
    mark_fill: MarkFill
    identity_labels: list[IdentityLabel]
    not_after: frozenset[str]
    name_stops: frozenset[str]
    id_fillers: frozenset[str]
    wrap_joiners: frozenset[str]
    dated_columns: DatedColumns | None
    roles: list[RoleRow]
    page_count: PageCountWords
    versions: dict[str, str]
    column_phrases: PhraseMatcher
    column_whole: PhraseMatcher
    identity: PhraseMatcher
    glyphs: dict[str, GlyphReading]
    # certain box glyphs, spaces removed ("☒", "[X]", "()"): never a ruling line's fringe
    box_glyphs: frozenset[str]
    # every other word list, for OCR-tolerant comparison of its words
    words: PhraseMatcher

    def role_label(self, role: str) -> str:
        return next((c.label for c in self.columns if c.role == role), role)


def _words(filename: str, data: dict[str, Any], key: str) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise LexiconError(f"lexicons/{filename}: '{key}' must be a list of non-empty strings")
    return value


def _model(filename: str, data: Any, model: type[Row], key: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise LexiconError(f"lexicons/{filename}: '{key}' is malformed: {where}: {first['msg']}") from exc


def _unique(filename: str, pairs: Iterable[tuple[str, str]], what: str) -> None:
    """A phrase may name one thing only: the same words under two roles is a data error."""
    seen: dict[tuple[str, ...], str] = {}
    for phrase, value in pairs:
        key = tokens(phrase)
        if not key:
            raise LexiconError(f"lexicons/{filename}: {what} {phrase!r} has no words once normalised")
        if key in seen and seen[key] != value:
            raise LexiconError(
                f"lexicons/{filename}: {what} {phrase!r} is listed for both {seen[key]!r} and {value!r}"
            )
        seen[key] = value


COLUMNS = "structure/table_columns.json"
BOXES = "structure/checkboxes.json"
IDENTITY = "structure/identity.json"
ROLES = "structure/page_roles.json"


@lru_cache(maxsize=1)
def load_structure_lexicon() -> StructureLexicon:
    files = (COLUMNS, BOXES, IDENTITY, ROLES)
    raw = {name: read_json(name) for name in files}

    columns = parse_rows(COLUMNS, raw[COLUMNS].get("rows"), ColumnRow)
    roles_seen = [c.role for c in columns]
    if len(set(roles_seen)) != len(roles_seen):
        raise LexiconError(f"lexicons/{COLUMNS}: a role is listed twice; use one row per role")
    column_pairs = [(p, c.role) for c in columns for p in (*c.phrases, *c.whole_cell)]
    _unique(COLUMNS, column_pairs, "header phrase")
    dated = raw[COLUMNS].get("dated_columns")
    dated_columns = _model(COLUMNS, dated, DatedColumns, "dated_columns") if dated is not None else None
    if dated_columns is not None and not {dated_columns.role, *dated_columns.beside} <= set(roles_seen):
        raise LexiconError(f"lexicons/{COLUMNS}: dated_columns names a role no row defines")

    boxes = raw[BOXES]
    readings = parse_rows(BOXES, boxes.get("readings"), GlyphReading, "readings")
    glyphs: dict[str, GlyphReading] = {}
    for index, reading in enumerate(readings):
        key = "".join(reading.text.split())
        if key in glyphs:
            raise LexiconError(f"lexicons/{BOXES}: readings[{index}] ({reading.text!r}) is listed twice")
        glyphs[key] = reading
    mark_fill = _model(BOXES, boxes.get("mark_fill"), MarkFill, "mark_fill")

    ident = raw[IDENTITY]
    labels = parse_rows(IDENTITY, ident.get("labels"), IdentityLabel, "labels")
    identity_pairs = [(p, label.kind) for label in labels for p in label.phrases]
    _unique(IDENTITY, identity_pairs, "label")

    page_roles = raw[ROLES]
    roles = parse_rows(ROLES, page_roles.get("roles"), RoleRow, "roles")
    count = _model(ROLES, page_roles.get("page_count"), PageCountWords, "page_count")

    return StructureLexicon(
        columns=columns,
        readings=readings,
        mark_fill=mark_fill,
        identity_labels=labels,
        not_after=frozenset(normalise(w) for w in _words(IDENTITY, ident, "not_after")),
        name_stops=frozenset(normalise(w) for w in _words(IDENTITY, ident, "name_stops")),
        id_fillers=frozenset(normalise(w) for w in _words(IDENTITY, ident, "id_fillers")),
        wrap_joiners=frozenset(normalise(w) for w in _words(COLUMNS, raw[COLUMNS], "wrap_joiners")),
        dated_columns=dated_columns,
        roles=roles,
        page_count=count,
        versions={name: data["version"] for name, data in raw.items()},
        column_phrases=PhraseMatcher((p, c.role) for c in columns for p in c.phrases),
        column_whole=PhraseMatcher((p, c.role) for c in columns for p in (*c.phrases, *c.whole_cell)),
        identity=PhraseMatcher(identity_pairs),
        glyphs=glyphs,
        box_glyphs=frozenset(k for k, r in glyphs.items() if r.certain and r.style != "underline"),
        words=PhraseMatcher(
            (phrase, "word")
            for phrase in (
                *count.labels_before_number,
                *count.labels_after_number,
                *count.excluding_cover,
                *(t for r in roles for t in (*r.titles, *r.cues)),
            )
        ),
    )
