"""The rule vocabulary: what each named rule concludes from the facts.

Each rule returns an :class:`Outcome`: met, not_met or not_documented, a plain
reason, the evidence it rests on, and the requests to send the provider for a
gap.  The asymmetry is deliberate: a wrong "met" is the worst error, so
silence is never read as "met", and "not_met" for a count or a drug class is
only concluded from a complete history or an explicit statement.

This module holds the rules over the treatment history and the composites
(any_of, all_of); lab values and progression are in :mod:`criteria.measures`,
places of disease and the prescriber in :mod:`criteria.statements`.  No rule
names a product, a policy or a criterion: what it checks is its parameters.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

from common.models import ClinicalFacts, LineOfTherapy, Therapy, numbered_entries
from criteria.measures import lab_abnormal, lab_threshold, progression_after_last_dose
from criteria.outcome import (
    Context,
    Group,
    Outcome,
    Trust,
    first_trusted,
    flatten,
    ordinal,
    pages_of,
    quote,
    received,
    sentence,
)
from criteria.policy import (
    AllOf,
    AnyOf,
    ClassExposure,
    Criterion,
    DiagnosisIs,
    LabAbnormal,
    LabThreshold,
    LinesHaveDates,
    MinAge,
    MinPriorLines,
    NoPriorTherapy,
    PrescriberSpecialty,
    ProgressionAfterLastDose,
    Rule,
    SiteAbsent,
)
from criteria.statements import prescriber_specialty, site_absent

__all__ = ["Context", "Outcome", "Trust", "apply_rule", "ordinal", "pages_of", "quote", "sentence"]

_first_trusted = first_trusted
_flatten = flatten


def line_evidence(line: LineOfTherapy, facts: ClinicalFacts) -> Group:
    """A line's own evidence, else that of the therapies assigned to it."""
    if line.evidence:
        return line.evidence
    return tuple(e for t in received(facts) if t.line == line.number for e in t.evidence)


def line_drugs(line: LineOfTherapy) -> str:
    return ", ".join(line.ingredients) or ", ".join(line.regimens) or "drugs not named"


def unlisted_line_numbers(facts: ClinicalFacts) -> list[int]:
    """Line numbers a numbered history names without a line read for them.

    "Line 2", "Line 3" and no "Line 1", or lines 1 and 3 with no 2 (a table row whose
    regimen cell OCR garbled: "2 DKa 03/2021 06/2023"): the numbers name lines that were not
    read, so the history cannot be taken as complete.  A lone number far out of sequence
    (1, 2, 7) is a misread digit, not missing lines, and is left to the line counting.
    """
    numbers = sorted({line.number for line in facts.lines})
    if not numbers:
        return []
    dated = sorted((line.number, line.start) for line in facts.lines if line.start)
    if any(a[1] > b[1] for a, b in itertools.pairwise(dated)):
        return []  # numbers out of step with the dates (line 5 of 2021 before line 4 of 2026): misread digits
    missing: list[int] = []
    if numbers[0] != 1 and numbers[0] <= _MAX_NUMBER_GAP + 1:
        missing.extend(range(1, numbers[0]))
    for a, b in itertools.pairwise(numbers):
        if 1 < b - a <= _MAX_NUMBER_GAP + 1:
            missing.extend(range(a + 1, b))
    return missing


_MAX_NUMBER_GAP = 2  # more numbers missing in a row than this: a misread digit


def count_beyond_listed(facts: ClinicalFacts) -> bool:
    """A prior-line count written that names more lines than the document describes,
    however its author numbered them: a line may be missing."""
    stated = facts.stated_prior_lines
    return stated is not None and stated > numbered_entries(facts.lines)


