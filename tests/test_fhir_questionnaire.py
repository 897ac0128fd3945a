"""FHIR a payer's systems can take: a Questionnaire per policy file, the answers pointing
to it as codings with DTR's information-origin, and a PAS-style ClaimResponse that is
pended unless every criterion is met, never a denial."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from _carvykti_facts import CARVYKTI, carvykti_facts
from _criteria_facts import complete_facts, processed
from fhir.resources.R4B.bundle import Bundle

from outputs.claim_response import REVIEW_ACTION, REVIEW_ACTION_CODE, X12_306
from outputs.fhir import to_fhir_bundle
from outputs.questionnaire import INFORMATION_ORIGIN, questionnaire_url

WHEN = datetime(2026, 10, 14, 12, 0, tzinfo=UTC)
DATA = Path(__file__).parent / "data" / "carvykti"


def bundle(facts: Any, policy_id: str) -> dict[str, Any]:
    return to_fhir_bundle(processed(facts, policy_id), recorded=WHEN)


def one(b: dict[str, Any], kind: str) -> dict[str, Any]:
    (found,) = [e["resource"] for e in b["entry"] if e["resource"]["resourceType"] == kind]
    return found


def _answers(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        here = list(node.get("answer", []))
        return here + [a for v in node.values() for a in _answers(v)]
    if isinstance(node, list):
        return [a for v in node for a in _answers(v)]
    return []


@pytest.mark.parametrize(
    "policy_id", [CARVYKTI, "carepartners-ct-abecma-2025-09", "carepartners-ct-abecma-2023-01-label-4l"]
)
def test_the_questionnaire_is_generated_from_the_policy_file(policy_id: str) -> None:
    done = processed(carvykti_facts(), policy_id)
    b = to_fhir_bundle(done, recorded=WHEN)
    Bundle.model_validate(b)
    q = one(b, "Questionnaire")
    assert q["url"] == questionnaire_url(done.policy)
    criteria = [i for i in q["item"] if i["linkId"] in {c.id for c in done.policy.criteria}]
    assert [i["linkId"] for i in criteria] == [c.id for c in done.policy.criteria]
    for item, c in zip(criteria, done.policy.criteria, strict=True):
        assert item["text"] == c.label and item["type"] == "choice"
        policy = next(i for i in item["item"] if i["type"] == "display")
        assert policy["text"] == f"Policy: {c.policy_text}"
        assert {o["valueCoding"]["code"] for o in item["answerOption"]} == {
            "met",
            "not-met",
            "not-documented",
        }


def test_the_response_points_to_the_questionnaire_and_answers_with_codings() -> None:
    b = bundle(carvykti_facts(labs=()), CARVYKTI)
    q, qr = one(b, "Questionnaire"), one(b, "QuestionnaireResponse")
    assert qr["questionnaire"] == f"{q['url']}|{q['version']}"
    asked = {i["linkId"] for i in q["item"]}
    assert {i["linkId"] for i in qr["item"]} <= asked
    by_id = {i["linkId"]: i["answer"][0] for i in qr["item"]}
    assert by_id["measurable_disease"]["valueCoding"]["code"] == "not-documented"
    assert by_id["age"]["valueCoding"]["code"] == "met"
    # every answer, nested ones included, says it was filled in automatically by this service
    for answer in _answers(qr):
        (origin,) = answer["extension"]
        assert origin["url"] == INFORMATION_ORIGIN
        assert origin["extension"] == [{"url": "source", "valueCode": "auto-server"}]


def _review_action(b: dict[str, Any]) -> str:
    cr = one(b, "ClaimResponse")
    (adjudication,) = cr["item"][0]["adjudication"]
    (action,) = adjudication["extension"]
    assert action["url"] == REVIEW_ACTION
    (code,) = action["extension"]
    assert code["url"] == REVIEW_ACTION_CODE
    (coding,) = code["valueCodeableConcept"]["coding"]
    assert coding["system"] == X12_306
    return str(coding["code"])


REVIEW = [
    ("every criterion met: certified", carvykti_facts(), CARVYKTI, "A1"),
    ("a gap: pended", carvykti_facts(labs=()), CARVYKTI, "A4"),
    ("the Abecma policy met", complete_facts(), "carepartners-ct-abecma-2025-09", "A1"),
]


@pytest.mark.parametrize(("facts", "policy_id", "code"), [r[1:] for r in REVIEW], ids=[r[0] for r in REVIEW])
def test_the_claim_response_is_pended_unless_every_criterion_is_met(
    facts: Any, policy_id: str, code: str
) -> None:
    b = bundle(facts, policy_id)
    Bundle.model_validate(b)
    assert _review_action(b) == code
    cr = one(b, "ClaimResponse")
    assert cr["use"] == "preauthorization" and cr["outcome"] == "complete"
    report = processed(facts, policy_id).report
    assert [n["text"] for n in cr.get("processNote", [])] == list(report.missing)


def test_a_not_met_recommendation_is_still_only_pended() -> None:
    base = carvykti_facts()
    assert base.age is not None
    minor = base.model_copy(update={"age": base.age.model_copy(update={"years": 16})})
    done = processed(minor, CARVYKTI)
    assert done.report.determination == "criteria_not_met"
    assert _review_action(to_fhir_bundle(done, recorded=WHEN)) == "A4"


def test_cli_fhir_bundle_validates_with_questionnaire_response_and_claim_response() -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            "from intake.cli import main; main()",
            "process",
            str(DATA / "complete.txt"),
            "--fhir",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    b = json.loads(run.stdout)
    Bundle.model_validate(b)
    kinds = [e["resource"]["resourceType"] for e in b["entry"]]
    for kind in ("Questionnaire", "QuestionnaireResponse", "ClaimResponse"):
        assert kinds.count(kind) == 1, kinds


def test_a_request_with_no_policy_gets_a_pended_claim_response_and_no_questionnaire() -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            "from intake.cli import main; main()",
            "process",
            str(DATA / "no-policy-kymriah.txt"),
            "--fhir",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    b = json.loads(run.stdout)
    Bundle.model_validate(b)
    assert not [e for e in b["entry"] if e["resource"]["resourceType"] == "Questionnaire"]
    assert _review_action(b) == "A4"
    assert "No policy is on file" in one(b, "ClaimResponse")["disposition"]
