"""Date traps: every range form, precision kept as written, nothing invented."""

from __future__ import annotations

import pytest
from extract_support import facts_of, therapies

from extractors.dates import find_dates


@pytest.mark.parametrize(
    ("text", "begin", "finish"),
    [
        ("03/2019 - 07/2019", "2019-03", "2019-07"),
        ("2016-2017", "2016", "2017"),
        ("Mar-Oct 2018", "2018-03", "2018-10"),
        ("from 11/2019 until 04/2022", "2019-11", "2022-04"),
        ("since 10/2025", "2025-10", None),
        ("01/2021 to present", "2021-01", None),
        ("until PD 5/2022", None, "2022-05"),
        ("3/15/2019", "2019-03-15", None),
        ("March 15, 2019", "2019-03-15", None),
        ("15 Mar 2019", "2019-03-15", None),
        ("2019-03-15", "2019-03-15", None),
        ("Sept 2020 - Jan 2021", "2020-09", "2021-01"),
        ("2019", "2019", None),
        ("| 03/2019 | 07/2019 |", "2019-03", "2019-07"),
        ("stopped for infections 05/2024", None, "2024-05"),
        # fax OCR damage: "$/2021" for 5/2021, letter O for zero, "wntil" for until
        ("$/2021 until Pp 9/2025", "2021-05", "2025-09"),
        ("O1/2O19 - l2/2019", "2019-01", "2019-12"),
        ("11/2023 wntil PD 2/2026", "2023-11", "2026-02"),
        ("05/2016 ~ 10/2016", "2016-05", "2016-10"),
        ("03/2022 = 06/2022", "2022-03", "2022-06"),  # a dash read as "=" by fax OCR
        ("2019 until progression in 2020", "2019", "2020"),
        # month/two-digit year on both sides of a bare hyphen
        ("DKd 7/21-2/22", "2021-07", "2022-02"),
        ("Kd 1/19-8/19", "2019-01", "2019-08"),
        # a start cue, then the end named by a stop word
        ("Kd (started 1/15/2019, stopped 8/2/2019)", "2019-01-15", "2019-08-02"),
        ("15-Jan-2019 through 02-Aug-2019", "2019-01-15", "2019-08-02"),  # EHR day-month-year
        ("15-Jan-19", "2019-01-15", None),
        ("2019 Jan - 2019 Aug", "2019-01", "2019-08"),  # year first
        ("in 2019 may have", "2019", None),  # ... but "may" in lower case is a verb
        # a run of days sharing one year: not March 2011
        ("Flu/Cy 3/11-3/13/2024", "2024-03-11", "2024-03-13"),
        # ... with any dash, spaced or not: a hospital stay, not October 2012 onwards
        ("hospitalized (10/12–10/17/2026) with", "2026-10-12", "2026-10-17"),
        ("admitted 10/12 - 10/17/2026", "2026-10-12", "2026-10-17"),
    ],
)
def test_date_forms(text: str, begin: str | None, finish: str | None) -> None:
    [found] = find_dates(text)
    assert (found.begin, found.finish) == (begin, finish)


@pytest.mark.parametrize(
    "text",
    [
        "x6 cycles",
        "Cycle 1/6",
        "melphalan 200 mg/m2",
        "C1D1",
        "BP 120/80",
        "pain 5/10",
        "pain 5/10-7/10",
        # a year inside an identifier (regression: a trial protocol's id dated its CAR-T, a
        # false prior CAR-T on a product-disposition notice of cells never infused)
        "Protocol GLTC-2022-07 - Phase 1 investigational CAR-T",
        "MRN A2019334",
    ],
)
def test_not_dates(text: str) -> None:
    assert find_dates(text) == []


@pytest.mark.parametrize(
    ("text", "years"),
    [("s/p VTd 2016-2017 (PD)", ["2016", "2017"]), ("VTd early 2019 - mid-2019", ["2019", "2019"])],
)
def test_years_of_a_range_or_a_season_are_still_years(text: str, years: list[str]) -> None:
    from extractors.dates import find_single_dates

    assert [value for _, _, value in find_single_dates(text)] == years


