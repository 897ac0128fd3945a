"""A reviewer's actions through the API: accept or override each criterion with a reason,
who and when kept, the report never changed, the final outcome the reviewer's, and the
overrides in the case's JSON and FHIR."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle
from service_inline import open_service, run_jobs

from intake.api import create_app
from intake.auth import create_token
from intake.service import Service
from outputs.questionnaire import INFORMATION_ORIGIN

LETTER = (Path(__file__).parent / "data" / "letter-met.txt").read_bytes()
_n = itertools.count()


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    svc = open_service(tmp_path)
    yield svc
    svc.close()


@pytest.fixture
def api(service: Service) -> tuple[TestClient, dict[str, str]]:
    token = create_token(service.store, "nurse.b")
    return TestClient(create_app(service)), {"Authorization": f"Bearer {token}"}


def _done_case(service: Service, client: TestClient, auth: dict[str, str]) -> str:
    body = LETTER + f"\n{next(_n)}\n".encode()  # new bytes: a case of its own
    doc_id = str(client.post("/v1/documents", files={"file": ("x.txt", body)}, headers=auth).json()["id"])
    assert run_jobs(service) == 1
    return doc_id


def _review(client: TestClient, auth: dict[str, str], doc_id: str, criterion: str, **body: Any) -> Any:
    return client.post(f"/v1/documents/{doc_id}/criteria/{criterion}/review", json=body, headers=auth)


def test_an_override_is_kept_with_who_and_when_and_the_report_is_unchanged(
    service: Service, api: tuple[TestClient, dict[str, str]]
) -> None:
    client, auth = api
    doc_id = _done_case(service, client, auth)
    before = client.get(f"/v1/documents/{doc_id}", headers=auth).json()
    assert before["review"] == {"criteria": [], "outcome": None, "history": []}
    first = before["report"]["criteria"][0]
    resp = _review(
        client, auth, doc_id, first["id"], action="override", status="not_met", reason="DOB on p.2 says 17"
    )
    assert resp.status_code == 201, resp.text
    after = client.get(f"/v1/documents/{doc_id}", headers=auth).json()
    assert after["report"] == before["report"]  # the extracted report is never changed
    [standing] = after["review"]["criteria"]
    assert standing["criterion"] == first["id"] and standing["action"] == "override"
    assert (standing["extracted"], standing["status"]) == (first["status"], "not_met")
    assert standing["by"] == {"name": "nurse.b", "kind": "token"} and standing["at"]
    assert standing["reason"] == "DOB on p.2 says 17"


def test_a_later_action_supersedes_an_earlier_one_and_both_are_kept(
    service: Service, api: tuple[TestClient, dict[str, str]]
) -> None:
    client, auth = api
    doc_id = _done_case(service, client, auth)
    _review(client, auth, doc_id, "age", action="override", status="not_documented", reason="illegible")
    _review(client, auth, doc_id, "age", action="accept", reason="legible on the original")
    review = client.get(f"/v1/documents/{doc_id}/review", headers=auth).json()
    assert [a["action"] for a in review["history"]] == ["override", "accept"]
    [standing] = review["criteria"]
    assert standing["action"] == "accept" and standing["status"] == standing["extracted"] == "met"


@pytest.mark.parametrize(
    ("body", "code", "status"),
    [
        ({"action": "override", "status": "not_met"}, "E403_BAD_PARAMETER", 422),  # no reason
        ({"action": "override", "status": "not_met", "reason": "   "}, "E403_BAD_PARAMETER", 422),
        ({"action": "override", "status": "met", "reason": "same"}, "E403_BAD_PARAMETER", 422),  # no change
        ({"action": "override", "reason": "which?"}, "E403_BAD_PARAMETER", 422),  # no status
        ({"action": "delete"}, "E403_BAD_PARAMETER", 422),
        ({"action": "accept", "reason": "x" * 4001}, "E403_BAD_PARAMETER", 422),
    ],
    ids=["no reason", "blank reason", "same status", "no status", "unknown action", "long reason"],
)
def test_bad_review_actions_are_refused_and_record_nothing(
    service: Service, api: tuple[TestClient, dict[str, str]], body: dict[str, Any], code: str, status: int
) -> None:
    client, auth = api
    doc_id = _done_case(service, client, auth)
    resp = _review(client, auth, doc_id, "age", **body)
    assert resp.status_code == status and resp.json()["error"]["code"] == code
    assert service.reviews.of(doc_id) == []


def test_an_unknown_criterion_or_an_unfinished_case_cannot_be_reviewed(
    service: Service, api: tuple[TestClient, dict[str, str]]
) -> None:
    client, auth = api
    doc_id = _done_case(service, client, auth)
    resp = _review(client, auth, doc_id, "no_such", action="accept")
    assert resp.status_code == 422 and "its criteria: age" in resp.json()["error"]["message"]
    queued = client.post("/v1/documents", files={"file": ("y.txt", LETTER + b"\nq\n")}, headers=auth).json()[
        "id"
    ]
    resp = _review(client, auth, queued, "age", action="accept")
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "E406_NOT_READY"


def test_approval_needs_every_criterion_reviewed_and_met(
    service: Service, api: tuple[TestClient, dict[str, str]]
) -> None:
    client, auth = api
    doc_id = _done_case(service, client, auth)
    criteria = client.get(f"/v1/documents/{doc_id}", headers=auth).json()["report"]["criteria"]
    approve = {"outcome": "approved"}
    resp = client.post(f"/v1/documents/{doc_id}/outcome", json=approve, headers=auth)
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "E408_REVIEW_INCOMPLETE"
    for c in criteria:
        _review(client, auth, doc_id, c["id"], action="accept")
    _review(client, auth, doc_id, "age", action="override", status="not_met", reason="under 18 on the form")
    resp = client.post(f"/v1/documents/{doc_id}/outcome", json=approve, headers=auth)
    assert resp.status_code == 409 and "not met as reviewed: age" in resp.json()["error"]["message"]
    _review(client, auth, doc_id, "age", action="accept", reason="the form's DOB was misread")
    resp = client.post(f"/v1/documents/{doc_id}/outcome", json=approve, headers=auth)
    assert resp.status_code == 201, resp.text
    outcome = client.get(f"/v1/documents/{doc_id}", headers=auth).json()["review"]["outcome"]
    assert outcome["outcome"] == "approved" and outcome["by"]["name"] == "nurse.b"


def test_an_outcome_other_than_approval_needs_a_reason(
    service: Service, api: tuple[TestClient, dict[str, str]]
) -> None:
    client, auth = api
    doc_id = _done_case(service, client, auth)
    resp = client.post(f"/v1/documents/{doc_id}/outcome", json={"outcome": "referred"}, headers=auth)
    assert resp.status_code == 422
    resp = client.post(
        f"/v1/documents/{doc_id}/outcome",
        json={"outcome": "referred", "reason": "prior CAR-T unclear"},
        headers=auth,
    )
    assert resp.status_code == 201


def _entries(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def _origin(answer: dict[str, Any]) -> dict[str, Any]:
    [ext] = [e for e in answer["extension"] if e["url"] == INFORMATION_ORIGIN]
    return {e["url"]: e.get("valueCode") or e.get("extension") for e in ext["extension"]}


def test_overrides_and_the_outcome_are_in_the_fhir_bundle_beside_the_services_answers(
    service: Service, api: tuple[TestClient, dict[str, str]]
) -> None:
    client, auth = api
    doc_id = _done_case(service, client, auth)
    plain = client.get(f"/v1/documents/{doc_id}/fhir", headers=auth).json()
    assert len(_entries(plain, "QuestionnaireResponse")) == 1  # nothing reviewed: the bundle as stored
    _review(client, auth, doc_id, "age", action="accept")
    _review(
        client,
        auth,
        doc_id,
        "prior_lines",
        action="override",
        status="not_documented",
        reason="dates cut off",
    )
    client.post(
        f"/v1/documents/{doc_id}/outcome",
        json={"outcome": "information_requested", "reason": "asked for the treatment table"},
        headers=auth,
    )
    bundle = client.get(f"/v1/documents/{doc_id}/fhir", headers=auth).json()
    Bundle.model_validate(bundle)  # valid R4
    service_qr, reviewed = _entries(bundle, "QuestionnaireResponse")
    assert service_qr == _entries(plain, "QuestionnaireResponse")[0]  # the service's answers unchanged
    assert reviewed["status"] == "completed" and reviewed["questionnaire"] == service_qr["questionnaire"]
    by_id = {i["linkId"]: i for i in reviewed["item"]}
    [practitioner] = _entries(bundle, "Practitioner")
    assert practitioner["name"] == [{"text": "nurse.b"}]
    override = by_id["prior_lines"]["answer"][0]
    assert override["valueCoding"]["code"] == "not-documented"
    origin = _origin(override)
    assert origin["source"] == "override"
    assert origin["author"][0]["valueReference"]["reference"] == f"urn:uuid:{practitioner['id']}"
    assert _origin(by_id["age"]["answer"][0])["source"] == "auto-server"  # accepted as the service answered
    assert by_id["determination"]["answer"][0]["valueCoding"]["code"] == "information_requested"
    provenances = [
        p
        for p in _entries(bundle, "Provenance")
        if p["target"] == [{"reference": f"urn:uuid:{reviewed['id']}"}]
    ]
    assert len(provenances) == 3 and all(p["recorded"] for p in provenances)
    assert any(p.get("reason") == [{"text": "dates cut off"}] for p in provenances)
    claims = _entries(bundle, "ClaimResponse")
    assert len(claims) == 2  # the service's pended one stays; the reviewer's beside it
    assert "reviewed by nurse.b (token)" in claims[1]["disposition"]


def test_review_actions_are_audited(service: Service, api: tuple[TestClient, dict[str, str]]) -> None:
    client, auth = api
    doc_id = _done_case(service, client, auth)
    _review(client, auth, doc_id, "age", action="accept")
    rows = service.store.audit_trail(doc_id)
    assert rows[0].action == "review_accept" and rows[0].actor == "nurse.b"
