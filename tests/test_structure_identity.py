"""Whose page it is (extractors/structure/identity.py), what kind of page, and the page count.

The traps: another patient's note filed inside the packet (its therapy must never reach a
criterion), a second page of that note with no header, an MRN that OCR misread on the
member's own page (never a reason to drop it), a letter whose header has To/From/Re (not
a cover sheet), a cover sheet that promises more pages than were sent.
"""

from __future__ import annotations

import pytest
from structure_docs import PACKET_DOCS, PacketDoc, packet_without_other_patient, write_packet_pdf
from structure_support import Reader, shared_reader

from common.models import BBox, Page, Word, WordSource
from common.settings import Settings
from common.structure import IdentityItem, WordSpan
from extractors.layout import page_from_text
from extractors.structure import document_structure
from extractors.structure.identity import PageIdentity, match_page, packet_member, same_person
from pipeline.composer import process_document, process_file
from reading.reader import read_document


@pytest.fixture(scope="session")
def reader(tmp_path_factory: pytest.TempPathFactory) -> Reader:
    return shared_reader(tmp_path_factory)


OTHER = next(d for d in PACKET_DOCS if d.name == "packet-other-patient")
MISSING = next(d for d in PACKET_DOCS if d.name == "packet-pages-missing")


def test_another_patients_page_is_set_aside_and_named(reader: Reader) -> None:
    structure = reader.structure(OTHER.name, "text")
    assert structure.set_aside == (3,)
    assert structure.member.mrn is not None and structure.member.mrn.value == "HX20417"
    (notice,) = [w for w in structure.warnings if w.code == "other_patient_page"]
    assert notice.page == 3 and "page 3" in notice.message
    assert "Castellane" not in notice.message and "1949" not in notice.message  # no names or DOBs in warnings
    roles = [p.role for p in structure.pages]
    assert roles == ["cover_sheet", "clinical", "clinical", "clinical"]


