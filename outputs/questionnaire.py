"""A policy file as a FHIR Questionnaire, and a run's answers as its QuestionnaireResponse.

In the manner of HL7 Da Vinci DTR: the Questionnaire is generated from the policy file
(one item per criterion, its label as the question and the policy sentence shown with
it), so a payer's systems can read what was asked; the QuestionnaireResponse points to
it and answers each criterion with a coding (met / not met / not documented), the reason,
whether a reviewer must look, and the evidence (quote, page, box, confidence).  Every
answer carries DTR's information-origin extension with source ``auto-server``: this
service, on the payer's side, filled it in from the fax; no person has yet.

Nothing here claims DTR conformance (no coverage or order context comes with a fax): the
profile's extension and codes are used because they are what a payer's systems read.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from common.models import CriterionResult, Evidence, Report

if TYPE_CHECKING:
    from criteria.policy import Policy

SERVICE_NAME = "pa-fax-intake"
# Da Vinci DTR (github:HL7/davinci-dtr, input/fsh/DTRExtensions.fsh, DTRCodeSystems.fsh)
DTR = "http://hl7.org/fhir/us/davinci-dtr"
INFORMATION_ORIGIN = f"{DTR}/StructureDefinition/information-origin"
INFORMATION_ORIGIN_CODES = f"{DTR}/CodeSystem/dtr-informationorigin-codes"
# The codes this service answers with, published in the bundle as a CodeSystem.
ANSWER_SYSTEM = f"urn:{SERVICE_NAME}:criterion-status"
STATUS_CODES: dict[str, tuple[str, str]] = {
    # report status -> (code, display)
    "met": ("met", "Met"),
    "not_met": ("not-met", "Not met"),
    "not_documented": ("not-documented", "Not documented"),
}
DETERMINATION_CODES: dict[str, tuple[str, str]] = {
    "criteria_met": ("criteria-met", "Criteria met (a reviewer decides)"),
    "criteria_not_met": ("criteria-not-met", "Criteria not met (a reviewer decides)"),
    "needs_information": ("needs-information", "Needs information"),
}


def questionnaire_url(policy: Policy) -> str:
    return f"urn:{SERVICE_NAME}:questionnaire:{policy.id}"


def _version(policy: Policy) -> str:
    return (policy.revision_date or policy.effective).isoformat()


def _coding(code: tuple[str, str]) -> dict[str, str]:
    return {"system": ANSWER_SYSTEM, "code": code[0], "display": code[1]}


def _computable_name(policy_id: str) -> str:
    """Questionnaire.name: a computable name (starts with a capital, letters/digits/_)."""
    return "Policy" + "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", policy_id) if part)


def answer_code_system(cid: str) -> dict[str, Any]:
    concepts = [{"code": c, "display": d} for c, d in (*STATUS_CODES.values(), *DETERMINATION_CODES.values())]
    return {
        "resourceType": "CodeSystem",
        "id": cid,
        "url": ANSWER_SYSTEM,
        "name": "CriterionStatus",
        "title": f"{SERVICE_NAME}: criterion statuses and recommended determinations",
        "status": "active",
        "content": "complete",
        "caseSensitive": True,
        "concept": concepts,
    }


# --------------------------------------------------------------------------- the Questionnaire


def _evidence_item(prefix: str) -> dict[str, Any]:
    return {
        "linkId": f"{prefix}.evidence",
        "text": "Evidence (quote, page, box)",
        "type": "string",
        "repeats": True,
        "readOnly": True,
        "item": [
            {"linkId": "page", "text": "Page", "type": "integer"},
            {"linkId": "bbox", "text": "Box (x0,y0,x1,y1; 0..1 from top-left)", "type": "string"},
            {"linkId": "confidence", "text": "OCR confidence", "type": "decimal"},
        ],
    }


def _criterion_item(n: int, criterion: Any) -> dict[str, Any]:
    return {
        "linkId": criterion.id,
        "prefix": f"{n}.",
        "text": criterion.label,
        "type": "choice",
        "required": True,
        "answerOption": [{"valueCoding": _coding(code)} for code in STATUS_CODES.values()],
        "item": [
            {
                "linkId": f"{criterion.id}.policy",
                "text": f"Policy: {criterion.policy_text}",
                "type": "display",
            },
            {"linkId": f"{criterion.id}.reason", "text": "Reason", "type": "text"},
            {"linkId": f"{criterion.id}.needs_review", "text": "Needs review", "type": "boolean"},
            _evidence_item(criterion.id),
        ],
    }


def policy_questionnaire(policy: Policy, qid: str) -> dict[str, Any]:
    """The Questionnaire a policy file asks: one item per criterion, with its policy sentence."""
    items = [_criterion_item(n, c) for n, c in enumerate(policy.criteria, start=1)]
    items.append(
        {
            "linkId": "determination",
            "text": "Recommended determination (a reviewer decides)",
            "type": "choice",
            "required": True,
            "answerOption": [{"valueCoding": _coding(code)} for code in DETERMINATION_CODES.values()],
            "item": [{"linkId": "determination.reason", "text": "Reason", "type": "text"}],
        }
    )
    items.append(
        {
            "linkId": "missing",
            "text": "Information to request from the provider",
            "type": "string",
            "repeats": True,
        }
    )
    for info in policy.informational:
        items.append(
            {
                "linkId": f"finding.{info.id}",
                "text": f"Informational (not part of the determination): {info.label}",
                "type": "boolean",
                "item": [
                    {
                        "linkId": f"finding.{info.id}.policy",
                        "text": f"Policy: {info.policy_text}",
                        "type": "display",
                    },
                    {"linkId": f"finding.{info.id}.reason", "text": "Reason", "type": "text"},
                ],
            }
        )
    period = {"start": policy.effective.isoformat()}
    if policy.superseded_on is not None:
        period["end"] = policy.superseded_on.isoformat()
    source = policy.provenance.url or policy.provenance.file
    return {
        "resourceType": "Questionnaire",
        "id": qid,
        "url": questionnaire_url(policy),
        "version": _version(policy),
        "name": _computable_name(policy.id),
        "title": policy.title,
        "status": "active",
        "subjectType": ["Patient"],
        "publisher": SERVICE_NAME,
        "description": (
            f"Coverage criteria of {policy.payer} for {policy.drug.brand} ({policy.drug.generic}), "
            f"generated from the policy file {policy.id}" + (f"; source: {source}" if source else "")
        ),
        "effectivePeriod": period,
        "code": [{"system": f"urn:{SERVICE_NAME}:policy", "code": policy.id, "display": policy.title}],
        "item": items,
    }


# --------------------------------------------------------------------------- the response


def _origin() -> list[dict[str, Any]]:
    """DTR information-origin: filled in automatically on the payer's side."""
    return [{"url": INFORMATION_ORIGIN, "extension": [{"url": "source", "valueCode": "auto-server"}]}]


