"""Tables from word geometry (extractors/structure/tables.py): the traps a drawn table sets.

Each generated table (tests/structure_docs.py) is scored cell by cell against where
reportlab drew it (tests/structure_measure.py): right row, right column, no word of another
cell.  Text layers here; 204x98 faxes under the ``ocr`` marker; every rendering of every
table in the slow measurement.
"""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont
from structure_docs import TABLE_DOCS, TableDoc
from structure_measure import score_tables
from structure_support import DOCS, Reader, shared_reader

from common.models import BBox, Page, Rule, Word, WordSource
from extractors.layout import page_from_text
from extractors.structure import document_structure
from extractors.structure.vocabulary import load_structure_lexicon
from reading.normalise import ink_mask, strip_rules


@pytest.fixture(scope="session")
def reader(tmp_path_factory: pytest.TempPathFactory) -> Reader:
    return shared_reader(tmp_path_factory)


@pytest.mark.parametrize("doc", TABLE_DOCS, ids=lambda d: d.name)
def test_every_cell_of_a_drawn_table_lands_in_its_row_and_column(reader: Reader, doc: TableDoc) -> None:
    score = score_tables(doc, reader.document(doc.name, "text"), reader.structure(doc.name, "text"))
    assert score.cells > 0
    assert score.accuracy == 1.0, score.errors
    assert score.header_roles_right == score.header_roles, score.errors


def test_a_date_in_the_start_column_is_that_rows_start(reader: Reader) -> None:
    (table,) = reader.structure("table-grid", "text").tables
    starts = [(row.cell("regimen"), row.cell("start")) for row in table.rows]
    assert [(r.text.split(",")[0], s.text) for r, s in starts if r and s] == [
        ("Bortezomib", "03/2019"),
        ("Autologous stem cell transplant", "11/2019"),
        ("Lenalidomide maintenance", "01/2020"),
        ("Daratumumab", "07/2021"),
        ("Carfilzomib", "04/2023"),
        ("Elotuzumab", "06/2024"),
    ]


def test_a_wrapped_cell_is_one_cell_of_one_row(reader: Reader) -> None:
    (table,) = reader.structure("table-grid", "text").tables
    first = table.rows[0]
    regimen = first.cell("regimen")
    assert first.lines == 2 and regimen is not None
    assert regimen.text == "Bortezomib, lenalidomide, dexamethasone (VRd) induction"


def test_cells_aligned_to_the_bottom_join_the_row_they_end_on(reader: Reader) -> None:
    """reportlab aligns cells to the bottom: a wrapped cell's first line stands alone above
    its row, and would otherwise read as a row of its own (or the end of the row above)."""
    (table,) = reader.structure("table-unruled", "text").tables
    assert len(table.rows) == 5
    third = table.rows[2]
    assert third.cell("start") is not None and third.cell("start").text == "Feb 2020"  # type: ignore[union-attr]
    assert third.cell("regimen").text.startswith("Daratumumab-lenalidomide")  # type: ignore[union-attr]


@pytest.mark.parametrize("name", ["table-flowsheet-continued", "table-continued-no-repeat"])
def test_a_table_continued_over_a_page_break_is_one_table(reader: Reader, name: str) -> None:
    structure = reader.structure(name, "text")
    assert len(structure.tables) == 1
    (table,) = structure.tables
    assert table.pages == (1, 2)
    repeated = name == "table-flowsheet-continued"
    assert [p.header_repeated for p in table.parts] == [False, repeated]
    spec = DOCS[name].tables[0]  # type: ignore[union-attr]
    assert len(table.rows) == len(spec.rows)
    assert {p.page for p in structure.pages if table.id in p.tables} == {1, 2}


def test_a_cell_cites_its_own_box(reader: Reader) -> None:
    """Evidence keeps its place: a fact from a cell cites that cell's words and box."""
    document = reader.document("table-medications", "text")
    (table,) = reader.structure("table-medications", "text").tables
    cell = table.rows[1].cell("stop")
    assert cell is not None and cell.text == "1/15/26"
    evidence = cell.span.evidence()
    words = [document.pages[0].words[i] for i in cell.span.word_ids]
    assert [w.text for w in words] == ["1/15/26"] and evidence.bbox == words[0].bbox and evidence.page == 1


# --------------------------------------------------------------------------- without a generator