def test_the_determination_is_the_same_without_the_misfiled_page(reader: Reader, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with_page = process_file(reader.path(OTHER.name, "text"))
    clean = write_packet_pdf(packet_without_other_patient(OTHER), tmp_path / "clean.pdf")
    without = process_file(clean)
    assert with_page.report.pages_set_aside == (3,)
    assert with_page.report.determination == without.report.determination
    assert {t.ingredient for t in with_page.facts.therapies} == {
        t.ingredient for t in without.facts.therapies
    }
    # the other patient's CAR-T and bispecific never became facts
    assert not {"ciltacabtagene autoleucel", "teclistamab"} & {
        t.ingredient for t in with_page.facts.therapies
    }
    assert any(w.code == "other_patient_page" and w.page == 3 for w in with_page.report.warnings)


@pytest.mark.ocr
def test_the_misfiled_page_is_set_aside_on_a_fax_too(reader: Reader, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from structure_docs import fax

    with_page = process_document(reader.document(OTHER.name, "fine"))
    clean_pdf = write_packet_pdf(packet_without_other_patient(OTHER), tmp_path / "clean.pdf")
    without = process_document(
        read_document(fax(clean_pdf, "fine", tmp_path / "clean.tif"), Settings(workers=2))
    )
    assert with_page.report.pages_set_aside == (3,)
    assert with_page.report.determination == without.report.determination


def test_a_cover_sheet_promising_more_pages_flags_the_history_partial(reader: Reader) -> None:
    structure = reader.structure(MISSING.name, "text")
    assert structure.page_count is not None
    assert (structure.page_count.stated, structure.page_count.received, structure.page_count.missing) == (
        6,
        3,
        3,
    )
    assert structure.pages_missing
    (notice,) = [w for w in structure.warnings if w.code == "pages_missing"]
    assert "6 pages" in notice.message and "3 were received" in notice.message
    assert structure.page_count.evidence.page == 1 and "6" in structure.page_count.evidence.text


def test_the_cover_sheets_count_matching_the_pages_is_no_warning(reader: Reader) -> None:
    structure = reader.structure(OTHER.name, "text")
    assert structure.page_count is not None and structure.page_count.stated == 4
    assert not structure.pages_missing and not [w for w in structure.warnings if w.code.startswith("pages_")]


# --------------------------------------------------------------------------- pages of text


def _pages(*texts: str) -> list[Page]:
    return [page_from_text(t, number=i + 1) for i, t in enumerate(texts)]


def test_a_page_without_a_header_after_another_patients_page_goes_with_it() -> None:
    structure = document_structure(
        _pages(
            "Patient: Ada Quill   DOB: 04/12/1956   MRN: HX-20417\nLetter of medical necessity.",
            "Patient: Bruno Castellane   DOB: 09/30/1949   MRN: RC-883102\nProgress note.",
            "He received ciltacabtagene autoleucel in 2024.\nPlan: surveillance.",
            "Patient: Ada Quill   DOB: 04/12/1956\nTreatment history.",
        )
    )
    assert structure.set_aside == (2, 3)
    assert [p.patient for p in structure.pages] == ["member", "other_patient", "other_patient", "member"]


def test_a_letter_header_with_to_from_and_re_is_not_a_cover_sheet() -> None:
    letter = (
        "To: Utilization Management\nFrom: Dr. Example, Hartwell Oncology\nDate: 11/01/2026\n"
        "Re: Ada Quill, DOB 04/12/1956\nFax: 555-0100\nPhone: 555-0142\n\n"
        + "Ms. Quill has relapsed and refractory multiple myeloma after four prior lines of therapy. "
        * 12
    )
    (page,) = document_structure(_pages(letter)).pages
    assert page.role == "clinical"


@pytest.mark.parametrize(
    ("text", "role"),
    [
        ("FAX COVER SHEET\nTo: UM\nFrom: Clinic\nPages: 3", "cover_sheet"),
        ("Copy of insurance card\nMember ID: W123456789\nGroup: 4471\nRxBIN: 610014", "insurance_card"),
        ("PATIENT DEMOGRAPHICS\nAddress: 1 Example Way\nPhone: 555-0100", "demographics"),
        ("Prior Authorization Request Form\nMember name: Ada Quill", "request_form"),
        ("Progress note\nShe is doing well on therapy.", "clinical"),
    ],
)
def test_the_page_role_comes_from_its_title(text: str, role: str) -> None:
    (page,) = document_structure(_pages(text)).pages
    assert page.role == role
    assert page.demographics_only == (role in {"cover_sheet", "insurance_card", "demographics"})


@pytest.mark.parametrize(
    ("line", "kind", "value"),
    [
        ("Patient: Ada Quill", "name", "ada quill"),
        ("Patient Name: QUILL, ADA M", "name", "ada quill"),
        ("DOB 04/12/1956", "date_of_birth", "1956-04-12"),
        ("D.O.B.: April 12, 1956", "date_of_birth", "1956-04-12"),
        ("MRN HX-20417", "mrn", "HX20417"),
        ("Member ID #: CPX4471920", "member_id", "CPX4471920"),
    ],
)
def test_identifiers_after_their_labels(line: str, kind: str, value: str) -> None:
    (page,) = document_structure(_pages(line)).pages
    assert [(i.kind, i.value) for i in page.identity] == [(kind, value)]


@pytest.mark.parametrize(
    "line",
    [
        "Provider name: Dr Example Person",  # someone else's name
        "Emergency contact name: Bruno Quill",
        "The patient tolerated therapy well.",  # a bare label needs its colon; names are capitalised
        "Patient: tolerated therapy well",
    ],
)
def test_not_the_patients_identifiers(line: str) -> None:
    (page,) = document_structure(_pages(line)).pages
    assert page.identity == ()


def _item(kind: str, value: str, confidence: float | None = None, page: int = 1) -> IdentityItem:
    span = WordSpan(page=page, text=value, word_ids=(0,), bbox=None, confidence=confidence)
    return IdentityItem(kind=kind, value=value, span=span)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "a", "b", "conf", "same"),
    [
        ("date_of_birth", "1956-04-12", "1956-04-12", None, True),
        ("date_of_birth", "1956-04-12", "1949-09-30", None, False),
        ("date_of_birth", "1962-05-13", "1962-08-13", None, None),  # one digit: one OCR slip, cannot tell
        ("date_of_birth", "1962-05-13", "1962-08-18", None, False),  # two digits: another date
        ("mrn", "HX20417", "HX2O417", 0.9, True),  # O for 0: the same id
        ("mrn", "ZZ000112", "2Z2Z000112", 0.4, None),  # misread at low confidence: cannot tell
        ("mrn", "HX20417", "RC883102", None, False),
        ("name", "ada quill", "ada quil1", 0.9, True),
        ("name", "ada quill", "bruno castellane", None, False),
        ("name", "ada quill", "ada smith", None, False),  # a first name shared, the surname not
        ("name", "quill ada", "quill bea", None, False),  # a relative shares the surname
        ("name", "ada quill", "a quill", None, None),  # an initial cannot tell
        ("name", "harold mercer", "harriet merced", None, False),  # a look-alike, every word differs
    ],
)
def test_two_readings_name_the_same_person(
    kind: str, a: str, b: str, conf: float | None, same: bool | None
) -> None:
    assert same_person(_item(kind, a), _item(kind, b, conf)) is same


