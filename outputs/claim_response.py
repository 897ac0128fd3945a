"""The request's answer as a Da Vinci PAS-style ClaimResponse.

The service recommends; it never denies.  The review action (X12 306, carried in PAS's
reviewAction extension) is A1 "Certified in total" only when every criterion is met on
trusted evidence, and A4 "Pending" otherwise: a person decides every other case, as the
payer's reference implementation defaults to pended.  A3 (not certified) is never sent.
The documentation the provider must send is carried as the response's process notes.

URLs and codes are the PAS guide's (github:HL7/davinci-pas, input/fsh/ClaimResponse.fsh,
Examples.fsh); this is PAS-style, not a conformant PAS bundle (a fax brings no Claim,
insurer or requestor resources).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from common.models import Report

if TYPE_CHECKING:
    from criteria.policy import Policy

PAS = "http://hl7.org/fhir/us/davinci-pas"
REVIEW_ACTION = f"{PAS}/StructureDefinition/extension-reviewAction"
REVIEW_ACTION_CODE = f"{PAS}/StructureDefinition/extension-reviewActionCode"
X12_306 = "https://codesystem.x12.org/005010/306"
ADJUDICATION = "http://terminology.hl7.org/CodeSystem/adjudication"
CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
CERTIFIED, PENDED = ("A1", "Certified in total"), ("A4", "Pending")


def review_action(report: Report) -> tuple[str, str]:
    """A1 only when every criterion is met; otherwise pended. Never a denial."""
    return CERTIFIED if report.determination == "criteria_met" and report.policy is not None else PENDED


def product_name(report: Report, policy: Policy | None) -> str:
    r = report.request
    if r is not None and (r.brand or r.product):
        name = f"{r.brand} ({r.product})" if r.brand and r.product else (r.brand or r.product or "")
        return f"{name}, HCPCS {r.hcpcs}" if r.hcpcs else name
    if policy is not None:
        return f"{policy.drug.brand} ({policy.drug.generic})"
    return "the requested product (not named)"


def claim_response(
    report: Report,
    policy: Policy | None,
    *,
    rid: str,
    patient: str,
    created: str,
    document_identifier: dict[str, str],
    action: tuple[str, str] | None = None,
    disposition: str | None = None,
) -> dict[str, Any]:
    """``action`` and ``disposition``: a reviewer's (outputs.review_fhir); else the service's."""
    code, display = action or review_action(report)
    notes = [{"number": n, "type": "display", "text": m} for n, m in enumerate(report.missing, start=1)]
    if disposition is None:
        disposition = (
            f"{product_name(report, policy)}: {display.lower()}. {report.determination_reason}".strip()
            if report.determination_reason
            else f"{product_name(report, policy)}: {display.lower()}."
        )
    return {
        "resourceType": "ClaimResponse",
        "id": rid,
        "status": "active",
        "type": {"coding": [{"system": CLAIM_TYPE, "code": "institutional"}]},
        "use": "preauthorization",
        "patient": {"reference": f"urn:uuid:{patient}"},
        "created": created,
        "insurer": {"display": policy.payer if policy else "the payer (no policy on file for the product)"},
        # the fax is the request: no Claim resource comes with it
        "request": {
            "identifier": document_identifier,
            "display": "Prior-authorization request received by fax",
        },
        "outcome": "complete",
        "disposition": disposition,
        "item": [
            {
                "itemSequence": 1,
                "adjudication": [
                    {
                        "extension": [
                            {
                                "url": REVIEW_ACTION,
                                "extension": [
                                    {
                                        "url": REVIEW_ACTION_CODE,
                                        "valueCodeableConcept": {
                                            "coding": [{"system": X12_306, "code": code, "display": display}]
                                        },
                                    }
                                ],
                            }
                        ],
                        "category": {"coding": [{"system": ADJUDICATION, "code": "submitted"}]},
                    }
                ],
            }
        ],
        **({"processNote": notes} if notes else {}),
    }
