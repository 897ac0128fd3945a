"""What the reviewer page shows, worked out from the report (the composer's Report model),
the review beside it and the policy file; the templates only lay it out."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from common.errors import IntakeError
from common.models import CriterionStatus, Evidence, LineOfTherapy, Notice, Report, Therapy
from common.review import OUTCOMES, STATUS_LABELS, CaseReview, CriterionReview, ReviewAction
from common.vocabulary import therapy_classes
from intake.review.timeline import Timeline, build_timeline, line_classes
from intake.store.cases import Case, now_utc

STATUSES: tuple[CriterionStatus, ...] = ("met", "not_met", "not_documented")
DETERMINATION_LABELS = {
    "criteria_met": "Criteria met",
    "criteria_not_met": "Criteria not met",
    "needs_information": "Needs information",
}
CASE_STATUS_LABELS = {"queued": "Queued", "processing": "Processing", "done": "Ready", "failed": "Failed"}
# Why a page was set aside or flagged, in the reviewer's words, by the notice's code.
PAGE_NOTES = {
    "other_patient_page": "set aside: another patient's page (no facts read from it)",
    "blank_page": "blank",
    "low_confidence_page": "poorly read (low OCR confidence)",
    "page_rotated": "turned to read it",
    "text_layer_ignored": "text layer ignored, read by OCR",
    "text_layer_unreadable": "text layer unreadable",
    "no_text": "no text found",
}


@dataclass(frozen=True)
class Quote:
    page: int
    text: str
    box: str | None  # "x0,y0,x1,y1", 0..1 of the page as received
    confidence: float | None
    low: bool  # read with low OCR confidence: shown as such
    set_aside: bool = False

    @property
    def percent(self) -> int | None:
        return None if self.confidence is None else round(self.confidence * 100)


def quote(e: Evidence, low_confidence: float, set_aside: frozenset[int] = frozenset()) -> Quote:
    b = e.bbox
    box = None if b is None else f"{b.x0:.5f},{b.y0:.5f},{b.x1:.5f},{b.y1:.5f}"
    low = e.confidence is not None and e.confidence < low_confidence
    return Quote(e.page, " ".join(e.text.split()), box, e.confidence, low, e.page in set_aside)


@dataclass(frozen=True)
class CriterionRow:
    id: str
    label: str
    policy_text: str
    status: CriterionStatus  # as extracted
    reason: str
    needs_review: bool
    quotes: tuple[Quote, ...]
    review: CriterionReview | None
    history: tuple[ReviewAction, ...]

    @property
    def reviewed_status(self) -> CriterionStatus:
        return self.review.status if self.review else self.status

    @property
    def overridden(self) -> bool:
        return self.review is not None and self.review.action == "override"

    @property
    def any_low(self) -> bool:
        return any(q.low for q in self.quotes)


@dataclass(frozen=True)
class PageRow:
    number: int
    notes: tuple[str, ...]
    set_aside: bool
    blank: bool
    quotes: int  # how many quotes of the checklist stand on it


@dataclass(frozen=True)
class LineRow:
    line: LineOfTherapy
    classes: tuple[str, ...]
    therapies: tuple[Therapy, ...]
    quotes: tuple[Quote, ...]


@dataclass(frozen=True)
class Mention:
    therapy: Therapy
    quotes: tuple[Quote, ...]


@dataclass(frozen=True)
class CaseView:
    case: Case
    report: Report
    criteria: tuple[CriterionRow, ...]
    counts: dict[str, int]  # as extracted
    reviewed_counts: dict[str, int]  # as reviewed
    unreviewed: int
    pages: tuple[PageRow, ...]
    notices: tuple[Notice, ...]  # the warnings that name no page
    lines: tuple[LineRow, ...]
    mentions: tuple[Mention, ...]  # therapies named but not received
    timeline: Timeline | None
    request_items: tuple[str, ...]
    request_text: str
    review: CaseReview
    request_quotes: tuple[Quote, ...]

    @property
    def outcome_label(self) -> str | None:
        o = self.review.outcome
        return OUTCOMES[o.outcome] if o else None

    @property
    def request_rows(self) -> int:
        return self.request_text.count("\n") + 2

    @property
    def can_approve(self) -> bool:
        return (
            self.report.policy is not None
            and self.unreviewed == 0
            and all(c.reviewed_status == "met" for c in self.criteria)
        )


def _labels(report: Report, policy_dirs: tuple[Path, ...]) -> dict[str, tuple[str, str, str]]:
    """Criterion id -> (label, policy sentence, the plain request), from the policy file."""
    if report.policy is None:
        return {}
    from criteria.policy import get_policy
    from criteria.rules import criterion_request

    try:
        policy = get_policy(report.policy.id, policy_dirs)
    except IntakeError:
        return {}  # the file is gone: ids stand in for labels
    return {c.id: (c.label, c.policy_text, criterion_request(c)) for c in policy.criteria}


def build_case_view(
    case: Case,
    report: Report,
    review: CaseReview,
    *,
    low_confidence: float,
    policy_dirs: tuple[Path, ...] = (),
) -> CaseView:
    aside = frozenset(report.pages_set_aside)
    labels = _labels(report, policy_dirs)
    rows = tuple(
        CriterionRow(
            id=c.id,
            label=labels.get(c.id, (c.id, "", ""))[0],
            policy_text=labels.get(c.id, (c.id, "", ""))[1],
            status=c.status,
            reason=c.reason,
            needs_review=c.needs_review,
            quotes=tuple(quote(e, low_confidence, aside) for e in c.evidence),
            review=review.of_criterion(c.id),
            history=tuple(a for a in review.history if a.criterion == c.id),
        )
        for c in report.criteria
    )
    counts = Counter(r.status for r in rows)
    reviewed = Counter(r.reviewed_status for r in rows)
    items = _request_items(report, rows, labels)
    return CaseView(
        case=case,
        report=report,
        criteria=rows,
        counts={s: counts.get(s, 0) for s in STATUSES},
        reviewed_counts={s: reviewed.get(s, 0) for s in STATUSES},
        unreviewed=sum(1 for r in rows if r.review is None),
        pages=_pages(report, rows),
        notices=tuple(n for n in report.warnings if n.page is None),
        lines=_lines(report, low_confidence, aside),
        mentions=tuple(
            Mention(t, tuple(quote(e, low_confidence, aside) for e in t.evidence))
            for t in report.therapies
            if t.assertion != "received"
        ),
        timeline=build_timeline(report, until=case.received_at.date()),
        request_items=items,
        request_text=request_letter(case, report, items),
        review=review,
        request_quotes=tuple(
            quote(e, low_confidence, aside) for e in (report.request.evidence if report.request else ())
        ),
    )


def _pages(report: Report, rows: tuple[CriterionRow, ...]) -> tuple[PageRow, ...]:
    notes: dict[int, list[str]] = {}
    codes: dict[int, set[str]] = {}
    for n in report.warnings:
        if n.page is None:
            continue
        codes.setdefault(n.page, set()).add(n.code)
        text = PAGE_NOTES.get(n.code)
        if text and text not in notes.setdefault(n.page, []):
            notes[n.page].append(text)
    aside_note = PAGE_NOTES["other_patient_page"]
    for p in report.pages_set_aside:
        if aside_note not in notes.setdefault(p, []):
            notes[p].insert(0, aside_note)
    on_page = Counter(q.page for r in rows for q in r.quotes)
    return tuple(
        PageRow(
            number=p,
            notes=tuple(notes.get(p, [])),
            set_aside=p in report.pages_set_aside,
            blank="blank_page" in codes.get(p, set()),
            quotes=on_page.get(p, 0),
        )
        for p in range(1, report.document.pages + 1)
    )


def _lines(report: Report, low: float, aside: frozenset[int]) -> tuple[LineRow, ...]:
    labels = therapy_classes()
    return tuple(
        LineRow(
            line=line,
            classes=tuple(labels.get(c, c) for c in line_classes(report, line)),
            therapies=tuple(
                t for t in report.therapies if t.line == line.number and t.assertion == "received"
            ),
            quotes=tuple(quote(e, low, aside) for e in line.evidence),
        )
        for line in report.lines
    )


def _request_items(
    report: Report, rows: tuple[CriterionRow, ...], labels: dict[str, tuple[str, str, str]]
) -> tuple[str, ...]:
    """The report's list of what is missing, and the policy's request for each criterion a
    reviewer found not documented where the report did not."""
    items = list(report.missing)
    for r in rows:
        if r.reviewed_status == "not_documented" and r.status != "not_documented":
            ask = labels.get(r.id, ("", "", ""))[2]
            if ask and ask not in items:
                items.append(ask)
    return tuple(items)


def request_letter(case: Case, report: Report, items: tuple[str, ...]) -> str:
    """The missing documentation as a request to the provider, ready to send."""
    if not items:
        return ""
    req = report.request
    product = ""
    if req is not None and (req.brand or req.product):
        product = (
            f"{req.brand} ({req.product})" if req.brand and req.product else str(req.brand or req.product)
        )
        if req.hcpcs:
            product += f", HCPCS {req.hcpcs}"
    about = f" for {product}" if product else ""
    under = f" under {report.policy.title}" if report.policy else ""
    lines = [
        f"Re: prior authorization request{about}",
        f"Our reference: {case.id}",
        f"Received: {fmt_time(case.received_at)} ({report.document.pages} page(s))",
        "",
        f"To complete our review of this request{under}, please send:",
        "",
        *(f"{n}. {item}" for n, item in enumerate(items, start=1)),
        "",
        f"Our decision is due by {fmt_time(case.due_at)}. Please send these as soon as you can, "
        "quoting our reference, so the request can be decided on complete information.",
    ]
    return "\n".join(lines)


# ------------------------------------------------------------------ formatting


def fmt_time(at: datetime | None) -> str:
    return "" if at is None else at.strftime("%Y-%m-%d %H:%M UTC")


def due_in(due: datetime, now: datetime | None = None) -> tuple[bool, str]:
    """(overdue, "due in 2 d 3 h" / "overdue by 5 h")."""
    delta = due - (now or now_utc())
    seconds = abs(delta.total_seconds())
    days, hours = int(seconds // 86400), int(seconds % 86400 // 3600)
    minutes = int(seconds % 3600 // 60)
    span = f"{days} d {hours} h" if days else f"{hours} h {minutes} min" if hours else f"{minutes} min"
    return (
        delta.total_seconds() < 0,
        f"overdue by {span}" if delta.total_seconds() < 0 else f"due in {span}",
    )


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)  # type: ignore[call-overload]
