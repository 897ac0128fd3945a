"""Age (stated, or from the date of birth) and the date of service."""

from __future__ import annotations

import re
from datetime import date
from functools import cache

from common.models import AgeFact, Evidence
from extractors import cues
from extractors.dates import find_birth_dates, find_single_dates
from extractors.labs import reader
from extractors.mentions import checkbox_answer
from extractors.pagetext import PageText


@cache
def _ages() -> list[re.Pattern[str]]:
    return [
        re.compile(r"(?i)\b(\d{2,3})[\s-]*(?:year|yr)s?[\s-]*old\b"),
        re.compile(r"(?i)\b(\d{2,3})\s*(?:y/o|y\.o\.?|yo|yrs?\.?\s*old)(?![a-z])"),
        # "Age: 68", but not "diagnosed at age 55"
        re.compile(r"(?i)(?<!at )(?<!by )(?<!since )\bage\s*[:=]?\s*(\d{2,3})\b(?!\s*(?:mg|ml|%))"),
        re.compile(r"(?i)\baged\s+(\d{2,3})\b"),
        # "65 years of age"; "18 years of age or older" is a threshold (below)
        re.compile(r"(?i)\b(\d{2,3})\s*(?:years?|yrs?)\s+of\s+age\b"),
        # "68 M with ...": case-sensitive, as the words after it (cues.json "age_sex_next")
        re.compile(rf"\b(\d{{2}})\s?(?:M|F)\b(?=\s+{cues.fragment('age_sex_next')})"),
        # "Pt: 68/F", "Age/Sex: 71 Y / M", "71 Y M"
        re.compile(r"\b(\d{2})\s*(?:y|yr|yrs|years?)?\s*/\s*(?:M|F|male|female)\b", re.I),
        re.compile(r"\b(\d{2})\s*Y\s*/?\s*(?:M|F)\b"),
        # "She is now 67."
        re.compile(
            rf"(?i)\b{cues.fragment('member_subject')}\s+is\s+now\s+(\d{{2}})(?=\s*(?:[.,;]|years?\b|$))"
        ),
    ]


@cache
def _dob() -> re.Pattern[str]:
    return re.compile(rf"(?i)\b{cues.fragment('birth_date_label')}\s*[:#]?\s*")


# Labels of the service itself first (cues.json "service_date_label"); a letter's or a fax
# cover's own "Date:" only when no service date is written ("Date: 10/20/2025" on the cover
# is when it was sent).
@cache
def _dos_labels() -> tuple[re.Pattern[str], ...]:
    service = cues.fragment("service_date_label")
    return (
        # "Date of service: 10/14/2026", "DOS 11/20/2026", "Anticipated date of service 01-05-2027"
        re.compile(rf"(?i)\b{service}\s*[:#]?\s*(?=\d|[A-Za-z]{{3,9}}\.?\s+\d)"),
        # a field of its own ("Date: 10/20/2025", "Date of request:"), never another thing's
        # date ("Diagnosis date: 01/2019", "Date of birth:")
        re.compile(
            r"(?im)(?:^|(?<=[|\t])|(?<=\s\s))[ \t]*"
            rf"(?:{cues.fragment('request_date_label')}|date)\s*[:#]\s*"
        ),
    )


# the service labels of _dos_labels()[0] standing alone at the end of their column's header
@cache
def _dos_label_above() -> re.Pattern[str]:
    return re.compile(
        rf"(?i)\b{cues.fragment('service_date_label')}\b"
        r"(?![ \t]*[:#]?[ \t]*(?:\d|[A-Za-z]{3,9}\.?[ \t]+\d))"
    )


