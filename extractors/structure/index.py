"""Where a word stands in the page structure: which table cell, which checkbox option.

The clinical reading finds mentions in the page text; this index answers, for the words of
a mention, whether they stand in a history table's row (and what that row's Start, Stop
and Dates cells say), or in a checkbox option (ticked, unticked, unreadable) or the
question of a group of options.  Words are matched by page and box, since the reading
order of the words may be rearranged after the structure was read (tables row by row).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from common.models import BBox, Page, Word
from common.structure import Checkbox, CheckboxGroup, DocumentStructure, Table, TableCell, TableRow

BoxKey = tuple[int, float, float, float, float]

# Column roles that name what was given, and those that date it (lexicons/structure/
# table_columns.json): a row with both is a history entry.
WHAT_ROLES = frozenset({"regimen", "drug", "line", "phase"})
WHEN_ROLES = frozenset({"start", "stop", "dates", "date", "date_given", "date_dispensed"})


def _key(page: int, box: BBox) -> BoxKey:
    return (page, round(box.x0, 5), round(box.y0, 5), round(box.x1, 5), round(box.y1, 5))


@dataclass(frozen=True)
class CellPlace:
    table: Table
    row: TableRow
    cell: TableCell

    @property
    def history(self) -> bool:
        """The row of a table that tells what was given and when (a treatment history, an
        administration record, a dispensing history)."""
        roles = set(self.table.roles)
        return bool(roles & WHAT_ROLES) and bool(roles & WHEN_ROLES)


@dataclass(frozen=True)
class OptionPlace:
    group: CheckboxGroup
    option: Checkbox


@dataclass(frozen=True)
class StructureIndex:
    cells: dict[BoxKey, CellPlace]
    options: dict[BoxKey, OptionPlace]
    questions: dict[BoxKey, CheckboxGroup]
    pages_missing: bool

    @staticmethod
    def build(structure: DocumentStructure | None, pages: Sequence[Page]) -> StructureIndex:
        cells: dict[BoxKey, CellPlace] = {}
        options: dict[BoxKey, OptionPlace] = {}
        questions: dict[BoxKey, CheckboxGroup] = {}
        if structure is None:
            return StructureIndex(cells, options, questions, False)
        by_number = {p.number: p for p in pages}

        def keys(page: int, ids: Sequence[int]) -> list[BoxKey]:
            source = by_number.get(page)
            if source is None:
                return []
            return [_key(page, source.words[i].bbox) for i in ids if 0 <= i < len(source.words)]

        for table in structure.tables:
            for row in table.rows:
                for cell in row.cells:
                    for k in keys(cell.span.page, cell.span.word_ids):
                        cells[k] = CellPlace(table, row, cell)
        for page in structure.pages:
            for group in page.checkboxes:
                for option in group.options:
                    for k in keys(option.option.page, option.option.word_ids):
                        options[k] = OptionPlace(group, option)
                if group.question is not None:
                    for k in keys(group.question.page, group.question.word_ids):
                        questions[k] = group
        return StructureIndex(cells, options, questions, structure.pages_missing)

    def cell_of(self, page: int, words: Sequence[Word]) -> CellPlace | None:
        for word in words:
            if (place := self.cells.get(_key(page, word.bbox))) is not None:
                return place
        return None

    def option_of(self, page: int, words: Sequence[Word]) -> OptionPlace | None:
        for word in words:
            if (place := self.options.get(_key(page, word.bbox))) is not None:
                return place
        return None

    def question_of(self, page: int, words: Sequence[Word]) -> CheckboxGroup | None:
        for word in words:
            if (group := self.questions.get(_key(page, word.bbox))) is not None:
                return group
        return None
