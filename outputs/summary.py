"""The report as plain text for a terminal: what a reviewer reads first.

Determination, then each criterion with its status, reason and quotes (with
page numbers), then what to ask the provider for, informational findings,
the therapies found, and warnings.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from common.errors import PolicyError
from common.models import CriterionResult, Evidence, LabFact, Report

if TYPE_CHECKING:
    from criteria.policy import Policy

WIDTH = 100
_STATUS = {"met": "MET", "not_met": "NOT MET", "not_documented": "NOT DOCUMENTED"}
_DETERMINATION = {
    "criteria_met": "CRITERIA MET",
    "criteria_not_met": "CRITERIA NOT MET",
    "needs_information": "NEEDS INFORMATION",
}
_LIMITATION = {
    "enforced_by_criterion": "checked",
    "conflict": "CONFLICT",
    "no_conflict_found": "no conflict",
    "not_checked": "note",
}
MAX_QUOTES = 3
_ASSERTION = {
    "received": "received",
    "negated": "stated NOT received",
    "planned": "planned",
    "family": "family history",
    "uncertain": "uncertain",
}


def _labels(policy_id: str | None, policy: Policy | None) -> tuple[dict[str, str], dict[str, str]]:
    """Criterion and finding labels from the policy file; ids if it is not available."""
    from criteria.policy import get_policy

    if policy is None and policy_id is not None:
        try:
            policy = get_policy(policy_id)
        except PolicyError:
            return {}, {}
    if policy is None:
        return {}, {}
    return {c.id: c.label for c in policy.criteria}, {i.id: i.label for i in policy.informational}


def _request(report: Report) -> str:
    r = report.request
    if r is None:
        return "not found in the documentation"
    name = r.brand or r.product or ""
    text = f"{name} ({r.product})" if r.brand and r.product else name
    if r.hcpcs:
        text = f"{text}, HCPCS {r.hcpcs}" if text else f"HCPCS {r.hcpcs}"
    pages = sorted({e.page for e in r.evidence})
    where = f" (page {', '.join(map(str, pages))})" if pages else ""
    also = f"; also named as requested: {', '.join(r.also_named)}" if r.also_named else ""
    return f"{text}{where}{also}"


def _wrap(text: str, indent: int) -> list[str]:
    pad = " " * indent
    return textwrap.wrap(" ".join(text.split()), WIDTH, initial_indent=pad, subsequent_indent=pad) or [pad]


def _quote(e: Evidence, low: float) -> str:
    text = " ".join(e.text.split())
    if len(text) > 90:
        text = text[:89] + "…"
    conf = (
        f" (read with low confidence {e.confidence:.2f})"
        if e.confidence is not None and e.confidence < low
        else ""
    )
    return f'p.{e.page}  "{text}"{conf}'


def _quotes(evidence: Iterable[Evidence], indent: int, low: float = 0.6) -> list[str]:
    evidence = list(evidence)
    lines = [line for e in evidence[:MAX_QUOTES] for line in _wrap(_quote(e, low), indent)]
    if len(evidence) > MAX_QUOTES:
        lines.append(" " * indent + f"(+{len(evidence) - MAX_QUOTES} more)")
    return lines


def _criterion(r: CriterionResult, label: str) -> list[str]:
    status = _STATUS[r.status] + (", REVIEW" if r.needs_review else "")
    out = [f"  [{status}] {label}"]
    out += _wrap(r.reason, 6)
    out += _quotes(r.evidence, 8)
    return out


def _fallback_reason(report: Report, labels: dict[str, str]) -> str:
    """Say why from the criteria themselves when the report carries no reason."""

    def names(ids: list[str]) -> str:
        return "; ".join(labels.get(i, i.replace("_", " ")) for i in ids)

    parts = []
    if failed := [c.id for c in report.criteria if c.status == "not_met" and not c.needs_review]:
        parts.append(f"not met: {names(failed)}")
    if gaps := [c.id for c in report.criteria if c.status == "not_documented"]:
        parts.append(f"not documented: {names(gaps)}")
    if review := [c.id for c in report.criteria if c.needs_review]:
        parts.append(f"a reviewer must confirm: {names(review)}")
    if not parts:
        return "Every criterion is met on located evidence."
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def _lab_line(f: LabFact) -> str:
    from common.vocabulary import lab_vocabulary

    row = lab_vocabulary().analyte(f.analyte)
    name = row.label if row else f.analyte.replace("_", " ")
    value = f"{f.comparator or ''}{f.value:g}"
    text = f"{name} {value} {f.unit}" if f.unit else f"{name} {value}"
    if f.unit and f.std_unit and f.unit != f.std_unit and f.value_std is not None:
        text += f" (= {f.value_std:g} {f.std_unit})"
    text += f", collected {f.collected}" if f.collected else ", no collection date"
    pages = sorted({e.page for e in f.evidence})
    if pages:
        text += f"  p.{','.join(map(str, pages))}"
    flags = [x for x in (f.flag, f.derived, f.note, "review" if f.needs_review else "") if x]
    return text + (f"  [{'; '.join(flags)}]" if flags else "")


def render_summary(
    report: Report,
    *,
    low_confidence: float = 0.6,
    policy: Policy | None = None,
    labs: Sequence[LabFact] = (),
) -> str:
    labels, finding_labels = _labels(report.policy.id if report.policy else None, policy)
    doc = report.document
    out = [
        "Prior-authorization documentation check",
        f"Document: sha256 {doc.sha256[:16]}…  {doc.pages} page(s), {doc.source_type}",
        f"Request:  {_request(report)}",
        *(
            [f"Policy:   {report.policy.title}", f"          [{report.policy.id}]"]
            if report.policy
            else ["Policy:   none on file for the requested product (nothing was evaluated)"]
        ),
        "",
        f"DETERMINATION: {_DETERMINATION[report.determination]}",
    ]
    reason = report.determination_reason or _fallback_reason(report, labels)
    if reason:
        out += _wrap(reason, 2)
    out += _wrap("This is a recommendation for a reviewer; the service never denies a request on its own.", 2)

    out += ["", "Criteria"]
    for r in report.criteria:
        out += _criterion(r, labels.get(r.id, r.id.replace("_", " ")))

    out += ["", "Missing (to request from the provider)"]
    if report.missing:
        for n, request in enumerate(report.missing, start=1):
            out += textwrap.wrap(request, WIDTH, initial_indent=f"  {n}. ", subsequent_indent="     ")
    else:
        out.append("  nothing")

    if report.findings:
        out += ["", "Other findings (not part of the determination)"]
        for f in report.findings:
            mark = "present" if f.present else "absent"
            out.append(f"  [{mark}] {finding_labels.get(f.id, f.id.replace('_', ' '))}")
            out += _wrap(f.reason, 6)
            out += _quotes(f.evidence, 8)

    if report.limitations:
        out += ["", "Limitations of the policy"]
        for lim in report.limitations:
            out += textwrap.wrap(
                f"[{_LIMITATION[lim.status]}] {lim.policy_text}",
                WIDTH,
                initial_indent="  ",
                subsequent_indent="    ",
            )
            out += _wrap(lim.reason, 6)
            out += _quotes(lim.evidence, 8)

    if labs:
        out += ["", f"Laboratory values found ({len(labs)})"]
        for lab in labs:
            out += _wrap(_lab_line(lab), 2)

    out += ["", f"Therapies found ({len(report.therapies)})"]
    for t in report.therapies:
        begun = t.start or (f"? (reads \u201c{t.start_unreadable}\u201d)" if t.start_unreadable else "?")
        when = f"{begun} to {t.end or '?'}" if (t.start or t.end or t.start_unreadable) else "dates not given"
        line = f"line {t.line}" if t.line is not None else "line ?"
        extra = ", clinical trial" if t.clinical_trial else ""
        regimen = f" [{t.regimen}]" if t.regimen else ""
        pages = sorted({e.page for e in t.evidence})
        where = f"  p.{','.join(map(str, pages))}" if pages else ""
        what = f"{t.therapy_class.replace('_', ' ')}; {_ASSERTION.get(t.assertion, t.assertion)}{extra}"
        out.append(f"  {line:<7} {t.ingredient}{regimen} ({what})  {when}{where}")

    if report.warnings:
        out += ["", "Warnings"]
        for w in report.warnings:
            page = f" (page {w.page})" if w.page is not None else ""
            out += _wrap(f"! {w.code}: {w.message}{page}", 2)
    return "\n".join(out) + "\n"
