"""Dates as the text gives them: full, month/year or year only, single or ranges.

Precision is kept: "2019" stays "2019", "03/2019" becomes "2019-03" and
"3/15/2019" becomes "2019-03-15".  Nothing is invented: a missing end stays None,
"present"/"ongoing" ends are flagged open.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cache

from extractors import cues

MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_MON = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_YEAR = r"(?:19[5-9]\d|20[0-4]\d)"
# A date of birth may lie before 1950 (a member of 77 on Medicare); a therapy's date may not,
# so that a number such as "1946" in a dose table is no year of treatment.
_BIRTH_YEAR = r"(?:19\d\d|20[0-4]\d)"


def _full_dates(year: str) -> list[re.Pattern[str]]:
    """The patterns of a full date (day, month and year), for years matching ``year``."""
    return [
        re.compile(rf"(?<![\d/.-])(?P<y>{year})-(?P<m>0?[1-9]|1[0-2])-(?P<d>0?[1-9]|[12]\d|3[01])(?![\d])"),
        re.compile(
            rf"(?<![\d/.])(?P<m>0?[1-9]|1[0-2])[/.-](?P<d>0?[1-9]|[12]\d|3[01])[/.-](?P<y>{year}|\d{{2}})(?![\d/])"
        ),
        re.compile(
            rf"(?i)\b(?P<mon>{_MON})(?:\s+|-)(?P<d>[12]\d|3[01]|0?[1-9])(?:st|nd|rd|th)?,?(?:\s+|-)(?P<y>{year})\b"
        ),
        # "15 Mar 2019", and the EHR's "15-Mar-2019" / "15-Mar-19"
        re.compile(rf"(?i)\b(?P<d>[12]\d|3[01]|0?[1-9])\s+(?P<mon>{_MON})\s+(?P<y>{year})\b"),
        re.compile(rf"(?i)\b(?P<d>[12]\d|3[01]|0?[1-9])-(?P<mon>{_MON})-(?P<y>{year}|\d{{2}})\b"),
    ]


_BIRTH = _full_dates(_BIRTH_YEAR)

# Single dates, most specific first; named groups give the parts.
_SINGLE = [
    *_full_dates(_YEAR),
    re.compile(rf"(?<![\d/.-])(?P<y>{_YEAR})-(?P<m>0[1-9]|1[0-2])(?![\d-])"),
    re.compile(rf"(?<![\d/.])(?P<m>0?[1-9]|1[0-2])[/.-](?P<y>{_YEAR})(?![\d/])"),
    re.compile(r"(?<![\d/.-])(?P<m>0?[1-9]|1[0-2])/(?P<y>\d{2})(?![\w/])"),
    re.compile(rf"(?i)\b(?P<mon>{_MON})(?:,?\s+|-)(?P<y>{_YEAR})\b"),
    re.compile(rf"(?i)\b(?P<mon>{_MON})\s*'(?P<y>\d{{2}})\b"),
    # "Mar-19", "Oct-21": month and two-digit year, as spreadsheets and EHR tables write them
    re.compile(rf"(?i)\b(?P<mon>{_MON})-(?P<y>\d{{2}})(?![\d/-])"),
    # "2019 Jan" (year first, as some EHR exports sort them); after "Jan 2019" so that
    # "Sept 2020 Jan 2021" stays two month-first dates.  "2019 may ..." is a verb.
    re.compile(rf"(?<![\d/.$-])(?P<y>{_YEAR})(?:\s+|-)(?P<mon>(?=[A-Z])(?i:{_MON}))(?![\w-])"),
    # a year alone, but not inside an identifier ("Protocol GLTC-2022-07", "MRN A2019")
    re.compile(rf"(?<![\d/.$])(?<![A-Z]-)(?<![A-Za-z])(?P<y>{_YEAR})(?![\d])(?!-\d{1, 2}(?!\d))"),
]


# "Mar-Oct 2018": two month names sharing a year.
@cache
def _month_pair() -> re.Pattern[str]:
    return re.compile(
        rf"(?i)\b(?P<m1>{_MON})\s*(?:-|–|{cues.fragment('range_to')})\s*(?P<m2>{_MON}),?\s+(?P<y>{_YEAR})\b"
    )


@cache
def _range_join() -> re.Pattern[str]:
    # "~", "=": a dash as fax OCR reads it; an arrow between two dates alone is a range;
    # "01/2019 - PD 03/2020": the end named by the event (cues.json "relapse")
    return re.compile(
        rf"(?i)^\s*(?:(?:-{{1,2}}|[~=]|–|—|{cues.fragment('range_to')}|\||\t|->|→)\s*"
        rf"(?:{cues.fragment('relapse')}\s*(?:in|on|,)?\s*)?(?:\|\s*)?"
        rf"|{cues.fragment('until')}\s+(?:[\w-]+[\s,]+){{0,3}}?(?:in|on)?\s*)?$"
    )


# "started 1/15/2019, stopped 8/2/2019": a start, then its end named by a stop word.
@cache
def _stop_join() -> re.Pattern[str]:
    return re.compile(
        rf"(?i)^\s*,?\s*(?:and\s+)?(?:was\s+)?{cues.fragment('stop_word')}"
        r"\s*(?:on|in)?\s*:?\s*$"
    )


# "7/21-2/22": month/two-digit-year on both sides of a bare hyphen.  A single month on
# both sides ("Flu/Cy 3/11-3/13") is a run of days, not years.
_SHORT_RANGE = re.compile(
    r"(?<![\d/.-])(?P<m1>0?[1-9]|1[0-2])/(?P<y1>\d{2})-(?P<m2>0?[1-9]|1[0-2])/(?P<y2>\d{2})(?![\w/])"
)
# "3/11-3/13/2024": a run of days sharing the year written once (lymphodepletion, a
# hospital stay); the first side is not March 2011.
_DAY_RANGE = re.compile(
    # any dash, spaced or not: "hospitalized (10/12–10/17/2026)", "10/12 - 10/17/2026"
    rf"(?<![\d/.-])(?P<m1>0?[1-9]|1[0-2])/(?P<d1>0?[1-9]|[12]\d|3[01])\s?[-–—]\s?"
    rf"(?P<m2>0?[1-9]|1[0-2])/(?P<d2>0?[1-9]|[12]\d|3[01])/(?P<y>{_YEAR})(?![\d/])"
)


@cache
def _open_end() -> re.Pattern[str]:
    return re.compile(
        rf"(?i)^\s*(?:-|–|—|{cues.fragment('range_to')}|{cues.fragment('until')})?\s*{cues.fragment('open_end')}\b"
    )


@cache
def _start_cue() -> re.Pattern[str]:
    return re.compile(rf"(?i)\b{cues.fragment('start_word')}\s*:?\s*$")


@cache
def _end_cue() -> re.Pattern[str]:
    ends = f"{cues.fragment('until')}|{cues.fragment('range_to')}|{cues.fragment('end_word')}"
    return re.compile(
        rf"(?i)(?:\b(?:{ends})\b"
        r"(?:\s+[a-z-]+){0,3}?\s*:?\s*(?:in|on)?\s*|"
        rf"\b{cues.fragment('stop_word')}\b[^0-9/]{{0,25}})$"
    )


@dataclass(frozen=True)
class DateMention:
    start: int  # character offsets in the searched string
    end: int
    begin: str | None
    finish: str | None
    open_ended: bool = False
    # One side of a range is written but could not be read ("10/2081 - 04/2026": a fax's
    # damaged 2021): its text and offsets.  That side stays None; the other is not moved.
    garbled: str | None = None
    garbled_span: tuple[int, int] | None = None


# A month/year the eye sees but OCR damaged: a year out of range ("10/2081") or with a
# letter in it ("01/20a1").  Only recognised as one side of a range.
_GARBLED = r"(?<![\w/.])(?:0?[1-9]|1[0-2])/[12]\d[\dA-Za-z]{2}(?![\w/])"


def _sep() -> str:
    return rf"\s*(?:-{{1,2}}|[~=]|–|—|{cues.fragment('range_to')})\s*"


@cache
def _garbled_before() -> re.Pattern[str]:
    return re.compile(rf"(?i)({_GARBLED}){_sep()}$")


@cache
def _garbled_after() -> re.Pattern[str]:
    return re.compile(rf"(?i)^{_sep()}({_GARBLED})")


def _two_digit_year(value: str, today: date, *, month_year: bool = False) -> int:
    """The century of a two-digit year.  In a month/year ("3/19") only a year of this
    century up to next year, or of the 1990s, is a year: "07/30" and "08/27" in an
    administration record are July 30th and August 27th, not 1930 or 2027.  A full
    date ("3/4/61", a date of birth) may lie in the last century."""
    year = int(value)
    if len(value) == 4:
        return year
    if 2000 + year <= today.year + 1:
        return 2000 + year
    if month_year and year < 90:
        return -1  # not a year: the caller rejects it
    return 1900 + year


def _format(match: re.Match[str], today: date) -> str | None:
    parts = match.groupdict()
    year = _two_digit_year(parts["y"], today, month_year=not parts.get("d"))
    if year < 0:
        return None
    month = MONTHS.get(parts["mon"].lower().rstrip(".")[:4].rstrip("t") if parts.get("mon") else "", 0)
    if parts.get("mon"):
        month = MONTHS.get(parts["mon"].lower().rstrip(".")[:3], 0)
    elif parts.get("m"):
        month = int(parts["m"])
    if year > today.year + 1:
        return None
    if not month:
        return f"{year:04d}"
    if parts.get("d"):
        day = int(parts["d"])
        try:
            date(year, month, day)
        except ValueError:
            return None
        return f"{year:04d}-{month:02d}-{day:02d}"
    return f"{year:04d}-{month:02d}"


def find_birth_dates(text: str, today: date | None = None) -> list[tuple[int, int, str]]:
    """Full dates as a date of birth is written, the 1900s included."""
    return find_single_dates(text, today, patterns=_BIRTH)


def find_single_dates(
    text: str, today: date | None = None, *, patterns: list[re.Pattern[str]] | None = None
) -> list[tuple[int, int, str]]:
    today = today or date.today()
    taken: list[tuple[int, int]] = []
    found: list[tuple[int, int, str]] = []
    for pattern in patterns or _SINGLE:
        for match in pattern.finditer(text):
            if any(match.start() < e and match.end() > s for s, e in taken):
                continue
            if _not_a_date(text, match):
                continue
            value = _format(match, today)
            if value is None:
                continue
            taken.append((match.start(), match.end()))
            found.append((match.start(), match.end(), value))
    return sorted(found)


def _not_a_date(text: str, match: re.Match[str]) -> bool:
    before = text[max(0, match.start() - 6) : match.start()]
    after = text[match.end() : match.end() + 6]
    # "x6", cycle counts, doses ("200 mg/m2"), lab values and ratios are not dates.
    if re.search(r"(?i)(?:\bx|\bc|\bd|\bcycles?\s|#)$", before) and len(match.group(0)) <= 5:
        return True
    if re.match(r"\s*(?:mg|mcg|g/|ml|%|x10|cells|units|mm|cm)", after, re.I):
        return True
    short = match.group(0).count("/") == 1 and len(match.group(0)) <= 5
    if short and _CLOCK_AFTER.match(text, match.end()):
        return True  # "06/11 10:02": a month and day with the time of a dose, not June 2011
    # "5/10" is a pain or ECOG-style score far more often than May 2010; "2 3/4" is a number.
    return bool(short and (match.group(0).endswith("/10") or re.search(r"\d\s*$", before)))


_CLOCK_AFTER = re.compile(r"\s+(?:[01]?\d|2[0-3]):[0-5]\d\b")


# Fax OCR damage inside dates: "$/2021" for 5/2021, "O1/2O19", "l2/2019".  Same-length
# replacements, so offsets still point into the original text.
_OCR_DIGIT = [
    (re.compile(r"[$§S](?=/\d)"), "5"),
    (re.compile(r"(?<=\d)[Oo](?=[\d/])|(?<=/)[Oo](?=\d)|(?<=\d)[Oo]$"), "0"),
    (re.compile(r"(?<![A-Za-z])[lI|](?=\d{0,1}/\d)|(?<=/)[lI|](?=\d)"), "1"),
]


def _repair_ocr_digits(text: str) -> str:
    for pattern, digit in _OCR_DIGIT:
        text = pattern.sub(digit, text)
    return text


def find_dates(text: str, today: date | None = None) -> list[DateMention]:
    """Date mentions in a line of text, with ranges joined into one mention."""
    today = today or date.today()
    text = _repair_ocr_digits(text)
    mentions: list[DateMention] = []
    pair_spans: list[tuple[int, int]] = []
    for match in _month_pair().finditer(text):
        year = match.group("y")
        m1 = MONTHS.get(match.group("m1").lower().rstrip(".")[:3], 0)
        m2 = MONTHS.get(match.group("m2").lower().rstrip(".")[:3], 0)
        if m1 and m2:
            mentions.append(DateMention(match.start(), match.end(), f"{year}-{m1:02d}", f"{year}-{m2:02d}"))
            pair_spans.append((match.start(), match.end()))
    for match in _DAY_RANGE.finditer(text):
        days = _day_range(match)
        if days is not None:
            mentions.append(DateMention(match.start(), match.end(), *days))
            pair_spans.append((match.start(), match.end()))
    for match in _SHORT_RANGE.finditer(text):
        short = _short_range(text, match, today)
        if short is not None:
            mentions.append(DateMention(match.start(), match.end(), *short))
            pair_spans.append((match.start(), match.end()))
    singles = [
        s for s in find_single_dates(text, today) if not any(s[0] < e and s[1] > b for b, e in pair_spans)
    ]
    i = 0
    while i < len(singles):
        start, end, value = singles[i]
        gap = text[end : singles[i + 1][0]] if i + 1 < len(singles) else ""
        if i + 1 < len(singles) and (_range_join().match(gap) or _stop_join().match(gap)):
            nxt = singles[i + 1]
            mentions.append(DateMention(start, nxt[1], value, nxt[2]))
            i += 2
            continue
        tail = text[end : end + 20]
        open_end = _open_end().match(tail)
        head = text[max(0, start - 50) : start]
        # the end of the last mention made from these single dates (month pairs were
        # added first and may lie further on)
        taken_to = max((m.end for m in mentions if m.end <= start), default=0)
        if (before := _garbled_before().search(head)) and start - len(head) + before.start() >= taken_to:
            at = start - len(head) + before.start(1)
            mentions.append(
                DateMention(
                    at,
                    end,
                    None,
                    value,
                    garbled=before.group(1),
                    garbled_span=(at, at + len(before.group(1))),
                )
            )
        elif after := _garbled_after().match(text[end:]):
            at = end + after.start(1)
            mentions.append(
                DateMention(
                    start,
                    end + after.end(),
                    value,
                    None,
                    garbled=after.group(1),
                    garbled_span=(at, end + after.end()),
                )
            )
        elif open_end:
            mentions.append(DateMention(start, end + open_end.end(), value, None, open_ended=True))
        elif _end_cue().search(head) and not _start_cue().search(head):
            mentions.append(DateMention(start, end, None, value))
        else:
            mentions.append(DateMention(start, end, value, None))
        i += 1
    return sorted(mentions, key=lambda m: m.start)


def _day_range(match: re.Match[str]) -> tuple[str, str] | None:
    year = int(match.group("y"))
    try:
        first = date(year, int(match.group("m1")), int(match.group("d1")))
        last = date(year, int(match.group("m2")), int(match.group("d2")))
    except ValueError:
        return None
    return (first.isoformat(), last.isoformat()) if first <= last else None


def _short_range(text: str, match: re.Match[str], today: date) -> tuple[str, str] | None:
    """(begin, end) of a "7/21-2/22" range, or None when it reads better as something else."""
    m1, m2 = int(match.group("m1")), int(match.group("m2"))
    y1 = _two_digit_year(match.group("y1"), today, month_year=True)
    y2 = _two_digit_year(match.group("y2"), today, month_year=True)
    if y1 < 0 or y2 < 0:
        return None
    before = text[max(0, match.start() - 6) : match.start()]
    if m1 == m2 or (y1, m1) >= (y2, m2) or y2 > today.year + 1:
        return None
    if re.search(r"(?i)(?:\bx|\bc|\bd|\bcycles?\s|#|\d\s*)$", before):
        return None  # a cycle count or a number, as for single dates
    if match.group("y1") == "10" or match.group("y2") == "10":
        return None  # "5/10-7/10": scores, as for single dates
    return f"{y1:04d}-{m1:02d}", f"{y2:04d}-{m2:02d}"


def year_of(value: str | None) -> int | None:
    return int(value[:4]) if value else None


def sort_key(value: str | None) -> str:
    """Partial dates compare as the start of their period; unknown sorts last."""
    return value if value else "9999"