# "his 49-year-old mother", "His father, 52 years old", "her husband, 70"
@cache
def _relative(after: bool) -> re.Pattern[str]:
    relative = f"(?:{cues.fragment('relative')}|{cues.fragment('companion')})"
    if after:
        return re.compile(rf"(?i)^\W{{0,3}}(?:\w+\s+)?{relative}\b")
    # close before the age ("his mother, 72"), or opening the age's clause ("Mother - breast
    # ca age 70": a family-history line tells the relative's age)
    return re.compile(
        rf"(?i)(?:\b{relative}\b[^.;\n]{{0,12}}"
        rf"|[.;\n]\W*(?:(?:his|her|their|the\s+patient's|patient's|pt's)\s+)?{relative}s?\b[^.;\n]*)$"
    )


# An age that is a threshold, not the member's: "age 18 or older", "18+", ">= 18 years".
@cache
def _threshold_after() -> re.Pattern[str]:
    return re.compile(
        r"(?i)^\s*(?:\+|(?:years?|yrs?|y)?\s*(?:of\s+age\s+)?(?:or|and|&)\s+"
        rf"{cues.fragment('or_more')}\b)"
    )


@cache
def _threshold_before() -> re.Pattern[str]:
    return re.compile(rf"(?i)(?:≥|>=|>|{cues.fragment('at_least')})\s*(?:age\s*)?$")


def age_on(born: date, reference: str | None) -> int:
    on = _as_date(reference) or date.today()
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def age_from_identity(dob_iso: str, evidence: Evidence, reference: str | None) -> AgeFact | None:
    """The age from a date of birth the page structure read (a form's field, a header row's
    column): "Date of birth" above "07/30/1961"."""
    try:
        years = age_on(date.fromisoformat(dob_iso), reference)
    except ValueError:
        return None
    return AgeFact(years=years, how="from_date_of_birth", evidence=(evidence,)) if 0 <= years <= 110 else None


def _threshold_answer(text: PageText, after: int) -> str | None:
    """The ticked answer of the question an age threshold stands in ("Is the member 18 years
    of age or older? [X] Yes [ ] No"), read after the question's mark."""
    line_end = text.text.find("\n", after)
    mark = text.text.find("?", after, line_end if line_end >= 0 else len(text.text))
    return checkbox_answer(text.text, mark + 1) if mark >= 0 else None


# How many years old a packet's note may be, its written age younger than the date of birth's.
_OLDER_NOTE_YEARS = 10


def find_age(text: PageText, reference: str | None) -> AgeFact | None:
    at_least: AgeFact | None = None
    stated: list[tuple[int, Evidence | None]] = []
    born: list[tuple[int, Evidence | None]] = []
    for pattern in _ages():
        for match in pattern.finditer(text.text):
            years = int(match.group(1))
            after = text.text[match.end() : match.end() + 25]
            before = text.text[max(0, match.start() - 60) : match.start()]
            if _relative(after=True).match(after) or _relative(after=False).search(before):
                continue  # "his 49-year-old mother", "His father, 52 years old"
            if _threshold_after().match(after) or _threshold_before().search(before):
                # a form's or a policy's threshold: "Member age 18 or older? [X] Yes" is no
                # age, but answered yes it says the member is at least that old
                if at_least is None and _threshold_answer(text, match.end()) == "received":
                    ev = text.evidence(match.start(), match.end())
                    at_least = AgeFact(years=years, how="at_least", evidence=(ev,) if ev else ())
                continue
            if 1 <= years <= 110:
                ev = text.evidence(match.start(), match.end())
                stated.append((years, ev))
    for match in _dob().finditer(text.text):
        tail = text.text[match.end() : match.end() + 30]
        dates = find_birth_dates(tail)
        if not dates or dates[0][0] > 2 or len(dates[0][2]) != 10:
            continue
        years = age_on(date.fromisoformat(dates[0][2]), reference)
        if 0 <= years <= 110:
            born.append((years, text.evidence(match.start(), match.end() + dates[0][1])))
    if stated and born and all(1 < born[0][0] - y <= _OLDER_NOTE_YEARS for y, _ in stated):
        # every age written is years younger than the date of birth gives: an age is as of its
        # own note ("66-year-old man" in a discharge summary of three years ago, in a packet),
        # the date of birth gives it on the request's date (an age older than the date of
        # birth allows is no older note: the date may be misread, the written age stands)
        stated = []
    elif stated and born:
        # the written age that agrees with the date of birth, if one does
        stated.sort(key=lambda s: abs(s[0] - born[0][0]) > 1)
    if stated:
        years = stated[0][0]
        # Other readings that agree are evidence too, so one word OCR doubts ("54 yo" at low
        # confidence) does not send the age to a reviewer when the same age is written again,
        # or the date of birth gives it (a birthday may fall between the note and the request).
        agree = [ev for y, ev in stated if y == years] + [ev for y, ev in born if abs(y - years) <= 1]
        return AgeFact(years=years, how="stated", evidence=tuple(dict.fromkeys(e for e in agree if e)))
    if born:
        years = born[0][0]
        agree = [ev for y, ev in born if y == years]
        return AgeFact(
            years=years, how="from_date_of_birth", evidence=tuple(dict.fromkeys(e for e in agree if e))
        )
    return at_least


