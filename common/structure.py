"""The page as a reviewer reads it: rows, tables, form fields, checkboxes, and whose page it is.

Built by :func:`extractors.structure.document_structure` from the pages' words, ruling
lines and checkbox squares, the same way for text layers and OCR.  Everything points
back at words by their index in :attr:`common.models.Page.words` (``word_ids``) and
carries its box on the page as stored, so a fact read from a table cell or a form
field cites that cell's or field's box.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from common.models import BBox, Evidence, Frozen, Notice

# A column role of lexicons/structure/table_columns.json ("regimen", "start", "stop", "dates" ...).
# Data, like the therapy classes: a new kind of column is a new row of the lexicon.
ColumnRole = str

# What a page is, for what may be read from it:
#   cover_sheet     a fax cover sheet: who sent what, the page count; demographics only
#   insurance_card  a copy of the member's card: demographics only
#   demographics    a face sheet or registration page: demographics only
#   request_form    a payer's prior-authorization request form: its answers are statements
#   clinical        anything else (notes, letters, tables, reports)
#   blank           nothing to read
PageRole = Literal["cover_sheet", "insurance_card", "demographics", "request_form", "clinical", "blank"]
DEMOGRAPHIC_ROLES: frozenset[str] = frozenset({"cover_sheet", "insurance_card", "demographics"})

IdentityKind = Literal["name", "date_of_birth", "mrn", "member_id"]

# ticked: the box is marked; unticked: printed and empty (never a statement);
# unreadable: a box is there but neither the OCR reading nor the ink says which (flagged,
# never guessed).
CheckState = Literal["ticked", "unticked", "unreadable"]

# member: the page names the packet's member; other_patient: it names someone else (set
# aside); conflict: some identifiers match and some do not (kept, with a warning);
# unknown: the page names nobody.
PatientMatch = Literal["member", "other_patient", "conflict", "unknown"]


class WordSpan(Frozen):
    """Some words of one page, left to right: their text, their indices, their box."""

    page: int = Field(ge=1)
    text: str
    word_ids: tuple[int, ...]  # indices into that page's ``Page.words``
    bbox: BBox | None  # on the page as stored, like word boxes
    confidence: float | None = None  # the lowest OCR confidence among the words; None for text layers

    def evidence(self) -> Evidence:
        return Evidence(page=self.page, bbox=self.bbox, text=self.text, confidence=self.confidence)


class TextRow(Frozen):
    """Words that share a baseline on the upright page, left to right."""

    page: int
    index: int  # top to bottom on the page
    span: WordSpan
    top: float  # on the upright page, in points from its top edge
    bottom: float


# --------------------------------------------------------------------------- tables


class TableColumn(Frozen):
    index: int
    role: ColumnRole | None  # None: the header names no role the lexicon knows
    header: WordSpan | None  # None: the header row is on another page, or there is none
    x0: float  # the column's band on the upright page, points
    x1: float


class TableCell(Frozen):
    column: int
    role: ColumnRole | None
    span: WordSpan  # every line of the cell, in reading order

    @property
    def text(self) -> str:
        return self.span.text


class TableRow(Frozen):
    """One body row: a structured entry whose cells keep their words and boxes."""

    index: int  # body rows of the table, counted over all its pages
    page: int
    cells: tuple[TableCell, ...]  # the non-empty cells, by column
    bbox: BBox | None
    lines: int = 1  # text rows it spans (more than one: a wrapped cell)

    def cell(self, role: ColumnRole) -> TableCell | None:
        """The row's cell in the first column of that role."""
        return next((c for c in self.cells if c.role == role), None)

    def column(self, index: int) -> TableCell | None:
        return next((c for c in self.cells if c.column == index), None)


class TablePart(Frozen):
    """Where a table stands on one page."""

    page: int
    bbox: BBox | None
    header_repeated: bool  # this page's part starts with the header row again
    ruled: bool  # ruling lines bound its columns or rows


