"""The rule vocabulary: what each named rule concludes from the facts.

Each rule returns an :class:`Outcome`: met, not_met or not_documented, a plain
reason, the evidence it rests on, and the requests to send the provider for a
gap.  The asymmetry is deliberate: a wrong "met" is the worst error, so
silence is never read as "met", and "not_met" for a count or a drug class is
only concluded from a history that looks complete.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from common.models import (
    ClinicalFacts,
    CriterionStatus,
    Evidence,
    LineOfTherapy,
    Therapy,
)
from criteria.policy import (
    ClassExposure,
    Criterion,
    DiagnosisIs,
    LinesHaveDates,
    MinAge,
    MinPriorLines,
    NoPriorClass,
)

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
    requests: tuple[str, ...] = ()
    conflict: bool = False  # the documentation contradicts itself: a human must look


# --------------------------------------------------------------------------- helpers

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


def _first_trusted(groups: Sequence[Group], trusted: Trust) -> Group:
    for g in groups:
        if trusted(g):
            return g
    return groups[0] if groups else ()


def _flatten(groups: Sequence[Group]) -> Group:
    return tuple(e for g in groups for e in g)


def received(facts: ClinicalFacts) -> tuple[Therapy, ...]:
    return tuple(t for t in facts.therapies if t.assertion == "received")


def line_evidence(line: LineOfTherapy, facts: ClinicalFacts) -> Group:
    """A line's own evidence, else that of the therapies assigned to it."""
    if line.evidence:
        return line.evidence
    return tuple(e for t in received(facts) if t.line == line.number for e in t.evidence)


def line_drugs(line: LineOfTherapy) -> str:
    return ", ".join(line.ingredients) or ", ".join(line.regimens) or "drugs not named"


def unlisted_line_numbers(facts: ClinicalFacts) -> list[int]:
    """Line numbers before a numbered history that starts late ("Line 2", "Line 3", no "Line 1").

    A history whose numbering runs without a break but starts above 1 names lines
    that were not read (often an OCR-garbled regimen cell), so it cannot be taken
    as complete.  A lone number far out of sequence (1, 2, 7) is a misread digit,
    not a missing line, and is left to the line counting.
    """
    numbers = sorted({line.number for line in facts.lines})
    if not numbers or numbers[0] == 1 or numbers[-1] - numbers[0] + 1 != len(numbers):
        return []
    return list(range(1, numbers[0]))


def history_complete(facts: ClinicalFacts) -> bool:
    """Every line is listed with a start date and named drugs, and no line is unlisted.

    Only then may the absence of a line or a drug class be read as "not received".
    Every named drug comes from the lexicon, so its class is known: a lymphoma
    line (rituximab, vincristine: class "other") is a documented line without a
    proteasome inhibitor.  A line whose drugs were not read (an unexpanded
    regimen, a trial's unnamed "study drug") leaves the history open.
    """
    if facts.history is not None and facts.history.status != "complete":
        return False
    if not facts.lines:
        return False
    if facts.stated_prior_lines is not None and facts.stated_prior_lines > len(facts.lines):
        return False
    if unlisted_line_numbers(facts):
        return False
    return all(line.start and line.ingredients for line in facts.lines)


def history_note(facts: ClinicalFacts) -> str:
    """Why the history cannot show what is missing, for a not-documented reason."""
    if facts.history is None or facts.history.status == "complete":
        return ""
    reason = facts.history.reason
    return f" The history cannot be taken as complete: {reason[:1].lower()}{reason[1:]}"


# Classes that ride along with a regimen and never define one (a steroid, a premedication),
# and phases given in support of another therapy (conditioning for a transplant,
# lymphodepletion for a CAR-T, mobilization for a collection).
_RIDE_ALONG = {"corticosteroid", "other"}
_SUPPORT_PHASES = {"conditioning", "lymphodepletion", "mobilization"}


def unplaced(facts: ClinicalFacts) -> tuple[Therapy, ...]:
    """Received therapies the documentation names but places in no line of therapy."""
    return tuple(
        t
        for t in received(facts)
        if t.line is None
        and not t.class_level
        and t.therapy_class not in _RIDE_ALONG
        and t.phase not in _SUPPORT_PHASES
    )


def _norm(status: str) -> str:
    return "_".join(status.lower().replace("-", " ").replace("/", " ").split())


# --------------------------------------------------------------------------- rules


