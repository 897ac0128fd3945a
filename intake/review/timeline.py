"""The lines of therapy as a timeline: one bar per line over the years, each bar split
into stripes by drug class, drawn as SVG by the page's template from these numbers.

Colours go to classes in the lexicon's order among the classes this case holds, so
one chart never gives two classes one colour (up to the palette's size); every
colour has at least 3:1 contrast on white (WCAG 2.1, non-text contrast), and the
legend and the list beside the chart name every class, so colour is never the only
way to tell them apart.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date

from common.models import LineOfTherapy, Report
from common.vocabulary import therapy_classes

# Dark enough on white for 3:1 (checked by tests/test_review_page.py), distinct in hue.
PALETTE = (
    "#1f4e9c",  # blue
    "#b5361c",  # vermilion
    "#1e7b3c",  # green
    "#8e3a8e",  # purple
    "#a65400",  # dark orange
    "#0e7c86",  # teal
    "#6d5a00",  # olive
    "#c2185b",  # magenta
    "#4a4a4a",  # grey
    "#5b3fb3",  # violet
    "#8b4513",  # brown
    "#2e6f9e",  # steel blue
)
OTHER_DISEASE = "#767676"

# Geometry, in the SVG's own units (drawn at least this wide; the box scrolls on a phone).
WIDTH, LEFT, RIGHT, TOP = 760.0, 84.0, 16.0, 8.0
ROW, BAR, AXIS = 34.0, 22.0, 28.0


@dataclass(frozen=True)
class Stripe:
    y: float
    h: float
    color: str
    label: str


@dataclass(frozen=True)
class Bar:
    line: int
    y: float  # top of the row
    x: float
    w: float
    stripes: tuple[Stripe, ...]
    label: str  # what a screen reader hears, and the bar's tooltip
    tail_to: float | None = None  # the end is not stated: a dashed tail to here
    other_disease: bool = False

    @property
    def bar_y(self) -> float:
        return self.y + (ROW - BAR) / 2

    @property
    def mid_y(self) -> float:
        return self.y + ROW / 2


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class Timeline:
    width: float
    height: float
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    legend: tuple[tuple[str, str], ...]  # (label, colour)
    undated: tuple[int, ...] = ()  # lines with no start date: listed, not drawn
    axis_y: float = 0.0
    left: float = LEFT
    right_edge: float = WIDTH - RIGHT
    rows: tuple[tuple[int, float], ...] = field(default=())  # (line, y) for the row labels


def first_day(value: str | None) -> date | None:
    parts = (value or "").strip().split("-")
    try:
        if len(parts) == 1 and parts[0]:
            return date(int(parts[0]), 1, 1)
        if len(parts) == 2:
            return date(int(parts[0]), int(parts[1]), 1)
        if len(parts) == 3:
            return date(int(parts[0]), int(parts[1]), int(parts[2]))
    except ValueError:
        return None
    return None


def last_day(value: str | None) -> date | None:
    """The last day a partial date can mean: "2020" is through December, "2020-02" through the 29th."""
    start = first_day(value)
    if start is None or value is None:
        return None
    parts = value.strip().split("-")
    if len(parts) == 1:
        return date(start.year, 12, 31)
    if len(parts) == 2:
        return date(start.year, start.month, calendar.monthrange(start.year, start.month)[1])
    return start


def line_classes(report: Report, line: LineOfTherapy) -> list[str]:
    """The class ids of the drugs received in this line, in the lexicon's order."""
    order = list(therapy_classes())
    found = {t.therapy_class for t in report.therapies if t.line == line.number and t.assertion == "received"}
    return sorted(found, key=lambda c: order.index(c) if c in order else len(order))


def _years(d: date) -> float:
    return d.year + (d.timetuple().tm_yday - 1) / 365.25


def build_timeline(report: Report, until: date) -> Timeline | None:
    lines = list(report.lines)
    if not lines:
        return None
    labels = therapy_classes()
    spans: dict[int, tuple[date, date | None]] = {}
    for line in lines:
        start = first_day(line.start)
        if start is not None:
            spans[line.number] = (start, last_day(line.end))
    undated = tuple(line.number for line in lines if line.number not in spans)
    if not spans:
        return Timeline(WIDTH, TOP + AXIS, (), (), (), undated, axis_y=TOP)
    present: list[str] = []
    for line in lines:
        for c in line_classes(report, line):
            if c not in present:
                present.append(c)
    order = list(labels)
    present.sort(key=lambda c: order.index(c) if c in order else len(order))
    colors = {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(present)}

    lo = min(s for s, _ in spans.values()).year
    latest = max(max(s, e or s) for s, e in spans.values())
    hi = max(latest, min(until, date(latest.year + 1, 12, 31))).year + 1
    span = max(1, hi - lo)
    inner = WIDTH - LEFT - RIGHT

    def x(d: date) -> float:
        return LEFT + (_years(d) - lo) / span * inner

    drawn = [line for line in lines if line.number in spans]
    starts = sorted(s for s, _ in spans.values())
    bars: list[Bar] = []
    rows: list[tuple[int, float]] = []
    min_w = inner / span / 12  # a month: a transplant or an infusion is a mark, not nothing
    for row, line in enumerate(drawn):
        y = TOP + row * ROW
        start, end = spans[line.number]
        x0 = x(start)
        x1 = x(end) if end is not None else x0
        w = max(min_w, x1 - x0)
        tail = None
        if end is None:
            later = [s for s in starts if s > start]
            tail = x(later[0]) if later else x(min(until, date(hi, 1, 1)))
            tail = tail if tail > x0 + w else None
        classes = line_classes(report, line)
        stripe_h = BAR / max(1, len(classes))
        top = y + (ROW - BAR) / 2
        if line.other_disease or not classes:
            color, name = (
                (OTHER_DISEASE, "another disease")
                if line.other_disease
                else (OTHER_DISEASE, "class not known")
            )
            stripes: tuple[Stripe, ...] = (Stripe(top, BAR, color, name),)
        else:
            stripes = tuple(
                Stripe(top + i * stripe_h, stripe_h, colors[c], labels.get(c, c))
                for i, c in enumerate(classes)
            )
        when = f"{line.start or '?'} to {line.end or 'end not stated'}"
        drugs = ", ".join(line.regimens or line.ingredients) or "drugs not named"
        label = f"Line {line.number}: {drugs}, {when}; classes: {', '.join(s.label for s in stripes)}"
        bars.append(Bar(line.number, y, x0, w, stripes, label, tail, line.other_disease))
        rows.append((line.number, y))
    axis_y = TOP + len(drawn) * ROW
    step = 1 if span <= 12 else 2 if span <= 24 else 5
    ticks = tuple(Tick(x(date(year, 1, 1)), str(year)) for year in range(lo, hi + 1, step))
    legend = tuple((labels.get(c, c), colors[c]) for c in present)
    if any(line.other_disease for line in drawn):
        legend += (("another disease (not a prior line)", OTHER_DISEASE),)
    return Timeline(
        width=WIDTH,
        height=axis_y + AXIS,
        bars=tuple(bars),
        ticks=ticks,
        legend=legend,
        undated=undated,
        axis_y=axis_y,
        rows=tuple(rows),
    )