class Table(Frozen):
    """A table; one that continues over a page break is one table with a part per page."""

    id: str  # "p2-t1": page and order of its first part
    columns: tuple[TableColumn, ...]
    rows: tuple[TableRow, ...]
    parts: tuple[TablePart, ...]

    @property
    def pages(self) -> tuple[int, ...]:
        return tuple(p.page for p in self.parts)

    @property
    def roles(self) -> tuple[ColumnRole | None, ...]:
        return tuple(c.role for c in self.columns)


# --------------------------------------------------------------------------- forms


class FormField(Frozen):
    """A label and its value on one line: "Date of birth: 01/02/1950", "Number of prior lines: 3"."""

    page: int
    label: WordSpan  # without its colon
    value: WordSpan | None  # None: the label is followed by nothing (a blank to fill)
    key: str | None = None  # what the label asks for, when the lexicon knows it ("date_of_birth")


class Checkbox(Frozen):
    page: int
    option: WordSpan  # the option's label ("None received", "Yes")
    state: CheckState
    glyph_bbox: BBox  # the box (or the glyph) itself
    # What was read: the glyph as OCR or the text layer gave it ("[X]", "IX]", "O"), or
    # None when the box was found in the ink (or the drawing) alone.
    glyph_text: str | None = None
    fill: float | None = None  # the inked share of the box, when it was measured
    why: str = ""  # how the state was decided, for the reviewer


class CheckboxGroup(Frozen):
    """The options that answer one question (or one line of options when none is written)."""

    page: int
    question: WordSpan | None
    options: tuple[Checkbox, ...]

    @property
    def ticked(self) -> tuple[Checkbox, ...]:
        return tuple(o for o in self.options if o.state == "ticked")


# --------------------------------------------------------------------------- identity


class IdentityItem(Frozen):
    """A patient identifier written on a page, with its label."""

    kind: IdentityKind
    value: str  # normalised: ISO date; upper-case letters and digits for ids; lower-case name words
    span: WordSpan  # the value as written
    label: WordSpan | None = None


class PacketMember(Frozen):
    """The member the request is about, from the request's pieces."""

    name: IdentityItem | None = None
    date_of_birth: IdentityItem | None = None
    mrn: IdentityItem | None = None
    member_id: IdentityItem | None = None
    pages: tuple[int, ...] = ()  # the pages these were read from

    def item(self, kind: IdentityKind) -> IdentityItem | None:
        return {
            "name": self.name,
            "date_of_birth": self.date_of_birth,
            "mrn": self.mrn,
            "member_id": self.member_id,
        }[kind]


class PageCount(Frozen):
    """A cover sheet's stated page count against the pages received."""

    stated: int
    received: int
    evidence: Evidence

    @property
    def missing(self) -> int:
        return max(0, self.stated - self.received)


class PageStructure(Frozen):
    page: int
    role: PageRole
    role_reason: str
    rows: tuple[TextRow, ...] = ()
    fields: tuple[FormField, ...] = ()
    checkboxes: tuple[CheckboxGroup, ...] = ()
    identity: tuple[IdentityItem, ...] = ()
    patient: PatientMatch = "unknown"
    patient_reason: str = ""
    tables: tuple[str, ...] = ()  # ids of the tables with a part on this page

    @property
    def demographics_only(self) -> bool:
        """Cover sheets, insurance cards and demographics pages give demographics, not facts."""
        return self.role in DEMOGRAPHIC_ROLES


class DocumentStructure(Frozen):
    pages: tuple[PageStructure, ...]
    tables: tuple[Table, ...] = ()
    member: PacketMember = PacketMember()
    page_count: PageCount | None = None  # None: no cover sheet states a count
    # The cover sheet says more pages than were received: the history may be partial.
    pages_missing: bool = False
    set_aside: tuple[int, ...] = ()  # pages about another patient: no fact may come from them
    warnings: tuple[Notice, ...] = ()

    def page(self, number: int) -> PageStructure | None:
        return next((p for p in self.pages if p.page == number), None)

    def table(self, table_id: str) -> Table | None:
        return next((t for t in self.tables if t.id == table_id), None)