def _as_date(value: str | None) -> date | None:
    if value and len(value) == 10:
        return date.fromisoformat(value)
    return None


def find_date_of_service(text: PageText) -> tuple[str | None, Evidence | None]:
    """A labelled date of service, else the letter's own date (a date alone near the top).

    A labelled date long before the letter's own is an enclosure's: "Date of service
    12/14/2022" on a consultation sent with a letter of November 2, 2026."""
    labelled, evidence = _labelled_date_of_service(text)
    letter, letter_evidence = _letter_date(text)
    if labelled is None:
        return letter, letter_evidence
    labelled_day, letter_day = _as_date(labelled), _as_date(letter)
    if labelled_day and letter_day and (letter_day - labelled_day).days > _REQUEST_BEFORE_SERVICE_DAYS:
        return letter, letter_evidence
    return labelled, evidence


def _labelled_date_of_service(text: PageText) -> tuple[str | None, Evidence | None]:
    claim = cues.pattern("claim_line")
    for n, labels in enumerate(_dos_labels()):
        for match in labels.finditer(text.text):
            if claim.search(text.line_text(text.line_of(match.start()))):
                continue  # a claim's date of service ("Q2055 ... DOS 05/01/2024 denied"), not this one
            tail = text.text[match.end() : match.end() + 30]
            dates = find_single_dates(tail)
            if dates and dates[0][0] <= 2:
                return dates[0][2], text.evidence(match.start(), match.end() + dates[0][1])
        if n == 0:
            # "Date of service" over its value, in a form's or a header/value table's column
            for match in _dos_label_above().finditer(text.text):
                if (under := date_under(text, match.start(), match.end())) is not None:
                    return under[0], text.evidence(under[1], under[2])
    return None, None


def _letter_date(text: PageText) -> tuple[str | None, Evidence | None]:
    """The letter's own date: a full date alone on one of the first lines, or after the
    cover's own date label ("Date 11/20/2026 Pages 1"); of several, the latest. A fax's
    columns may set a date of birth alone on a line away from its label ("Patient ... DOB"
    over "02/14/1962" lines below): it is always the earliest."""
    label = re.compile(rf"(?i)^{cues.fragment('letter_date_label')}\b[\s:]*")
    found: list[tuple[str, int, int]] = []
    for line_no in range(min(len(text.line_starts), 15)):
        raw = text.line_text(line_no)
        line = raw.strip()
        dates = find_single_dates(line)
        if not dates or len(dates[0][2]) != 10:
            continue
        labelled = label.match(line)
        alone = len(dates) == 1 and len(line) - (dates[0][1] - dates[0][0]) <= 6
        if not alone and not (labelled and dates[0][0] == labelled.end()):
            continue
        if _dob().search(line) or _dob().search(text.line_text(max(line_no - 1, 0))):
            continue  # a date of birth, on its line or under its label
        start = text.line_starts[line_no] + raw.find(line)
        found.append((dates[0][2], start + dates[0][0], start + dates[0][1]))
    if not found:
        return None, None
    best = max(found)
    return best[0], text.evidence(best[1], best[2])


