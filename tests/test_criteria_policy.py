"""Policy files are data: loading, validation errors a person can act on, and choosing the version."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from common.errors import NoPolicyForProduct, PolicyError, PolicyNotFound
from criteria.policy import (
    _bundled_files,
    choose_policy,
    list_policies,
    load_policy,
    parse_partial_date,
    select_policy,
)
from fixtures.truth import CRITERIA_IDS

CURRENT_ID = "carepartners-ct-abecma-2025-09"
EARLIER_ID = "carepartners-ct-abecma-2023-01-label-4l"
POLICY_TEXT = Path("/work/shared/policy/abecma-carepartners-ct-2025-09.txt")


def _current_json() -> dict[str, Any]:
    path = next(f for f in _bundled_files() if f.stem == CURRENT_ID)
    return json.loads(path.read_text(encoding="utf-8"))


ABECMA = "idecabtagene vicleucel"


def _abecma() -> list[Any]:
    return [p for p in list_policies() if p.drug.generic == ABECMA]


def test_bundled_policies_load_with_their_contract_fields() -> None:
    ids = [p.id for p in _abecma()]
    assert ids == [EARLIER_ID, CURRENT_ID]  # oldest first
    for p in _abecma():
        assert p.title and p.effective and p.drug.generic == "idecabtagene vicleucel"
        assert tuple(c.id for c in p.criteria) == CRITERIA_IDS  # the report ids issue #5 names
        assert {i.finding_key for i in p.informational} == {"outpatient_attestation", "tocilizumab_available"}
        (code,) = p.codes
        assert (code.system, code.code) == ("HCPCS", "Q2055") and "idecabtagene" in code.match_terms


def test_each_file_is_named_for_its_id() -> None:
    assert sorted(f.stem for f in _bundled_files()) == sorted(p.id for p in list_policies())


@pytest.mark.skipif(not POLICY_TEXT.exists(), reason="shared policy text not present")
def test_current_policy_quotes_the_guideline_verbatim() -> None:
    """Every quoted sentence must be in the source text (whitespace aside), so a reviewer can trust it."""
    source = " ".join(POLICY_TEXT.read_text(encoding="utf-8").replace("**", "").split())
    p = select_policy(policy_id=CURRENT_ID, date_of_service=None)
    quoted = [c.policy_text for c in p.criteria] + [i.policy_text for i in p.informational]
    quoted += [lim.policy_text for lim in p.limitations]
    for text in quoted:
        for piece in text.split(". "):
            assert " ".join(piece.split()).rstrip(".") in source, piece


def test_earlier_version_is_honest_about_its_source() -> None:
    p = select_policy(policy_id=EARLIER_ID, date_of_service=None)
    assert p.provenance.kind == "fda_label" and p.provenance.file is None
    assert "NOT a copy of a payer document" in p.provenance.note
    assert "four or more" in p.title
    prior = next(c for c in p.criteria if c.id == "prior_lines")
    assert prior.rule.rule == "min_prior_lines" and prior.rule.count == 4


SELECTION = [
    # (date of service, expected policy)
    (None, CURRENT_ID),
    ("", CURRENT_ID),
    ("not a date", CURRENT_ID),
    ("2025-09-01", CURRENT_ID),
    ("2026", CURRENT_ID),
    ("2023-01-01", EARLIER_ID),
    ("2023", EARLIER_ID),
    ("2024-06-30", EARLIER_ID),
    ("2024-06", EARLIER_ID),
    # superseded on 2024-07-01: the 2L rules apply from then on (the next file we hold)
    ("2024-07-01", CURRENT_ID),
    ("2025-03", CURRENT_ID),
    # before any version: the earliest we hold
    ("2021-05-02", EARLIER_ID),
]


@pytest.mark.parametrize(("dos", "expected"), SELECTION)
def test_policy_chosen_by_date_of_service(dos: str | None, expected: str) -> None:
    assert select_policy(policy_id=None, date_of_service=dos, product=ABECMA).id == expected


@pytest.mark.parametrize("dos", [None, "2023-05", "2025-10"])
def test_explicit_id_wins_over_date(dos: str | None) -> None:
    assert select_policy(policy_id=EARLIER_ID, date_of_service=dos).id == EARLIER_ID
    assert select_policy(policy_id=CURRENT_ID, date_of_service=dos).id == CURRENT_ID


def test_unknown_id_names_the_known_ones() -> None:
    with pytest.raises(PolicyNotFound) as err:
        select_policy(policy_id="aetna-carvykti", date_of_service=None)
    assert CURRENT_ID in err.value.message and err.value.exit_code == 64


def test_the_requested_product_chooses_the_policy_by_name_brand_or_code() -> None:
    assert select_policy(policy_id=None, date_of_service="2025", product="Abecma").id == CURRENT_ID
    assert select_policy(policy_id=None, date_of_service="2025", product=ABECMA).id == CURRENT_ID
    assert select_policy(policy_id=None, date_of_service="2025", hcpcs="q2055").id == CURRENT_ID


@pytest.mark.parametrize(
    ("product", "hcpcs"),
    [("tisagenlecleucel", None), (None, "Q2042"), (None, None), ("teclistamab", "J9380")],
    ids=["a product with no policy", "a code with no policy", "nothing requested", "neither"],
)
def test_a_request_no_policy_covers_is_not_evaluated_under_another(
    product: str | None, hcpcs: str | None
) -> None:
    with pytest.raises(NoPolicyForProduct) as err:
        select_policy(policy_id=None, date_of_service="2025-10-01", product=product, hcpcs=hcpcs)
    assert "no policy on file" in err.value.message
    assert isinstance(err.value, PolicyNotFound)  # --policy still names one explicitly


def test_choose_from_nothing_is_an_error() -> None:
    with pytest.raises(PolicyNotFound):
        choose_policy([], "2025")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024", "2024-01-01"),
        ("2024-03", "2024-03-01"),
        ("2024-03-15", "2024-03-15"),
        ("2024-13", None),
        ("2024-02-30", None),
        (None, None),
        ("03/15/2024", None),
    ],
)
def test_partial_dates(text: str | None, expected: str | None) -> None:
    got = parse_partial_date(text)
    assert (got.isoformat() if got else None) == expected


def _drop(path: list[str | int]) -> Any:
    def edit(d: dict[str, Any]) -> None:
        target: Any = d
        for part in path[:-1]:
            target = target[part]
        del target[path[-1]]

    return edit


def _set(path: list[str | int], value: Any) -> Any:
    def edit(d: dict[str, Any]) -> None:
        target: Any = d
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return edit


MALFORMED = [
    # (trap, edit, words the message must contain)
    ("no effective date", _drop(["effective"]), ["effective", "Field required"]),
    ("effective date not a date", _set(["effective"], "September 2025"), ["effective"]),
    ("unknown rule name", _set(["criteria", 0, "rule", "rule"], "max_age"), ["criteria[0].rule"]),
    (
        "rule parameter missing",
        _drop(["criteria", 2, "rule", "count"]),
        ["criteria[2].rule.min_prior_lines.count"],
    ),
    ("negative count", _set(["criteria", 2, "rule", "count"], 0), ["criteria[2].rule.min_prior_lines.count"]),
    ("unknown therapy class", _set(["criteria", 3, "rule", "therapy_class"], "imid"), ["therapy_class"]),
    ("typo in a field name", _set(["criteria", 0, "missing_requst"], "x"), ["criteria[0].missing_requst"]),
    (
        "unknown placeholder in a request",
        _set(["criteria", 0, "missing_request"], "Age over {age}"),
        ["criteria[0]", "placeholder", "age"],
    ),
    (
        "unbalanced brace in a request",
        _set(["criteria", 7, "rule", "per_line_request"], "{what of line"),
        ["per_line_request"],
    ),
    ("duplicate criterion id", _set(["criteria", 1, "id"], "age"), ["duplicate", "age"]),
    ("no criteria", _set(["criteria"], []), ["criteria"]),
    (
        "limitation names an unknown criterion",
        _set(["limitations", 1, "enforced_by"], "no_car_t"),
        ["enforced_by", "no_car_t"],
    ),
    (
        "limitation checked two ways at once",
        _set(["limitations", 1, "conflict_finding"], "repeat_infusion"),
        ["limitations", "enforced_by or conflict_finding"],
    ),
    (
        "limitation conflict without its label",
        _set(["limitations", 0, "conflict_label"], None),
        ["limitations", "conflict_label"],
    ),
    ("superseded before it took effect", _set(["superseded_on"], "2020-01-01"), ["superseded_on"]),
    ("wrong schema version", _set(["schema_version"], 1), ["schema_version"]),
    ("bad id", _set(["id"], "Has Spaces"), ["id"]),
]


@pytest.mark.parametrize(("edit", "words"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_malformed_policy_file_names_file_and_field(tmp_path: Path, edit: Any, words: list[str]) -> None:
    data = copy.deepcopy(_current_json())
    edit(data)
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(PolicyError) as err:
        load_policy(path)
    message = err.value.message
    assert str(path) in message
    for word in words:
        assert word in message, message
    assert err.value.code == "E202_POLICY"


RAW_FILES = [
    ("not JSON", b'{"id": "x",', "not valid JSON at line 1"),
    ("a list, not an object", b"[]", "top level must be a JSON object"),
    ("not UTF-8", b"\xff\xfe{}", "cannot be read"),
]


@pytest.mark.parametrize(("raw", "words"), [r[1:] for r in RAW_FILES], ids=[r[0] for r in RAW_FILES])
def test_unreadable_policy_file(tmp_path: Path, raw: bytes, words: str) -> None:
    path = tmp_path / "raw.json"
    path.write_bytes(raw)
    with pytest.raises(PolicyError) as err:
        load_policy(path)
    assert str(path) in err.value.message and words in err.value.message


def test_missing_policy_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot be read"):
        load_policy(tmp_path / "absent.json")


def test_a_valid_copy_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "copy.json"
    path.write_text(json.dumps(_current_json()), encoding="utf-8")
    assert load_policy(path) == select_policy(policy_id=CURRENT_ID, date_of_service=None)