@pytest.mark.parametrize(
    ("text", "ingredient", "start", "end"),
    [
        ("VRd 03/2019 - 07/2019", "bortezomib", "2019-03", "2019-07"),
        ("KRd 2019", "carfilzomib", "2019", None),  # a year stays a year
        ("Daratumumab 16 mg/kg since 10/2025", "daratumumab", "2025-10", None),
        ("Pomalidomide to present, started 2/2024", "pomalidomide", "2024-02", None),
        ("Carfilzomib x6 cycles", "carfilzomib", None, None),  # no date given: none invented
        ("DKd 7/21-2/22", "carfilzomib", "2021-07", "2022-02"),
        ("Kd (started 1/15/2019, stopped 8/2/2019)", "carfilzomib", "2019-01-15", "2019-08-02"),
        # one range for a whole list of drugs in a clause
        ("Dara, pom, dex from 01/2021 to 06/2022", "pomalidomide", "2021-01", "2022-06"),
        # table row: dates in the cells of the same row as the regimen
        ("| 2 | 06/2022 | 01/2024 | Dara-Pd | PD |", "daratumumab", "2022-06", "2024-01"),
        # arrows split clauses, each with its own date
        ("VRd x4 -> ASCT 08/2019 -> len maint 10/2019 - 05/2022", "lenalidomide", "2019-10", "2022-05"),
        (
            "VRd x4 -> ASCT 08/2019 -> len maint 10/2019 - 05/2022",
            "autologous stem cell transplant",
            "2019-08",
            None,
        ),
        # a dated header above the drugs
        (
            "Line 2 (06/2022 - 01/2024):\nDaratumumab + pomalidomide + dexamethasone",
            "daratumumab",
            "2022-06",
            "2024-01",
        ),
    ],
)
def test_therapy_dates(text: str, ingredient: str, start: str | None, end: str | None) -> None:
    got = [(t.start, t.end) for t in therapies(text, ingredient)]
    assert (start, end) in got, got


@pytest.mark.parametrize(
    ("text", "ingredient", "start", "end"),
    [
        # the start before the drug, the end after it
        (
            "At first relapse in 04/2020 she started Darzalex with pomalidomide and dexamethasone, "
            "continued until 02/2023.",
            "daratumumab",
            "2020-04",
            "2023-02",
        ),
        # "x 6 cycles ending Aug 2021": an end, not a start
        ("VCd x 6 cycles ending Aug 2021, then ASCT 10/2021.", "bortezomib", None, "2021-08"),
        # an arrow between two dates alone is a range, though arrows also separate clauses
        ("Kd 1/2019 -> 8/2019, PD", "carfilzomib", "2019-01", "2019-08"),
        ("VRd x4 -> ASCT 08/2019 -> len maint 10/2019 - 05/2022", "lenalidomide", "2019-10", "2022-05"),
    ],
)
def test_dates_around_the_drug(text: str, ingredient: str, start: str | None, end: str) -> None:
    assert (start, end) in [(t.start, t.end) for t in therapies(text, ingredient)]


def test_a_garbled_start_is_not_replaced_by_the_end() -> None:
    """'10/2081 - 04/2026' (a fax's damaged 2021): the line did not start in 04/2026."""
    text = "Line 3: Darzalex/Pomalyst/dex 10/2081 - 04/2026, PD."
    (dara,) = therapies(text, "daratumumab")
    assert (dara.start, dara.end, dara.start_unreadable) == (None, "2026-04", "10/2081")
    (line,) = facts_of(text).lines
    assert line.start is None and line.start_unreadable == "10/2081"
    assert any(e.text == "10/2081" and e.bbox is not None for e in line.evidence)


@pytest.mark.parametrize(
    ("text", "begin", "finish", "garbled"),
    [
        ("04/2018 ~ 01/20a1", "2018-04", None, "01/20a1"),
        ("10/2081 - 04/2026", None, "2026-04", "10/2081"),
        ("04/2018 - 01/2021", "2018-04", "2021-01", None),
    ],
)
def test_garbled_side_of_a_range(
    text: str, begin: str | None, finish: str | None, garbled: str | None
) -> None:
    (mention,) = find_dates(text)
    assert (mention.begin, mention.finish, mention.garbled) == (begin, finish, garbled)


def test_a_garbled_start_is_kept_beside_a_later_day_range() -> None:
    (first, _) = find_dates("VRd 10/2081 - 04/2026. Flu/Cy 3/11-3/13/2024")
    assert (first.begin, first.finish, first.garbled) == (None, "2026-04", "10/2081")


def test_a_lone_garbled_date_is_no_date() -> None:
    assert find_dates("ECOG 1, 10/2081 noted") == []


