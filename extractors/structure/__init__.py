"""The page-structure stage: pages in, :class:`common.structure.DocumentStructure` out.

Per page, on the upright page in points (``geometry``): rows of words from their
baselines (``rows``), tables from the rows' shared x-bands and the page's ruling lines
(``tables``), checkboxes and label-value fields (``forms``), identifiers and the page's
role (``identity``).  Across pages: tables continued over a page break, the packet's
member, the pages about another patient (set aside, with a warning naming each), and a
cover sheet's page count against the pages received.  The same code reads text layers and
OCR; nothing depends on pipe characters or on any generator's header wording: the
vocabulary is in ``lexicons/`` (table_columns, checkboxes, identity, page_roles).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from common.models import Evidence, Notice, Page
from common.structure import (
    DocumentStructure,
    IdentityItem,
    PageCount,
    PageRole,
    PageStructure,
    Table,
)
from extractors.structure.forms import PageForms, read_forms
from extractors.structure.geometry import PageGeometry, page_geometry
from extractors.structure.identity import (
    PageIdentity,
    identity_items,
    packet_member,
    page_role,
    patients,
    stated_page_count,
)
from extractors.structure.rows import Row, group_rows, text_rows
from extractors.structure.tables import Draft, chain_tables, page_drafts, to_table
from extractors.structure.vocabulary import StructureLexicon, load_structure_lexicon

__all__ = ["document_structure"]


@dataclass(frozen=True)
class _PageRead:
    """What one page gave, before the pages are put together."""

    page: Page
    geometry: PageGeometry
    rows: list[Row]
    drafts: list[Draft]
    forms: PageForms
    role: PageRole
    role_reason: str
    identity: tuple[IdentityItem, ...]
    count: tuple[int, Evidence] | None  # a cover sheet's stated page count


def _read_page(page: Page, lexicon: StructureLexicon) -> _PageRead:
    geometry = page_geometry(page, lexicon.box_glyphs)
    rows = group_rows(geometry.words)
    forms = read_forms(geometry, rows, lexicon)
    role, why = page_role(geometry, rows, forms.fields, lexicon)
    return _PageRead(
        page=page,
        geometry=geometry,
        rows=rows,
        drafts=page_drafts(geometry, rows, lexicon),
        forms=forms,
        role=role,
        role_reason=why,
        identity=tuple(identity_items(geometry, rows, lexicon)),
        count=stated_page_count(geometry, rows, lexicon) if role == "cover_sheet" else None,
    )


def document_structure(pages: Sequence[Page]) -> DocumentStructure:
    lexicon = load_structure_lexicon()
    read = [_read_page(page, lexicon) for page in pages]

    tables: list[Table] = []
    on_page: dict[int, list[str]] = {}
    per_page: dict[int, int] = {}
    for chain in chain_tables([(r.geometry, r.rows, r.drafts) for r in read]):
        first = chain.parts[0].page
        per_page[first] = per_page.get(first, 0) + 1
        table = to_table(chain, f"p{first}-t{per_page[first]}", lexicon)
        tables.append(table)
        for part in table.parts:
            on_page.setdefault(part.page, []).append(table.id)

    identities = [PageIdentity(r.page.number, r.role, r.identity) for r in read]
    member = packet_member(identities)
    matches, notices = patients(identities, member)
    structures = [
        PageStructure(
            page=r.page.number,
            role=r.role,
            role_reason=r.role_reason,
            rows=text_rows(r.geometry, r.rows),
            fields=r.forms.fields,
            checkboxes=r.forms.checkboxes,
            identity=r.identity,
            patient=matches[r.page.number][0],
            patient_reason=matches[r.page.number][1],
            tables=tuple(on_page.get(r.page.number, ())),
        )
        for r in read
    ]
    page_count, missing = _page_count(read, len(pages), notices)
    return DocumentStructure(
        pages=tuple(structures),
        tables=tuple(tables),
        member=member,
        page_count=page_count,
        pages_missing=missing,
        set_aside=tuple(p.page for p in structures if p.patient == "other_patient"),
        warnings=tuple(notices),
    )


def _page_count(
    read: Sequence[_PageRead], received: int, notices: list[Notice]
) -> tuple[PageCount | None, bool]:
    """The first cover sheet's stated count against the pages received; a warning either way
    it differs.  More pages stated than received: pages are missing and the history partial."""
    for r in read:
        if r.count is None:
            continue
        stated, evidence = r.count
        number = r.page.number
        found = PageCount(stated=stated, received=received, evidence=evidence)
        if stated > received:
            notices.append(
                Notice(
                    code="pages_missing",
                    message=f"the cover sheet (page {number}) says {stated} pages; {received} were "
                    f"received: {stated - received} may be missing, so the history may be partial.",
                    page=number,
                )
            )
        elif stated < received:
            notices.append(
                Notice(
                    code="pages_beyond_cover_count",
                    message=f"the cover sheet (page {number}) says {stated} pages; {received} were "
                    "received: check that the extra pages belong to this request.",
                    page=number,
                )
            )
        return found, stated > received
    return None, False
