"""Check clinical facts against a policy: a pure function, no I/O.

The service recommends; it never denies on its own.  ``criteria_met`` needs
every criterion met on evidence a reviewer can be shown and trust: a result
resting only on low-confidence OCR words is flagged ``needs_review`` and never
counts silently.

The flag weighs differently on the two sides, as the two errors do.  A "met" that
needs review does not count as met: a wrong ``criteria_met`` is the worst error.
A "not met" that needs review still makes the recommendation
``criteria_not_met`` (the determination rule: any criterion not met), and the
reason names what the reviewer must confirm; a "not met" recommendation is
always reviewed by a person before anything is denied.  Only a contradiction in
the documentation itself ("no prior CAR-T" and "s/p cilta-cel") holds a "not
met" back to ``needs_information``: the provider must say which is true.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from common.models import (
    ClinicalFacts,
    CriteriaReport,
    CriterionResult,
    Determination,
    Evidence,
    InformationalFinding,
    LimitationCheck,
    LineOfTherapy,
    Therapy,
)
from criteria.outcome import (
    Context,
    Outcome,
    Trust,
    pages_of,
    quote,
    reference_date,
    reference_source,
    sentence,
)
from criteria.policy import Criterion, Informational, Limitation, MinPriorLines, NoPriorTherapy, Policy
from criteria.rules import apply_rule, therapy_barred

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
    needs_review = decided and (outcome.conflict or outcome.review or not outcome.support or bool(shaky))
    reason = outcome.reason
    if decided and outcome.review and not shaky:
        flagged = "The value was read from a damaged print and flagged: a reviewer must confirm it."
        reason += " " + (outcome.review_why or flagged)
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


def _determine(
    results: Sequence[CriterionResult], conflicted: set[str], policy: Policy
) -> tuple[Determination, str]:
    labels = {c.id: c.label for c in policy.criteria}
    failed = [r for r in results if r.status == "not_met" and r.id not in conflicted]
    if failed:
        why = "Not met on the documentation: " + "; ".join(labels[r.id] for r in failed) + "."
        shaky = [r for r in failed if r.needs_review]
        if shaky:
            why += (
                " A reviewer must confirm the evidence for: " + "; ".join(labels[r.id] for r in shaky) + "."
            )
        return "criteria_not_met", why
    contradicted = [r for r in results if r.id in conflicted]
    review = [r for r in results if r.needs_review and r.id not in conflicted]
    gaps = [r for r in results if r.status == "not_documented"]
    if not review and not gaps and not contradicted:
        return "criteria_met", "Every criterion is met on located evidence."
    parts = []
    if contradicted:
        parts.append(
            "the documentation contradicts itself on: " + "; ".join(labels[r.id] for r in contradicted)
        )
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


def _found(facts: ClinicalFacts, key: str) -> tuple[tuple[Evidence, ...], tuple[Evidence, ...]]:
    """Evidence for a finding stated, and for it stated not to be the case."""
    found = [f for f in facts.findings if f.key == key]
    yes = _dedupe([e for f in found if f.assertion == "received" for e in f.evidence])
    no = _dedupe([e for f in found if f.assertion == "negated" for e in f.evidence])
    return yes, no


def _informational(item: Informational, facts: ClinicalFacts) -> InformationalFinding:
    yes, no = _found(facts, item.finding_key)
    if not yes and not no:
        return InformationalFinding(id=item.id, present=False, reason="Not found in the documentation.")
    ev = yes or no
    said = "Documented" if yes else "The documentation says this is not the case"
    return InformationalFinding(
        id=item.id,
        present=bool(yes),
        reason=f"{said} ({pages_of(ev)}): {quote(ev)}.",
        evidence=ev[:MAX_CITED],
    )


def _limitation(
    item: Limitation, facts: ClinicalFacts, results: Sequence[CriterionResult], policy: Policy
) -> LimitationCheck:
    base = {"id": item.id, "policy_text": item.policy_text}
    if item.enforced_by:
        label = next(c.label for c in policy.criteria if c.id == item.enforced_by)
        status = next(r.status for r in results if r.id == item.enforced_by).replace("_", " ")
        return LimitationCheck(
            **base,
            status="enforced_by_criterion",
            reason=f"Checked by the criterion \u201c{label}\u201d ({status}).",
        )
    if item.conflict_finding and item.conflict_label:
        yes, _ = _found(facts, item.conflict_finding)
        if yes:
            return LimitationCheck(
                **base,
                status="conflict",
                reason=f"The documentation asks for {item.conflict_label} ({pages_of(yes)}): {quote(yes)}.",
                evidence=yes[:MAX_CITED],
            )
        return LimitationCheck(
            **base, status="no_conflict_found", reason=f"No request for {item.conflict_label} found."
        )
    return LimitationCheck(**base, status="not_checked", reason="Applies to the authorisation itself.")


def _barring_rules(policy: Policy) -> list[NoPriorTherapy]:
    return [r for r in policy.all_rules() if isinstance(r, NoPriorTherapy)]


def before_service(facts: ClinicalFacts, policy: Policy) -> ClinicalFacts:
    """The facts without therapies and lines that start after the date of service.

    A line "scheduled" or simply dated after the request ("Line 2: Dara-Kd 11/2025 -"
    in a letter of 10/2025) is not a prior line, whatever its wording.  Same-month and
    partial dates count as prior (a prefix sorts first: "2025-10" < "2025-10-06").
    A therapy the policy bars (a prior CAR-T) stays whatever its date: it is evidence
    against the request, never dropped.
    """
    day = facts.date_of_service
    if not day:
        return facts
    barring = _barring_rules(policy)
    therapies = tuple(
        t
        for t in facts.therapies
        if not (t.assertion == "received" and t.start and t.start > day and not therapy_barred(t, barring))
    )
    lines = tuple(line for line in facts.lines if not (line.start and line.start > day))
    if len(therapies) == len(facts.therapies) and len(lines) == len(facts.lines):
        return facts
    return facts.model_copy(update={"therapies": therapies, "lines": lines})


def _other_disease(line: LineOfTherapy, facts: ClinicalFacts, policy: Policy) -> bool:
    marks = policy.disease.other_disease_lines
    if set(line.ingredients) & set(marks.ingredients_any):
        return True
    in_line = [t for t in facts.therapies if t.line == line.number and t.assertion == "received"]
    # every target of the agent lies outside the disease: a CD19 CAR-T marks a lymphoma's
    # line, a BCMA/CD19 dual CAR-T given for myeloma does not
    return any(t.targets and set(t.targets) <= set(marks.targets_any) for t in in_line) or any(
        t.ingredient in marks.ingredients_any for t in in_line
    )


def lines_under_policy(facts: ClinicalFacts, policy: Policy) -> ClinicalFacts:
    """The lines as the policy counts them: those for another disease than the policy's
    (a lymphoma's R-CHOP under a myeloma policy, by the drugs ``disease.other_disease_lines``
    names) flagged and numbered after the others, the therapies' line numbers following.

    A myeloma letter may tell a remote lymphoma's R-CHOP and R-ICE: two lines that are not
    prior lines of myeloma therapy, and that would otherwise turn one myeloma line into
    three.  The other lines keep their order and any gap in their numbering (a numbered
    history that starts at "Line 2" still shows its unread first line).
    """
    other = [line for line in facts.lines if _other_disease(line, facts, policy)]
    if not other and not any(line.other_disease for line in facts.lines):
        return facts
    others = {line.number for line in other}
    kept = sorted((line for line in facts.lines if line.number not in others), key=lambda line: line.number)
    renumber: dict[int, int] = {}
    for line in kept:
        renumber[line.number] = line.number - sum(1 for n in others if n < line.number)
    top = max(renumber.values(), default=0)
    for offset, line in enumerate(sorted(other, key=lambda line: line.number), start=1):
        renumber[line.number] = top + offset
    lines = tuple(
        line.model_copy(update={"number": renumber[line.number], "other_disease": line.number in others})
        for line in [*kept, *sorted(other, key=lambda line: line.number)]
    )
    therapies: tuple[Therapy, ...] = tuple(
        t.model_copy(update={"line": renumber.get(t.line, t.line)}) if t.line is not None else t
        for t in facts.therapies
    )
    return facts.model_copy(update={"lines": lines, "therapies": therapies})


def disease_lines_only(facts: ClinicalFacts, policy: Policy) -> ClinicalFacts:
    """The facts without the lines for another disease and the drugs given in them.  A
    therapy the policy bars stays whatever it treated (a lymphoma's CAR-T is a prior CAR-T)."""
    other = {line.number for line in facts.lines if line.other_disease}
    if not other:
        return facts
    barring = _barring_rules(policy)
    return facts.model_copy(
        update={
            "lines": tuple(line for line in facts.lines if not line.other_disease),
            "therapies": tuple(
                t for t in facts.therapies if t.line not in other or therapy_barred(t, barring)
            ),
        }
    )


def evaluate(facts: ClinicalFacts, policy: Policy, *, low_confidence: float = 0.6) -> CriteriaReport:
    """Check each criterion of the policy against the facts and recommend a determination."""
    shown = lines_under_policy(facts, policy)
    aside = [line for line in shown.lines if line.other_disease]
    facts = disease_lines_only(before_service(shown, policy), policy)

    def trusted(group: Sequence[Evidence]) -> bool:
        # One readable, located piece is enough to show a reviewer.
        return any(_locatable(e) and (e.confidence is None or e.confidence >= low_confidence) for e in group)

    ctx = Context(
        facts=facts,
        policy=policy,
        trusted=trusted,
        reference=reference_date(facts),
        reference_from=reference_source(facts),
    )
    outcomes = [apply_rule(ctx, c) for c in policy.criteria]
    if aside:
        # say why lines the reviewer sees in the history are not counted
        note = (
            " Not counted: "
            + "; ".join(
                f"{', '.join(line.ingredients)} (another disease than {policy.disease.label})"
                for line in aside
            )
            + "."
        )
        outcomes = [
            replace(o, reason=o.reason + note) if isinstance(c.rule, MinPriorLines) else o
            for c, o in zip(policy.criteria, outcomes, strict=True)
        ]
    results = tuple(_result(c, o, trusted) for c, o in zip(policy.criteria, outcomes, strict=True))
    conflicted = {c.id for c, o in zip(policy.criteria, outcomes, strict=True) if o.conflict}
    determination, why = _determine(results, conflicted, policy)
    limits = tuple(_limitation(item, facts, results, policy) for item in policy.limitations)
    clashes = [lim for lim in limits if lim.status == "conflict"]
    if determination == "criteria_met" and clashes:
        # Every criterion holds, but the request itself asks for more than the policy allows.
        determination = "needs_information"
        why = (
            "Every criterion is met, but the request conflicts with a limitation of the policy: "
            + " ".join(lim.reason for lim in clashes)
        )
    request = facts.request
    if determination == "criteria_met" and request is not None and request.also_named:
        # "request Abecma ... request Carvykti": which policy applies is itself in question
        determination = "needs_information"
        why = (
            f"Every criterion is met, but the documentation requests {', '.join(request.also_named)}"
            f" as well as {request.product or request.hcpcs}: a reviewer must confirm which product the"
            " request is for."
        )
    missing = [req for o in outcomes if o.status == "not_documented" for req in o.requests]
    missing.extend(_legibility_requests(results, policy, low_confidence))
    return CriteriaReport(
        policy_id=policy.id,
        policy_title=policy.title,
        determination=determination,
        criteria=results,
        missing=tuple(dict.fromkeys(missing)),
        findings=tuple(_informational(i, facts) for i in policy.informational),
        limitations=limits,
        determination_reason=why,
        lines=shown.lines,
        therapies=shown.therapies,
    )
