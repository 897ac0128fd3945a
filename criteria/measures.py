"""Rules over measurements and their dates: a lab value at a threshold within a window,
a lab value outside its range, progression within a window after the last dose.

Recency is measured against the date of the request.  A value counts inside a window
only when its date, at the precision written, lies wholly inside; a value whose date
could be either side, has no date, or has no unit is a gap for the provider to close,
never a "met" and never a "not met".  "Not met" needs values inside the window that
all fall short, and nothing else on file that could still meet the rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Literal

from common.models import DatedEvent, LabFact
from common.vocabulary import lab_vocabulary
from criteria.outcome import (
    Context,
    Group,
    Outcome,
    date_span,
    days_between,
    first_trusted,
    flatten,
    number,
    pages_of,
    sentence,
)
from criteria.policy import LabAbnormal, LabThreshold, ProgressionAfterLastDose

Recency = Literal["within", "too_old", "unsure", "undated", "no_reference"]


def _label(analyte: str) -> str:
    row = lab_vocabulary().analyte(analyte)
    return row.label if row else analyte.replace("_", " ")


def recency(lab: LabFact, ctx: Context, within_days: int) -> Recency:
    if lab.collected is None:
        return "undated"
    if ctx.reference is None:
        return "no_reference"
    gap = days_between(lab.collected, ctx.reference.isoformat())
    if gap is None:
        return "undated"
    fewest, most = gap
    # a value drawn after the letter's date is as current as one drawn the same day
    if most <= within_days:
        return "within"
    if fewest > within_days:
        return "too_old"
    return "unsure"


def _last_day(lab: LabFact, within_days: int) -> date | None:
    """The last day of a request this result is recent enough for: its earliest possible
    collection day, plus the window."""
    span = date_span(lab.collected)
    return span[0] + timedelta(days=within_days) if span else None


def _until(lab: LabFact, within_days: int) -> str:
    day = _last_day(lab, within_days)
    return f"; it is recent enough if the request was made by {day.isoformat()}" if day else ""


def describe(lab: LabFact) -> str:
    """ "2.1 g/dL collected 2026-09-10 (page 2)", with any conversion and derivation."""
    value = f"{lab.comparator or ''}{number(lab.value)}"
    text = f"{value} {lab.unit}" if lab.unit else f"{value} (no unit written)"
    if lab.unit and lab.std_unit and lab.unit != lab.std_unit and lab.value_std is not None:
        text += f" (= {number(lab.value_std)} {lab.std_unit})"
    text += f", collected {lab.collected}" if lab.collected else ", no collection date"
    if lab.derived:
        text += f"; {lab.derived}"
    return f"{text} ({pages_of(lab.evidence)})"


def _at_least(lab: LabFact, threshold: float) -> bool | None:
    """Does the value reach the threshold?  None when a comparator leaves it open
    (">50 mg/L" against 100)."""
    if lab.value_std is None:
        return None
    if lab.comparator in ("<", "<="):
        return False if lab.value_std <= threshold else None
    if lab.comparator in (">", ">="):
        return True if lab.value_std >= threshold else None
    return lab.value_std >= threshold


def _gap_reason(label: str, labs: Sequence[LabFact], ctx: Context, within_days: int) -> tuple[str, list[str]]:
    """Why the values on file do not settle the rule, and what to ask for."""
    if not labs:
        return f"No {label} value found.", []
    parts: list[str] = []
    requests: list[str] = []
    for lab in labs:
        state = recency(lab, ctx, within_days)
        if lab.value_std is None and lab.unit is None:
            parts.append(f"{describe(lab)} has no readable unit")
            requests.append(
                f"The unit of the {label} result on {pages_of(lab.evidence)} ({number(lab.value)})"
            )
        elif state == "undated":
            parts.append(f"{describe(lab)} has no collection date")
            requests.append(f"The collection date of the {label} result on {pages_of(lab.evidence)}")
        elif state == "too_old":
            parts.append(f"{describe(lab)} is older than {within_days} days")
        elif state == "unsure":
            parts.append(f"{describe(lab)} may be older than {within_days} days")
            requests.append(f"The exact collection date of the {label} result on {pages_of(lab.evidence)}")
        elif state == "no_reference":
            parts.append(
                f"{describe(lab)}: the documents state no date of the request{_until(lab, within_days)}"
            )
    if ctx.reference is None:
        # A packet's newest document dates it no later than the request, so counting from
        # it could only make a result look more recent than it is: the date the request was
        # made or received is the reviewer's to give, and the report says what it decides.
        latest = [_last_day(lab, within_days) for lab in labs if lab.collected is not None]
        until = (
            f" (results are recent enough if it was made by {max(d for d in latest if d)})"
            if any(latest)
            else ""
        )
        requests.append(f"The date the request was made or received{until}")
    return sentence("; ".join(parts)), requests


def _shown(labs: Sequence[LabFact]) -> Group:
    return flatten([lab.evidence for lab in labs])


def lab_threshold(ctx: Context, rule: LabThreshold) -> Outcome:
    label = _label(rule.analyte)
    labs = [lab for lab in ctx.facts.labs if lab.analyte == rule.analyte]
    window = {id(lab): recency(lab, ctx, rule.within_days) for lab in labs}
    inside = [lab for lab in labs if window[id(lab)] == "within" and lab.value_std is not None]
    reaching = [lab for lab in inside if _at_least(lab, rule.threshold) is True]
    if reaching:
        # a value no reader flagged first: a tenfold misread ("570" for "57.0") must not pass
        reaching.sort(key=lambda lab: lab.needs_review)
        groups = [lab.evidence for lab in reaching]
        best = next(lab for lab in reaching if lab.evidence == first_trusted(groups, ctx.trusted))
        return Outcome(
            "met",
            f"{sentence(label, stop=False)} {describe(best)}: at least {number(rule.at_least)} {rule.unit}"
            f" within {rule.within_days} days of {ctx.reference_words}.",
            support=(best.evidence,),
            context=_shown(labs),
            review=best.needs_review,
        )
    # anything else on file that could still reach it keeps the question open
    open_ = [
        lab
        for lab in labs
        if lab not in inside
        and window[id(lab)] != "too_old"
        and (lab.value_std is None or _at_least(lab, rule.threshold) is not False)
    ]
    short = [lab for lab in inside if _at_least(lab, rule.threshold) is False]
    if short and not open_ and len(short) == len(inside):
        return Outcome(
            "not_met",
            f"{sentence(label, stop=False)} within {rule.within_days} days is under "
            f"{number(rule.at_least)} {rule.unit}: " + "; ".join(describe(lab) for lab in short) + ".",
            support=tuple(lab.evidence for lab in short),
            context=_shown(labs),
            review=any(lab.needs_review for lab in short),
        )
    reason, requests = _gap_reason(label, [lab for lab in labs if lab not in short], ctx, rule.within_days)
    if short:
        reason = (
            f"Under {number(rule.at_least)} {rule.unit}: "
            + "; ".join(describe(lab) for lab in short)
            + ". "
            + reason
        )
    return Outcome("not_documented", reason, context=_shown(labs), requests=tuple(requests))


def _abnormal(lab: LabFact, rule: LabAbnormal) -> bool | None:
    if lab.flag is not None:
        return True
    low, high = lab.reference_low, lab.reference_high
    if low is None or high is None:
        row = lab_vocabulary().analyte(rule.analyte)
        low = rule.reference_low if rule.reference_low is not None else (row.reference_low if row else None)
        high = (
            rule.reference_high if rule.reference_high is not None else (row.reference_high if row else None)
        )
    if low is None or high is None:
        return None
    value = lab.value
    if lab.comparator in ("<", "<="):
        return True if value <= low else None
    if lab.comparator in (">", ">="):
        return True if value >= high else None
    return value < low or value > high


def lab_abnormal(ctx: Context, rule: LabAbnormal) -> Outcome:
    label = _label(rule.analyte)
    labs = [lab for lab in ctx.facts.labs if lab.analyte == rule.analyte]
    window = {id(lab): recency(lab, ctx, rule.within_days) for lab in labs}
    inside = [lab for lab in labs if window[id(lab)] == "within"]
    abnormal = [lab for lab in inside if _abnormal(lab, rule) is True]
    if abnormal:
        abnormal.sort(key=lambda lab: lab.needs_review)
        groups = [lab.evidence for lab in abnormal]
        best = next(lab for lab in abnormal if lab.evidence == first_trusted(groups, ctx.trusted))
        how = f"flagged {best.flag}" if best.flag else "outside its reference range"
        return Outcome(
            "met",
            f"{sentence(label, stop=False)} {describe(best)} is abnormal ({how}).",
            support=(best.evidence,),
            context=_shown(labs),
            review=best.needs_review,
        )
    normal = [lab for lab in inside if _abnormal(lab, rule) is False]
    open_ = [lab for lab in labs if lab not in normal and window[id(lab)] != "too_old"]
    if normal and not open_:
        return Outcome(
            "not_met",
            f"{sentence(label, stop=False)} within {rule.within_days} days is within its reference range: "
            + "; ".join(describe(lab) for lab in normal)
            + ".",
            support=tuple(lab.evidence for lab in normal),
            context=_shown(labs),
            review=any(lab.needs_review for lab in normal),
        )
    reason, requests = _gap_reason(label, [lab for lab in labs if lab not in normal], ctx, rule.within_days)
    return Outcome("not_documented", reason, context=_shown(labs), requests=tuple(requests))


# --------------------------------------------------------------------------- progression


def _latest(events: Sequence[DatedEvent]) -> DatedEvent | None:
    dated = [e for e in events if date_span(e.date) is not None]
    return max(dated, key=lambda e: date_span(e.date) or (0, 0)) if dated else None


# A progression assessed shortly before the last dose is the assessment that stopped the
# regimen: "PD 08/2026" with "last dose 08/12/2026" is the same event, told to the month.
_BEFORE_LAST_DOSE = 31


def _timing(
    e: DatedEvent, last_dose: str | None, on_last: bool, ctx: Context, within: int
) -> tuple[str, str]:
    """("met" | "outside" | "open", why) for one dated progression."""
    if last_dose:
        gap = days_between(last_dose, e.date)
        if gap is not None:
            fewest, most = gap
            if fewest >= -_BEFORE_LAST_DOSE and most <= within:
                when = (
                    "the month of"
                    if fewest < 0 <= most
                    else f"{abs(most)} days before"
                    if most < 0
                    else f"{most} days after"
                    if fewest == most
                    else f"{max(fewest, 0)}-{most} days after"
                )
                return "met", f"progression on {e.date}, {when} the last dose ({last_dose})"
            if fewest > within:
                return (
                    "outside",
                    f"progression on {e.date} is {fewest} days or more after the last dose ({last_dose})",
                )
            if most < -_BEFORE_LAST_DOSE:
                return (
                    "outside",
                    f"progression on {e.date} is long before the last dose ({last_dose}), not after it",
                )
        return (
            "open",
            f"progression on {e.date}: its timing against the last dose ({last_dose}) is not settled",
        )
    if on_last and ctx.reference is not None:
        since = days_between(e.date, ctx.reference.isoformat())
        if since is not None and since[1] <= within:
            return "met", f"progression on the current regimen ({', '.join(e.on_ingredients)}) on {e.date}"
    return "open", f"progression on {e.date}: the date of the last dose is not documented"


def progression_after_last_dose(ctx: Context, rule: ProgressionAfterLastDose) -> Outcome:
    """Progression assessed within the window after the last dose of the last regimen
    (from a month before it: the assessment that stopped the regimen), or, when the last
    dose is not written, progression on the current regimen within the window of the request.

    The last regimen is the latest line of the history; its last dose a dated "last dose"
    statement, else the line's end.  Progression before the last line began belongs to an
    earlier line and does not count.
    """
    facts = ctx.facts
    lines = sorted((line for line in facts.lines if line.start), key=lambda line: line.start or "")
    last = lines[-1] if lines else None
    dose_event = _latest([e for e in facts.events if e.kind == "last_dose"])
    last_dose = dose_event.date if dose_event else (last.end if last else None)
    dose_ev: Group = dose_event.evidence if dose_event else (last.evidence if last else ())
    progressions = [e for e in facts.events if e.kind == "progression" and date_span(e.date)]
    if last is not None and last.start:
        # wholly before the last line began: an earlier line's progression
        progressions = [
            e for e in progressions if (gap := days_between(last.start, e.date)) is not None and gap[1] >= 0
        ]
    if not progressions:
        return Outcome(
            "not_documented",
            f"No dated progression after the start of the last regimen found ({rule.label}).",
            context=dose_ev,
        )
    timed = [
        (
            e,
            *_timing(
                e,
                last_dose,
                last is not None and bool(set(e.on_ingredients) & set(last.ingredients)),
                ctx,
                rule.within_days,
            ),
        )
        for e in progressions
    ]
    met = [(e, why) for e, state, why in timed if state == "met"]
    if met:
        groups = [e.evidence for e, _ in met]
        best = first_trusted(groups, ctx.trusted)
        event, why = next(m for m in met if m[0].evidence == best)
        imwg = " (IMWG criteria)" if event.imwg else ""
        support = (best, dose_ev) if dose_ev and last_dose else (best,)
        return Outcome(
            "met",
            f"{sentence(why, stop=False)}{imwg} ({pages_of(best)}): within {rule.within_days} days.",
            support=support,
            context=flatten(groups),
        )
    outside = [(e, why) for e, state, why in timed if state == "outside"]
    if len(outside) == len(timed):
        groups = [e.evidence for e, _ in outside]
        best = first_trusted(groups, ctx.trusted)
        return Outcome(
            "not_met",
            sentence("; ".join(why for _, why in outside)) + f" The policy asks for {rule.label}.",
            support=(best, dose_ev) if dose_ev else (best,),
            context=flatten(groups),
        )
    requests = [] if last_dose else ["The date of the last dose of the most recent regimen"]
    return Outcome(
        "not_documented",
        sentence("; ".join(why for _, state, why in timed if state == "open")),
        context=flatten([e.evidence for e in progressions]) + dose_ev,
        requests=tuple(requests),
    )