def history_complete(facts: ClinicalFacts) -> bool:
    """Does the documentation present its treatment history as the whole history?

    The extractors' history fact decides when it is there (a titled history, a numbered
    or tabled sequence of lines: complete; records to follow, therapy mentioned in
    passing: partial).  Without it: every line is listed with a start date and named
    drugs, and no line is unlisted.

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
    if count_beyond_listed(facts):
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


def min_age(ctx: Context, rule: MinAge) -> Outcome:
    age = ctx.facts.age
    if age is None:
        return Outcome("not_documented", "No age or date of birth found.")
    where = pages_of(age.evidence)
    if age.how == "at_least":
        if age.years >= rule.years:
            return Outcome(
                "met",
                f"At least {age.years}: a form's question answered yes ({where}); no age is given.",
                support=(age.evidence,),
            )
        return Outcome("not_documented", f"Only 'at least {age.years}' is answered ({where}).")
    how = "stated" if age.how == "stated" else "computed from the date of birth"
    if age.years >= rule.years:
        return Outcome("met", f"Age {age.years} ({how}, {where}).", support=(age.evidence,))
    return Outcome(
        "not_met", f"Age {age.years} ({how}, {where}) is under {rule.years}.", support=(age.evidence,)
    )


def diagnosis_is(ctx: Context, rule: DiagnosisIs) -> Outcome:
    facts, trusted, disease = ctx.facts, ctx.trusted, ctx.policy.disease
    targets = [d for d in facts.diagnoses if d.concept == disease.concept and d.assertion == "received"]
    others = [d for d in facts.diagnoses if d.concept != disease.concept and d.assertion == "received"]
    # "possible myeloma" next to another cancer is a question for the provider, not a failure.
    maybe = [d for d in facts.diagnoses if d.concept == disease.concept and d.assertion == "uncertain"]
    if not targets:
        if others and not maybe:
            names = ", ".join(sorted({d.text for d in others}))
            return Outcome(
                "not_met",
                f"The documentation names {names} ({pages_of(_flatten([d.evidence for d in others]))}) "
                f"and no {disease.label}.",
                support=(_first_trusted([d.evidence for d in others], trusted),),
                context=_flatten([d.evidence for d in others]),
            )
        return Outcome("not_documented", f"No diagnosis of {disease.label} found.")

    diag = _first_trusted([d.evidence for d in targets], trusted)
    wanted = set(rule.status_any)
    statuses = [s for s in facts.disease_status if s.assertion == "received" and _norm(s.status) in wanted]
    coded = [d for d in targets if d.icd10 and d.icd10.strip().upper() in rule.icd10_any]
    status_groups = [s.evidence for s in statuses] + [d.evidence for d in coded]
    if not status_groups:
        return Outcome(
            "not_documented",
            f"{sentence(disease.label, stop=False)} is documented ({pages_of(diag)}) "
            f"but not that it is {rule.status_label}.",
            context=diag,
            requests=(rule.status_request,),
        )
    what = ", ".join(
        sorted({_norm(s.status).replace("_", " ") for s in statuses} | {f"ICD-10 {d.icd10}" for d in coded})
    )
    status_ev = _first_trusted(status_groups, trusted)
    return Outcome(
        "met",
        f"{sentence(disease.label, stop=False)} ({pages_of(diag)}) with status {what}"
        f" ({pages_of(status_ev)}).",
        support=(diag, status_ev),
    )


def min_prior_lines(ctx: Context, rule: MinPriorLines) -> Outcome:
    facts, trusted = ctx.facts, ctx.trusted
    n = rule.count
    # Numbered lines 2 and 3 prove three lines even when line 1 could not be read.
    counted = len(facts.lines) + len(unlisted_line_numbers(facts))
    stated = facts.stated_prior_lines
    # A line the document numbered is a line whatever its regimen reads: its dates attest it
    # too.  A line this service split by IMWG rests on what its drugs are.
    line_groups = [
        (
            *line_evidence(line, facts),
            *(line.date_evidence if line.split_rule == "numbered_in_document" else ()),
        )
        for line in facts.lines
    ]
    options: list[tuple[str, tuple[Group, ...]]] = []
    if counted >= n:
        # The n best-documented lines carry the count; the rest are context.
        chosen = sorted(line_groups, key=lambda g: not trusted(g))[:n]
        options.append(
            (f"{counted} prior lines are listed ({pages_of(_flatten(line_groups))}).", tuple(chosen))
        )
    # "5 prior lines" beside a history its author numbered 1 VRd, 2 ASCT, 3 maintenance, 4 DPd,
    # 5 Kd counts the phases of one line as lines: the count is the author's numbering, not
    # lines by the policy's definition, and does not carry the criterion.
    phases = numbered_entries(facts.lines) - len(facts.lines)
    counts_phases = stated is not None and phases > 0 and counted < stated <= counted + phases
    if stated is not None and stated >= n and not counts_phases:
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
    if counts_phases:
        ev = facts.stated_prior_lines_evidence
        reason = (
            f"The documentation states {stated} prior lines ({pages_of(ev)}), counting as lines"
            f" {phases} phase(s) of a line its history numbers on their own (a transplant,"
            f" consolidation or maintenance given as one plan); by IMWG rules it lists {counted},"
            f" and the policy requires {n}."
        )
        if history_complete(facts):
            # not a contradiction (the policy defines a line), but a count the office wrote:
            # a human confirms the reading
            return Outcome("not_met", reason, support=(ev, *line_groups), review=True)
        return Outcome("not_documented", reason + history_note(facts), context=_flatten(line_groups))
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
    )


def class_exposure(ctx: Context, rule: ClassExposure) -> Outcome:
    facts, trusted = ctx.facts, ctx.trusted
    of_class = [t for t in facts.therapies if t.therapy_class == rule.therapy_class]
    exposures = [t for t in of_class if t.assertion == "received"]
    # An explicit statement that the class was not given: "PI-naive", a ticked "None
    # received" for the class, "never received a proteasome inhibitor" (class-level), or
    # every drug of the class named being denied ("never received daratumumab") with none
    # of the class told otherwise.
    denied_class = [t for t in of_class if t.assertion == "negated" and t.class_level]
    denied_drugs = [t for t in of_class if t.assertion == "negated" and not t.class_level]
    # another drug of the class talked about (considered, uncertain) leaves it open; the
    # class named in passing does not
    other_talk = [t for t in of_class if t.assertion not in ("received", "negated") and not t.class_level]
    # a history that says it is partial leaves the class's other drugs open: "has not received
    # carfilzomib" in a letter that tells the most recent line only says nothing of bortezomib
    partial = facts.history is not None and facts.history.status == "partial"
    denied = denied_class or (denied_drugs if not other_talk and not partial else [])
    if exposures:
        groups = [t.evidence for t in exposures]
        best = _first_trusted(groups, trusted)
        named = sorted({t.ingredient for t in exposures if not t.class_level})
        class_only = [t for t in exposures if t.class_level]
        if named:
            what = ", ".join(named)
        else:
            what = f"{rule.label} ({quote(class_only[0].evidence)}; stated for the class, no drug named)"
        # The document contradicts itself when it denies the class; or says the class was
        # given with no drug named ("triple-class exposed" on a cover sheet) while denying its
        # drugs by name ("has never received daratumumab or isatuximab"): a summary's class
        # word does not outweigh a named denial; or denies by name, in words someone wrote,
        # every drug it names as given.  A regimen not started ("Xpovio Vd considered, never
        # started") denies that course, not the drug ever; a form's printed examples read as
        # denied do not outweigh a drug placed in a dated line.  Either outweighs a drug named
        # only in passing (no date, no line: "Daratumumab is standard here", its "is" misread).
        written = {t.ingredient for t in denied_drugs if not t.printed and not t.regimen}
        denied_names = {t.ingredient for t in denied_drugs}
        in_passing = all(
            t.line is None and t.start is None and t.end is None for t in exposures if not t.class_level
        )
        contradicting = denied_class or (
            denied_drugs
            if not named or set(named) <= written or (in_passing and set(named) <= denied_names)
            else []
        )
        conflict = bool(contradicting)
        where = pages_of(_flatten([t.evidence for t in contradicting]))
        note = (
            f" The documentation also says {rule.label} was not received ({where}):"
            " a reviewer must resolve this."
            if conflict
            else ""
        )
        # a class stated with no drug named, while the drug the document names for it is in
        # doubt ("? daratumumab, not confirmed"): the class word is someone's summary, to be
        # confirmed before it counts
        doubted = [t for t in of_class if t.assertion == "uncertain" and not t.class_level]
        unconfirmed = not named and bool(doubted) and not conflict
        return Outcome(
            "met",
            f"Received {what} ({pages_of(_flatten(groups))}).{note}",
            support=(best,),
            context=_flatten(groups + [t.evidence for t in contradicting] + [t.evidence for t in doubted]),
            conflict=conflict,
            review=unconfirmed,
            review_why=(
                f"{rule.label} is stated for the class only, and"
                f" {', '.join(sorted({t.ingredient for t in doubted}))} is mentioned as uncertain"
                f" ({pages_of(_flatten([t.evidence for t in doubted]))}):"
                " a reviewer must confirm it was given."
                if unconfirmed
                else ""
            ),
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
    )


def _barred(t: Therapy, rule: NoPriorTherapy) -> bool:
    return t.therapy_class in rule.therapy_classes or bool(set(t.targets) & set(rule.targets))


def therapy_barred(t: Therapy, rules: list[NoPriorTherapy]) -> bool:
    """Would any of these rules count the therapy against the request?"""
    return any(_barred(t, rule) for rule in rules)


def no_prior_therapy(ctx: Context, rule: NoPriorTherapy) -> Outcome:
    facts, trusted = ctx.facts, ctx.trusted
    of_scope = [t for t in facts.therapies if _barred(t, rule)]
    statements = [s for s in facts.target_statements if s.target in rule.targets]
    # Planned, family and uncertain mentions say nothing about this member's past treatment.
    prior = [
        t for t in of_scope if t.assertion == "received" and (rule.include_trials or not t.clinical_trial)
    ]
    prior_stated = [s for s in statements if s.assertion == "received"]
    # Only a denial of the whole class or target says "none": "no prior Abecma" leaves
    # Carvykti open, "no prior CAR-T" leaves a BCMA bispecific open.
    denied = [
        t
        for t in of_scope
        if t.assertion == "negated"
        and (
            t.ingredient in rule.class_ingredients
            or (t.class_level and t.therapy_class in rule.therapy_classes)
        )
    ]
    # a denial of the whole class first: it is the one that settles the rule
    denied.sort(key=lambda t: bool(t.targets))
    denied_groups = [t.evidence for t in denied] + [
        s.evidence for s in statements if s.assertion == "negated"
    ]
    # a whole-class denial must cover every class and target the rule bars; a class named with
    # an antigen ("no prior BCMA CAR-T") denies only the class's agents against it
    covered = (
        {t.therapy_class for t in denied if not t.targets}
        | {target for t in denied for target in t.targets}
        | {s.target for s in statements if s.assertion == "negated"}
    )
    wanted = set(rule.therapy_classes) | set(rule.targets)
    # a target covers the classes whose members are all directed against it (CAR-T does not:
    # "no prior anti-BCMA therapy" says nothing of a CD19 CAR-T)
    full_denial = bool(denied_groups) and (wanted <= covered or bool(set(rule.targets) & covered))
    # a dated mention that could not be read as given or not ("reportedly had CAR-T in 2022")
    doubtful = [t for t in of_scope if t.assertion == "uncertain" and (t.start or t.end)]
    if prior or prior_stated:
        groups = [t.evidence for t in prior] + [s.evidence for s in prior_stated]
        names = ", ".join(sorted({t.ingredient for t in prior} | {s.text for s in prior_stated}))
        trial = " in a clinical trial" if any(t.clinical_trial for t in prior) else ""
        # the documents contradict themselves only where a denial covers what was given:
        # "no BCMA-targeted therapy, including BCMA CAR-T" beside a lymphoma's CD19 CAR-T does not
        negated_targets = {s.target for s in statements if s.assertion == "negated"}
        covers = (
            bool(prior_stated)
            or any(not d.targets or set(d.targets) & set(t.targets) for d in denied for t in prior)
            or any(set(t.targets) & negated_targets for t in prior)
        )
        conflict = full_denial and covers
        note = (
            f" The documentation also says no prior {rule.label}: a reviewer must resolve this."
            if conflict
            else ""
        )
        return Outcome(
            "not_met",
            f"Prior {rule.label} received{trial}: {names} ({pages_of(_flatten(groups))}).{note}",
            support=(_first_trusted(groups, trusted),),
            context=_flatten(groups + denied_groups),
            conflict=conflict,
        )
    if full_denial:
        best = _first_trusted(denied_groups, trusted)
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
    uncertain = [t for t in of_scope if t.assertion == "uncertain"]
    partial = (
        f" (it says none of: {', '.join(sorted(covered))}, not of all of {rule.label})"
        if denied_groups
        else ""
    )
    extra = " (a mention is uncertain)" if uncertain else ""
    return Outcome(
        "not_documented",
        f"The documentation does not say whether the member has had {rule.label}{partial}{extra}.",
        context=_flatten([t.evidence for t in uncertain] + denied_groups),
    )


def lines_have_dates(ctx: Context, rule: LinesHaveDates) -> Outcome:
    facts = ctx.facts
    if not facts.lines:
        return Outcome("not_documented", "No lines of therapy found.")
    requests: list[str] = []
    stated = facts.stated_prior_lines
    listed = len(facts.lines)
    beyond = count_beyond_listed(facts)  # a count told beyond the lines described
    outside = unplaced(facts)
    every_line = rule.judges == "every_line"
    if beyond and every_line:
        requests.append(rule.unlisted_lines_request.format(stated=stated, listed=listed))
    # A line the numbering names but OCR could not read is a listed line: its dates are on
    # the page, unread, under either scope.
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
    for name in sorted({t.ingredient for t in outside} if every_line else ()):
        requests.append(rule.unplaced_request.format(drugs=name))
    undated = [line for line in facts.lines if not line.start and not line.start_unreadable]
    # Dated from the member's memory ("2018 (per pt)"): the record's date is asked for.
    recalled = [line for line in facts.lines if line.start and line.start_recalled]
    # Written but not legible to OCR: the documentation lists the date, the reviewer reads it.
    illegible = [line for line in facts.lines if not line.start and line.start_unreadable]
    for line in undated:
        what = "Start and end dates" if not line.end else "Start date"
        requests.append(
            rule.per_line_request.format(
                what=what, ordinal=ordinal(line.number), number=line.number, drugs=line_drugs(line)
            )
        )
    for line in recalled:
        requests.append(
            rule.per_line_request.format(
                what=f"Start date from the records (told from memory, \u201c{line.start_recalled}\u201d)",
                ordinal=ordinal(line.number),
                number=line.number,
                drugs=line_drugs(line),
            )
        )
    groups = tuple(line_evidence(line, facts) for line in facts.lines)
    if requests:
        parts = []
        if undated:
            parts.append(f"{len(undated)} of {listed} listed line(s) have no start date")
        if recalled:
            parts.append(f"the start date of {len(recalled)} line(s) is told from memory, not from a record")
        if beyond and every_line:
            parts.append(f"{stated} prior lines are stated but {listed} listed")
        if unread:
            parts.append(
                "line(s) " + ", ".join(map(str, unread)) + " of the numbered history could not be read"
            )
        if outside and every_line:
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
    untold = []
    if beyond:
        untold.append(f"states {stated} prior lines and describes {listed}")
    if outside:
        drugs = ", ".join(sorted({t.ingredient for t in outside}))
        untold.append(f"names {drugs} as received in no listed line")
    explained = facts.history is not None and facts.history.said_partial
    if untold and explained:
        note += f" The documentation {' and '.join(untold)}; it says its history is partial."
    return Outcome(
        "met",
        f"All {listed} listed line(s) have a start date ({pages_of(_flatten(groups))}).{note}",
        support=groups,
        # Lines the documentation does not describe need no dates, but where it does not
        # say why they are missing, this reading may have lost a line: a human looks.
        review=bool(untold) and not explained,
        review_why=(
            f"But the documentation {' and '.join(untold)}: a reviewer must confirm that no line"
            " of the history went unread."
            if untold and not explained
            else ""
        ),
    )


# --------------------------------------------------------------------------- composites


def any_of(ctx: Context, rule: AnyOf) -> Outcome:
    """Met by the first met rule resting on trusted evidence (else the first met one); not
    met only when every rule is not met; otherwise a gap, with every rule's own requests."""
    outcomes = [evaluate_rule(ctx, r) for r in rule.rules]
    met = [o for o in outcomes if o.status == "met"]
    if met:
        chosen = next(
            (o for o in met if not o.conflict and not o.review and all(ctx.trusted(g) for g in o.support)),
            met[0],
        )
        return Outcome(
            "met",
            f"{sentence(rule.label, stop=False)}: {chosen.reason}",
            support=chosen.support,
            context=chosen.context,
            conflict=chosen.conflict,
            review=chosen.review,
        )
    parts = "; ".join(f"({chr(97 + i)}) {o.reason.rstrip('.')}" for i, o in enumerate(outcomes))
    if all(o.status == "not_met" for o in outcomes):
        return Outcome(
            "not_met",
            f"None of the ways to show {rule.label} holds: {parts}.",
            support=tuple(g for o in outcomes for g in o.support),
            context=flatten([o.context for o in outcomes]),
            conflict=any(o.conflict for o in outcomes),
            review=any(o.review for o in outcomes),
        )
    return Outcome(
        "not_documented",
        f"{sentence(rule.label, stop=False)} is not documented: {parts}.",
        context=flatten([o.context for o in outcomes] + [g for o in outcomes for g in o.support]),
        requests=tuple(r for o in outcomes for r in o.requests),
    )


