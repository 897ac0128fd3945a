"""Helpers for the extraction tests: text -> pages -> facts, with the pipeline built once."""

from __future__ import annotations

from functools import lru_cache

from common.models import ClinicalFacts, LabFact, Therapy
from extractors.facts import extract_facts
from extractors.labs import read_labs
from extractors.layout import pages_from_text
from extractors.pagetext import build_page_text
from extractors.structure import document_structure


@lru_cache(maxsize=256)
def facts_of(text: str, confidence: float | None = None) -> ClinicalFacts:
    return extract_facts(pages_from_text(text, confidence=confidence))


def structured_facts_of(text: str) -> ClinicalFacts:
    """Facts with the page structure read too: forms' checkboxes, tables' rows."""
    pages = pages_from_text(text)
    return extract_facts(pages, structure=document_structure(pages), structure_pages=pages)


def labs_of(text: str, confidence: float | None = None) -> list[LabFact]:
    return read_labs(build_page_text(pages_from_text(text, confidence=confidence)))


def therapies(text: str, ingredient: str | None = None) -> list[Therapy]:
    found = list(facts_of(text).therapies)
    return [t for t in found if ingredient is None or t.ingredient == ingredient]


def received(text: str) -> set[str]:
    return {t.ingredient for t in facts_of(text).therapies if t.assertion == "received"}


def assertions(text: str, ingredient: str) -> set[str]:
    return {t.assertion for t in therapies(text, ingredient)}
