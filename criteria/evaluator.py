"""Check clinical facts against a policy: a pure function, no I/O.

The service recommends; it never denies on its own.  ``criteria_met`` needs
every criterion met on evidence a reviewer can be shown and trust: a result
resting only on low-confidence OCR words is flagged ``needs_review`` and never
counts silently, for or against the request.
"""

from __future__ import annotations

from collections.abc import Sequence

from common.models import (
    ClinicalFacts,
    CriteriaReport,
    CriterionResult,
    Determination,
    Evidence,
    InformationalFinding,
)
from criteria.policy import Criterion, Informational, Policy
from criteria.rules import Outcome, Trust, apply_rule, pages_of, quote, sentence

MAX_CITED = 8  # evidence boxes per criterion: enough to check, few enough to read


def _locatable(e: Evidence) -> bool:
    return e.bbox is not None


def _dedupe(evidence: Sequence[Evidence]) -> tuple[Evidence, ...]:
    seen: set[tuple[int, object, str]] = set()
    out: list[Evidence] = []
    for e in evidence:
        key = (e.page, e.bbox, e.text)
        if key not in seen:
            seen.add(key)
            out.append(e)
    return tuple(out)


def _result(c: Criterion, outcome: Outcome, trusted: Trust) -> CriterionResult:
    decided = outcome.status in ("met", "not_met")
    shaky = [g for g in outcome.support if not trusted(g)]
    needs_review = decided and (outcome.conflict or not outcome.support or bool(shaky))
    reason = outcome.reason
    if decided and shaky:
        reason += (
            f" It rests on words read with low confidence or without a location ({pages_of(shaky[0])}):"
            " a reviewer must confirm it."
        )
    elif decided and not outcome.support:
        reason += " No evidence could be located on the page: a reviewer must confirm it."
    cited = [e for g in outcome.support for e in g] + list(outcome.context)
    return CriterionResult(
        id=c.id,
        status=outcome.status,
        reason=reason,
        evidence=_dedupe(cited)[:MAX_CITED],
        needs_review=needs_review,
    )


def _determine(results: Sequence[CriterionResult], policy: Policy) -> tuple[Determination, str]:
    labels = {c.id: c.label for c in policy.criteria}
    firm_fail = [r for r in results if r.status == "not_met" and not r.needs_review]
    if firm_fail:
        names = "; ".join(labels[r.id] for r in firm_fail)
        return (
            "criteria_not_met",
            f"Not met on the documentation: {names}.",
        )
    review = [r for r in results if r.needs_review]
    gaps = [r for r in results if r.status == "not_documented"]
    if not review and not gaps:
        return "criteria_met", "Every criterion is met on located evidence."
    parts = []
    if gaps:
        parts.append("not documented: " + "; ".join(labels[r.id] for r in gaps))
    if review:
        parts.append(
            "needs a reviewer to confirm low-confidence evidence: " + "; ".join(labels[r.id] for r in review)
        )
    return "needs_information", sentence("; ".join(parts))


def _legibility_requests(results: Sequence[CriterionResult], policy: Policy, low: float) -> list[str]:
    """Ask for a clearer copy of each page whose poor reading left a criterion unconfirmed."""
    labels = {c.id: c.label for c in policy.criteria}
    by_page: dict[int, list[str]] = {}
    for r in results:
        if not r.needs_review:
            continue
        for e in r.evidence:
            if (
                e.confidence is not None
                and e.confidence < low
                and labels[r.id] not in by_page.get(e.page, [])
            ):
                by_page.setdefault(e.page, []).append(labels[r.id])
    return [
        f"A legible copy of page {page} (the text for: {', '.join(names)} could not be read reliably)"
        for page, names in sorted(by_page.items())
    ]


def _informational(item: Informational, facts: ClinicalFacts) -> InformationalFinding:
    found = [f for f in facts.findings if f.key == item.finding_key]
    yes = [f for f in found if f.assertion == "received"]
    no = [f for f in found if f.assertion == "negated"]
    if yes:
        ev = _dedupe([e for f in yes for e in f.evidence])
        return InformationalFinding(
            id=item.id,
            present=True,
            reason=f"Documented ({pages_of(ev)}): {quote(ev)}.",
            evidence=ev[:MAX_CITED],
        )
    if no:
        ev = _dedupe([e for f in no for e in f.evidence])
        return InformationalFinding(
            id=item.id,
            present=False,
            reason=f"The documentation says this is not the case ({pages_of(ev)}): {quote(ev)}.",
            evidence=ev[:MAX_CITED],
        )
    return InformationalFinding(id=item.id, present=False, reason="Not found in the documentation.")


def evaluate(facts: ClinicalFacts, policy: Policy, *, low_confidence: float = 0.6) -> CriteriaReport:
    """Check each criterion of the policy against the facts and recommend a determination."""

    def trusted(group: Sequence[Evidence]) -> bool:
        # One readable, located piece is enough to show a reviewer.
        return any(_locatable(e) and (e.confidence is None or e.confidence >= low_confidence) for e in group)

    outcomes = [apply_rule(facts, c, trusted) for c in policy.criteria]
    results = tuple(_result(c, o, trusted) for c, o in zip(policy.criteria, outcomes, strict=True))
    determination, why = _determine(results, policy)
    missing = [req for o in outcomes if o.status == "not_documented" for req in o.requests]
    missing.extend(_legibility_requests(results, policy, low_confidence))
    return CriteriaReport(
        policy_id=policy.id,
        policy_title=policy.title,
        determination=determination,
        criteria=results,
        missing=tuple(dict.fromkeys(missing)),
        findings=tuple(_informational(i, facts) for i in policy.informational),
        determination_reason=why,
    )