_EHR_COLUMNS = """\
Medication history (exported)

Drug                 Started      Stopped      Reason for discontinuation
Bortezomib           03/2019      09/2019      completed induction
Lenalidomide         03/2019      06/2021      progression
Daratumumab          07/2021      03/2023      progression

Plan: proceed with CAR-T referral.
"""


def test_a_plain_text_export_aligned_with_spaces_is_a_table() -> None:
    """No pipes, no rules: the columns are the x-bands the rows share."""
    (table,) = document_structure([page_from_text(_EHR_COLUMNS)]).tables
    assert table.roles == ("drug", "start", "stop", "reason_stopped")
    assert [(r.cell("drug").text, r.cell("stop").text) for r in table.rows] == [  # type: ignore[union-attr]
        ("Bortezomib", "09/2019"),
        ("Lenalidomide", "06/2021"),
        ("Daratumumab", "03/2023"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "Treatment response: she had a partial response to the regimen started in 2019.",
        "Start date and stop date of each treatment are given below in the letter.",
        "Regimen   Therapy   Treatment",  # three words, one role
    ],
)
def test_prose_with_column_words_is_not_a_table(text: str) -> None:
    page = page_from_text(f"Assessment\n{text}\nShe tolerated it well.\nFollow up in 4 weeks.\n")
    assert document_structure([page]).tables == ()


@pytest.mark.parametrize(
    ("header", "role"),
    [
        ("Regimen", "regimen"),
        ("Regimeu", "regimen"),  # OCR: a letter misread in a long word still names the column
        ("Start/Stop", "dates"),
        ("Date(s)", "dates"),
        ("Reason for discontinuation", "reason_stopped"),
        ("Best response (IMWG)", "response"),
        ("# of cycles", "cycles"),
        ("Line of therapy", "line"),
        ("LOT", "line"),
        ("Date administered", "date_given"),
        ("Fill date", "date_dispensed"),
        ("To", "stop"),  # a whole cell only
    ],
)
def test_header_words_name_column_roles(header: str, role: str) -> None:
    lexicon = load_structure_lexicon()
    from extractors.structure.vocabulary import tokens

    words = list(tokens(header))
    found = lexicon.column_whole.whole(words)
    if found is None:
        hits = lexicon.column_phrases.find_all(words)
        found = max(hits, key=lambda h: h[1])[2] if hits else None
    assert found == role


def test_to_inside_a_longer_header_names_no_column() -> None:
    lexicon = load_structure_lexicon()
    assert lexicon.column_phrases.find_all(["time", "to", "progression"]) == []


# --------------------------------------------------------------------------- rules


def _word(text: str, x0: float, y0: float, x1: float, y1: float) -> Word:
    return Word(text=text, bbox=BBox(x0=x0, y0=y0, x1=x1, y1=y1), source=WordSource.TEXT_LAYER)


def test_a_vertical_rule_splits_cells_that_touch() -> None:
    """Cells only a rule apart (no gap a reader would see as a column break) are two cells."""
    w, h = 612.0, 792.0
    words = []
    rows = [
        ("Drug", "Start", "Stop"),
        ("Pomalidomide", "07/2021", "03/2023"),
        ("Carfilzomib", "04/2023", "05/2024"),
    ]
    for r, cells in enumerate(rows):
        y = 100 + 16 * r
        for c, text in enumerate(cells):
            x = 60 + 62 * c  # 62 pt columns: "Pomalidomide" nearly fills its column
            words.append(_word(text, x / w, y / h, (x + 5.4 * len(text)) / w, (y + 10) / h))
    rules = [
        Rule(x0=(58 + 62 * c) / w, y0=96 / h, x1=(58 + 62 * c) / w, y1=150 / h, horizontal=False)
        for c in range(4)
    ]
    page = Page(
        number=1, width=w, height=h, words=tuple(words), source=WordSource.TEXT_LAYER, rules=tuple(rules)
    )
    (table,) = document_structure([page]).tables
    assert [[c.text for c in row.cells] for row in table.rows] == [list(rows[1]), list(rows[2])]