def min_age(facts: ClinicalFacts, c: Criterion, rule: MinAge, trusted: Trust) -> Outcome:
    age = facts.age
    if age is None:
        return Outcome("not_documented", "No age or date of birth found.", requests=(c.missing_request,))
    how = "stated" if age.how == "stated" else "computed from the date of birth"
    where = pages_of(age.evidence)
    if age.years >= rule.years:
        return Outcome("met", f"Age {age.years} ({how}, {where}).", support=(age.evidence,))
    return Outcome(
        "not_met", f"Age {age.years} ({how}, {where}) is under {rule.years}.", support=(age.evidence,)
    )


def diagnosis_is(facts: ClinicalFacts, c: Criterion, rule: DiagnosisIs, trusted: Trust) -> Outcome:
    targets = [d for d in facts.diagnoses if d.concept == rule.concept and d.assertion == "received"]
    others = [d for d in facts.diagnoses if d.concept != rule.concept and d.assertion == "received"]
    # "possible myeloma" next to another cancer is a question for the provider, not a failure.
    maybe = [d for d in facts.diagnoses if d.concept == rule.concept and d.assertion == "uncertain"]
    if not targets:
        if others and not maybe:
            names = ", ".join(sorted({d.text for d in others}))
            return Outcome(
                "not_met",
                f"The documentation names {names} ({pages_of(_flatten([d.evidence for d in others]))}) "
                f"and no {rule.label}.",
                support=(_first_trusted([d.evidence for d in others], trusted),),
                context=_flatten([d.evidence for d in others]),
            )
        return Outcome(
            "not_documented", f"No diagnosis of {rule.label} found.", requests=(c.missing_request,)
        )

    diag = _first_trusted([d.evidence for d in targets], trusted)
    wanted = set(rule.status_any)
    statuses = [s for s in facts.disease_status if s.assertion == "received" and _norm(s.status) in wanted]
    coded = [d for d in targets if d.icd10 and d.icd10.strip().upper() in rule.icd10_any]
    status_groups = [s.evidence for s in statuses] + [d.evidence for d in coded]
    if not status_groups:
        return Outcome(
            "not_documented",
            f"{sentence(rule.label, stop=False)} is documented ({pages_of(diag)}) "
            "but not that it is relapsed or refractory.",
            context=diag,
            requests=(rule.status_request,),
        )
    what = ", ".join(
        sorted({_norm(s.status).replace("_", " ") for s in statuses} | {f"ICD-10 {d.icd10}" for d in coded})
    )
    status_ev = _first_trusted(status_groups, trusted)
    return Outcome(
        "met",
        f"{sentence(rule.label, stop=False)} ({pages_of(diag)}) with status {what} ({pages_of(status_ev)}).",
        support=(diag, status_ev),
    )


def min_prior_lines(facts: ClinicalFacts, c: Criterion, rule: MinPriorLines, trusted: Trust) -> Outcome:
    n = rule.count
    # Numbered lines 2 and 3 prove three lines even when line 1 could not be read.
    counted = len(facts.lines) + len(unlisted_line_numbers(facts))
    stated = facts.stated_prior_lines
    line_groups = [line_evidence(line, facts) for line in facts.lines]
    options: list[tuple[str, tuple[Group, ...]]] = []
    if counted >= n:
        # The n best-documented lines carry the count; the rest are context.
        chosen = sorted(line_groups, key=lambda g: not trusted(g))[:n]
        options.append(
            (f"{counted} prior lines are listed ({pages_of(_flatten(line_groups))}).", tuple(chosen))
        )
    if stated is not None and stated >= n:
        ev = facts.stated_prior_lines_evidence
        options.append((f"The documentation states {stated} prior lines ({pages_of(ev)}).", (ev,)))
    if options:
        reason, support = next((o for o in options if all(trusted(g) for g in o[1])), options[0])
        # "has had one prior line of therapy" beside two listed: the count is in doubt
        fewer = stated is not None and stated < n
        if fewer:
            reason += (
                f" But the documentation also states {stated} prior line(s): a reviewer must resolve this."
            )
        return Outcome("met", reason, support=support, context=_flatten(line_groups), conflict=fewer)
    if stated is not None:
        ev = facts.stated_prior_lines_evidence
        return Outcome(
            "not_met",
            f"The documentation states {stated} prior line(s) ({pages_of(ev)}) and lists {counted}; "
            f"the policy requires {n}.",
            support=(ev,),
            context=_flatten(line_groups),
        )
    if history_complete(facts):
        return Outcome(
            "not_met",
            f"The documented history lists {counted} dated line(s) of therapy; the policy requires {n}.",
            support=tuple(line_groups),
        )
    found = (
        f"{counted} line(s) listed, not all with dates and drugs" if counted else "no lines of therapy found"
    )
    return Outcome(
        "not_documented",
        f"Fewer than {n} prior lines documented ({found}).{history_note(facts)}",
        context=_flatten(line_groups),
        requests=(c.missing_request.format(count=n),),
    )


