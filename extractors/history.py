"""Is the treatment history the documentation tells the whole history?  A fact with evidence.

complete - the document presents its history as the whole: its lines are numbered (a
  numbered or tabled sequence of lines), or told as entries under a treatment-history
  title ("Prior therapies:", "Oncologic history", a form's history section); every line
  is listed with its drugs and a start; no count written says more lines than are listed
  (the author's numbers for the phases of one line counted as the author counted them).
partial - the document says it is not the whole (records to follow, most recent therapy
  only, a dispensing record without clinic-infused drugs, pages missing against the
  cover sheet), names a drug it gives no place among the lines, or has a history table
  row whose regimen could not be read.
unknown - therapy told in passing, with no presentation of a history.

Only a complete history, or an explicit statement, may show that a class or a line is
missing ("not met"); otherwise the criterion is "not documented", with a request.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from common.models import Evidence, HistoryFact, LineOfTherapy, Notice, numbered_entries
from common.structure import DocumentStructure
from extractors import cues
from extractors.dates import find_single_dates
from extractors.mentions import Mention
from extractors.nlp import NAMED_THERAPY_LABELS
from extractors.pagetext import PageText
from extractors.structure.index import WHEN_ROLES, StructureIndex
from extractors.therapies import TherapyMention


def history_fact(
    text: PageText,
    lines: Sequence[LineOfTherapy],
    exposure_only: Sequence[TherapyMention],
    *,
    numbered: bool,
    titled: Sequence[TherapyMention],
    stated_prior_lines: int | None,
    missing_pages: Sequence[Notice] = (),
    unread_rows: Sequence[str] = (),
) -> HistoryFact:
    """``numbered``: the document's own numbering gave the lines; ``titled``: received
    mentions standing under a treatment-history title; ``missing_pages``: notices that
    pages announced by the cover sheet did not arrive; ``unread_rows``: rows of a history
    table with a regimen and a date but no therapy read from them."""
    partial = _partial_statement(text)
    if partial is not None:
        return HistoryFact(
            status="partial",
            reason=f"The documentation says: \u201c{partial.text}\u201d.",
            evidence=(partial,),
            said_partial=True,
        )
    if missing_pages:
        return HistoryFact(status="partial", reason=missing_pages[0].message, said_partial=True)
    if exposure_only:
        names = ", ".join(sorted({i.ingredient for i in exposure_only}))
        ev = tuple(e for i in exposure_only for e in i.evidence)[:4]
        return HistoryFact(
            status="partial",
            reason=f"{names} is named as received but in no listed line of therapy.",
            evidence=ev,
        )
    if unread_rows:
        shown = "; ".join(f"\u201c{r}\u201d" for r in unread_rows[:3])
        return HistoryFact(
            status="partial",
            reason=f"A history table's row names a regimen this service cannot read: {shown}.",
        )
    if not lines:
        return HistoryFact(status="unknown", reason="No line of therapy is listed.")
    presented = numbered or bool(titled)
    if not presented:
        return HistoryFact(
            status="unknown",
            reason="Therapy is told in the text, not presented as a treatment history (no numbered"
            " lines, table or treatment-history section).",
        )
    # A count written beside a history whose author numbered a transplant or maintenance
    # as lines of their own counts those numbers: no line is missing for it.
    if stated_prior_lines is not None and stated_prior_lines > numbered_entries(lines):
        return HistoryFact(
            status="partial",
            reason=f"{stated_prior_lines} prior lines are stated but {len(lines)} are listed.",
        )
    undated = [line for line in lines if not line.start and not line.start_unreadable]
    if undated or any(not line.ingredients for line in lines):
        return HistoryFact(status="partial", reason="Not every listed line has its drugs and a start date.")
    how = "numbered as lines" if numbered else "under a treatment-history title"
    evidence = tuple(e for i in titled for e in i.evidence)[:1] or tuple(lines[0].evidence[:1])
    return HistoryFact(
        status="complete",
        reason=f"The documentation presents {len(lines)} dated line(s) of therapy, {how}.",
        evidence=evidence,
    )


def _partial_statement(text: PageText) -> Evidence | None:
    match = cues.search("partial_history", text.text)
    if match is None:
        return None
    return text.evidence(match.start(), match.end())


def unread_history_rows(
    structure: DocumentStructure | None,
    index: StructureIndex,
    mentions: Sequence[Mention],
    text: PageText,
) -> list[str]:
    """Rows of a history table that give a regimen and a date but no therapy this service
    can read ("4  SKd  10/2025  present" with a code the lexicon lacks, or a name OCR
    garbled): the history holds a line the count cannot see, so it is not the whole."""
    if structure is None:
        return []
    read: set[tuple[str, int]] = set()
    for m in mentions:
        if m.label not in NAMED_THERAPY_LABELS:
            continue
        placed = text.words_in(m.start, m.end)
        if placed and (cell := index.cell_of(placed[0].page, [w.word for w in placed])) is not None:
            read.add((cell.table.id, cell.row.index))
    unread: list[str] = []
    for table in structure.tables:
        roles = set(table.roles)
        if not (roles & {"regimen", "drug"}) or not (roles & WHEN_ROLES):
            continue
        for row in table.rows:
            if (table.id, row.index) in read:
                continue
            what = [c for c in row.cells if c.role in ("regimen", "drug")]
            when = [c for c in row.cells if c.role in WHEN_ROLES]
            named = any(re.search(r"[A-Za-z]{2}", c.span.text) for c in what)
            dated = any(find_single_dates(c.span.text) for c in when)
            shown = " ".join(c.span.text for c in row.cells)
            if named and dated and shown not in unread:  # a table repeated on another page
                unread.append(shown)
    return unread
