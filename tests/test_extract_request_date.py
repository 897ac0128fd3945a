"""The date of service and the date of the request, wherever a fax prints them: inline, in
a signature, over their value in a form's or a header/value table's column, or only in the
sending machine's stamp.  Laboratory recency is counted from the request."""

from __future__ import annotations

import pytest

from extractors.demographics import find_date_of_service, find_request_date
from extractors.layout import pages_from_text
from extractors.pagetext import build_page_text

DATES = [
    # (trap, text, date of service, date of the request)
    (
        "labelled inline",
        "Date of service: 08/02/2026\nDate of request: 07/19/2026\n",
        "2026-08-02",
        "2026-07-19",
    ),
    ("a month name after DOS", "DOS: August 2, 2026\n", "2026-08-02", "2026-08-02"),
    (
        "a signature's date is the request's",
        "DOS: 08/02/2026\nElectronically signed by Quinn Examplar, MD on 07/19/2026\n",
        "2026-08-02",
        "2026-07-19",
    ),
    (
        "labels over their values in a header/value table",
        "Date of request      Date of service      HCPCS\n07/19/2026           08/02/2026           Q2056\n",
        "2026-08-02",
        "2026-07-19",
    ),
    (
        "the columns the other way round",
        "Date of service      Date of request      HCPCS\n08/02/2026           07/19/2026           Q2056\n",
        "2026-08-02",
        "2026-07-19",
    ),
    (
        "only the sending machine's stamp",
        "07/19/2026 13:29 FROM: 555-0143 TO: 555-0101 P.1/3\nLab results attached.\n",
        None,
        "2026-07-19",
    ),
    (
        "a lab's collection time is no stamp",
        "Collected: 06/14/2026 08:10 Reported: 06/15/2026\nSPEP M-protein 0.4 g/dL\n",
        None,
        None,
    ),
    (
        "an old note's signature is not this request's",
        "DOS: 08/02/2026\nSigned 01/05/2024 by Dr. Oldnote\n",
        "2026-08-02",
        "2026-08-02",
    ),
    (
        "an enclosed note's date of service, years before the letter that sends it",
        "November 2, 2026\nRE: Abecma request\nEnclosures: consultation note 12/14/2022\n\n"
        "NEW PATIENT CONSULTATION · Date of service 12/14/2022\nShe is a 67-year-old woman.\n",
        "2026-11-02",
        "2026-11-02",
    ),
    (
        "a fax cover's own date label, and a date of birth its columns set alone on a line",
        "Tidewater Hematology Associates\nDate 11/20/2026 Pages\nPatient Harlan E. Whitcombe DOB\n"
        "Member ID SHP 41-0075882 Rx\nMessage / clinical summary:\n02/14/1962\nAbecma (ide-cel)\n",
        "2026-11-20",
        "2026-11-20",
    ),
    ("a date of service told by its year only", "June 3, 2025\nDate of service: 2025\n", "2025", "2025"),
]


@pytest.mark.parametrize(
    ("text", "service", "requested_on"), [d[1:] for d in DATES], ids=[d[0] for d in DATES]
)
def test_dates_of_service_and_request(text: str, service: str | None, requested_on: str | None) -> None:
    page = build_page_text(pages_from_text(text))
    found, evidence = find_date_of_service(page)
    assert found == service
    assert find_request_date(page, found, evidence)[0] == requested_on
