"""The run as a FHIR R4 Bundle (type collection).

Resources: Patient (no name), an age Observation when the age is known,
DocumentReference for the fax, Condition per asserted diagnosis,
MedicationStatement per received drug (Procedure for a transplant),
the policy's Questionnaire (generated from the policy file, one item per criterion
with its policy sentence) and the QuestionnaireResponse that answers it (a coding per
criterion, the reason and each piece of evidence with page, box and confidence, every
answer marked with DTR's information-origin), a PAS-style ClaimResponse (pended unless
every criterion is met, never denied, the missing documentation as its notes), the
CodeSystem of the answer codes, a Device for this service, and a Provenance tying what
was derived to the fax.

Codes are used only where verified: ICD-10-CM where the text gave a code the
diagnosis lexicon lists as verified, RxNorm where the drug lexicon marks the
RxCUI verified.  Everything else is carried as text.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from common.models import ClinicalFacts, DiagnosisFact, Evidence, Therapy
from outputs.claim_response import claim_response
from outputs.questionnaire import answer_code_system, policy_questionnaire, questionnaire_response

if TYPE_CHECKING:
    from pipeline.composer import Processed

SERVICE_NAME = "pa-fax-intake"
SERVICE_VERSION = "0.1.0"
ICD10_CM = "http://hl7.org/fhir/sid/icd-10-cm"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
# R5 added Attachment.pages; HL7's cross-version extension carries it in R4.
PAGES_EXTENSION = "http://hl7.org/fhir/5.0/StructureDefinition/extension-Attachment.pages"
# RFC 3986 URI identifiers; the value is an RFC 6920 "ni" hash name.
URI_SYSTEM = "urn:ietf:rfc:3986"
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "tiff": "image/tiff",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "text": "text/plain",
}
_FHIR_DATE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")


# --------------------------------------------------------------------------- codes from the lexicons


def _lexicon_rows(filename: str) -> list[dict[str, Any]]:
    try:
        raw = (resources.files("lexicons") / filename).read_text(encoding="utf-8")
        rows = json.loads(raw).get("rows", [])
    except (OSError, ValueError, AttributeError):
        return []  # no lexicon: codes are left out, text stays
    return [r for r in rows if isinstance(r, dict)]


@lru_cache(maxsize=1)
def verified_rxnorm() -> dict[str, str]:
    """Ingredient -> RxCUI, only where the drug lexicon marks the code verified."""
    return {
        str(r["ingredient"]).lower(): str(r["rxnorm"])
        for r in _lexicon_rows("drugs.json")
        if r.get("rxnorm") and r.get("rxnorm_verified") is True and r.get("ingredient")
    }


@lru_cache(maxsize=1)
def verified_icd10() -> dict[str, frozenset[str]]:
    """Concept -> the ICD-10-CM codes the diagnosis lexicon lists (verified codes only)."""
    return {
        str(r["concept"]): frozenset(str(c).upper() for c in r.get("icd10") or ())
        for r in _lexicon_rows("diagnoses.json")
        if r.get("concept")
    }


# --------------------------------------------------------------------------- helpers


class _Ids:
    """Stable urn:uuid ids derived from the document hash, so the same fax gives the same bundle."""

    def __init__(self, sha256: str) -> None:
        self.sha256 = sha256

    def __call__(self, kind: str, n: int | str = 0) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{SERVICE_NAME}:{self.sha256}:{kind}:{n}"))


def _policy_id(kind: str, name: str) -> str:
    """Ids of what a policy file generates are the same in every bundle: they are the policy's."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{SERVICE_NAME}:{kind}:{name}"))


def _ref(resource_id: str) -> dict[str, str]:
    return {"reference": f"urn:uuid:{resource_id}"}


