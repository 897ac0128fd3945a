"""No module under criteria/ or extractors/ names a policy, a product or a criterion id:
what a rule checks are its parameters, and products come from the lexicons and policy files."""

from __future__ import annotations

import io
import tokenize
from pathlib import Path

import pytest

from criteria.policy import list_policies
from extractors.lexicon import load_lexicon

ROOT = Path(__file__).resolve().parent.parent
MODULES = sorted([*ROOT.joinpath("criteria").glob("*.py"), *ROOT.joinpath("extractors").glob("*.py")])


def _code_strings(path: Path) -> list[str]:
    """String literals of a module (their content, lower case), without its docstrings."""
    out: list[str] = []
    previous = tokenize.NEWLINE
    for tok in tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline):
        if tok.type == tokenize.STRING and previous in (
            tokenize.NEWLINE,
            tokenize.NL,
            tokenize.INDENT,
            tokenize.DEDENT,
        ):
            previous = tok.type
            continue  # a docstring
        if tok.type == tokenize.STRING:
            out.append(tok.string.lower().lstrip("rbuf").strip("'\""))
        if tok.type not in (tokenize.COMMENT, tokenize.NL):
            previous = tok.type
    return out


def _products() -> set[str]:
    """Product names and codes: never inside a string of code (a regex or a message)."""
    lexicon = load_lexicon()
    names = {
        n.lower()
        for p in lexicon.car_t_products
        for n in (p.ingredient, *p.brands, *p.synonyms)
        if len(n) > 4
    }
    policies = list_policies()
    names |= {p.drug.brand.lower() for p in policies} | {p.drug.generic.lower() for p in policies}
    return names | {code.code.lower() for p in policies for code in p.codes}


def _ids() -> set[str]:
    """Policy and criterion ids: never a string of code on their own.  One-word ids ("age",
    "diagnosis", "prescriber") are also the words of the facts (a prescriber's role, a
    lexicon's kind), so only compound ids are looked for."""
    policies = list_policies()
    return {p.id for p in policies} | {c.id for p in policies for c in p.criteria if "_" in c.id}


@pytest.mark.parametrize("module", MODULES, ids=[m.name for m in MODULES])
def test_the_module_names_no_product_policy_or_criterion(module: Path) -> None:
    strings = _code_strings(module)
    products = sorted({name for name in _products() for s in strings if name in s})
    ids = sorted(_ids() & set(strings))
    assert not products and not ids, f"{module.name} names {products + ids}"
