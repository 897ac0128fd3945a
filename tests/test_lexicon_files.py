"""The lexicon data files: schemas, versions, sources, and only verified codes."""

from __future__ import annotations

import pytest

from common.errors import LexiconError
from extractors.lexicon import DrugRow, load_lexicon, parse_rows, read_json

LEXICON = load_lexicon()


def test_every_file_has_a_version() -> None:
    from importlib import resources

    files = {p.name for p in resources.files("lexicons").iterdir() if p.name.endswith(".json")}
    assert set(LEXICON.versions) == files and all(LEXICON.versions.values())


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"ingredient": "x", "therapy_class": "immunomodulatory_agent", "source": "[S1]"}], "rows[0]"),
        ([{"ingredient": "foo", "therapy_class": "not_a_class", "source": "[S1]"}], "ingredient='foo'"),
        ([{"ingredient": "foo", "therapy_class": "other"}], "source"),
        ("not a list", "must be a list"),
    ],
)
def test_malformed_rows_name_file_and_row(rows: object, message: str) -> None:
    with pytest.raises(LexiconError) as caught:
        parse_rows("drugs.json", rows, DrugRow)
    assert "lexicons/drugs.json" in str(caught.value) and message in str(caught.value)


def test_missing_file_is_a_lexicon_error() -> None:
    with pytest.raises(LexiconError, match=r"no_such_file\.json"):
        read_json("no_such_file.json")


@pytest.mark.parametrize(
    ("ingredient", "rxnorm", "atc"),
    [
        ("lenalidomide", "342369", "L04AX04"),
        ("bortezomib", "358258", "L01XG01"),
        ("daratumumab", "1721947", "L01FC01"),
        ("isatuximab", None, "L01FC02"),  # RxCUI unverified: not shipped
        ("selinexor", None, "L01XX66"),
        ("elranatamab", None, None),  # ATC seen only in a low-reliability file
        ("teclistamab", None, "L01FX24"),
        ("dexamethasone", None, "H02AB02"),
    ],
)
def test_only_verified_codes(ingredient: str, rxnorm: str | None, atc: str | None) -> None:
    drug = LEXICON.drug(ingredient)
    assert drug is not None and (drug.rxnorm, drug.atc) == (rxnorm, atc)


def test_secondary_codes_are_flagged() -> None:
    pom = LEXICON.drug("pomalidomide")
    assert pom is not None and pom.rxnorm == "1369713" and not pom.rxnorm_verified


@pytest.mark.parametrize(
    ("ingredient", "hcpcs"),
    [
        ("idecabtagene vicleucel", "Q2055"),
        ("ciltacabtagene autoleucel", "Q2056"),
        ("tisagenlecleucel", "Q2042"),  # not Q2040
        ("obecabtagene autoleucel", "Q2058"),
    ],
)
def test_car_t_codes(ingredient: str, hcpcs: str) -> None:
    [product] = [p for p in LEXICON.car_t_products if p.ingredient == ingredient]
    assert product.hcpcs == hcpcs


def test_bispecifics_are_not_car_t() -> None:
    classes = {d.ingredient: d.therapy_class for d in LEXICON.drugs}
    assert classes["teclistamab"] == "bcma_bispecific"
    assert classes["talquetamab"] == "gprc5d_bispecific"
    assert all(d.therapy_class != "car_t" for d in LEXICON.drugs)


def test_every_row_has_a_source() -> None:
    rows = [*LEXICON.drugs, *LEXICON.regimens, *LEXICON.procedures, *LEXICON.diagnoses, *LEXICON.statuses]
    assert all(row.source for row in rows)


def test_regimen_names_are_unique() -> None:
    names = [n for r in LEXICON.regimens for n in r.names]
    assert len(names) == len(set(names))


def test_mm_icd10_codes_verified_only() -> None:
    [mm] = [d for d in LEXICON.diagnoses if d.concept == "multiple_myeloma"]
    assert mm.is_target and mm.icd10 == ["C90.00", "C90.01", "C90.02"]


def test_context_literals_are_unique() -> None:
    """medspaCy keys ConText rules by literal: a repeated literal would silently replace the first."""
    literals = [r.literal.lower() for r in LEXICON.context_rules]
    assert len(literals) == len(set(literals))


def test_regimen_components_are_known_drugs() -> None:
    known = {d.ingredient for d in LEXICON.drugs}
    assert all(set(r.components) <= known for r in LEXICON.regimens)