def all_of(ctx: Context, rule: AllOf) -> Outcome:
    outcomes = [evaluate_rule(ctx, r) for r in rule.rules]
    failed = [o for o in outcomes if o.status == "not_met"]
    if failed:
        return Outcome(
            "not_met",
            f"Not {rule.label}: {' '.join(o.reason for o in failed)}",
            support=tuple(g for o in failed for g in o.support),
            context=flatten([o.context for o in outcomes]),
            conflict=any(o.conflict for o in failed),
            review=any(o.review for o in failed),
        )
    if all(o.status == "met" for o in outcomes):
        return Outcome(
            "met",
            " ".join(o.reason for o in outcomes),
            support=tuple(g for o in outcomes for g in o.support),
            context=flatten([o.context for o in outcomes]),
            conflict=any(o.conflict for o in outcomes),
            review=any(o.review for o in outcomes),
        )
    gaps = [o for o in outcomes if o.status == "not_documented"]
    return Outcome(
        "not_documented",
        " ".join(o.reason for o in outcomes),
        context=flatten([o.context for o in outcomes] + [g for o in outcomes for g in o.support]),
        requests=tuple(r for o in gaps for r in o.requests),
    )


def evaluate_rule(ctx: Context, rule: Rule) -> Outcome:
    """One rule (or composite) against the facts."""
    if isinstance(rule, MinAge):
        return min_age(ctx, rule)
    if isinstance(rule, DiagnosisIs):
        return diagnosis_is(ctx, rule)
    if isinstance(rule, MinPriorLines):
        return min_prior_lines(ctx, rule)
    if isinstance(rule, ClassExposure):
        return class_exposure(ctx, rule)
    if isinstance(rule, NoPriorTherapy):
        return no_prior_therapy(ctx, rule)
    if isinstance(rule, LinesHaveDates):
        return lines_have_dates(ctx, rule)
    if isinstance(rule, LabThreshold):
        return lab_threshold(ctx, rule)
    if isinstance(rule, LabAbnormal):
        return lab_abnormal(ctx, rule)
    if isinstance(rule, ProgressionAfterLastDose):
        return progression_after_last_dose(ctx, rule)
    if isinstance(rule, SiteAbsent):
        return site_absent(ctx, rule)
    if isinstance(rule, PrescriberSpecialty):
        return prescriber_specialty(ctx, rule)
    if isinstance(rule, AnyOf):
        return any_of(ctx, rule)
    return all_of(ctx, rule)


def criterion_request(c: Criterion) -> str:
    """The criterion's plain request, its placeholders filled from its rule's parameters."""
    params = {k: v for k, v in c.rule.model_dump().items() if isinstance(v, str | int | float)}
    return c.missing_request.format(**params)


def apply_rule(ctx: Context, c: Criterion) -> Outcome:
    """The criterion's rule; a gap always carries the criterion's own request, after any
    request specific to it (a line's dates, a lab's collection date)."""
    outcome = evaluate_rule(ctx, c.rule)
    if outcome.status != "not_documented":
        return outcome
    specific = list(outcome.requests)
    # the diagnosis's status request and the lines' per-line requests stand for the criterion
    if specific and isinstance(c.rule, DiagnosisIs | LinesHaveDates):
        return outcome
    return replace(outcome, requests=tuple(dict.fromkeys([*specific, criterion_request(c)])))
