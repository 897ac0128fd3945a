"""What a rule concludes (:class:`Outcome`), what it reads (:class:`Context`), and the
small helpers every rule module shares: page lists, quotes, date spans."""

from __future__ import annotations

import calendar
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from common.models import ClinicalFacts, CriterionStatus, Evidence, Therapy
from criteria.policy import Policy, parse_partial_date

Group = tuple[Evidence, ...]
Trust = Callable[[Sequence[Evidence]], bool]


@dataclass(frozen=True)
class Outcome:
    status: CriterionStatus
    reason: str
    # Evidence groups the status rests on: every group must be trustworthy or a
    # human must review the result.
    support: tuple[Group, ...] = ()
    # Further evidence worth showing that the status does not depend on.
    context: Group = ()
    # Requests specific to this gap ("the collection date of the M-protein on page 2");
    # the criterion's own missing_request is added for every gap.
    requests: tuple[str, ...] = ()
    conflict: bool = False  # the documentation contradicts itself: a human must look
    # the reader flagged a value the status rests on (a lab whose name or digits OCR
    # damaged): a human must confirm it before it counts
    review: bool = False
    # why, when it is not a flagged value: the sentence the reviewer reads
    review_why: str = ""


@dataclass(frozen=True)
class Context:
    """What every rule may read: the facts, the policy (its disease), how far to trust a
    piece of evidence, and the date of the request that recency is measured against."""

    facts: ClinicalFacts
    policy: Policy
    trusted: Trust
    reference: date | None
    # how the reference was found, for the reasons a reviewer reads: "request" (stated in
    # the documents) or "received" (the day the fax arrived)
    reference_from: Literal["request", "received"] = "request"

    @property
    def reference_words(self) -> str:
        if self.reference is not None and self.reference_from == "received":
            return (
                f"the request, counted from the day the fax was received ({self.reference.isoformat()}:"
                " the documents state no request date)"
            )
        return "the request"


# --------------------------------------------------------------------------- text helpers

_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")


def ordinal(n: int) -> str:
    return _ORDINALS[n - 1] if 1 <= n <= len(_ORDINALS) else f"{n}th"


def pages_of(evidence: Sequence[Evidence]) -> str:
    pages = sorted({e.page for e in evidence})
    if not pages:
        return "no page"
    return f"page {pages[0]}" if len(pages) == 1 else "pages " + ", ".join(str(p) for p in pages)


def sentence(text: str, *, stop: bool = True) -> str:
    """Capitalise the first letter only (str.capitalize would lower "CAR-T")."""
    out = text[:1].upper() + text[1:]
    return out + "." if stop and not out.endswith(".") else out


def quote(evidence: Sequence[Evidence], limit: int = 80) -> str:
    if not evidence:
        return ""
    text = " ".join(evidence[0].text.split())
    return f'"{text[: limit - 1]}…"' if len(text) > limit else f'"{text}"'


def first_trusted(groups: Sequence[Group], trusted: Trust) -> Group:
    for g in groups:
        if trusted(g):
            return g
    return groups[0] if groups else ()


def flatten(groups: Sequence[Group]) -> Group:
    return tuple(e for g in groups for e in g)


def received(facts: ClinicalFacts) -> tuple[Therapy, ...]:
    return tuple(t for t in facts.therapies if t.assertion == "received")


def number(value: float) -> str:
    """A value as a person writes it: 2.0 -> "2", 0.25 -> "0.25"."""
    return f"{value:.4g}"


# --------------------------------------------------------------------------- dates


def date_span(value: str | None) -> tuple[date, date] | None:
    """First and last day a partial ISO date may mean ("2026-09" -> Sep 1 .. Sep 30)."""
    first = parse_partial_date(value)
    if first is None or value is None:
        return None
    parts = value.strip().split("-")
    if len(parts) == 1:
        return first, date(first.year, 12, 31)
    if len(parts) == 2:
        return first, date(first.year, first.month, calendar.monthrange(first.year, first.month)[1])
    return first, first


def days_between(earlier: str | None, later: str | None) -> tuple[int, int] | None:
    """The fewest and most days from ``earlier`` to ``later``, given their precision."""
    a, b = date_span(earlier), date_span(later)
    if a is None or b is None:
        return None
    return (b[0] - a[1]).days, (b[1] - a[0]).days


def reference_date(facts: ClinicalFacts) -> date | None:
    """The date of the request, for recency: the request's own date (a signature, a
    request-date field), else the date of service the fax gives, else the day the fax
    was received (a request is dated by its receipt)."""
    day = facts.request_date or facts.date_of_service or facts.received
    return parse_partial_date(day) if day else None


def reference_source(facts: ClinicalFacts) -> Literal["request", "received"]:
    return "request" if facts.request_date or facts.date_of_service or not facts.received else "received"
