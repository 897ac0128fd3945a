"""Generated inputs for the page-structure tests, each with its truth.

Tables drawn with real columns (reportlab ``Table``: full grid, a rule under the header
only, no rules at all; headers worded differently; dates in several formats; wrapped
cells; a table continuing over a page break with and without its header repeated),
payer request forms with checkboxes in several glyph styles, a packet with another
patient's note filed inside it, and a cover sheet that promises more pages than were sent.

Each is written as a born-digital PDF (text layer, read by pdfplumber) and as G3 faxes at
204x196 and 204x98 (``fixtures/render.py``, as the corpus generator renders its faxes:
fax header line, skew, speckle), and read through :func:`reading.reader.read_document`
with real tesseract.  Every name, date of birth and record number is fictional.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import letter
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")  # Debian fonts-dejavu-core
RESOLUTIONS: dict[str, tuple[int, int]] = {"fine": (204, 196), "normal": (204, 98)}


def _fonts() -> None:
    if "DejaVu" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont("DejaVu", str(DEJAVU)))


# --------------------------------------------------------------------------- tables


@dataclass(frozen=True)
class TableSpec:
    """One table: header cells, body rows (cell texts), the roles the header names."""

    header: tuple[str, ...]
    roles: tuple[str | None, ...]
    rows: tuple[tuple[str, ...], ...]
    style: str  # "grid", "header_rule", "none", "box"
    valign: str = "TOP"
    widths: tuple[float, ...] | None = None  # points
    repeat_header: bool = True
    font_size: float = 9.5


@dataclass(frozen=True)
class TableDoc:
    name: str
    before: tuple[str, ...]  # paragraphs above the table
    tables: tuple[TableSpec, ...]
    after: tuple[str, ...] = ()
    spacer_pt: float = 0.0  # room above the table (pushes a table over the page break)
    multi_page: bool = False


_LETTERHEAD = (
    "Hartwell Oncology Associates - 100 Example Way, Springfield",
    "Patient: Ada Quill (fictional)   DOB: 04/12/1956   MRN: HX-20417",
)
_PROSE = (
    "The patient has relapsed and refractory multiple myeloma. Her treatment to date is summarised "
    "below; the dates are those of the first and last doses of each regimen."
)
_AFTER = (
    "Assessment: disease progression on the most recent line; she remains a candidate for further therapy.",
)

_TREATMENT_ROWS = (
    (
        "1",
        "Bortezomib, lenalidomide, dexamethasone (VRd) induction",
        "03/2019",
        "09/2019",
        "VGPR",
        "Completed",
    ),
    ("1", "Autologous stem cell transplant", "11/2019", "11/2019", "CR", "-"),
    ("1", "Lenalidomide maintenance", "01/2020", "06/2021", "CR", "Progression"),
    ("2", "Daratumumab, pomalidomide, dexamethasone", "07/2021", "03/2023", "PR", "Biochemical progression"),
    ("3", "Carfilzomib, dexamethasone", "04/2023", "05/2024", "SD", "Progression and fatigue"),
    ("4", "Elotuzumab, pomalidomide, dexamethasone", "06/2024", "01/2026", "PD", "Progression"),
)

_LOT_ROWS = (
    ("1", "VRd", "Mar 2018", "Aug 2018", "6", "VGPR"),
    ("1", "ASCT (melphalan 200)", "Oct 2018", "Oct 2018", "1", "CR"),
    ("2", "Daratumumab-lenalidomide-dexamethasone", "Feb 2020", "Dec 2022", "34", "PR"),
    ("3", "Carfilzomib + pomalidomide + dexamethasone", "Jan 2023", "Sep 2023", "9", "PD"),
    ("4", "Teclistamab (bispecific; stopped for infections)", "Nov 2023", "Jun 2024", "8", "MR"),
)

_SPAN_ROWS = (
    (
        "1",
        "Cyclophosphamide, bortezomib, dexamethasone (CyBorD)",
        "02/2017 - 07/2017",
        "PR",
        "Completed induction",
    ),
    ("2", "Lenalidomide and dexamethasone", "09/2017 - 04/2020", "VGPR", "Progression"),
    ("3", "Isatuximab, pomalidomide, dexamethasone", "05/2020 - 02/2022", "PR", "Progression"),
    (
        "4",
        "Selinexor, bortezomib, dexamethasone",
        "03/2022 - 10/2022",
        "SD",
        "Intolerance (nausea, weight loss)",
    ),
)

_MED_ROWS = (
    ("Lenalidomide", "10 mg", "PO", "Days 1-21 of 28", "2019-03-14", "2021-06-02", "Discontinued"),
    ("Dexamethasone", "20 mg", "PO", "Weekly", "3/14/19", "1/15/26", "Discontinued"),
    ("Acyclovir", "400 mg", "PO", "Twice daily", "3/14/19", "", "Active"),
    ("Pomalidomide", "4 mg", "PO", "Days 1-21 of 28", "2021-07-06", "2023-03-20", "Discontinued"),
    ("Aspirin", "81 mg", "PO", "Daily", "2019-03-14", "", "Active"),
)


def _flowsheet_rows(count: int) -> tuple[tuple[str, ...], ...]:
    rng = random.Random(9)
    drugs = (("Daratumumab", "16 mg/kg"), ("Bortezomib", "1.3 mg/m2"), ("Dexamethasone", "20 mg"))
    rows = []
    day = 3
    month = 1
    for i in range(count):
        drug, dose = drugs[i % 3]
        rows.append((f"{month:02d}/{day:02d}/2022", drug, dose, str(1 + i // 6), str(1 + (i % 6))))
        day += rng.choice((0, 7)) if i % 3 == 2 else 0
        if day > 27:
            day, month = 3, month + 1
    return tuple(rows)


_LONG_ROWS = tuple(
    (regimen, began, ended, cycles, resp)
    for regimen, began, ended, cycles, resp in (
        ("Thalidomide, dexamethasone", "January 2012", "June 2012", "6", "PR"),
        ("Autologous transplant (Mel200)", "August 2012", "August 2012", "1", "VGPR"),
        ("Thalidomide maintenance", "October 2012", "March 2015", "-", "VGPR"),
        ("Bortezomib, dexamethasone", "May 2015", "December 2015", "8", "PR"),
        ("Lenalidomide, dexamethasone", "February 2016", "July 2018", "29", "VGPR"),
        ("Second autologous transplant", "October 2018", "October 2018", "1", "CR"),
        ("Ixazomib maintenance", "January 2019", "April 2021", "27", "CR"),
        ("Daratumumab, bortezomib, dexamethasone", "June 2021", "May 2022", "12", "PR"),
        ("Pomalidomide, cyclophosphamide, dexamethasone", "July 2022", "February 2023", "8", "SD"),
        ("Belantamab mafodotin (trial)", "April 2023", "September 2023", "5", "PD"),
    )
)

TABLE_DOCS: tuple[TableDoc, ...] = (
    TableDoc(
        "table-grid",
        (*_LETTERHEAD, "Treatment history", _PROSE),
        (
            TableSpec(
                ("Line", "Regimen", "Start", "Stop", "Best response", "Reason stopped"),
                ("line", "regimen", "start", "stop", "response", "reason_stopped"),
                _TREATMENT_ROWS,
                "grid",
                widths=(32, 170, 52, 52, 60, 118),
            ),
        ),
        _AFTER,
    ),
    TableDoc(
        "table-unruled",
        (*_LETTERHEAD, "Prior lines of therapy", _PROSE),
        (
            TableSpec(
                ("LOT", "Therapy", "Start date", "End date", "Cycles", "Response"),
                ("line", "regimen", "start", "stop", "cycles", "response"),
                _LOT_ROWS,
                "none",
                valign="BOTTOM",
                widths=(34, 190, 66, 66, 46, 60),
            ),
        ),
        _AFTER,
    ),
    TableDoc(
        "table-header-rule",
        (*_LETTERHEAD, "Oncologic history", _PROSE),
        (
            TableSpec(
                ("#", "Treatment", "Dates", "Outcome", "Reason for discontinuation"),
                ("line", "regimen", "dates", "response", "reason_stopped"),
                _SPAN_ROWS,
                "header_rule",
                valign="TOP",
                widths=(26, 190, 110, 56, 130),
            ),
        ),
        _AFTER,
    ),
    TableDoc(
        "table-medications",
        (*_LETTERHEAD, "Medication list (active and discontinued)"),
        (
            TableSpec(
                ("Medication", "Dose", "Route", "Frequency", "Start", "Stop", "Status"),
                ("drug", "dose", "route", "frequency", "start", "stop", "status"),
                _MED_ROWS,
                "grid",
                valign="MIDDLE",
                widths=(84, 48, 40, 96, 64, 64, 80),
            ),
        ),
        (),
    ),
    TableDoc(
        "table-flowsheet-continued",
        (*_LETTERHEAD, "Infusion flowsheet", "Doses given in clinic, by date of administration."),
        (
            TableSpec(
                ("Date given", "Drug", "Dose", "Cycle", "Day"),
                ("date_given", "drug", "dose", "cycles", None),
                _flowsheet_rows(60),
                "grid",
                widths=(80, 120, 80, 50, 40),
                repeat_header=True,
            ),
        ),
        ("End of flowsheet.",),
        multi_page=True,
    ),
    TableDoc(
        "table-continued-no-repeat",
        (*_LETTERHEAD, "Treatment summary", _PROSE),
        (
            TableSpec(
                ("Regimen", "Began", "Ended", "No. of cycles", "Best response"),
                ("regimen", "start", "stop", "cycles", "response"),
                _LONG_ROWS,
                "box",
                widths=(200, 80, 80, 70, 70),
                repeat_header=False,
                font_size=10.5,
            ),
        ),
        _AFTER,
        spacer_pt=430,
        multi_page=True,
    ),
)


def _table_style(spec: TableSpec) -> TableStyle:
    commands: list[Any] = [
        ("VALIGN", (0, 0), (-1, -1), spec.valign),
        ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
        ("FONTSIZE", (0, 0), (-1, -1), spec.font_size),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if spec.style == "grid":
        commands.append(("GRID", (0, 0), (-1, -1), 0.7, colors.black))
    elif spec.style == "header_rule":
        commands.append(("LINEBELOW", (0, 0), (-1, 0), 1.0, colors.black))
    elif spec.style == "box":
        commands += [
            ("BOX", (0, 0), (-1, -1), 0.8, colors.black),
            ("INNERGRID", (0, 0), (-1, -1), 0.5, colors.black),
        ]
    return TableStyle(commands)


def _cell(text: str, size: float, key: tuple[int, int], bold: bool = False) -> Paragraph:
    style = ParagraphStyle(
        "cell", fontName="Helvetica-Bold" if bold else "Helvetica", fontSize=size, leading=size * 1.2
    )
    cell = Paragraph(text.replace("&", "&amp;"), style)
    cell._truth_key = key  # type: ignore[attr-defined]  # (table, body row; -1 for the header)
    return cell


@dataclass(frozen=True)
class TruthCell:
    """Where a cell was drawn: page, box in points from the page's top-left corner."""

    table: int
    row: int  # body row, counted over the table's pages; -1 for the header
    column: int
    page: int
    box: tuple[float, float, float, float]
    text: str