def test_a_date_a_narrow_cell_broke_at_its_hyphen_is_one_date_again() -> None:
    """ "2021-" over "03" in a narrow Start column read "2021- 03", and no date reader
    took it for March 2021: the line kept only its year.  "Mar-" over "17" (a month's
    name and a two-digit year) lost the start altogether."""
    w, h = 612.0, 792.0
    cells = [
        ("Line", 40, 100),
        ("Regimen", 80, 100),
        ("Start", 300, 100),
        ("Stop", 360, 100),
        ("1", 40, 120),
        ("VRd", 80, 120),
        ("x4", 110, 120),
        ("2021-", 300, 120),
        ("2023-01", 360, 120),
        ("ASCT", 80, 132),
        ("03", 300, 132),
        ("2", 40, 148),
        ("DPd", 80, 148),
        ("2023/", 300, 148),
        ("2023-09", 360, 148),
        ("02", 300, 160),
        ("3", 40, 176),
        ("EPd", 80, 176),
        ("Mar-", 300, 176),
        ("May-23", 360, 176),
        ("17", 300, 188),
    ]
    words = [_word(t, x / w, y / h, (x + 5.4 * len(t)) / w, (y + 10) / h) for t, x, y in cells]
    page = Page(number=1, width=w, height=h, words=tuple(words), source=WordSource.TEXT_LAYER)
    (table,) = document_structure([page]).tables
    starts = [row.cell("start") for row in table.rows]
    assert [c.text for c in starts if c is not None] == ["2021-03", "2023/02", "Mar-17"]


def test_a_header_cell_naming_two_things_is_one_column_its_cells_write_across() -> None:
    """ "Best resp / reason stopped" is one cell, but its words read as two columns a word
    apart; the first row's "completed;" straddled their bound and the table ended before
    its first line: the history lost every date.  Words and rules as tesseract and the
    rule finder placed them on a 204x196 fax (pixels of the 1734x2156 page)."""
    w, h = 1734.0, 2156.0
    placed = [
        ("Line", 116, 907, 172, 926),
        ("Regimen", 207, 906, 328, 930),
        ("1", 116, 983, 129, 1000),
        ("VMP", 206, 982, 253, 999),
        ("(Velcade/melphalan/prednisone)", 275, 977, 750, 1004),
        ("x", 772, 981, 785, 995),
        ("9,", 805, 977, 828, 999),
        ("then", 208, 1013, 269, 1032),
        ("observation", 288, 1012, 462, 1032),
        ("2", 117, 1060, 129, 1078),
        ("Rd", 208, 1058, 237, 1077),
        ("(Revlimid/dex)", 259, 1056, 477, 1082),
        ("at", 499, 1057, 526, 1075),
        ("relapse", 548, 1056, 656, 1079),
        ("3", 117, 1102, 130, 1120),
        ("DVd", 208, 1100, 253, 1119),
        ("(Darzalex", 276, 1099, 415, 1124),
        ("IV/Velcade/dex)", 435, 1097, 670, 1121),
        ("4", 117, 1148, 130, 1165),
        ("Pd", 209, 1146, 238, 1165),
        ("(Pomalyst/dex)", 260, 1144, 477, 1169),
        ("Start", 879, 899, 948, 929),
        ("Stop", 1093, 900, 1156, 924),
        ("Best", 1307, 899, 1368, 918),
        ("resp", 1380, 903, 1439, 922),
        ("/", 1449, 898, 1458, 919),
        ("reason", 1469, 902, 1562, 917),
        ("stopped", 1306, 929, 1419, 953),
        ("Jun-14", 881, 977, 973, 995),
        ("Feb-15", 1095, 974, 1187, 993),
        ("VGPR", 1306, 974, 1369, 992),
        ("/", 1388, 972, 1400, 991),
        ("completed;", 1420, 971, 1574, 995),
        ("no", 1308, 1009, 1337, 1024),
        ("maint.", 1356, 1005, 1445, 1024),
        ("Sept.", 880, 1054, 953, 1077),
        ("2017", 977, 1054, 1038, 1072),
        ("Jan", 1096, 1053, 1139, 1071),
        ("2021", 1159, 1052, 1221, 1070),
        ("PR", 1308, 1052, 1338, 1069),
        ("/", 1356, 1050, 1369, 1069),
        ("PD", 1389, 1051, 1418, 1069),
        ("2/21", 881, 1096, 942, 1115),
        ("7/23", 1095, 1094, 1156, 1113),
        ("VGPR", 1307, 1094, 1370, 1112),
        ("/", 1389, 1092, 1401, 1111),
        ("PD", 1421, 1093, 1451, 1111),
        ("8/2023", 881, 1141, 974, 1160),
        ("3/2026", 1096, 1139, 1188, 1158),
        ("MR", 1308, 1139, 1338, 1157),
        ("/", 1358, 1137, 1369, 1157),
        ("PD", 1390, 1138, 1418, 1156),
    ]
    ruled = [
        (True, 101, 893, 1632, 893),
        (True, 101, 967, 1632, 967),
        (True, 103, 1043, 1633, 1043),
        (True, 103, 1088, 1633, 1088),
        (True, 103, 1132, 1634, 1132),
        (True, 103, 1175, 1634, 1175),
        (False, 1081, 888, 1081, 1175),
        (False, 1295, 887, 1295, 1173),
        (False, 866, 890, 866, 1176),
        (False, 194, 894, 194, 1181),
    ]
    page = Page(
        number=1,
        width=w,
        height=h,
        dpi=(204.0, 196.0),
        words=tuple(_word(t, x0 / w, y0 / h, x1 / w, y1 / h) for t, x0, y0, x1, y1 in placed),
        source=WordSource.OCR,
        rules=tuple(
            Rule(x0=x0 / w, y0=y0 / h, x1=x1 / w, y1=y1 / h, horizontal=hz) for hz, x0, y0, x1, y1 in ruled
        ),
    )
    (table,) = document_structure([page]).tables
    starts = [row.cell("start") for row in table.rows]
    assert [c.text for c in starts if c is not None] == ["Jun-14", "Sept. 2017", "2/21", "8/2023"]


