"""The composer: one function takes a document and returns the report.

It reads like a recipe (as OCRmyPDF's does): read the pages, extract the facts,
check them against the policy, assemble the report.  The CLI, the API and the
evaluation runner are thin layers over :func:`process_file`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from common.models import (
    ClinicalFacts,
    CriteriaReport,
    Document,
    DocumentInfo,
    PolicyInfo,
    Report,
)
from common.settings import Settings
from common.structure import DocumentStructure
from criteria.evaluator import evaluate
from criteria.policy import Policy, select_policy
from extractors.facts import extract_facts
from extractors.structure import document_structure
from extractors.structure.order import table_reading_order
from reading.reader import read_document


@dataclass(frozen=True)
class Processed:
    """Everything one run produced; the report plus what it was built from."""

    document: Document
    facts: ClinicalFacts
    policy: Policy
    report: Report
    structure: DocumentStructure | None = None


def process_file(
    path: Path,
    *,
    settings: Settings | None = None,
    policy_id: str | None = None,
) -> Processed:
    settings = settings or Settings()
    document = read_document(path, settings)
    return process_document(document, settings=settings, policy_id=policy_id)


def process_document(
    document: Document,
    *,
    settings: Settings | None = None,
    policy_id: str | None = None,
) -> Processed:
    settings = settings or Settings()
    structure = document_structure(document.pages)
    # Another patient's pages never reach the facts (their therapies are not this member's);
    # tables are read row by row.
    pages = table_reading_order([p for p in document.pages if p.number not in structure.set_aside], structure)
    facts = extract_facts(pages, low_confidence=settings.low_confidence)
    policy = select_policy(policy_id=policy_id, date_of_service=facts.date_of_service)
    checked = evaluate(facts, policy, low_confidence=settings.low_confidence)
    report = assemble_report(document, facts, checked, structure)
    return Processed(document=document, facts=facts, policy=policy, report=report, structure=structure)


def assemble_report(
    document: Document,
    facts: ClinicalFacts,
    checked: CriteriaReport,
    structure: DocumentStructure | None = None,
) -> Report:
    page_warnings = tuple(n for p in document.pages for n in p.warnings)
    structure_warnings = structure.warnings if structure else ()
    return Report(
        document=DocumentInfo(
            sha256=document.sha256, pages=len(document.pages), source_type=document.source_type
        ),
        policy=PolicyInfo(id=checked.policy_id, title=checked.policy_title),
        determination=checked.determination,
        determination_reason=checked.determination_reason,
        criteria=checked.criteria,
        therapies=facts.therapies,
        lines=facts.lines,
        missing=checked.missing,
        findings=checked.findings,
        limitations=checked.limitations,
        warnings=document.warnings + page_warnings + structure_warnings + facts.warnings,
        pages_set_aside=structure.set_aside if structure else (),
    )