class _RecordedTable(Table):
    """A reportlab Table that notes where each of its cells was drawn (splits included:
    reportlab makes the parts of a split table with ``self.__class__``)."""

    drawn: list[TruthCell] | None = None

    def drawOn(self, canvas: Any, x: float, y: float, _sW: float = 0) -> None:
        sink = _RecordedTable.drawn
        if sink is not None:
            page_h = canvas._pagesize[1]
            cols, rows = self._colpositions, self._rowpositions
            for r, cells in enumerate(self._cellvalues):
                for c, value in enumerate(cells):
                    # reportlab keeps a cell's flowables as a tuple
                    cell = value[0] if isinstance(value, list | tuple) and value else value
                    key = getattr(cell, "_truth_key", None)
                    if key is None:
                        continue
                    x0, x1 = x + cols[c], x + cols[c + 1]
                    top, bottom = page_h - (y + rows[r]), page_h - (y + rows[r + 1])
                    text = " ".join(cell.getPlainText().split())
                    sink.append(
                        TruthCell(key[0], key[1], c, canvas.getPageNumber(), (x0, top, x1, bottom), text)
                    )
        super().drawOn(canvas, x, y, _sW)


def _table_story(doc: TableDoc) -> list[Any]:
    body = ParagraphStyle("body", fontName="Helvetica", fontSize=10, leading=13)
    story: list[Any] = [Paragraph(p, body) for p in doc.before]
    story.append(Spacer(1, 6 + doc.spacer_pt))
    for t, spec in enumerate(doc.tables):
        data = [[_cell(h, spec.font_size, (t, -1), bold=True) for h in spec.header]]
        data += [[_cell(c, spec.font_size, (t, r)) for c in row] for r, row in enumerate(spec.rows)]
        story.append(
            _RecordedTable(
                data,
                colWidths=list(spec.widths) if spec.widths else None,
                style=_table_style(spec),
                repeatRows=1 if spec.repeat_header else 0,
                hAlign="LEFT",
            )
        )
        story.append(Spacer(1, 10))
    story += [Paragraph(p, body) for p in doc.after]
    return story