def _table_row_image(dpi: int = 300) -> np.ndarray:
    """A line of table text between two rules, as a fax page prepared for OCR shows it."""
    img = Image.new("L", (1800, 160), 255)
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 40)
    draw.text((40, 50), "Bortezomib, lenalidomide, dexamethasone (VRd) induction", fill=0, font=font)
    draw.line((10, 20, 1790, 20), fill=0, width=4)
    draw.line((10, 130, 1790, 130), fill=0, width=4)
    return np.asarray(img)


def test_rule_removal_keeps_the_letters_beside_a_rule() -> None:
    """Regression: closing the gaps of a broken rule also bridged the tops of a row of
    letters into a long thin run, and erasing it took the top off every letter
    ("Bortezomib" read "Boriezoinib").  A rule is ink along nearly all its length."""
    grey = _table_row_image()
    cleaned, segments = strip_rules(grey, 300)
    text_band = slice(40, 115)
    before = int(ink_mask(grey[text_band]).sum())
    after = int(ink_mask(cleaned[text_band]).sum())
    assert after >= 0.97 * before
    assert sum(1 for s in segments if s.horizontal) == 2
    assert int(ink_mask(cleaned[15:26]).sum()) == 0 and int(ink_mask(cleaned[125:136]).sum()) == 0


@pytest.mark.ocr
def test_a_ruled_table_faxed_at_normal_resolution(reader: Reader) -> None:
    doc = DOCS["table-grid"]
    assert isinstance(doc, TableDoc)
    score = score_tables(doc, reader.document(doc.name, "normal"), reader.structure(doc.name, "normal"))
    assert score.accuracy >= 0.95, score.errors
    document = reader.document(doc.name, "normal")
    assert document.pages[0].rules, "the rules removed before OCR are kept on the page"


@pytest.mark.ocr
def test_a_table_on_a_page_fed_upside_down_and_crooked(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Boxes are kept in the stored page's frame; rows and columns are found on the page as
    it was read (turned by Page.rotation, straightened by Page.skew)."""
    from structure_docs import write_table_pdf

    from common.settings import Settings
    from fixtures.render import fax_pages, save_fax_tiff
    from reading.reader import read_document

    doc = DOCS["table-grid"]
    assert isinstance(doc, TableDoc)
    pdf = write_table_pdf(doc, tmp_path / "table.pdf")
    pages = fax_pages(pdf, dpi=(204, 196), seed=3, skew_deg=2.5, speckle=0.001, rotate=180)
    turned = save_fax_tiff(pages, tmp_path / "turned.tif", dpi=(204, 196))
    document = read_document(turned, Settings(workers=1))
    assert document.pages[0].rotation == 180 and abs(document.pages[0].skew) > 1.5
    score = score_tables(doc, document, document_structure(document.pages))
    assert score.accuracy >= 0.95, score.errors