def class_exposure(facts: ClinicalFacts, c: Criterion, rule: ClassExposure, trusted: Trust) -> Outcome:
    of_class = [t for t in facts.therapies if t.therapy_class == rule.therapy_class]
    exposures = [t for t in of_class if t.assertion == "received"]
    # An explicit statement that the class was not given: "PI-naive", "never received a
    # proteasome inhibitor" (class-level), or every drug of the class named being denied
    # ("never received daratumumab") with none of the class told otherwise.
    denied_class = [t for t in of_class if t.assertion == "negated" and t.class_level]
    denied_drugs = [t for t in of_class if t.assertion == "negated" and not t.class_level]
    other_talk = [t for t in of_class if t.assertion not in ("received", "negated")]
    denied = denied_class or (denied_drugs if not other_talk else [])
    if exposures:
        groups = [t.evidence for t in exposures]
        best = _first_trusted(groups, trusted)
        named = sorted({t.ingredient for t in exposures if not t.class_level})
        class_only = [t for t in exposures if t.class_level]
        if named:
            what = ", ".join(named)
        else:
            what = f"{rule.label} ({quote(class_only[0].evidence)}; no drug of the class is named)"
        conflict = bool(denied_class)
        where = pages_of(_flatten([t.evidence for t in denied_class]))
        note = (
            f" The documentation also says {rule.label} was not received ({where}):"
            " a reviewer must resolve this."
            if conflict
            else ""
        )
        return Outcome(
            "met",
            f"Received {what} ({pages_of(_flatten(groups))}).{note}",
            support=(best,),
            context=_flatten(groups + [t.evidence for t in denied_class]),
            conflict=conflict,
        )
    if denied:
        groups = [t.evidence for t in denied]
        names = ", ".join(sorted({t.ingredient for t in denied}))
        return Outcome(
            "not_met",
            f"The documentation states that {rule.label} was not received"
            f" ({names}; {pages_of(_flatten(groups))}).",
            support=(_first_trusted(groups, trusted),),
            context=_flatten(groups),
        )
    # "possible exposure", a blinded trial arm, an allergy list: the history is not known
    # well enough to say the class was never given
    maybe = [t for t in of_class if t.assertion == "uncertain"]
    if history_complete(facts) and not maybe:
        groups = [line_evidence(line, facts) for line in facts.lines]
        return Outcome(
            "not_met",
            f"The documented history ({len(facts.lines)} dated line(s)) does not include {rule.label}.",
            support=tuple(groups),
        )
    extra = (
        f" ({', '.join(sorted({t.ingredient for t in maybe}))} is mentioned, but not as given)"
        if maybe
        else ""
    )
    return Outcome(
        "not_documented",
        f"No record of {rule.label} among the therapies found{extra}.{history_note(facts)}",
        context=_flatten([t.evidence for t in maybe]),
        requests=(c.missing_request.format(label=rule.label),),
    )