def _build(story: list[Any], out: Any) -> None:
    SimpleDocTemplate(
        out, pagesize=letter, leftMargin=54, rightMargin=54, topMargin=54, bottomMargin=54, invariant=1
    ).build(story)


def write_table_pdf(doc: TableDoc, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    _build(_table_story(doc), str(out))
    return out


def table_truth(doc: TableDoc) -> list[TruthCell]:
    """Every cell of the document's tables where it was drawn (the same layout as the PDF:
    reportlab is deterministic)."""
    import io

    _RecordedTable.drawn = []
    try:
        _build(_table_story(doc), io.BytesIO())
        return list(_RecordedTable.drawn)
    finally:
        _RecordedTable.drawn = None


# --------------------------------------------------------------------------- forms


@dataclass(frozen=True)
class Style:
    """How a form prints its boxes: a glyph for ticked, one for unticked (None: blank)."""

    name: str
    ticked: str | None
    unticked: str | None
    font: str = "Helvetica"
    drawn: bool = False  # a square drawn as a rectangle, the tick as an "X" inside


STYLES: tuple[Style, ...] = (
    Style("brackets", "[X]", "[ ]"),
    Style("ballot", "\u2612", "\u2610", font="DejaVu"),
    Style("parens", "(x)", "( )"),
    Style("squares", "\u25a0", "\u25a1", font="DejaVu"),
    Style("ticks", "\u2713", "\u2610", font="DejaVu"),
    Style("underlines", "_X_", "___", font="Courier"),
    Style("drawn", "X", "", drawn=True),
)


@dataclass(frozen=True)
class Option:
    label: str
    ticked: bool


@dataclass(frozen=True)
class Question:
    text: str
    options: tuple[Option, ...]
    inline: bool  # options on the question's own line


_QUESTIONS: tuple[tuple[str, tuple[str, ...], bool], ...] = (
    ("Diagnosis confirmed by bone marrow biopsy?", ("Yes", "No"), True),
    ("Prior proteasome inhibitor:", ("Bortezomib", "Carfilzomib", "Ixazomib", "None received"), False),
    (
        "Prior immunomodulatory agent:",
        ("Lenalidomide", "Pomalidomide", "Thalidomide", "None received"),
        False,
    ),
    ("Prior anti-CD38 antibody:", ("Daratumumab", "Isatuximab", "None received"), False),
    ("Prior BCMA-directed therapy?", ("Yes", "No"), True),
    ("Setting of administration:", ("Inpatient", "Outpatient"), True),
    ("ECOG performance status:", ("0", "1", "2", "3 or more"), True),
    ("Tocilizumab available on site?", ("Yes", "No", "Unknown"), True),
)


def form_questions(seed: int) -> tuple[Question, ...]:
    rng = random.Random(seed)
    out = []
    for text, labels, inline in _QUESTIONS:
        single = inline
        picks = (
            {rng.randrange(len(labels))}
            if single
            else {i for i in range(len(labels)) if rng.random() < 0.45} or {rng.randrange(len(labels))}
        )
        if not single and labels[-1] == "None received" and len(labels) - 1 in picks:
            picks = {len(labels) - 1} if rng.random() < 0.5 else picks - {len(labels) - 1}
        out.append(Question(text, tuple(Option(lab, i in picks) for i, lab in enumerate(labels)), inline))
    return tuple(out)


@dataclass(frozen=True)
class FormDoc:
    name: str
    style: Style
    questions: tuple[Question, ...]
    member: tuple[str, str, str]  # name, DOB, member id


@dataclass(frozen=True)
class Placement:
    """One thing the form writer draws; options carry their truth."""

    text: str
    font: str
    size: float
    x: float
    y: float  # baseline, PDF points from the bottom
    question: int | None = None
    option: int | None = None
    ticked: bool | None = None
    drawn_box: bool = False  # a rectangle, not a glyph

    def box(self, page_h: float = 792.0) -> tuple[float, float, float, float]:
        """Label or glyph box in points from the page's top-left corner."""
        if self.drawn_box:
            side = self.size * 0.95
            return self.x, page_h - (self.y - 1.5 + side), self.x + side, page_h - (self.y - 1.5)
        width = pdfmetrics.stringWidth(self.text, self.font, self.size)
        return (
            self.x,
            page_h - (self.y + 0.8 * self.size),
            self.x + width,
            page_h - (self.y - 0.2 * self.size),
        )


def _glyph(
    style: Style, ticked: bool, x: float, y: float, size: float, q: int, o: int
) -> tuple[list[Placement], float]:
    """The box for one option at (x, baseline y); returns what to draw and where the label starts."""
    if style.drawn:
        side = size * 0.95
        out = [Placement("", "Helvetica", size, x, y, q, o, ticked, drawn_box=True)]
        if ticked:
            out.append(Placement("X", "Helvetica-Bold", size, x + side * 0.17, y))
        return out, x + side + size * 0.6
    text = style.ticked if ticked else style.unticked
    width = pdfmetrics.stringWidth(style.ticked or "X", style.font, size)
    out = [Placement(text, style.font, size, x, y)] if text else []
    return out, x + width + size * 0.6


def form_layout(doc: FormDoc) -> list[Placement]:
    _fonts()
    size = 11.0
    plain = "Helvetica"
    out = [Placement("CarePartners - Prior Authorization Request Form", "Helvetica-Bold", 13, 54, 740)]
    y = 718.0
    name, dob, member_id = doc.member
    out += [
        Placement(f"Member name: {name}", plain, size, 54, y),
        Placement(f"Date of birth: {dob}", plain, size, 330, y),
    ]
    y -= 16
    out += [
        Placement(f"Member ID: {member_id}", plain, size, 54, y),
        Placement("Requested drug: idecabtagene vicleucel", plain, size, 330, y),
    ]
    y -= 16
    out.append(Placement("Number of prior lines of therapy: 4", plain, size, 54, y))
    y -= 26
    for qi, q in enumerate(doc.questions):
        out.append(Placement(q.text, plain, size, 54, y))
        if q.inline:
            x = 54 + pdfmetrics.stringWidth(q.text, plain, size) + 18
        else:
            x, y = 78.0, y - 17
        for oi, opt in enumerate(q.options):
            drawn, x = _glyph(doc.style, opt.ticked, x, y, size, qi, oi)
            out += drawn
            out.append(Placement(opt.label, plain, size, x, y, qi, oi, opt.ticked))
            if q.inline:
                x += pdfmetrics.stringWidth(opt.label, plain, size) + 22
            else:
                x, y = 78.0, y - 17
        y -= 22 if q.inline else 6
    out.append(
        Placement(
            "Prescriber signature: ________________________   Date: 11/02/2026", plain, size, 54, y - 10
        )
    )
    return out


def write_form_pdf(doc: FormDoc, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    c = canvas.Canvas(str(out), pagesize=letter, invariant=1)
    for item in form_layout(doc):
        if item.drawn_box:
            side = item.size * 0.95
            c.setLineWidth(0.8)
            c.rect(item.x, item.y - 1.5, side, side)
        elif item.text:
            c.setFont(item.font, item.size)
            c.drawString(item.x, item.y, item.text)
    c.showPage()
    c.save()
    return out


def option_truth(doc: FormDoc) -> list[Placement]:
    """Each option's label as drawn, with its question, its place and whether it is ticked."""
    return [p for p in form_layout(doc) if p.option is not None and not p.drawn_box]


FORM_DOCS: tuple[FormDoc, ...] = tuple(
    FormDoc(
        f"form-{style.name}", style, form_questions(seed=11 + i), ("Ada Quill", "04/12/1956", "CPX4471920")
    )
    for i, style in enumerate(STYLES)
)


# --------------------------------------------------------------------------- packets


@dataclass(frozen=True)
class PacketDoc:
    name: str
    pages: tuple[tuple[str, ...], ...]  # lines of each page
    other_patient_pages: tuple[int, ...] = ()
    stated_pages: int | None = None


_COVER = (
    "FAX COVER SHEET",
    "",
    "Date: 11/02/2026",
    "To: CarePartners of Connecticut - Utilization Management",
    "Fax: 555-0100",
    "From: Hartwell Oncology Associates",
    "Phone: 555-0142   Fax: 555-0143",
    "Pages (including cover): {pages}",
    "",
    "RE: Prior authorization request, Abecma - Ada Quill, MRN HX-20417",
    "",
    "CONFIDENTIALITY NOTICE: This facsimile contains protected health information.",
)

_MEMBER_LETTER = (
    "Hartwell Oncology Associates",
    "Patient: Ada Quill   DOB: 04/12/1956   MRN: HX-20417",
    "Date of service: 11/01/2026",
    "",
    "Letter of medical necessity",
    "Ms. Quill is a 70 year old woman with relapsed and refractory multiple myeloma. She has",
    "received four prior lines of therapy including lenalidomide, bortezomib, daratumumab and",
    "carfilzomib, and is triple-class refractory. She has never received CAR-T cell therapy or",
    "any BCMA-directed therapy. We request authorization for idecabtagene vicleucel (Abecma).",
)

_OTHER_NOTE = (
    "Riverside Cancer Center - Progress note",
    "Patient: Bruno Castellane   DOB: 09/30/1949   MRN: RC-883102",
    "Date of service: 10/28/2026",
    "",
    "History: multiple myeloma diagnosed 2016. He received ciltacabtagene autoleucel (Carvykti)",
    "in March 2024 with a complete response, and teclistamab in 2025 after relapse.",
    "Plan: continue surveillance.",
)

_MEMBER_HISTORY = (
    "Hartwell Oncology Associates",
    "Patient: Ada Quill   DOB: 04/12/1956   MRN: HX-20417",
    "",
    "Treatment history",
    "1. VRd 03/2019 - 09/2019, then autologous stem cell transplant 11/2019 and lenalidomide",
    "   maintenance until 06/2021.",
    "2. Daratumumab, pomalidomide, dexamethasone 07/2021 - 03/2023.",
    "3. Carfilzomib, dexamethasone 04/2023 - 05/2024.",
    "4. Elotuzumab, pomalidomide, dexamethasone 06/2024 - 01/2026, progression.",
)

PACKET_DOCS: tuple[PacketDoc, ...] = (
    PacketDoc(
        "packet-other-patient",
        (tuple(line.format(pages=4) for line in _COVER), _MEMBER_LETTER, _OTHER_NOTE, _MEMBER_HISTORY),
        other_patient_pages=(3,),
        stated_pages=4,
    ),
    PacketDoc(
        "packet-pages-missing",
        (tuple(line.format(pages=6) for line in _COVER), _MEMBER_LETTER, _MEMBER_HISTORY),
        stated_pages=6,
    ),
)


def packet_without_other_patient(doc: PacketDoc) -> PacketDoc:
    keep = tuple(p for i, p in enumerate(doc.pages, start=1) if i not in doc.other_patient_pages)
    return PacketDoc(f"{doc.name}-clean", keep, (), doc.stated_pages)


def write_packet_pdf(doc: PacketDoc, out: Path) -> Path:
    from fixtures.render import text_pdf

    return text_pdf("\f".join("\n".join(page) for page in doc.pages), out)


# --------------------------------------------------------------------------- laid-out pages


@dataclass(frozen=True)
class Text:
    """A run of text at (x, top) in points from the page's top-left corner."""

    text: str
    x: float
    top: float
    size: float = 9.5
    font: str = "DejaVu"  # has the box glyphs (☒ ☐ □ ■ ✓) as well as letters


@dataclass(frozen=True)
class Line:
    """A ruling line, points from the top-left corner."""

    x0: float
    y0: float
    x1: float
    y1: float


@dataclass(frozen=True)
class LayoutDoc:
    """Pages drawn item by item, as an office's HTML form prints: cells with rules, labels
    over values, boxes a padding's width from a cell's edge."""

    name: str
    pages: tuple[tuple[Text | Line, ...], ...]


def grid(
    x: float,
    top: float,
    widths: Sequence[float],
    rows: Sequence[Sequence[str]],
    *,
    size: float = 9.5,
    line_gap: float = 1.25,
    pad: float = 3.0,
    rules: bool = True,
) -> tuple[Text | Line, ...]:
    """A table of cells as a browser draws one: each cell's lines ("\\n" between them) from
    its top-left corner plus the padding, rows as tall as their tallest cell, and (``rules``)
    every cell's border."""
    out: list[Text | Line] = []
    edges = [x]
    for w in widths:
        edges.append(edges[-1] + w)
    y = top
    tops = [y]
    for row in rows:
        lines = max(len(cell.split("\n")) for cell in row)
        for c, cell in enumerate(row):
            for k, text in enumerate(cell.split("\n")):
                if text:
                    out.append(Text(text, edges[c] + pad, y + pad + k * size * line_gap, size))
        y += 2 * pad + lines * size * line_gap
        tops.append(y)
    if rules:
        out += [Line(edges[0], t, edges[-1], t) for t in tops]
        out += [Line(e, tops[0], e, tops[-1]) for e in edges]
    return tuple(out)


def write_layout_pdf(doc: LayoutDoc, out: Path) -> Path:
    _fonts()
    out.parent.mkdir(parents=True, exist_ok=True)
    page_h = letter[1]
    c = canvas.Canvas(str(out), pagesize=letter, invariant=1)
    for items in doc.pages:
        for item in items:
            if isinstance(item, Line):
                c.setLineWidth(0.75)
                c.line(item.x0, page_h - item.y0, item.x1, page_h - item.y1)
            else:
                c.setFont(item.font, item.size)
                # the baseline a browser puts under a line box's top: about 0.8 em down
                c.drawString(item.x, page_h - item.top - 0.8 * item.size, item.text)
        c.showPage()
    c.save()
    return out


# --------------------------------------------------------------------------- renderings


@dataclass
class Made:
    """The session's rendered documents, made once and kept by (name, rendering)."""

    root: Path
    _paths: dict[tuple[str, str], Path] = field(default_factory=dict)

    def path(self, name: str, rendering: str, writer: Callable[[Path], Path]) -> Path:
        key = (name, rendering)
        if key not in self._paths:
            pdf = self.root / f"{name}.pdf"
            if not pdf.exists():
                writer(pdf)
            self._paths[key] = (
                pdf if rendering == "text" else fax(pdf, rendering, self.root / f"{name}.{rendering}.tif")
            )
        return self._paths[key]


def fax(pdf: Path, rendering: str, out: Path, *, seed: int = 5) -> Path:
    """The PDF as a G3 fax at fine (204x196) or normal (204x98) resolution, as the corpus's faxes."""
    from fixtures.render import fax_pages, save_fax_tiff

    dpi = RESOLUTIONS[rendering]
    rng = random.Random(f"{pdf.name}/{rendering}/{seed}")
    pages = fax_pages(
        pdf,
        dpi=dpi,
        seed=seed,
        skew_deg=round(rng.uniform(-1.0, 1.0), 2),
        speckle=0.001,
        header="11/02/2026 09:41  FROM: 555-0143 HARTWELL ONC  TO: 555-0100",
    )
    return save_fax_tiff(pages, out, dpi=dpi, compression="group3")


def writer_for(doc: TableDoc | FormDoc | PacketDoc | LayoutDoc) -> Callable[[Path], Path]:
    if isinstance(doc, LayoutDoc):
        return lambda out: write_layout_pdf(doc, out)
    if isinstance(doc, TableDoc):
        return lambda out: write_table_pdf(doc, out)
    if isinstance(doc, FormDoc):
        return lambda out: write_form_pdf(doc, out)
    return lambda out: write_packet_pdf(doc, out)


def all_docs() -> Sequence[TableDoc | FormDoc | PacketDoc]:
    return (*TABLE_DOCS, *FORM_DOCS, *PACKET_DOCS)