# A request is signed before its service and rarely months before; a date outside this
# window is another document's (an old note's signature) or a misread.
_REQUEST_BEFORE_SERVICE_DAYS = 180
_REQUEST_AFTER_SERVICE_DAYS = 30


def find_request_date(
    text: PageText, date_of_service: str | None, service_evidence: Evidence | None
) -> tuple[str | None, Evidence | None]:
    """When the request was made: the latest full date that a request-date label or a
    signature line gives, else a sending fax machine's stamp, else the date of service.

    Laboratory recency is counted from the request ("assessed within the last 30 days"),
    and an anticipated date of service may lie weeks after it.  Of a packet's letters and
    forms the request is the latest signed; earlier notes were signed earlier.
    """
    found: list[tuple[str, int, int]] = []
    for match in cues.pattern("request_date_label").finditer(text.text):
        dates = find_single_dates(text.text[match.end() : match.end() + 30])
        if dates and dates[0][0] <= 3 and len(dates[0][2]) == 10:
            found.append((dates[0][2], match.start(), match.end() + dates[0][1]))
        elif (under := date_under(text, match.start(), match.end())) is not None:
            found.append(under)
    signature = cues.pattern("signature")
    for line_no in range(len(text.line_starts)):
        line = text.line_text(line_no)
        if not signature.search(line) or _dob().search(line):
            continue
        dates = [d for d in find_single_dates(line) if len(d[2]) == 10]
        if len(dates) == 1:
            start = text.line_starts[line_no]
            found.append((dates[0][2], start + dates[0][0], start + dates[0][1]))
    if not found:
        found = _transmission_stamps(text)
    service = _as_date(date_of_service)
    if service is not None:
        found = [
            f
            for f in found
            if -_REQUEST_BEFORE_SERVICE_DAYS
            <= (date.fromisoformat(f[0]) - service).days
            <= _REQUEST_AFTER_SERVICE_DAYS
        ]
    if not found:
        return (date_of_service, service_evidence) if date_of_service else (None, None)
    best = max(found)
    return best[0], text.evidence(best[1], best[2])


# A date followed by a clock time: a fax machine's transmission stamp ("07/19/2026 10:14").
_CLOCK_AFTER = re.compile(r"^\s*(?:at\s+)?\d{1,2}:\d{2}\b")


def _transmission_stamps(text: PageText) -> list[tuple[str, int, int]]:
    """The dates a sending fax machine printed on the first or last line of its pages:
    the request left the office that day.  A line that labels its date as something
    else (a lab's "Collected: 06/14/2026 08:10", a date of birth) is not a stamp."""
    lab_labels = reader().date_label
    found: list[tuple[str, int, int]] = []
    by_page: dict[int, list[int]] = {}
    for line_no, page in enumerate(text.line_pages):
        by_page.setdefault(page, []).append(line_no)
    for lines in by_page.values():
        edge = [n for n in lines if text.line_text(n).strip()]
        for line_no in {*edge[:2], *edge[-2:]}:
            line = text.line_text(line_no)
            dates = [d for d in find_single_dates(line) if len(d[2]) == 10]
            if len(dates) != 1 or not _CLOCK_AFTER.match(line[dates[0][1] :]):
                continue
            if lab_labels.search(line[: dates[0][0]]) or _dob().search(line):
                continue
            start = text.line_starts[line_no]
            found.append((dates[0][2], start + dates[0][0], start + dates[0][1]))
    return found


def date_under(text: PageText, start: int, end: int) -> tuple[str, int, int] | None:
    """The full date printed under a label, in its column: a form or a header/value table
    ("Date of request   Date of service" over "07/19/2026   08/02/2026")."""
    below = text.value_line_below(start, end)
    if below is None:
        return None
    begin, line, x0, x1 = below
    for s0, s1, value in find_single_dates(line):
        if len(value) == 10 and text.in_column(begin + s0, begin + s1, x0, x1):
            return value, begin + s0, begin + s1
    return None