def _entry(resource: dict[str, Any]) -> dict[str, Any]:
    return {"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource}


def _fhir_date(value: str | None) -> str | None:
    return value if value and _FHIR_DATE.match(value) else None


def _box(e: Evidence) -> str:
    b = e.bbox
    return "none" if b is None else f"{b.x0:.4f},{b.y0:.4f},{b.x1:.4f},{b.y1:.4f}"


def _cite(e: Evidence) -> str:
    return f'page {e.page}: "{" ".join(e.text.split())}"'


def _notes(evidence: tuple[Evidence, ...], limit: int = 5) -> list[dict[str, str]]:
    return [{"text": _cite(e)} for e in evidence[:limit]]


def _ni_sha256(hex_digest: str) -> str:
    digest = base64.urlsafe_b64encode(bytes.fromhex(hex_digest)).decode().rstrip("=")
    return f"ni:///sha-256;{digest}"


# --------------------------------------------------------------------------- resources


def _patient(pid: str) -> dict[str, Any]:
    # No name, no identifiers: the fax is the source; the plan's systems hold the member.
    return {"resourceType": "Patient", "id": pid}


def _age(oid: str, pid: str, facts: ClinicalFacts, doc_ref: dict[str, str]) -> dict[str, Any] | None:
    if facts.age is None:
        return None
    return {
        "resourceType": "Observation",
        "id": oid,
        "status": "final",
        "code": {"text": "Age"},
        "subject": _ref(pid),
        "valueQuantity": {"value": facts.age.years, "unit": "years", "system": UCUM, "code": "a"},
        "derivedFrom": [doc_ref],
        "note": _notes(facts.age.evidence),
    }


def _document(did: str, done: Processed) -> dict[str, Any]:
    doc = done.document
    pages = len(doc.pages)
    return {
        "resourceType": "DocumentReference",
        "id": did,
        # The SHA-256 of the file as received.  Attachment.hash is defined as SHA-1 in
        # R4, so the SHA-256 goes in an RFC 6920 name rather than mislabel that field.
        "masterIdentifier": {"system": URI_SYSTEM, "value": _ni_sha256(doc.sha256)},
        "status": "current",
        "type": {"text": "Prior authorization request (fax)"},
        "description": f"Prior-authorization fax, {pages} page(s), {doc.source_type}; sha256 {doc.sha256}",
        "content": [
            {
                "attachment": {
                    "contentType": CONTENT_TYPES[doc.source_type],
                    "title": f"sha256:{doc.sha256}",
                    "extension": [{"url": PAGES_EXTENSION, "valuePositiveInt": pages}],
                }
            }
        ],
    }


def _condition(
    cid: str, pid: str, concept: str, mentions: list[DiagnosisFact], doc_ref: dict[str, str]
) -> dict[str, Any]:
    verified = verified_icd10().get(concept, frozenset())
    codes = sorted({m.icd10.strip().upper() for m in mentions if m.icd10} & verified)
    code: dict[str, Any] = {"text": mentions[0].text}
    if codes:
        code["coding"] = [{"system": ICD10_CM, "code": c} for c in codes]
    evidence = tuple(e for m in mentions for e in m.evidence)
    return {
        "resourceType": "Condition",
        "id": cid,
        "clinicalStatus": {"coding": [{"system": CONDITION_CLINICAL, "code": "active"}]},
        "code": code,
        "subject": _ref(pid),
        "evidence": [{"detail": [doc_ref]}],
        "note": _notes(evidence),
    }


def _therapy_note(t: Therapy) -> list[dict[str, str]]:
    parts = [f"line {t.line}" if t.line is not None else "line not assigned"]
    if t.regimen:
        parts.append(f"regimen {t.regimen}")
    if t.phase:
        parts.append(t.phase)
    if t.clinical_trial:
        parts.append("clinical trial")
    return [{"text": "; ".join(parts)}, *_notes(t.evidence)]


def _period(t: Therapy) -> dict[str, str]:
    period = {"start": _fhir_date(t.start), "end": _fhir_date(t.end)}
    return {k: v for k, v in period.items() if v}


def _distinct_received(therapies: tuple[Therapy, ...]) -> list[Therapy]:
    """One statement per drug course: mentions of the same drug, line and dates are merged."""
    merged: dict[tuple[object, ...], Therapy] = {}
    for t in therapies:
        if t.assertion != "received":
            continue
        key = (t.ingredient, t.line, t.start, t.end, t.clinical_trial)
        if key in merged:
            prior = merged[key]
            merged[key] = prior.model_copy(update={"evidence": prior.evidence + t.evidence})
        else:
            merged[key] = t
    return list(merged.values())


def _medication(mid: str, pid: str, t: Therapy, doc_ref: dict[str, str]) -> dict[str, Any]:
    concept: dict[str, Any] = {"text": t.ingredient}
    rxcui = verified_rxnorm().get(t.ingredient.lower())
    if rxcui:
        concept["coding"] = [{"system": RXNORM, "code": rxcui, "display": t.ingredient}]
    resource: dict[str, Any] = {
        "resourceType": "MedicationStatement",
        "id": mid,
        "status": "completed" if t.end else "unknown",
        "medicationCodeableConcept": concept,
        "subject": _ref(pid),
        "derivedFrom": [doc_ref],
        "note": _therapy_note(t),
    }
    if period := _period(t):
        resource["effectivePeriod"] = period
    return resource


def _procedure(rid: str, pid: str, t: Therapy, doc_ref: dict[str, str]) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Procedure",
        "id": rid,
        "status": "completed",
        "code": {"text": t.ingredient},
        "subject": _ref(pid),
        "report": [doc_ref],
        "note": _therapy_note(t),
    }
    if period := _period(t):
        resource["performedPeriod"] = period
    return resource


