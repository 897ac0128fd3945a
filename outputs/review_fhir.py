"""A case's FHIR bundle with the reviewer's decisions beside the service's.

The bundle made when the job ended is never changed; these resources are added to
it when it is served:

* a Practitioner for each reviewer (a name, no other identifier);
* the reviewer's QuestionnaireResponse answering the same Questionnaire: each
  reviewed criterion with the reviewer's coding and reason, its DTR
  information-origin ``override`` for an override (the automatic answer changed by a
  person) or the service's ``auto-server`` for an accepted answer, each with the
  reviewer as ``author``; the final outcome as the ``determination`` item
  (``manual``).  ``in-progress`` until an outcome is recorded, then ``completed``;
* a Provenance per action (who, when, what, why), the superseded ones included;
* once an outcome is recorded, the reviewer's ClaimResponse: certified (A1) only
  for an approval, pended (A4) otherwise; the service's own pended one stays.
"""

from __future__ import annotations

import copy
import uuid
from typing import TYPE_CHECKING, Any

from common.models import Report
from common.review import OUTCOMES, STATUS_LABELS, CaseReview, ReviewAction, Reviewer
from outputs.claim_response import CERTIFIED, PENDED, claim_response, product_name
from outputs.fhir import SERVICE_NAME, URI_SYSTEM, _ni_sha256
from outputs.questionnaire import INFORMATION_ORIGIN, STATUS_CODES, _coding

if TYPE_CHECKING:
    from criteria.policy import Policy

REVIEWER_SYSTEM = f"urn:{SERVICE_NAME}:reviewer"
OUTCOME_SYSTEM = f"urn:{SERVICE_NAME}:review-outcome"
DATA_OPERATION = "http://terminology.hl7.org/CodeSystem/v3-DataOperation"
PARTICIPANT_TYPE = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
PROVENANCE_ROLE = "http://hl7.org/fhir/provenance-entity-role"


def _id(sha256: str, kind: str, n: int | str = 0) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{SERVICE_NAME}:{sha256}:{kind}:{n}"))


def _ref(rid: str) -> dict[str, str]:
    return {"reference": f"urn:uuid:{rid}"}


def _at(a: Any) -> str:
    return str(a.at.isoformat(timespec="seconds"))


def _practitioner(pid: str, who: Reviewer) -> dict[str, Any]:
    return {
        "resourceType": "Practitioner",
        "id": pid,
        "identifier": [{"system": f"{REVIEWER_SYSTEM}:{who.kind}", "value": who.name}],
        "name": [{"text": who.name}],
    }


def _origin(source: str, author: str) -> list[dict[str, Any]]:
    return [
        {
            "url": INFORMATION_ORIGIN,
            "extension": [
                {"url": "source", "valueCode": source},
                {"url": "author", "extension": [{"url": "practitioner", "valueReference": _ref(author)}]},
            ],
        }
    ]


def _service_qr(bundle: dict[str, Any]) -> dict[str, Any] | None:
    for entry in bundle.get("entry", []):
        resource = entry.get("resource", {})
        if resource.get("resourceType") == "QuestionnaireResponse":
            return dict(resource)
    return None


def _find(bundle: dict[str, Any], kind: str) -> dict[str, Any] | None:
    return next(
        (e["resource"] for e in bundle.get("entry", []) if e.get("resource", {}).get("resourceType") == kind),
        None,
    )


