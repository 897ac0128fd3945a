"""The composer: one function takes a document and returns the report.

It reads like a recipe (as OCRmyPDF's does): read the pages, extract the facts,
choose the policy for the requested product, check the facts against it, assemble
the report.  The CLI, the API and the evaluation runner are thin layers over
:func:`process_file`.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from common.errors import NoPolicyForProduct
from common.models import (
    ClinicalFacts,
    CriteriaReport,
    Document,
    DocumentInfo,
    Notice,
    PolicyInfo,
    Report,
)
from common.settings import Settings
from common.structure import DocumentStructure
from reading.reader import read_document
from reading.second import second_reading

if TYPE_CHECKING:
    from criteria.policy import Policy

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Processed:
    """Everything one run produced; the report plus what it was built from.  ``policy``
    is None when no policy on file covers the requested product."""

    document: Document
    facts: ClinicalFacts
    policy: Policy | None
    report: Report
    structure: DocumentStructure | None = None


def process_file(
    path: Path,
    *,
    settings: Settings | None = None,
    policy_id: str | None = None,
    received: date | None = None,
) -> Processed:
    """``received``: the day the intake queue received the fax; recency is counted from
    it when the documents date the request nowhere."""
    settings = settings or Settings()
    # The NLP pipeline (spaCy's import and ~2,500 rules: 1-1.5 s of CPU) is built while the
    # pages are read, so a one-off run pays its start-up beside the OCR, not after it;
    # a warm process finds it built and the thread ends at once.
    warm = threading.Thread(target=_warm_extraction, args=(settings,), name="warm-nlp", daemon=True)
    warm.start()
    try:
        document = read_document(path, settings)
        # the words tesseract doubts, read again by a second engine from the same file
        document = second_reading(document, path, settings)
    finally:
        warm.join()
    return process_document(document, settings=settings, policy_id=policy_id, received=received)


def _warm_extraction(settings: Settings | None = None) -> None:
    try:
        from extractors.nlp import build_nlp

        build_nlp()
    except Exception:  # the extraction itself will raise it, with its own message
        log.debug("warming the NLP pipeline failed", exc_info=True)
    if settings is not None and settings.second_reader:
        # the second reader's models (about a second each) load beside the OCR too
        from reading.second import default_readers

        default_readers(max(1, settings.workers))


def process_document(
    document: Document,
    *,
    settings: Settings | None = None,
    policy_id: str | None = None,
    received: date | None = None,
) -> Processed:
    from criteria.evaluator import evaluate
    from extractors.facts import extract_facts
    from extractors.structure import document_structure
    from extractors.structure.order import ruled_cell_order, table_reading_order

    settings = settings or Settings()
    structure = document_structure(document.pages)
    # Another patient's pages never reach the facts (their therapies are not this member's);
    # tables are read row by row.
    kept = [p for p in document.pages if p.number not in structure.set_aside]
    facts = extract_facts(
        table_reading_order(ruled_cell_order(kept, structure), structure),
        low_confidence=settings.low_confidence,
        structure=structure,
        structure_pages=kept,
    )
    if received is not None:
        facts = facts.model_copy(update={"received": received.isoformat()})
    try:
        policy = choose_policy_for(facts, policy_id=policy_id, settings=settings)
    except NoPolicyForProduct:
        report = unevaluated_report(document, facts, structure)
        return Processed(document=document, facts=facts, policy=None, report=report, structure=structure)
    checked = evaluate(facts, policy, low_confidence=settings.low_confidence)
    report = assemble_report(document, facts, checked, structure)
    return Processed(document=document, facts=facts, policy=policy, report=report, structure=structure)


def choose_policy_for(facts: ClinicalFacts, *, policy_id: str | None, settings: Settings) -> Policy:
    """The policy named (``--policy``), else the one for the requested product in force on
    the date of service.  Raises NoPolicyForProduct when none covers the request."""
    from criteria.policy import select_policy

    request = facts.request
    return select_policy(
        policy_id=policy_id,
        date_of_service=facts.date_of_service,
        product=request.product if request else None,
        hcpcs=request.hcpcs if request else None,
        folders=settings.policy_dirs,
    )


def _document_info(document: Document) -> DocumentInfo:
    return DocumentInfo(sha256=document.sha256, pages=len(document.pages), source_type=document.source_type)


def _warnings(
    document: Document, facts: ClinicalFacts, structure: DocumentStructure | None
) -> tuple[Notice, ...]:
    structure_warnings = structure.warnings if structure else ()
    return (
        document.warnings
        + tuple(n for p in document.pages for n in p.warnings)
        + structure_warnings
        + facts.warnings
    )


def unevaluated_report(
    document: Document, facts: ClinicalFacts, structure: DocumentStructure | None = None
) -> Report:
    """No policy on file for what the fax requests: say so plainly and evaluate nothing
    (another drug's policy would answer a question nobody asked)."""
    request = facts.request
    if request is None:
        why = (
            "The documentation does not say which product is requested, so no policy could be chosen "
            "and nothing was evaluated."
        )
        ask: tuple[str, ...] = ("The name (or HCPCS code) of the product requested",)
    else:
        named = request.brand or request.product
        what = (
            f"{named} ({request.product})"
            if request.brand and request.product
            else named or f"HCPCS {request.hcpcs}"
        )
        why = f"No policy is on file for the requested product, {what}: nothing was evaluated."
        ask = ()
    notice = Notice(code="no_policy_for_product", message=why)
    return Report(
        document=_document_info(document),
        policy=None,
        determination="needs_information",
        determination_reason=why,
        criteria=(),
        therapies=facts.therapies,
        lines=facts.lines,
        missing=ask,
        warnings=(*_warnings(document, facts, structure), notice),
        request=request,
        pages_set_aside=structure.set_aside if structure else (),
    )


def assemble_report(
    document: Document,
    facts: ClinicalFacts,
    checked: CriteriaReport,
    structure: DocumentStructure | None = None,
) -> Report:
    return Report(
        document=_document_info(document),
        policy=PolicyInfo(id=checked.policy_id, title=checked.policy_title),
        determination=checked.determination,
        determination_reason=checked.determination_reason,
        criteria=checked.criteria,
        therapies=checked.therapies or facts.therapies,
        lines=checked.lines or facts.lines,
        missing=checked.missing,
        findings=checked.findings,
        limitations=checked.limitations,
        warnings=_warnings(document, facts, structure),
        request=facts.request,
        pages_set_aside=structure.set_aside if structure else (),
    )
