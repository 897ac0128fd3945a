"""Rules over what the documentation states about the member's disease and the request:
a place of disease absent (CNS involvement), the prescriber's specialty."""

from __future__ import annotations

from common.models import PrescriberFact
from common.vocabulary import specialties
from criteria.outcome import Context, Outcome, first_trusted, flatten, pages_of, quote, sentence
from criteria.policy import PrescriberSpecialty, SiteAbsent


def site_absent(ctx: Context, rule: SiteAbsent) -> Outcome:
    """Met on a stated negative ("no CNS involvement", "MRI brain: no leptomeningeal
    disease"); not met on the site's disease found; silence is a gap.  A denied seizure
    alone does not say the site is free: only the rule's ``negative_kinds`` do."""
    findings = [s for s in ctx.facts.sites if s.site == rule.site and s.kind in rule.kinds]
    present = [s for s in findings if s.assertion == "received"]
    absent = [s for s in findings if s.assertion == "negated" and s.kind in rule.negative_kinds]
    if present:
        groups = [s.evidence for s in present]
        names = ", ".join(sorted({s.text for s in present}))
        # "no active CNS disease at present" beside a history of it denies the present only
        conflict = any(not s.current_only for s in absent)
        if conflict:
            note = f" The documentation also says no {rule.label}: a reviewer must resolve this."
        elif absent:
            note = (
                f" The documentation says there is none now, or none known ({quote(absent[0].evidence)}),"
                " which does not deny what the history documents."
            )
        else:
            note = ""
        return Outcome(
            "not_met",
            f"{sentence(rule.label, stop=False)} is documented: {names} ({pages_of(flatten(groups))}).{note}",
            support=(first_trusted(groups, ctx.trusted),),
            context=flatten(groups + [s.evidence for s in absent]),
            conflict=conflict,
        )
    if absent:
        groups = [s.evidence for s in absent]
        best = first_trusted(groups, ctx.trusted)
        return Outcome(
            "met",
            f"The documentation states no {rule.label} ({pages_of(best)}): {quote(best)}.",
            support=(best,),
            context=flatten(groups),
        )
    unsure = [s for s in findings if s.assertion not in ("received", "negated")]
    extra = f" ({len(unsure)} mention(s) that do not say)" if unsure else ""
    return Outcome(
        "not_documented",
        f"The documentation does not say whether there is {rule.label}{extra}.",
        context=flatten([s.evidence for s in unsure]),
    )


_ROLE_ORDER = {"prescriber": 0, "consultant": 1, "letterhead": 2, "referring": 3}
_ROLE_TEXT = {
    "prescriber": "the prescriber",
    "consultant": "a consultant",
    "letterhead": "the practice (letterhead)",
    "referring": "the referring physician",
    "no_consultation": "no consultation",
}


def _name(p: PrescriberFact) -> str:
    return specialties().get(p.specialty, p.specialty)


def prescriber_specialty(ctx: Context, rule: PrescriberSpecialty) -> Outcome:
    """Met when the prescriber, the practice or (if the policy allows) a consultant is of
    one of the specialties; not met only when the prescriber's own specialty is stated, is
    another, no physician of the specialties is named anywhere, and the policy does not
    accept a consultation (where it does, an unnamed consultant is not documented)."""
    facts = ctx.facts.prescribers
    roles = set(_ROLE_ORDER) if rule.consultation else {"prescriber", "letterhead"}
    accepted = sorted(
        (p for p in facts if p.specialty in rule.specialties_any and p.role in roles),
        key=lambda p: _ROLE_ORDER[p.role],
    )
    if accepted:
        best_group = first_trusted([p.evidence for p in accepted], ctx.trusted)
        best = next(p for p in accepted if p.evidence == best_group)
        return Outcome(
            "met",
            f"{_ROLE_TEXT[best.role][:1].upper()}{_ROLE_TEXT[best.role][1:]} is {_name(best)}"
            f" ({pages_of(best.evidence)}): {quote(best.evidence)}.",
            support=(best.evidence,),
            context=flatten([p.evidence for p in accepted]),
        )
    others = [p for p in facts if p.role == "prescriber" and p.specialty not in rule.specialties_any]
    denied = [p for p in facts if p.role == "no_consultation" and p.specialty in rule.specialties_any]
    if others and denied:
        # another specialty prescribes, and the documentation says no specialist was consulted
        groups = [p.evidence for p in others] + [p.evidence for p in denied]
        names = ", ".join(sorted({_name(p) for p in others}))
        return Outcome(
            "not_met",
            f"The prescriber's specialty is {names} ({pages_of(flatten([p.evidence for p in others]))}),"
            f" and the documentation says {rule.label} was not consulted"
            f" ({pages_of(flatten([p.evidence for p in denied]))}): {quote(denied[0].evidence)}.",
            support=(first_trusted([p.evidence for p in others], ctx.trusted), denied[0].evidence),
            context=flatten(groups),
        )
    if others and rule.consultation:
        # the policy accepts a consultation, and silence about one is not its absence
        names = ", ".join(sorted({_name(p) for p in others}))
        return Outcome(
            "not_documented",
            f"The prescriber's specialty is {names} ({pages_of(flatten([p.evidence for p in others]))}); the"
            f" documentation does not say that {rule.label} was consulted.",
            context=flatten([p.evidence for p in others]),
        )
    if others:
        groups = [p.evidence for p in others]
        names = ", ".join(sorted({_name(p) for p in others}))
        return Outcome(
            "not_met",
            f"The prescriber's specialty is {names} ({pages_of(flatten(groups))}), and no {rule.label}"
            " is named as prescriber or consultant.",
            support=(first_trusted(groups, ctx.trusted),),
            context=flatten(groups),
        )
    return Outcome(
        "not_documented",
        f"The documentation does not say that {rule.label} prescribes or was consulted.",
        context=flatten([p.evidence for p in facts]),
    )
