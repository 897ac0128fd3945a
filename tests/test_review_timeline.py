"""The lines-of-therapy timeline: partial dates read as the span they can mean, a line
with no stated end drawn as a mark with a dashed tail (never as if it went on), one
colour per class in a chart, undated lines listed rather than drawn."""

from __future__ import annotations

from datetime import date

import pytest

from common.models import DocumentInfo, LineOfTherapy, Report, Therapy
from intake.review.timeline import PALETTE, build_timeline, first_day, last_day


@pytest.mark.parametrize(
    ("value", "first", "last"),
    [
        ("2019", date(2019, 1, 1), date(2019, 12, 31)),
        ("2020-02", date(2020, 2, 1), date(2020, 2, 29)),
        ("2021-03-15", date(2021, 3, 15), date(2021, 3, 15)),
        (None, None, None),
        ("10/2081", None, None),  # unreadable as written: not a date
        ("2019-13", None, None),
    ],
)
def test_partial_dates(value: str | None, first: date | None, last: date | None) -> None:
    assert first_day(value) == first and last_day(value) == last


def _report(lines: list[LineOfTherapy], therapies: list[Therapy]) -> Report:
    return Report(
        document=DocumentInfo(sha256="0" * 64, pages=1, source_type="text"),
        policy=None,
        determination="needs_information",
        criteria=(),
        therapies=tuple(therapies),
        lines=tuple(lines),
        missing=(),
    )


def _therapy(ingredient: str, cls: str, line: int, assertion: str = "received") -> Therapy:
    return Therapy(ingredient=ingredient, therapy_class=cls, line=line, assertion=assertion)  # type: ignore[arg-type]


def test_each_dated_line_is_a_bar_striped_by_its_classes() -> None:
    report = _report(
        [
            LineOfTherapy(
                number=1, start="2019-03", end="2020-02", ingredients=("bortezomib", "lenalidomide")
            ),
            LineOfTherapy(number=2, start="2021", end="2022-06", ingredients=("daratumumab",)),
        ],
        [
            _therapy("bortezomib", "proteasome_inhibitor", 1),
            _therapy("lenalidomide", "immunomodulatory_agent", 1),
            _therapy("daratumumab", "anti_cd38_antibody", 2),
            _therapy("idecabtagene vicleucel", "car_t", 2, assertion="requested"),  # not received: not drawn
        ],
    )
    t = build_timeline(report, until=date(2026, 1, 1))
    assert t is not None
    first, second = t.bars
    assert len(first.stripes) == 2 and len(second.stripes) == 1
    colours = [s.color for b in t.bars for s in b.stripes]
    assert len(set(colours)) == 3 and set(colours) <= set(PALETTE)  # one colour per class
    assert {label for label, _ in t.legend} == {
        "immunomodulatory agent (IMiD)",
        "proteasome inhibitor",
        "anti-CD38 monoclonal antibody",
    }
    assert first.x < first.x + first.w <= second.x  # in time order, not overlapping
    assert t.ticks[0].label == "2019"
    assert first.tail_to is None


def test_a_line_with_no_stated_end_is_a_mark_with_a_dashed_tail_to_the_next_line() -> None:
    report = _report(
        [
            LineOfTherapy(number=1, start="2021-09", ingredients=("car-t cell therapy",)),
            LineOfTherapy(number=2, start="2022-04", end="2024-01", ingredients=("pomalidomide",)),
        ],
        [_therapy("car-t cell therapy", "car_t", 1), _therapy("pomalidomide", "immunomodulatory_agent", 2)],
    )
    t = build_timeline(report, until=date(2026, 1, 1))
    assert t is not None
    mark, after = t.bars
    assert mark.tail_to == pytest.approx(after.x)
    assert mark.w < after.w / 10  # a mark (a month), not a span
    assert "end not stated" in mark.label


def test_undated_lines_are_listed_not_drawn_and_no_lines_no_chart() -> None:
    report = _report([LineOfTherapy(number=1, ingredients=("melphalan",))], [])
    t = build_timeline(report, until=date(2026, 1, 1))
    assert t is not None and t.bars == () and t.undated == (1,)
    assert build_timeline(_report([], []), until=date(2026, 1, 1)) is None


def test_a_line_for_another_disease_is_drawn_apart() -> None:
    report = _report(
        [LineOfTherapy(number=1, start="2015", end="2015", ingredients=("rituximab",), other_disease=True)],
        [_therapy("rituximab", "other", 1)],
    )
    t = build_timeline(report, until=date(2026, 1, 1))
    assert t is not None
    assert t.bars[0].other_disease and t.bars[0].stripes[0].label == "another disease"
    assert t.legend[-1][0].startswith("another disease")
