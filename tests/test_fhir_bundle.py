"""The FHIR output validates as R4 (fhir.resources R4B models) and says where each answer came from."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from _criteria_facts import (
    ALL_LINES_FACTS,
    MYELOMA,
    SHA,
    complete_facts,
    ev,
    processed,
    therapy,
)
from fhir.resources.R4B.bundle import Bundle

from common.models import DiagnosisFact
from outputs.fhir import (
    ICD10_CM,
    PAGES_EXTENSION,
    RXNORM,
    to_fhir_bundle,
    verified_icd10,
    verified_rxnorm,
)
from outputs.questionnaire import STATUS_CODES

WHEN = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def bundle_of(facts: Any, policy_id: str = "carepartners-ct-abecma-2025-09") -> dict[str, Any]:
    return to_fhir_bundle(processed(facts, policy_id), recorded=WHEN)


def resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


CURRENT = "carepartners-ct-abecma-2025-09"
CASES = [
    ("complete request", complete_facts(), CURRENT),
    (
        "empty facts",
        complete_facts(therapies=(), lines=(), age=None, diagnoses=(), disease_status=(), findings=()),
        CURRENT,
    ),
    (
        "transplant, trial and odd dates",
        complete_facts(
            therapies=(
                *ALL_LINES_FACTS,
                therapy("autologous stem cell transplant", 1, start="2019-08"),
                therapy("car-t", 4, start="sometime in 2023", trial=True),
            )
        ),
        CURRENT,
    ),
    ("earlier 4L policy", complete_facts(), "carepartners-ct-abecma-2023-01-label-4l"),
]


@pytest.mark.parametrize(("facts", "policy_id"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bundle_validates_as_r4(facts: Any, policy_id: str) -> None:
    bundle = bundle_of(facts, policy_id)
    parsed = Bundle.model_validate(bundle)
    assert parsed.type == "collection"
    # JSON-serialisable as is, and every reference resolves inside the bundle
    text = json.dumps(bundle)
    full_urls = {e["fullUrl"] for e in bundle["entry"]}
    for ref in _references(bundle):
        assert ref in full_urls, ref
    assert "Fictional" not in text


def _references(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["reference"]] if isinstance(node.get("reference"), str) else []
        return found + [r for v in node.values() for r in _references(v)]
    if isinstance(node, list):
        return [r for v in node for r in _references(v)]
    return []


def test_same_fax_gives_the_same_bundle() -> None:
    assert bundle_of(complete_facts()) == bundle_of(complete_facts())


def test_patient_has_no_name_and_age_only_when_known() -> None:
    with_age = bundle_of(complete_facts())
    (patient,) = resources(with_age, "Patient")
    assert set(patient) == {"resourceType", "id"}
    (age,) = resources(with_age, "Observation")
    assert age["valueQuantity"]["value"] == 67 and age["valueQuantity"]["code"] == "a"
    assert resources(bundle_of(complete_facts(age=None)), "Observation") == []


def test_document_reference_carries_hash_and_page_count() -> None:
    (doc,) = resources(bundle_of(complete_facts()), "DocumentReference")
    value = doc["masterIdentifier"]["value"]
    assert value.startswith("ni:///sha-256;")
    digest = base64.urlsafe_b64decode(value.split(";", 1)[1] + "=" * (-len(value) % 4))
    assert digest.hex() == SHA
    attachment = doc["content"][0]["attachment"]
    assert attachment["contentType"] == "application/pdf"
    assert attachment["extension"] == [{"url": PAGES_EXTENSION, "valuePositiveInt": 4}]


CONDITIONS = [
    ("verified code from the text", "C90.02", [(ICD10_CM, "C90.02")]),
    ("lower-case code", "c90.00", [(ICD10_CM, "C90.00")]),
    ("code not verified for myeloma: text only", "C90.32", []),
    ("no code: text only", None, []),
]


@pytest.mark.parametrize(("icd10", "codings"), [c[1:] for c in CONDITIONS], ids=[c[0] for c in CONDITIONS])
def test_condition_codes_only_where_verified(icd10: str | None, codings: list[tuple[str, str]]) -> None:
    if not verified_icd10():
        pytest.skip("diagnosis lexicon not present")
    myeloma = MYELOMA.model_copy(update={"icd10": icd10})
    (condition,) = resources(bundle_of(complete_facts(diagnoses=(myeloma,))), "Condition")
    assert condition["code"]["text"] == "multiple myeloma"
    assert [(c["system"], c["code"]) for c in condition["code"].get("coding", [])] == codings
    assert condition["note"][0]["text"].startswith("page 1:")


def test_only_asserted_diagnoses_become_conditions() -> None:
    family = DiagnosisFact(
        concept="lymphoma",
        is_target=False,
        text="lymphoma",
        assertion="family",
        evidence=(ev(1, "mother had lymphoma"),),
    )
    conditions = resources(bundle_of(complete_facts(diagnoses=(MYELOMA, family))), "Condition")
    assert [c["code"]["text"] for c in conditions] == ["multiple myeloma"]


def test_medication_statements_for_received_therapies_with_verified_rxnorm_only() -> None:
    facts = complete_facts()
    statements = resources(bundle_of(facts), "MedicationStatement")
    received = [t for t in facts.therapies if t.assertion == "received"]
    assert len(statements) == len(received)
    rx = verified_rxnorm()
    for st, t in zip(statements, received, strict=True):
        concept = st["medicationCodeableConcept"]
        assert concept["text"] == t.ingredient
        codes = [c["code"] for c in concept.get("coding", []) if c["system"] == RXNORM]
        assert codes == ([rx[t.ingredient]] if t.ingredient in rx else [])
        assert st["effectivePeriod"]["start"] == t.start
    if rx:  # the lexicon marks lenalidomide's RxCUI verified; dexamethasone has none
        assert "lenalidomide" in rx and "dexamethasone" not in rx


def test_transplant_is_a_procedure_and_unreadable_dates_are_dropped() -> None:
    facts = complete_facts(
        therapies=(
            *ALL_LINES_FACTS,
            therapy("autologous stem cell transplant", 1, start="2019-08"),
            therapy("car-t", 4, start="sometime in 2023", trial=True),
        )
    )
    facts = facts.model_copy(
        update={
            "therapies": tuple(
                t.model_copy(update={"therapy_class": "stem_cell_transplant"})
                if "transplant" in t.ingredient
                else t
                for t in facts.therapies
            )
        }
    )
    bundle = bundle_of(facts)
    (proc,) = resources(bundle, "Procedure")
    assert proc["performedPeriod"] == {"start": "2019-08"}
    car_t = next(
        m
        for m in resources(bundle, "MedicationStatement")
        if m["medicationCodeableConcept"]["text"] == "car-t"
    )
    assert "effectivePeriod" not in car_t
    assert "clinical trial" in car_t["note"][0]["text"]


def test_questionnaire_response_has_one_item_per_criterion_with_sources() -> None:
    done = processed(complete_facts(age=None))
    (qr,) = resources(to_fhir_bundle(done, recorded=WHEN), "QuestionnaireResponse")
    by_id = {i["linkId"]: i for i in qr["item"]}
    for result in done.report.criteria:
        item = by_id[result.id]
        answer = item["answer"][0]
        assert answer["valueCoding"]["code"] == STATUS_CODES[result.status][0]
        inner = {i["linkId"]: i for i in answer["item"]}
        assert inner[f"{result.id}.reason"]["answer"][0]["valueString"] == result.reason
        if result.status in ("met", "not_met"):
            cited = inner[f"{result.id}.evidence"]["answer"]
            assert len(cited) == len(result.evidence)
            for got, e in zip(cited, result.evidence, strict=True):
                parts = {p["linkId"]: p["answer"][0] for p in got["item"]}
                assert got["valueString"] == e.text and parts["page"]["valueInteger"] == e.page
                assert parts["bbox"]["valueString"].count(",") == 3
    assert by_id["determination"]["answer"][0]["valueCoding"]["code"] == "needs-information"
    assert "Member's age or date of birth" in [a["valueString"] for a in by_id["missing"]["answer"]]
    assert by_id["finding.outpatient_attestation"]["answer"][0]["valueBoolean"] is True


def test_provenance_ties_derived_resources_to_the_fax() -> None:
    bundle = bundle_of(complete_facts())
    (prov,) = resources(bundle, "Provenance")
    (doc,) = resources(bundle, "DocumentReference")
    assert prov["entity"] == [{"role": "source", "what": {"reference": f"urn:uuid:{doc['id']}"}}]
    targets = {t["reference"] for t in prov["target"]}
    for kind in ("QuestionnaireResponse", "ClaimResponse", "Condition", "MedicationStatement", "Observation"):
        for r in resources(bundle, kind):
            assert f"urn:uuid:{r['id']}" in targets
    assert prov["recorded"] == WHEN.isoformat(timespec="seconds")


def test_repeated_mentions_of_one_course_give_one_statement() -> None:
    lenalidomide = therapy("lenalidomide", 1, start="2019-03")
    again = lenalidomide.model_copy(update={"evidence": (ev(3, "Revlimid since 03/2019"),)})
    statements = resources(bundle_of(complete_facts(therapies=(lenalidomide, again))), "MedicationStatement")
    assert len(statements) == 1
    assert [n["text"] for n in statements[0]["note"][1:]] == [
        'page 2: "lenalidomide 2019-03"',
        'page 3: "Revlimid since 03/2019"',
    ]
