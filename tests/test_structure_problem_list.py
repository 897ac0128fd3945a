"""An EHR problem list: each problem a row, its lines together, beside its dates.

Trap: "Cytokine release syndrome, grade 2 - onset day +1 after autologous anti-" over
"BCMA CAR T-cell infusion (protocol LCI-22-114)", its date and comment on the first line:
read line by line, the CAR-T stood apart from the "after" that tells it was given, and a
letter's "five prior lines" with no CAR-T read as the whole story."""

from __future__ import annotations

from pathlib import Path

from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas

from common.settings import Settings
from pipeline.composer import process_document
from reading.reader import read_document

_X = (43, 365, 425)
_ACTIVE = [
    ("Active problem list", None, None, None),
    ("Problem", "ICD-10", "Onset", "Status / comment"),
    ("Multiple myeloma, IgG kappa, in relapse", "C90.02", "03/2017", "Active - progressing"),
    ("Peripheral sensory neuropathy, grade 1 (bortezomib)", "G62.0", "2017", "Stable, toes only"),
    ("Hypogammaglobulinemia, secondary", "D80.1", "2023", "IVIG 0.4 g/kg q4 wk"),
    ("Hypertension", "I10", "2011", "Amlodipine"),
]
_LINES = [
    ("Resolved problems / treatment complications", None, None),
    ("Problem", "Dates", "Comment"),
    (
        "Cytokine release syndrome, grade 2 - onset day +1 after autologous anti-",
        "04/2023",
        "Tocilizumab x 2",
    ),
    ("BCMA CAR T-cell infusion (protocol LCI-22-114)", None, None),
    ("ICANS, grade 1 (same admission)", "04/2023", "Dexamethasone x 48 h"),
    ("Deep vein thrombosis, R popliteal (on pomalidomide)", "08/2020", "Apixaban x 6 mo, completed"),
    ("Pneumonia, RLL", "01/2022", "Resolved"),
]


def _page(path: Path) -> Path:
    c = canvas.Canvas(str(path), pagesize=letter)
    c.setFont("Helvetica", 9)
    y = 720.0
    for active in _ACTIVE:
        for x, text in zip((43, 300, 350, 400), active, strict=True):
            if text:
                c.drawString(x, y, text)
        y -= 14
    y -= 8
    for line in _LINES:
        for x, text in zip(_X, line, strict=True):
            if text:
                c.drawString(x, y, text)
        y -= 11 if line[1] is None and line is not _LINES[0] else 14
    c.save()
    return path


def test_a_problem_wrapped_in_its_cell_is_read_whole_with_its_date(tmp_path: Path) -> None:
    document = read_document(_page(tmp_path / "problems.pdf"), Settings(workers=1))
    facts = process_document(document, settings=Settings(workers=1)).facts
    car_t = [t for t in facts.therapies if t.therapy_class == "car_t"]
    assert car_t and {t.assertion for t in car_t} == {"received"}
    assert {t.start for t in car_t} == {"2023-04"}