def test_a_misread_mrn_on_the_members_own_page_keeps_the_page() -> None:
    member = packet_member(
        [
            PageIdentity(1, "cover_sheet", (_item("mrn", "HX20417", 0.95),)),
            PageIdentity(2, "clinical", (_item("mrn", "HX20417", 0.9), _item("date_of_birth", "1956-04-12"))),
        ]
    )
    page = PageIdentity(3, "clinical", (_item("mrn", "HX2041", 0.45), _item("date_of_birth", "1956-04-12")))
    assert match_page(page, member)[0] == "member"


def test_a_page_whose_ids_disagree_among_themselves_is_kept_with_a_warning() -> None:
    structure = document_structure(
        _pages(
            "Patient: Ada Quill   DOB: 04/12/1956   MRN: HX-20417",
            "Patient: Ada Quill   DOB: 04/12/1956   MRN: ZQ-555555",  # another facility's MRN
        )
    )
    assert structure.set_aside == ()
    assert structure.pages[1].patient == "conflict"
    assert [w.page for w in structure.warnings if w.code == "identity_conflict"] == [2]


def test_a_misfiled_pages_mrn_is_not_the_members_when_the_members_pages_print_none() -> None:
    """Regression: the member's own pages gave a name, a DOB and a member id but no MRN; the
    misfiled page's MRN became the member's, and the misfiled page then matched it."""
    pages = [
        PageIdentity(1, "request_form", (_item("name", "evan szymanski"),
                                         _item("date_of_birth", "1953-03-05"))),
        PageIdentity(2, "clinical", (_item("name", "evelyn szarka"), _item("date_of_birth", "1957-11-19"),
                                     _item("mrn", "BW114092"))),
        PageIdentity(3, "clinical", (_item("date_of_birth", "1953-03-05"), _item("mrn", "BW097351"))),
    ]  # fmt: skip
    member = packet_member(pages)
    assert member.mrn is not None and member.mrn.value == "BW097351"
    assert match_page(pages[1], member)[0] == "other_patient"


def test_the_request_pieces_name_the_member_over_a_majority_of_clinical_pages() -> None:
    pages = [
        PageIdentity(1, "request_form", (_item("date_of_birth", "1956-04-12"),)),
        PageIdentity(2, "clinical", (_item("date_of_birth", "1949-09-30"),)),
        PageIdentity(3, "clinical", (_item("date_of_birth", "1949-09-30"),)),
    ]
    member = packet_member(pages)
    assert member.date_of_birth is not None and member.date_of_birth.value == "1956-04-12"