def no_prior_class(facts: ClinicalFacts, c: Criterion, rule: NoPriorClass, trusted: Trust) -> Outcome:
    of_class = [t for t in facts.therapies if t.therapy_class == rule.therapy_class]
    # Planned, family and uncertain mentions say nothing about this member's past treatment.
    prior = [
        t for t in of_class if t.assertion == "received" and (rule.include_trials or not t.clinical_trial)
    ]
    denied = [
        t
        for t in of_class
        if t.assertion == "negated"
        and (rule.class_ingredient is None or t.ingredient == rule.class_ingredient)
    ]
    # a dated mention that could not be read as given or not ("reportedly had CAR-T in 2022")
    doubtful = [t for t in of_class if t.assertion == "uncertain" and (t.start or t.end)]
    if prior:
        groups = [t.evidence for t in prior]
        names = ", ".join(sorted({t.ingredient for t in prior}))
        trial = " in a clinical trial" if any(t.clinical_trial for t in prior) else ""
        conflict = bool(denied)
        note = (
            " The documentation also says no prior CAR-T: a reviewer must resolve this." if conflict else ""
        )
        return Outcome(
            "not_met",
            f"Prior {rule.label} received{trial}: {names} ({pages_of(_flatten(groups))}).{note}",
            support=(_first_trusted(groups, trusted),),
            context=_flatten(groups + [t.evidence for t in denied]),
            conflict=conflict,
        )
    if denied:
        groups = [t.evidence for t in denied]
        best = _first_trusted(groups, trusted)
        note = (
            f" A dated mention of {rule.label} could not be read as given or not"
            f" ({pages_of(_flatten([t.evidence for t in doubtful]))}): a reviewer must resolve this."
            if doubtful
            else ""
        )
        return Outcome(
            "met",
            f"The documentation states no prior {rule.label} ({pages_of(best)}).{note}",
            support=(best,),
            context=_flatten([t.evidence for t in doubtful]),
            conflict=bool(doubtful),
        )
    uncertain = [t for t in of_class if t.assertion == "uncertain"]
    extra = " (a mention is uncertain)" if uncertain else ""
    return Outcome(
        "not_documented",
        f"The documentation does not say whether the member has had {rule.label}{extra}.",
        context=_flatten([t.evidence for t in uncertain]),
        requests=(c.missing_request.format(label=rule.label),),
    )


def lines_have_dates(facts: ClinicalFacts, c: Criterion, rule: LinesHaveDates, trusted: Trust) -> Outcome:
    if not facts.lines:
        return Outcome("not_documented", "No lines of therapy found.", requests=(c.missing_request,))
    requests: list[str] = []
    stated = facts.stated_prior_lines
    listed = len(facts.lines)
    if stated is not None and stated > listed:
        requests.append(rule.unlisted_lines_request.format(stated=stated, listed=listed))
    unread = unlisted_line_numbers(facts)
    for number in unread:
        requests.append(
            rule.per_line_request.format(
                what="Drugs, start and end dates",
                ordinal=ordinal(number),
                number=number,
                drugs="named in the documentation but not legible",
            )
        )
    outside = unplaced(facts)
    for name in sorted({t.ingredient for t in outside}):
        requests.append(rule.unplaced_request.format(drugs=name))
    undated = [line for line in facts.lines if not line.start and not line.start_unreadable]
    # Written but not legible to OCR: the documentation lists the date, the reviewer reads it.
    illegible = [line for line in facts.lines if not line.start and line.start_unreadable]
    for line in undated:
        what = "Start and end dates" if not line.end else "Start date"
        requests.append(
            rule.per_line_request.format(
                what=what, ordinal=ordinal(line.number), number=line.number, drugs=line_drugs(line)
            )
        )
    groups = tuple(line_evidence(line, facts) for line in facts.lines)
    if requests:
        parts = []
        if undated:
            parts.append(f"{len(undated)} of {listed} listed line(s) have no start date")
        if stated is not None and stated > listed:
            parts.append(f"{stated} prior lines are stated but {listed} listed")
        if unread:
            parts.append(
                "line(s) " + ", ".join(map(str, unread)) + " of the numbered history could not be read"
            )
        if outside:
            parts.append(
                ", ".join(sorted({t.ingredient for t in outside}))
                + " named as received but in no listed line"
            )
        return Outcome(
            "not_documented",
            sentence("; ".join(parts)),
            context=_flatten(groups),
            requests=tuple(requests),
        )
    note = "".join(
        f" The start date of the {ordinal(line.number)} line reads \u201c{line.start_unreadable}\u201d,"
        " which is not a valid date: read it on the page."
        for line in illegible
    )
    return Outcome(
        "met",
        f"All {listed} listed line(s) have a start date ({pages_of(_flatten(groups))}).{note}",
        support=groups,
    )


def apply_rule(facts: ClinicalFacts, c: Criterion, trusted: Trust) -> Outcome:
    rule = c.rule
    if isinstance(rule, MinAge):
        return min_age(facts, c, rule, trusted)
    if isinstance(rule, DiagnosisIs):
        return diagnosis_is(facts, c, rule, trusted)
    if isinstance(rule, MinPriorLines):
        return min_prior_lines(facts, c, rule, trusted)
    if isinstance(rule, ClassExposure):
        return class_exposure(facts, c, rule, trusted)
    if isinstance(rule, NoPriorClass):
        return no_prior_class(facts, c, rule, trusted)
    return lines_have_dates(facts, c, rule, trusted)
