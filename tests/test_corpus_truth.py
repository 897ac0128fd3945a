"""The corpus' ground truth encodes the policy's status semantics, trap by trap.

Truth is derived from case facts (fixtures.casefacts.derive_truth); these
tests pin what each trap must come out as, and that the committed truth files
and documents agree with the cases that produced them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from fixtures.casefacts import Case, derive_truth, vocabulary
from fixtures.cases import CASES, SAMPLE_CASE
from fixtures.documents import document_pages, ehr_export
from fixtures.truth import CRITERIA_IDS, load_truth

CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "corpus"
BY_ID = {c.cid: c for c in CASES}


def _text(cid: str) -> str:
    return "\n".join(line for page in document_pages(BY_ID[cid]) for line in page)


# (case, criterion, status, the trap it pins)
STATUS_TRAPS = [
    ("case-001", "no_prior_car_t", "met", "explicit 'no prior CAR-T' statement"),
    ("case-004", "no_prior_car_t", "not_met", "CAR-T on a trial named only 'KarMMa'"),
    ("case-005", "no_prior_car_t", "not_met", "CAR-T named only by product, 's/p cilta-cel'"),
    ("case-006", "no_prior_car_t", "not_met", "'anti-BCMA CAR T' with no product"),
    ("case-007", "no_prior_car_t", "met", "teclistamab is a bispecific, not CAR-T"),
    ("case-008", "no_prior_car_t", "met", "talquetamab is a bispecific, not CAR-T"),
    ("case-009", "no_prior_car_t", "met", "'would consider cilta-cel' is a plan"),
    ("case-010", "no_prior_car_t", "not_documented", "only the brother's CAR-T is mentioned"),
    ("case-011", "no_prior_car_t", "met", "sister's CAR-T beside the patient's denial"),
    ("case-012", "no_prior_car_t", "met", "a declined CAR-T trial is not CAR-T received"),
    ("case-014", "line_dates", "not_documented", "first line from outside records without dates"),
    ("case-015", "line_dates", "not_documented", "thalidomide line with dates unknown"),
    ("case-016", "prior_lines", "met", "D-VRd + ASCT + consolidation + maintenance is one line, plus Kd"),
    ("case-016", "anti_cd38_exposure", "met", "daratumumab inside the D-VRd induction"),
    ("case-018", "diagnosis", "not_met", "AL amyloidosis, not myeloma"),
    ("case-019", "diagnosis", "not_met", "lymphoma, not myeloma"),
    (
        "case-019",
        "pi_exposure",
        "not_documented",
        "its R-CHOP and R2 lines treat the lymphoma, not a myeloma",
    ),
    ("case-020", "age", "not_documented", "no age and no date of birth"),
    ("case-021", "prior_lines", "not_met", "complete history of a single line"),
    ("case-003", "age", "met", "age only from date of birth and date of service"),
    ("case-022", "age", "met", "age only from date of birth and date of service"),
    ("case-024", "age", "not_met", "16 by date of birth"),
    ("case-025", "diagnosis", "not_documented", "myeloma without relapse, refractoriness or progression"),
]


@pytest.mark.parametrize(("cid", "criterion", "status", "trap"), STATUS_TRAPS)
def test_trap_status(cid: str, criterion: str, status: str, trap: str) -> None:
    assert derive_truth(BY_ID[cid]).criterion(criterion).status == status, trap


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.cid)
def test_determination_follows_the_criteria(case: Case) -> None:
    truth = derive_truth(case)
    statuses = [c.status for c in truth.criteria]
    assert [c.id for c in truth.criteria] == list(CRITERIA_IDS)
    if all(s == "met" for s in statuses):
        assert truth.determination == "criteria_met"
    elif "not_met" in statuses:
        assert truth.determination == "criteria_not_met"
    else:
        assert truth.determination == "needs_information"


def test_corpus_has_every_determination() -> None:
    counts = {d: 0 for d in ("criteria_met", "criteria_not_met", "needs_information")}
    for case in CASES:
        counts[derive_truth(case).determination] += 1
    assert all(n >= 3 for n in counts.values()), counts


# (case, words that must be in its documents, words that must not, the trap)
TEXT_TRAPS = [
    ("case-004", ["enrolled on KarMMa"], ["CAR", "ide-cel 9", "idecabtagene vicleucel 9"], "trial name only"),
    ("case-005", ["s/p cilta-cel"], ["CARTITUDE"], "product name only"),
    ("case-006", ["anti-BCMA CAR T"], ["cilta-cel", "KarMMa"], "no product, no trial name"),
    ("case-002", ["RVD", "DKd", "to present", " -> "], [], "terse; D = dex in RVD, dara in DKd"),
    ("case-022", ["VD", "DRd", "Mar-Oct 2018"], [], "D = dex in VD, dara in DRd; month range"),
    ("case-017", ["5 prior lines", "2016-2017", "Mar-Oct 2018"], [], "stated count and date styles"),
    (
        "case-003",
        ["4 prior lines", "07/22/1958"],
        ["year-old", "y/o", "years old", ", age "],
        "stated count; DOB only",
    ),
    ("case-009", ["will start", "Would consider", "since 10/2025"], [], "planned therapy; since"),
    ("case-010", ["brother"], ["No prior CAR-T", "h/o CAR-T", "never received"], "family only"),
    ("case-012", ["CARTITUDE-4", "declined"], [], "declined trial"),
    ("case-013", ["never started", "not tolerated"], [], "never started; not tolerated"),
    ("case-014", ["dates"], [], "dates unknown"),
    (
        "case-020",
        ["Testpatient, Psi"],
        ["DOB", "D.O.B", "year-old", "y/o", "years old", ", age ", "birth"],
        "no age/DOB",
    ),
    (
        "case-021",
        ["Pt w/"],
        ["DOB", "D.O.B", "year-old", "y/o", "years old", ", age ", "birth"],
        "no age/DOB",
    ),
    ("case-018", ["AL amyloidosis", "no evidence of multiple myeloma"], [], "non-myeloma diagnosis"),
    ("case-023", ["2016-2017", "since 10/2025"], [], "year range; since"),
    ("case-024", ["02/14/2009"], ["year-old", "y/o", "years old", ", age "], "age under 18 only from DOB"),
    ("case-025", ["C90.00"], ["PD", "relaps", "refractory", "progressive", "progression"], "no status"),
]


@pytest.mark.parametrize(("cid", "present", "absent", "trap"), TEXT_TRAPS)
def test_documents_hold_the_trap(cid: str, present: list[str], absent: list[str], trap: str) -> None:
    text = _text(cid)
    for words in present:
        assert words in text, f"{trap}: {words!r} missing"
    for words in absent:
        assert words not in text, f"{trap}: {words!r} present"


@pytest.mark.parametrize("cid", ["case-010", "case-013", "case-022"])
def test_misspellings_reach_the_text(cid: str) -> None:
    words = {m for entry in vocabulary()["ingredients"].values() for m in entry["misspellings"]}
    found = {w for w in words if re.search(rf"\b{re.escape(w)}\b", _text(cid))}
    assert found, cid


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.cid)
def test_identifiers_are_fictional(case: Case) -> None:
    text = _text(case.cid) + ehr_export(case)
    for phone in re.findall(r"\b\d{3}-\d{4}\b", text):
        assert re.fullmatch(r"555-01\d\d", phone), phone
    assert re.search(r"\b(Testpatient|Sampleperson), [A-Z][a-z]+\b", text)
    assert "ZZ-000" in text


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.cid)
def test_committed_truth_matches_the_case(case: Case) -> None:
    committed = load_truth(CORPUS / f"{case.cid}.truth.json")
    assert committed == derive_truth(case)


def test_manifest_lists_every_document_and_traps_reach_two() -> None:
    manifest = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
    files = {d["file"] for d in manifest["documents"]}
    on_disk = {p.name for p in CORPUS.iterdir() if p.is_file() and not p.name.endswith(".json")}
    assert files == on_disk
    assert len(files) >= 40
    per_trap: dict[str, int] = {}
    for d in manifest["documents"]:
        for trap in set(d["traps"]) | set(d["rendering_traps"]):
            per_trap[trap] = per_trap.get(trap, 0) + 1
    assert min(per_trap.values()) >= 2, per_trap
    for needed in ("blank_page", "upside_down_page", "fax_group3", "fax_group4", "fax_204x98", "fax_204x196"):
        assert per_trap.get(needed, 0) >= 2, needed


def test_corpus_stays_small_and_cheap_to_ocr() -> None:
    manifest = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
    image_pages = sum(
        d["pages"] for d in manifest["documents"] if d["rendering"].endswith((".tif", "scan.pdf"))
    )
    assert image_pages <= 120
    assert sum(d["bytes"] for d in manifest["documents"]) < 5_000_000


def test_sample_is_an_approvable_g3_fax() -> None:
    sample = Path(__file__).resolve().parent.parent / "fixtures" / "sample"
    truth = load_truth(sample / f"{SAMPLE_CASE}.truth.json")
    assert truth.determination == "criteria_met"
    assert (sample / f"{SAMPLE_CASE}.g3-204x196.tif").read_bytes() == (
        CORPUS / f"{SAMPLE_CASE}.g3-204x196.tif"
    ).read_bytes()
