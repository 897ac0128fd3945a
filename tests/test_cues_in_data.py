"""Clinical vocabulary lives in lexicons/cues.json, not in regular expressions under extractors/.

A regular expression in code keeps a pattern's structure (anchors, optional parts, digits,
punctuation) and takes its words from a cue list (``cues.fragment``).  The guard below reads
every string literal of every module under ``extractors/`` (regex sources are written as
literals there; what comes from the lexicons is not) and fails on an alternation of three or
more plain words of four letters or more ("stopped|discontinued|ceased"): a word list that
crept back into code.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pytest

from extractors import cues
from extractors.lexicon import load_lexicon

EXTRACTORS = Path(__file__).resolve().parent.parent / "extractors"

# (module, the words of the alternation) -> why it stays in code.  Empty: everything moved.
ALLOWED: dict[tuple[str, tuple[str, ...]], str] = {}

# A plain word as one alternative: letters, at most a plural "s?" or an open ending
# ("prevent\w*") after them, word boundaries around them.
_PLAIN_WORD = re.compile(r"^(?:\\b)?([A-Za-z]+)(?:s\?|\\w\*|\\w\+)?(?:\\b)?$")
_MIN_LETTERS = 4
_MIN_WORDS = 3
_GROUP_OPEN = re.compile(r"\((?:\?(?:[:>|]|<?[=!]|P<\w+>|<\w+>|[aiLmsux-]+:))?")
_INLINE_FLAGS = re.compile(r"\(\?[aiLmsux-]+\)")


def alternations(pattern: str) -> Iterator[list[str]]:
    """The alternatives of every group of a regular expression's source (and of its top level)."""
    stack: list[list[str]] = [[""]]
    i = 0
    in_class = False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            stack[-1][-1] += pattern[i : i + 2]
            i += 2
            continue
        if in_class:
            stack[-1][-1] += c
            in_class = c != "]"
            i += 1
            continue
        if c == "[":
            in_class = True
            stack[-1][-1] += c
        elif c == "(":
            if flags := _INLINE_FLAGS.match(pattern, i):
                i = flags.end()
                continue
            opened = _GROUP_OPEN.match(pattern, i)
            stack.append([""])
            i = opened.end() if opened else i + 1
            continue
        elif c == ")":
            if len(stack) > 1:
                yield stack.pop()
            stack[-1][-1] += "(...)"
        elif c == "|":
            stack[-1].append("")
        else:
            stack[-1][-1] += c
        i += 1
    yield from reversed(stack)


def word_lists(pattern: str) -> list[tuple[str, ...]]:
    """The alternations of ``pattern`` that are lists of plain words."""
    found = []
    for alternatives in alternations(pattern):
        words = tuple(
            m.group(1)
            for a in alternatives
            if (m := _PLAIN_WORD.match(a.strip())) and len(m.group(1)) >= _MIN_LETTERS
        )
        if len(words) >= _MIN_WORDS:
            found.append(words)
    return found


def _literals(tree: ast.Module) -> Iterator[str]:
    """Every string literal but docstrings; an f-string with its placeholders blanked."""
    docstrings: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            docstrings.update(id(v) for v in node.values)
            yield "".join(v.value if isinstance(v, ast.Constant) else "\x00" for v in node.values)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node.value


def test_guard_sees_a_word_list() -> None:
    assert word_lists(r"(?i)\b(?:stopped|discontinued|d/c(?:'d)?|ended|ceased)\b") == [
        ("stopped", "discontinued", "ended", "ceased")
    ]
    assert word_lists(r"\b(?:risk of|prevent\w*|delay\w*|attach\w*)\s+$") == [("prevent", "delay", "attach")]
    assert word_lists(r"(?i)(?:Program(?:me)?|Center|Clinic|Unit)\b") == [("Center", "Clinic", "Unit")]
    # structure, short words and phrases are not word lists
    assert word_lists(r"(?i)^\s*(?:-|–|to|thru|\x00)\s*(?:in|on|of|at)?$") == []
    assert word_lists(r"(?:past medical history|problem list|dx)\s*:") == []


def test_no_word_lists_in_extractor_regexes() -> None:
    found: dict[tuple[str, tuple[str, ...]], None] = {}
    for path in sorted(EXTRACTORS.rglob("*.py")):
        module = path.relative_to(EXTRACTORS.parent).as_posix()
        for literal in _literals(ast.parse(path.read_text(encoding="utf-8"))):
            for words in word_lists(literal):
                found[(module, words)] = None
    crept_back = [key for key in found if key not in ALLOWED]
    assert not crept_back, f"word lists in code (move them to lexicons/cues.json): {crept_back}"
    assert not [key for key in ALLOWED if key not in found], "an allowed entry no longer exists"


def test_every_cue_list_used_in_code_exists() -> None:
    lists = load_lexicon().cues
    used = set()
    for path in EXTRACTORS.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        used |= set(re.findall(r"cues\.(?:fragment|pattern|search)\(\s*[\"']([\w]+)[\"']", text))
    assert used and not used - set(lists), sorted(used - set(lists))


def test_every_cue_list_says_what_and_where_from() -> None:
    for row in load_lexicon().cues.values():
        assert len(row.description) >= 40 and row.source, row.id
        assert len(row.terms) == len(set(row.terms)), row.id


@pytest.mark.parametrize(
    ("kind", "least", "words"),
    [
        ("cardinals", 0, {"one", "four", "ten"}),
        ("ordinals", 2, {"second", "fourth", "tenth"}),
    ],
)
def test_number_words_come_from_cues_json(
    kind: Literal["cardinals", "ordinals"], least: int, words: set[str]
) -> None:
    pattern = re.compile(rf"(?i)^{cues.number_words(kind, least)}$")
    assert all(pattern.match(w) for w in words)
    assert least < 2 or not pattern.match("first")
