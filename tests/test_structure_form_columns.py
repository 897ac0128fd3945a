"""A payer form of two columns of questions side by side: each question's options are
the ones under it in its own column.

Trap: options were grouped by rows across the page, so "1. Disease status:" and
"2. Number of prior lines:" became one question whose options held both columns', and
the left column's ticked classes answered the right column's measurable-disease
question."""

from __future__ import annotations

from extractors.layout import pages_from_text
from extractors.structure import document_structure

FORM = (
    "1. Disease status:                          2. Number of prior lines of therapy:\n"
    "[x] Relapsed   [ ] Newly diagnosed          [ ] 1   [ ] 2   [x] 4 or more\n"
    "3. Prior therapy includes (check):          4. Measurable disease (within 30 days):\n"
    "[x] Immunomodulatory agent                  [x] Serum M-protein 1.4 g/dL\n"
    "[x] Proteasome inhibitor\n"
    "[x] Anti-CD38 antibody                      [ ] Urine M-protein\n"
    "7. Prior CAR-T therapy of any kind?         8. ECOG:  [ ] 0  [x] 1  [ ] 2\n"
    "[ ] Yes   [x] No\n"
)


def _groups() -> list[tuple[str | None, list[str]]]:
    structure = document_structure(list(pages_from_text(FORM)))
    return [
        (g.question.text if g.question else None, [o.option.text for o in g.options])
        for g in structure.pages[0].checkboxes
    ]


def test_each_question_has_the_options_of_its_own_column() -> None:
    groups = dict(_groups())
    assert groups["1. Disease status"] == ["Relapsed", "Newly diagnosed"]
    assert groups["2. Number of prior lines of therapy"] == ["1", "2", "4 or more"]
    assert groups["3. Prior therapy includes (check)"] == [
        "Immunomodulatory agent",
        "Proteasome inhibitor",
        "Anti-CD38 antibody",
    ]
    assert groups["4. Measurable disease (within 30 days)"] == ["Serum M-protein 1.4 g/dL", "Urine M-protein"]


def test_a_question_a_column_away_asks_of_the_options_under_it() -> None:
    groups = dict(_groups())
    assert groups["8. ECOG"] == ["0", "1", "2"]
    assert groups["7. Prior CAR-T therapy of any kind"] == ["Yes", "No"]