@pytest.mark.parametrize(
    ("text", "years", "how"),
    [
        ("68-year-old male with RRMM", 68, "stated"),
        ("Pt: 68/F, RRMM.", 68, "stated"),
        ("Age/Sex: 71 Y / M", 71, "stated"),
        ("Diagnosed at age 58 in 2015. She is now 67.", 67, "stated"),
        # a relative's age is not the member's
        (
            "Date of service: 10/06/2025\nDOB: 02/09/2008\nHe comes with his 49-year-old mother.",
            17,
            "from_date_of_birth",
        ),
        # ... nor an age on a family-history line, however far into it
        (
            "64M w/ IgG kappa MM dx 04/2018.\nLives w/ wife. Never smoker. Mother - breast ca age 70.",
            64,
            "stated",
        ),
        ("Pt is a 71 yo woman", 71, "stated"),
        # a compact age and sex before the disease it has
        ("64M RRMM (IgG-k), 3 prior lines, triple-class exposed, PD on Pd.", 64, "stated"),
        ("Age: 66", 66, "stated"),
        ("59 y/o male", 59, "stated"),
        ("Diagnosed at age 55 with MM.\nAge: 61", 61, "stated"),
        ("Date of service: 11/20/2026\nDOB: 04/12/1958", 68, "from_date_of_birth"),
        ("DOS: 03/01/2026\nDate of birth: 12/31/1960", 65, "from_date_of_birth"),
        # a member born before 1950 (regression: dates of birth were read only from 1950 on)
        ("DOS: 10/21/2026\nDate of birth: 06/11/1949", 77, "from_date_of_birth"),
        (
            "Re: Harold W. Kessinger - DOB 10/30/1946 - Humana ID H71650249\nDate of service: 10/13/2026",
            79,
            "from_date_of_birth",
        ),
        ("He is 67 years of age.", 67, "stated"),
        # a form's age-threshold question answered yes: at least that old, no age told
        ("3. Is the member 18 years of age or older? \u2612 Yes \u2610 No", 18, "at_least"),
        # on the request's own date, not a date of service weeks later
        (
            "Date of request: 10/01/2026\nAnticipated date of service: 11/20/2026\nDOB: 10/15/1958",
            67,
            "from_date_of_birth",
        ),
    ],
)
def test_age(text: str, years: int, how: str) -> None:
    age = facts_of(text).age
    assert age is not None and (age.years, age.how) == (years, how)


def test_an_age_told_twice_or_by_the_date_of_birth_rests_on_every_reading_that_agrees() -> None:
    """'67 yo' OCR doubts is still 67 where the date of birth gives 67: both are evidence, so
    one doubtful word needs no reviewer; a reading that disagrees is not evidence of it."""
    text = "Date of request: 10/01/2026\nDOB: 08/15/1959\n67 yo M with RRMM."
    age = facts_of(text).age
    assert age is not None and (age.years, age.how) == (67, "stated")
    assert len(age.evidence) == 2
    other = facts_of(text.replace("1959", "1980")).age
    assert other is not None and other.years == 67 and len(other.evidence) == 1


def test_an_age_written_years_younger_than_the_date_of_birth_is_an_older_notes() -> None:
    """A packet's discharge summary of three years ago says "66-year-old man"; the date of
    birth gives 69 on the request's date, and the reviewer judges the age then."""
    text = (
        "Date of request: 09/08/2026\nDOB: 05/30/1957\n"
        "DISCHARGE SUMMARY 06/2023\nHospital course: 66-year-old man on SVd presented with diplopia."
    )
    age = facts_of(text).age
    assert age is not None and (age.years, age.how) == (69, "from_date_of_birth")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Date of service: 11/20/2026", "2026-11-20"),
        ("DOS: 3/1/2026", "2026-03-01"),
        ("Hematology Associates\nNovember 20, 2026\nDear Medical Director,", "2026-11-20"),
        ("DOB: 04/12/1958", None),
        ("Date of service 03/15/2024", "2024-03-15"),
        ("Date(s) of service: 06/01/2024 - 06/30/2024", "2024-06-01"),
        # a fax cover's own date is when it was sent, not the service
        ("Date: 10/20/2025\nRequested date of service: 10/01/2025", "2025-10-01"),
        # "DOS" without a colon counts only opening a line, not inside a claim line
        ("Date: 10/20/2025\nClaim: Q2055 idecabtagene vicleucel DOS 05/01/2024 denied.", "2025-10-20"),
    ],
)
def test_date_of_service(text: str, expected: str | None) -> None:
    assert facts_of(text).date_of_service == expected


@pytest.mark.parametrize(
    "text",
    [
        "Is the member 18 years of age or older? \u2610 Yes \u2612 No",  # answered no: no age
        "Is the member 18 years of age or older? \u2610 Yes \u2610 No",  # not answered
        "Criteria: the member must be 18 years of age or older.",  # the policy's words
    ],
)
def test_an_age_threshold_not_answered_yes_gives_no_age(text: str) -> None:
    assert facts_of(text).age is None
