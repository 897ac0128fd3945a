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

from common.models import Notice, Page
from common.structure import DocumentStructure, PageCount, PageStructure, Table
from extractors.structure.forms import read_forms
from extractors.structure.geometry import page_geometry
from extractors.structure.identity import (
    PageIdentity,
    identity_items,
    packet_member,
    page_role,
    patients,
    stated_page_count,
)
from extractors.structure.rows import group_rows, text_rows
from extractors.structure.tables import chain_tables, page_drafts, to_table
from extractors.structure.vocabulary import load_structure_lexicon

__all__ = ["document_structure"]


def document_structure(pages: Sequence[Page]) -> DocumentStructure:
    lexicon = load_structure_lexicon()
    built = []
    for page in pages:
        geometry = page_geometry(page)
        rows = group_rows(geometry.words)
        forms = read_forms(geometry, rows, lexicon)
        # Words a checkbox took are not table text: a form's grid of options is not a table.
        table_rows = rows
        drafts = page_drafts(geometry, table_rows, lexicon)
        role, why = page_role(geometry, rows, forms.fields, lexicon)
        items = identity_items(geometry, rows, lexicon)
        count = stated_page_count(geometry, rows, lexicon) if role == "cover_sheet" else None
        built.append((page, geometry, rows, drafts, forms, role, why, items, count))

    chains = chain_tables([(g, rows, drafts) for _, g, rows, drafts, *_ in built])
    tables: list[Table] = []
    on_page: dict[int, list[str]] = {}
    per_page_count: dict[int, int] = {}
    for chain in chains:
        first = chain.parts[0].page
        per_page_count[first] = per_page_count.get(first, 0) + 1
        table = to_table(chain, f"p{first}-t{per_page_count[first]}")
        tables.append(table)
        for part in table.parts:
            on_page.setdefault(part.page, []).append(table.id)

    identities = [
        PageIdentity(page.number, role, tuple(items)) for page, _, _, _, _, role, _, items, _ in built
    ]
    member = packet_member(identities)
    matches, notices = patients(identities, member)

    structures = [
        PageStructure(
            page=page.number,
            role=role,
            role_reason=why,
            rows=text_rows(geometry, rows),
            fields=forms.fields,
            checkboxes=forms.checkboxes,
            identity=tuple(items),
            patient=matches[page.number][0],
            patient_reason=matches[page.number][1],
            tables=tuple(on_page.get(page.number, ())),
        )
        for page, geometry, rows, _, forms, role, why, items, _ in built
    ]
    page_count, missing = _page_count(built, len(pages), notices)
    return DocumentStructure(
        pages=tuple(structures),
        tables=tuple(tables),
        member=member,
        page_count=page_count,
        pages_missing=missing,
        set_aside=tuple(p.page for p in structures if p.patient == "other_patient"),
        warnings=tuple(notices),
    )


def _page_count(built: list, received: int, notices: list[Notice]) -> tuple[PageCount | None, bool]:
    for page, *_, count in built:
        if count is None:
            continue
        stated, evidence = count
        found = PageCount(stated=stated, received=received, evidence=evidence)
        if stated > received:
            notices.append(
                Notice(
                    code="pages_missing",
                    message=f"the cover sheet (page {page.number}) says {stated} pages; {received} were "
                    f"received: {stated - received} may be missing, so the history may be partial.",
                    page=page.number,
                )
            )
        elif stated < received:
            notices.append(
                Notice(
                    code="pages_beyond_cover_count",
                    message=f"the cover sheet (page {page.number}) says {stated} pages; {received} were "
                    "received: check that the extra pages belong to this request.",
                    page=page.number,
                )
            )
        return found, stated > received
    return None, False