def _device(dev: str) -> dict[str, Any]:
    return {
        "resourceType": "Device",
        "id": dev,
        "deviceName": [{"name": SERVICE_NAME, "type": "model-name"}],
        "version": [{"value": SERVICE_VERSION}],
    }


def _provenance(prid: str, targets: list[str], dev: str, did: str, now: str) -> dict[str, Any]:
    return {
        "resourceType": "Provenance",
        "id": prid,
        "target": [_ref(t) for t in targets],
        "recorded": now,
        "agent": [{"who": _ref(dev)}],
        "entity": [{"role": "source", "what": _ref(did)}],
    }


def to_fhir_bundle(done: Processed, *, recorded: datetime | None = None) -> dict[str, Any]:
    """A FHIR R4 collection Bundle of what the run read and concluded."""
    ids = _Ids(done.document.sha256)
    now = (recorded or datetime.now(UTC)).isoformat(timespec="seconds")
    pid, did, dev, qid = ids("patient"), ids("document"), ids("device"), ids("questionnaire-response")
    doc_ref = _ref(did)
    facts = done.facts

    derived: list[dict[str, Any]] = []
    if (age := _age(ids("age"), pid, facts, doc_ref)) is not None:
        derived.append(age)
    by_concept: dict[str, list[DiagnosisFact]] = {}
    for d in facts.diagnoses:
        if d.assertion == "received":
            by_concept.setdefault(d.concept, []).append(d)
    for concept, mentions in by_concept.items():
        derived.append(_condition(ids("condition", concept), pid, concept, mentions, doc_ref))
    for n, t in enumerate(_distinct_received(facts.therapies)):
        if t.therapy_class == "stem_cell_transplant":
            derived.append(_procedure(ids("procedure", n), pid, t, doc_ref))
        else:
            derived.append(_medication(ids("medication", n), pid, t, doc_ref))
    derived.append(
        questionnaire_response(done.report, done.policy, rid=qid, patient=pid, author=dev, authored=now)
    )
    derived.append(
        claim_response(
            done.report,
            done.policy,
            rid=ids("claim-response"),
            patient=pid,
            created=now,
            document_identifier={"system": URI_SYSTEM, "value": _ni_sha256(done.document.sha256)},
        )
    )
    published: list[dict[str, Any]] = [answer_code_system(_policy_id("codesystem", "criterion-status"))]
    if done.policy is not None:
        published.insert(0, policy_questionnaire(done.policy, _policy_id("questionnaire", done.policy.id)))

    resources_ = [
        _patient(pid),
        _document(did, done),
        *published,
        *derived,
        _device(dev),
        _provenance(ids("provenance"), [r["id"] for r in derived], dev, did, now),
    ]
    return {
        "resourceType": "Bundle",
        "id": ids("bundle"),
        "type": "collection",
        "timestamp": now,
        "entry": [_entry(r) for r in resources_],
    }