def _answer(value: dict[str, Any], item: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {"extension": _origin(), **value}
    if item:
        answer["item"] = item
    return answer


def _box(e: Evidence) -> str:
    b = e.bbox
    return "none" if b is None else f"{b.x0:.4f},{b.y0:.4f},{b.x1:.4f},{b.y1:.4f}"


def _evidence_answer(e: Evidence) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [
        {"linkId": "page", "text": "Page", "answer": [_answer({"valueInteger": e.page})]},
        {
            "linkId": "bbox",
            "text": "Box (x0,y0,x1,y1; 0..1 from top-left)",
            "answer": [_answer({"valueString": _box(e)})],
        },
    ]
    if e.confidence is not None:
        parts.append(
            {
                "linkId": "confidence",
                "text": "OCR confidence",
                "answer": [_answer({"valueDecimal": e.confidence})],
            }
        )
    return _answer({"valueString": " ".join(e.text.split())}, parts)


def _criterion_answer(r: CriterionResult, label: str) -> dict[str, Any]:
    inner: list[dict[str, Any]] = [
        {"linkId": f"{r.id}.reason", "text": "Reason", "answer": [_answer({"valueString": r.reason})]},
        {
            "linkId": f"{r.id}.needs_review",
            "text": "Needs review",
            "answer": [_answer({"valueBoolean": r.needs_review})],
        },
    ]
    if r.evidence:
        inner.append(
            {
                "linkId": f"{r.id}.evidence",
                "text": "Evidence (quote, page, box)",
                "answer": [_evidence_answer(e) for e in r.evidence],
            }
        )
    return {
        "linkId": r.id,
        "text": label,
        "answer": [_answer({"valueCoding": _coding(STATUS_CODES[r.status])}, inner)],
    }


def questionnaire_response(
    report: Report, policy: Policy | None, *, rid: str, patient: str, author: str, authored: str
) -> dict[str, Any]:
    """The run's answers to the policy's Questionnaire (none when no policy was on file)."""
    labels = {c.id: c.label for c in policy.criteria} if policy else {}
    items = [_criterion_answer(r, labels.get(r.id, r.id)) for r in report.criteria]
    items.append(
        {
            "linkId": "determination",
            "text": "Recommended determination (a reviewer decides)",
            "answer": [
                _answer(
                    {"valueCoding": _coding(DETERMINATION_CODES[report.determination])},
                    [
                        {
                            "linkId": "determination.reason",
                            "text": "Reason",
                            "answer": [
                                _answer({"valueString": report.determination_reason or report.determination})
                            ],
                        }
                    ],
                )
            ],
        }
    )
    if report.missing:
        items.append(
            {
                "linkId": "missing",
                "text": "Information to request from the provider",
                "answer": [_answer({"valueString": m}) for m in report.missing],
            }
        )
    info_labels = {i.id: i.label for i in policy.informational} if policy else {}
    for f in report.findings:
        items.append(
            {
                "linkId": f"finding.{f.id}",
                "text": f"Informational (not part of the determination): {info_labels.get(f.id, f.id)}",
                "answer": [
                    _answer(
                        {"valueBoolean": f.present},
                        [
                            {
                                "linkId": f"finding.{f.id}.reason",
                                "text": "Reason",
                                "answer": [_answer({"valueString": f.reason})],
                            }
                        ],
                    )
                ],
            }
        )
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": rid,
        "status": "completed",
        "subject": {"reference": f"urn:uuid:{patient}"},
        "authored": authored,
        "author": {"reference": f"urn:uuid:{author}"},
        "item": items,
    }
    if policy is not None:
        resource["questionnaire"] = f"{questionnaire_url(policy)}|{_version(policy)}"
    return resource