def reviewed_bundle(
    bundle: dict[str, Any], report: Report, review: CaseReview, policy: Policy | None
) -> dict[str, Any]:
    if not review.history:
        return bundle
    sha = report.document.sha256
    out = copy.deepcopy(bundle)
    people: dict[tuple[str, str], str] = {}
    for a in review.history:
        key = (a.by.kind, a.by.name)
        people.setdefault(key, _id(sha, "reviewer", f"{a.by.kind}:{a.by.name}"))

    def who(a: Any) -> str:
        return people[(a.by.kind, a.by.name)]

    service_qr = _service_qr(bundle) or {}
    labels = {i.get("linkId"): i.get("text") for i in service_qr.get("item", [])}
    qr_id = _id(sha, "questionnaire-response-reviewed")
    items: list[dict[str, Any]] = []
    for c in review.criteria:
        source = "override" if c.action == "override" else "auto-server"
        inner = [
            {
                "linkId": f"{c.criterion}.reason",
                "text": "Reason",
                "answer": [{"extension": _origin("manual", who(c)), "valueString": c.reason or "accepted"}],
            }
        ]
        items.append(
            {
                "linkId": c.criterion,
                "text": labels.get(c.criterion) or c.criterion,
                "answer": [
                    {
                        "extension": _origin(source, who(c)),
                        "valueCoding": _coding(STATUS_CODES[c.status]),
                        "item": inner,
                    }
                ],
            }
        )
    latest = review.history[-1]
    if review.outcome is not None:
        o = review.outcome
        items.append(
            {
                "linkId": "determination",
                "text": "Final outcome (the reviewer's)",
                "answer": [
                    {
                        "extension": _origin("manual", who(o)),
                        "valueCoding": {
                            "system": OUTCOME_SYSTEM,
                            "code": o.outcome,
                            "display": OUTCOMES[o.outcome],
                        },
                        "item": [
                            {
                                "linkId": "determination.reason",
                                "text": "Reason",
                                "answer": [
                                    {"extension": _origin("manual", who(o)), "valueString": o.reason or "-"}
                                ],
                            }
                        ],
                    }
                ],
            }
        )
    reviewed_qr: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": qr_id,
        "status": "completed" if review.outcome is not None else "in-progress",
        "authored": _at(latest),
        "author": _ref(who(latest)),
        "item": items,
    }
    for field in ("questionnaire", "subject"):
        if field in service_qr:
            reviewed_qr[field] = service_qr[field]
    added: list[dict[str, Any]] = [
        _practitioner(pid, Reviewer(kind=kind, name=name)) for (kind, name), pid in people.items()
    ]
    added.append(reviewed_qr)
    for a in review.history:
        added.append(_provenance(sha, a, qr_id, service_qr.get("id"), who(a)))
    if review.outcome is not None:
        added.append(_reviewed_claim(sha, report, review, policy, bundle))
    out["entry"] = [
        *out.get("entry", []),
        *({"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in added),
    ]
    return out


def _provenance(sha: str, a: ReviewAction, qr_id: str, service_qr: str | None, agent: str) -> dict[str, Any]:
    if a.action == "outcome" and a.outcome:
        what = f"final outcome: {OUTCOMES[a.outcome]}"
    elif a.action == "override" and a.status and a.extracted:
        what = f"{a.criterion}: {STATUS_LABELS[a.extracted]} overridden to {STATUS_LABELS[a.status]}"
    else:
        what = f"{a.criterion}: {STATUS_LABELS[a.status] if a.status else ''} accepted"
    resource: dict[str, Any] = {
        "resourceType": "Provenance",
        "id": _id(sha, "review-action", a.id),
        "target": [_ref(qr_id)],
        "recorded": _at(a),
        "activity": {
            "coding": [{"system": DATA_OPERATION, "code": "UPDATE" if a.action == "override" else "APPEND"}],
            "text": what,
        },
        "agent": [
            {
                "type": {
                    "coding": [
                        {"system": PARTICIPANT_TYPE, "code": "verifier" if a.action == "accept" else "author"}
                    ]
                },
                "who": _ref(agent),
            }
        ],
    }
    if a.reason:
        resource["reason"] = [{"text": a.reason}]
    if service_qr:
        resource["entity"] = [{"role": "revision", "what": _ref(service_qr)}]
    return resource


def _reviewed_claim(
    sha: str, report: Report, review: CaseReview, policy: Policy | None, bundle: dict[str, Any]
) -> dict[str, Any]:
    o = review.outcome
    assert o is not None
    service_claim = _find(bundle, "ClaimResponse") or {}
    patient = str(service_claim.get("patient", {}).get("reference", "urn:uuid:")).removeprefix("urn:uuid:")
    disposition = f"{product_name(report, policy)}: {OUTCOMES[o.outcome].lower()} (reviewed by {o.by})."
    if o.reason:
        disposition += f" {o.reason}"
    return claim_response(
        report,
        policy,
        rid=_id(sha, "claim-response-reviewed"),
        patient=patient or _id(sha, "patient"),
        created=_at(o),
        document_identifier={"system": URI_SYSTEM, "value": _ni_sha256(sha)},
        action=CERTIFIED if o.outcome == "approved" else PENDED,
        disposition=disposition,
    )