def test_an_ocr_page_reads_identifiers_from_word_boxes() -> None:
    words = tuple(
        Word(text=t, bbox=BBox(x0=x, y0=0.1, x1=x + 0.06, y1=0.115), confidence=0.93, source=WordSource.OCR)
        for t, x in (("DOB:", 0.1), ("04/12/1956", 0.17), ("MRN:", 0.4), ("HX-20417", 0.47))
    )
    page = Page(number=1, width=1728, height=2200, dpi=(204, 196), words=words, source=WordSource.OCR)
    (structure,) = document_structure([page]).pages
    assert {(i.kind, i.value) for i in structure.identity} == {
        ("date_of_birth", "1956-04-12"),
        ("mrn", "HX20417"),
    }


def test_packet_docs_are_what_the_tests_say() -> None:
    assert isinstance(OTHER, PacketDoc) and OTHER.other_patient_pages == (3,) and MISSING.stated_pages == 6


def test_a_misfiled_page_read_clean_does_not_give_the_member_its_name() -> None:
    """Regression (normal-mode fax): the member's name came out as two OCR variants that do
    not group, the misfiled page's clean name won the vote, and the page matched 'by name'.
    Dates of birth and ids are chosen first; a page contradicting them has no say on the
    name, and a page whose every identifier reads as someone else's is set aside."""
    pages = [
        PageIdentity(1, "cover_sheet", (_item("mrn", "ZZ000257", 0.9),)),
        PageIdentity(2, "clinical", (_item("name", "cedar hxamplecase", 0.5),
                                     _item("date_of_birth", "1960-05-01", 0.5))),
        PageIdentity(3, "clinical", (_item("name", "fakename xavier", 0.6), _item("mrn", "ZZ000901", 0.6),
                                     _item("date_of_birth", "1956-06-03", 0.6))),
        PageIdentity(4, "clinical", (_item("name", "cedar exaunplecase", 0.5),
                                     _item("date_of_birth", "1960-05-01", 0.5))),
    ]  # fmt: skip
    member = packet_member(pages)
    assert member.name is not None and member.name.value != "fakename xavier"
    assert match_page(pages[2], member)[0] == "other_patient"
    assert match_page(pages[1], member)[0] == "member"


def test_the_only_date_of_birth_in_the_packet_is_not_the_members_when_its_page_is_anothers() -> None:
    """Regression: the member's pages printed a name and an MRN but no date of birth; the
    misfiled page's date of birth became the member's, and the page was only a conflict."""
    pages = [
        PageIdentity(1, "clinical", (_item("name", "fakename yankee"), _item("mrn", "ZZ000256"))),
        PageIdentity(2, "clinical", (_item("name", "fakename wanda"), _item("mrn", "ZZ000900"),
                                     _item("date_of_birth", "1955-06-03"))),
        PageIdentity(3, "clinical", (_item("name", "fakename yankee"), _item("mrn", "ZZ000256"))),
    ]  # fmt: skip
    member = packet_member(pages)
    assert member.date_of_birth is None
    assert match_page(pages[1], member)[0] == "other_patient"


def test_a_letter_whose_date_of_birth_one_glyph_misread_stays_the_members() -> None:
    """Regression: a fax read "05/13/1962" as "08/13/1962" on the letter, its name and MRN
    one slip off too; the letter (the whole history) was set aside as another patient's."""
    member = packet_member(
        [
            PageIdentity(1, "cover_sheet", (_item("name", "alfa examplecase", 0.9),)),
            PageIdentity(
                3, "clinical", (_item("date_of_birth", "1962-05-13", 0.9), _item("mrn", "ZZ000281", 0.9))
            ),
        ]
    )
    letter = PageIdentity(
        2,
        "clinical",
        (
            _item("name", "alfa fxamplecase", 0.9),
            _item("date_of_birth", "1962-08-13", 0.9),
            _item("mrn", "ZZZ000281", 0.9),
        ),
    )
    assert match_page(letter, member)[0] != "other_patient"
