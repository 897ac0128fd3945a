"""The page-structure lexicons (table_columns, checkboxes, identity, page_roles): schemas,
versions, and the data errors the loader refuses."""

from __future__ import annotations

import pytest

from common.errors import LexiconError
from extractors.lexicon import parse_rows
from extractors.structure import vocabulary
from extractors.structure.vocabulary import ColumnRow, GlyphReading, load_structure_lexicon


def test_every_file_loads_with_a_version() -> None:
    lexicon = load_structure_lexicon()
    assert set(lexicon.versions) == {
        "structure/table_columns.json",
        "structure/checkboxes.json",
        "structure/identity.json",
        "structure/page_roles.json",
    }
    assert all(lexicon.versions.values())
    assert {c.role for c in lexicon.columns} >= {
        "regimen",
        "drug",
        "start",
        "stop",
        "dates",
        "cycles",
        "line",
        "response",
        "reason_stopped",
        "status",
        "dose",
        "date_given",
    }


@pytest.mark.parametrize(
    ("model", "rows", "message"),
    [
        (ColumnRow, [{"role": "start", "label": "Start", "phrases": [], "source": "[domain]"}], "phrases"),
        (
            ColumnRow,
            [{"role": "Start!", "label": "Start", "phrases": ["start"], "source": "[domain]"}],
            "role",
        ),
        (
            GlyphReading,
            [{"text": "[X]", "state": "maybe", "style": "bracket", "certain": True, "source": "x y"}],
            "state",
        ),
        (GlyphReading, [{"text": "[X]", "state": "ticked", "style": "bracket", "certain": True}], "source"),
    ],
)
def test_a_malformed_row_names_its_file_and_row(
    model: type, rows: list[dict[str, object]], message: str
) -> None:
    with pytest.raises(LexiconError, match=message) as caught:
        parse_rows("structure/table_columns.json", rows, model)
    assert "rows[0]" in str(caught.value)


def test_one_phrase_may_not_name_two_roles() -> None:
    with pytest.raises(LexiconError, match="both 'start' and 'stop'"):
        vocabulary._unique(
            "structure/table_columns.json", [("Start/Stop", "start"), ("start stop", "stop")], "header phrase"
        )


def test_every_glyph_reading_is_unique_once_spaces_are_removed() -> None:
    lexicon = load_structure_lexicon()
    keys = ["".join(r.text.split()) for r in lexicon.readings]
    assert len(keys) == len(set(keys))


def test_the_mark_thresholds_leave_a_band_for_unreadable() -> None:
    fill = load_structure_lexicon().mark_fill
    assert 0 <= fill.unticked_at_most < fill.ticked_at_least <= 1


def test_every_structure_file_is_loaded() -> None:
    """No file in lexicons/structure/ that nothing validates."""
    from importlib import resources

    folder = resources.files("lexicons").joinpath("structure")
    files = {f"structure/{p.name}" for p in folder.iterdir() if p.name.endswith(".json")}
    assert set(load_structure_lexicon().versions) == files
