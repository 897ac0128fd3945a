"""Helpers for the extraction tests: text -> pages -> facts, with the pipeline built once."""

from __future__ import annotations

from functools import lru_cache

from common.models import ClinicalFacts, Therapy
from extractors.facts import extract_facts
from extractors.layout import pages_from_text


@lru_cache(maxsize=256)
def facts_of(text: str, confidence: float | None = None) -> ClinicalFacts:
    return extract_facts(pages_from_text(text, confidence=confidence))


def therapies(text: str, ingredient: str | None = None) -> list[Therapy]:
    found = list(facts_of(text).therapies)
    return [t for t in found if ingredient is None or t.ingredient == ingredient]


def received(text: str) -> set[str]:
    return {t.ingredient for t in facts_of(text).therapies if t.assertion == "received"}


def assertions(text: str, ingredient: str) -> set[str]:
    return {t.assertion for t in therapies(text, ingredient)}
