"""The corpus' ground truth encodes the product's status rules, trap by trap.

Truth is derived from case facts and from what each received page printed
(fixtures.derive); these tests pin what each trap must come out as, that the
committed truth files agree with the cases that produced them, and that the corpus
holds what the issues ask of it (histories, Carvykti requests, document kinds, traps
in many contexts).
"""

from __future__ import annotations

import json
import re
import tempfile
from collections import Counter, defaultdict
from functools import cache
from pathlib import Path

import pytest

from fixtures.catalog import SAMPLE_CASE, load_cases, read_case
from fixtures.derive import derive_truth
from fixtures.generate import Built, build, fax_plan, page_map, truth_of
from fixtures.layout import packet_text
from fixtures.model import Case
from fixtures.truth import CRITERIA_IDS, CRITERIA_IDS_BY_POLICY, Truth, load_truth
from fixtures.writing.words import vocabulary

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
CORPUS = FIXTURES / "corpus"
CASES = load_cases()
BY_ID = {c.id: c for c in CASES}
PLAN = fax_plan(CASES)
TMP = Path(tempfile.mkdtemp(prefix="corpus-truth-"))


@cache
def derived(cid: str) -> tuple[Built, Truth]:
    return truth_of(BY_ID[cid], TMP, PLAN)


def _text(cid: str) -> str:
    built, _ = derived(cid)
    return packet_text(built.packet.docs, "")


def committed(cid: str) -> Truth:
    return load_truth(CORPUS / f"{cid}.truth.json")


# The first 25 cases keep the determinations they had before the corpus was rebuilt (issue 14).
LEGACY = {
    "case-001": "criteria_met",
    "case-002": "criteria_met",
    "case-003": "criteria_met",
    "case-004": "criteria_not_met",
    "case-005": "criteria_not_met",
    "case-006": "criteria_not_met",
    "case-007": "criteria_met",
    "case-008": "criteria_met",
    "case-009": "criteria_met",
    "case-010": "needs_information",
    "case-011": "criteria_met",
    "case-012": "criteria_met",
    "case-013": "criteria_met",
    "case-014": "needs_information",
    "case-015": "needs_information",
    "case-016": "criteria_met",
    "case-017": "criteria_met",
    "case-018": "criteria_not_met",
    "case-019": "criteria_not_met",
    "case-020": "needs_information",
    "case-021": "criteria_not_met",
    "case-022": "criteria_met",
    "case-023": "criteria_met",
    "case-024": "criteria_not_met",
    "case-025": "needs_information",
}


@pytest.mark.parametrize(("cid", "determination"), sorted(LEGACY.items()))
def test_the_first_25_cases_keep_their_determinations(cid: str, determination: str) -> None:
    assert committed(cid).determination == determination


# (case, criterion, status, the trap it pins)
STATUS_TRAPS = [
    ("case-001", "no_prior_car_t", "met", "explicit 'no prior CAR-T' statement"),
    ("case-004", "no_prior_car_t", "not_met", "CAR-T on a trial named only 'KarMMa'"),
    ("case-005", "no_prior_car_t", "not_met", "CAR-T named only by product, 's/p cilta-cel'"),
    ("case-006", "no_prior_car_t", "not_met", "'anti-BCMA CAR T' with no product"),
    ("case-007", "no_prior_car_t", "met", "teclistamab is a bispecific, not CAR-T"),
    ("case-008", "no_prior_car_t", "met", "talquetamab is a bispecific, not CAR-T"),
    ("case-009", "no_prior_car_t", "met", "'would consider cilta-cel' is a recommendation"),
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
    ("case-024", "age", "not_met", "16 by date of birth"),
    ("case-025", "diagnosis", "not_documented", "myeloma without relapse, refractoriness or progression"),
]


@pytest.mark.parametrize(("cid", "criterion", "status", "trap"), STATUS_TRAPS)
def test_trap_status(cid: str, criterion: str, status: str, trap: str) -> None:
    assert derived(cid)[1].criterion(criterion).status == status, trap


def _with_trap(prefix: str) -> list[Case]:
    """Cases holding a trap that starts with ``prefix`` (a scenario's name is matched whole)."""
    if prefix.startswith("scenario:"):
        return [c for c in CASES if prefix in c.traps]
    return [c for c in CASES if any(t.startswith(prefix) for t in c.traps)]


# Scenario traps of the composed cases: (trap prefix, criterion, status every such case must have)
SCENARIO_STATUS = [
    ("scenario:abecma-partial-absent-class", "history", "partial"),
    ("scenario:abecma-explicit-negative", "determination", "criteria_not_met"),
    ("scenario:abecma-form-none-received", "determination", "criteria_not_met"),
    ("scenario:abecma-lost-page", "history", "partial"),
    ("scenario:abecma-smoldering", "diagnosis", "not_met"),
    ("scenario:abecma-car-t-received", "no_prior_car_t", "not_met"),
    ("scenario:abecma-partial-class-level", "imid_exposure", "met"),
    ("scenario:carvykti-labs-too-old", "measurable_disease", "not_documented"),
    # labs under every threshold leave the policy's other way in (progression after the last
    # dose) open when the documents are silent on it: a gap, not a failure
    ("scenario:carvykti-labs-below-threshold", "measurable_disease", "not_documented"),
    ("scenario:carvykti-flc-normal-ratio", "measurable_disease", "not_documented"),
    ("scenario:carvykti-progression-within-60-days", "measurable_disease", "met"),
    ("scenario:carvykti-progression-too-late", "measurable_disease", "not_documented"),
    ("scenario:carvykti-prior-bcma", "no_prior_bcma_therapy", "not_met"),
    ("scenario:carvykti-prior-bcma-car-t", "no_prior_car_t", "not_met"),
    ("scenario:carvykti-gprc5d-not-bcma", "no_prior_bcma_therapy", "met"),
    ("scenario:carvykti-cns", "no_cns_involvement", "not_met"),
    ("scenario:carvykti-cns-not-stated", "no_cns_involvement", "not_documented"),
    ("scenario:carvykti-three-lines", "prior_lines", "not_met"),
    ("scenario:carvykti-pa-in-consultation", "prescriber", "met"),
]


@pytest.mark.parametrize(("trap", "what", "status"), SCENARIO_STATUS)
def test_scenarios_come_out_as_their_rule_says(trap: str, what: str, status: str) -> None:
    cases = _with_trap(trap)
    assert cases, trap
    for case in cases:
        truth = derived(case.id)[1]
        if what == "determination":
            got = truth.determination
        elif what == "history":
            got = truth.history.status if truth.history else ""
        else:
            got = truth.criterion(what).status
        assert got == status, (case.id, what)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_determination_follows_the_criteria(case: Case) -> None:
    truth = derived(case.id)[1]
    assert truth.policy is not None
    assert [c.id for c in truth.criteria] == list(CRITERIA_IDS_BY_POLICY[truth.policy.id])
    statuses = [c.status for c in truth.criteria]
    if all(s == "met" for s in statuses):
        assert truth.determination == "criteria_met"
    elif "not_met" in statuses:
        assert truth.determination == "criteria_not_met"
    else:
        assert truth.determination == "needs_information"
    if case.expect:
        assert truth.determination == case.expect


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_a_partial_history_never_fails_a_class_without_an_explicit_statement(case: Case) -> None:
    truth = derived(case.id)[1]
    if truth.history is None or truth.history.status != "partial":
        return
    negated = {e.therapy_class for e in truth.class_evidence if e.assertion == "negated"}
    for cid, cls in (
        ("imid_exposure", "immunomodulatory_agent"),
        ("pi_exposure", "proteasome_inhibitor"),
        ("anti_cd38_exposure", "anti_cd38_antibody"),
    ):
        if truth.criterion(cid).status == "not_met":
            assert cls in negated, (case.id, cid)
    if truth.criterion("prior_lines").status == "not_met":
        assert truth.stated_prior_lines is not None, case.id


def test_only_received_therapies_count() -> None:
    """Requested, recommended, discussed, collected-but-not-infused mentions never make a class or a CAR-T."""
    for case in CASES:
        truth = derived(case.id)[1]
        received = {t.ingredient for t in truth.therapies if t.assertion == "received"}
        for t in truth.therapies:
            if t.assertion in (
                "requested",
                "recommended",
                "discussed",
                "eligibility",
                "collected_not_given",
                "family",
            ):
                assert t.line is None, (case.id, t)
        if truth.prior_car_t:
            assert any(t.therapy_class == "car_t" for t in truth.therapies if t.assertion == "received") or (
                truth.history and truth.history.status == "partial"
            ), case.id
        del received


def test_the_same_history_under_each_policy() -> None:
    """An approvable Abecma history of 3 lines fails Carvykti's 4 lines; no labs: not documented."""
    case = BY_ID["case-001"]
    built, abecma = derived("case-001")
    pages = {r: page_map(built, r) for r in case.renderings}
    carvykti = derive_truth(case, built.packet, built.layout, pages, policy_of="cilta-cel")
    assert abecma.determination == "criteria_met"
    assert carvykti.criterion("prior_lines").status == "not_met"
    assert carvykti.criterion("measurable_disease").status == "not_documented"
    assert carvykti.determination == "criteria_not_met"


@pytest.mark.parametrize("case", [c for c in CASES if c.misfiled], ids=lambda c: c.id)
def test_a_misfiled_page_changes_nothing_but_is_named(case: Case) -> None:
    truth = derived(case.id)[1]
    assert truth.set_aside_pages, case.id
    without = case.model_copy(update={"misfiled": None})
    _, alone = truth_of(without, TMP, {})
    assert alone.determination == truth.determination
    assert [c.status for c in alone.criteria] == [c.status for c in truth.criteria]
    other = case.misfiled
    assert other is not None
    text = _text(case.id)
    assert other.patient.name in text


@pytest.mark.parametrize("case", [c for c in CASES if any(d.lost for d in c.documents)], ids=lambda c: c.id)
def test_a_lost_page_makes_the_history_partial(case: Case) -> None:
    truth = derived(case.id)[1]
    assert truth.history is not None and truth.history.status == "partial"
    for rendering, pages in truth.pages.items():
        assert pages.missing_pages, rendering
        assert pages.pages_stated is not None and pages.pages_stated > pages.pages, rendering


def test_corpus_size_and_policies() -> None:
    policies = Counter(derived(c.id)[1].policy.id for c in CASES)  # type: ignore[union-attr]
    assert len(CASES) >= 120
    assert policies["qualchoice-carvykti-bi699-2023-08"] >= 30
    dets = Counter(derived(c.id)[1].determination for c in CASES)
    assert min(dets.values()) >= 15, dets
    carvykti = [derived(c.id)[1] for c in CASES if c.request.regimen == "cilta-cel"]
    assert Counter(t.determination for t in carvykti)["criteria_met"] >= 6
    assert sum(1 for t in carvykti if t.labs) >= 20


def test_histories_are_distinct() -> None:
    signatures = Counter(
        tuple((co.regimen, co.start, co.end) for line in c.lines for co in line.courses)
        for c in CASES
        if c.lines
    )
    assert len(signatures) >= 120
    assert max(signatures.values()) == 1


KINDS = (
    "letter",
    "progress",
    "consult",
    "table",
    "form",
    "labs",
    "medlist",
    "flowsheet",
    "dispensing",
    "pathology",
    "tumor_board",
    "discharge",
    "second_opinion",
    "brief_note",
    "outside_records",
    "records_letter",
)


def test_every_document_kind_is_in_the_corpus() -> None:
    kinds = Counter(d.kind for c in CASES for d in c.documents)
    assert all(kinds[k] >= 3 for k in KINDS), kinds


# Traps that must meet many contexts: how many distinct document kinds and renderings carry them.
SPREAD = [
    ("recap_after_history", 4, 3),
    ("line_breakdown_told_again", 2, 2),
    ("abbreviation_", 8, 5),
    ("partial_history", 4, 3),
    ("class_level_", 3, 2),
    ("mention_", 8, 5),
    ("dates_", 8, 5),
    ("age_", 8, 5),
]


@pytest.mark.parametrize(("prefix", "kinds", "renderings"), SPREAD)
def test_traps_meet_many_contexts(prefix: str, kinds: int, renderings: int) -> None:
    cases = _with_trap(prefix)
    seen_kinds = {d.kind for c in cases for d in c.documents}
    seen_renderings = {r for c in cases for r in c.renderings}
    assert len(cases) >= 4, prefix
    assert len(seen_kinds) >= kinds, (prefix, seen_kinds)
    assert len(seen_renderings) >= renderings, (prefix, seen_renderings)


# (case, words that must be in its documents, words that must not, the trap)
TEXT_TRAPS = [
    ("case-004", ["enrolled on KarMMa"], ["ide-cel 9", "idecabtagene vicleucel 9"], "trial name only"),
    ("case-005", ["s/p cilta-cel"], ["CARTITUDE"], "product name only"),
    ("case-006", ["anti-BCMA CAR T"], ["KarMMa"], "no product, no trial name"),
    ("case-002", ["RVD", "DKd", "to present", " -> "], [], "terse; D = dex in RVD, dara in DKd"),
    ("case-022", ["VD", "DRd", "Mar-Oct 2018"], [], "D = dex in VD, dara in DRd; month range"),
    ("case-017", ["2016-2017", "Mar-Oct 2018"], [], "date styles"),
    ("case-003", ["07/22/1958"], ["year-old", "y/o", "years old", ", age "], "DOB only"),
    ("case-009", ["will start", "Would consider", "since 10/2025"], [], "planned therapy; since"),
    ("case-010", ["brother"], ["No prior CAR-T", "h/o CAR-T", "never received"], "family only"),
    ("case-012", ["CARTITUDE-4", "declined"], [], "declined trial"),
    ("case-013", ["never started", "not tolerated"], [], "never started; not tolerated"),
    ("case-014", ["unknown"], [], "dates unknown"),
    (
        "case-020",
        ["Testpatient, Psi"],
        ["DOB", "D.O.B", "year-old", "y/o", "years old", ", age ", "birth"],
        "no age",
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
    ("case-025", ["C90.00"], ["PD ", "relaps", "refractory", "progressive", "progression"], "no status"),
]


@pytest.mark.parametrize(("cid", "present", "absent", "trap"), TEXT_TRAPS)
def test_documents_hold_the_trap(cid: str, present: list[str], absent: list[str], trap: str) -> None:
    text = _text(cid)
    for words in present:
        assert words in text, f"{trap}: {words!r} missing"
    for words in absent:
        assert words not in text, f"{trap}: {words!r} present"


@pytest.mark.parametrize(("cid", "n"), [("case-017", 5), ("case-003", 4)])
def test_a_stated_line_count_is_printed(cid: str, n: int) -> None:
    assert re.search(rf"\b{n} prior lines|[Pp]rior lines of therapy: {n}\b|{n} prior LOT", _text(cid))


@pytest.mark.parametrize("cid", ["case-010", "case-013", "case-022"])
def test_misspellings_reach_the_text(cid: str) -> None:
    words = {m for entry in vocabulary()["ingredients"].values() for m in entry["misspellings"]}
    found = {w for w in words if re.search(rf"\b{re.escape(w)}\b", _text(cid))}
    assert found, cid


def test_no_table_is_drawn_with_pipes() -> None:
    for case in CASES:
        truth = derived(case.id)[1]
        for cell in truth.cells:
            assert "|" not in cell.text, (case.id, cell)


def test_tables_and_forms_reach_every_kind_of_rendering() -> None:
    """Issue 9 measures cells and boxes on text PDFs and on faxes at both resolutions."""
    rules: dict[str, set[str]] = defaultdict(set)
    boxes: dict[str, set[str]] = defaultdict(set)
    for case in CASES:
        truth = derived(case.id)[1]
        for r in case.renderings:
            res = (
                "text"
                if r == "text.pdf"
                else r.split("-")[-1].removesuffix(".tif")
                if r.endswith(".tif")
                else r
            )
            rules[res] |= {t.rules for t in truth.tables}
            boxes[res] |= {b.style for b in truth.checkboxes}
    for res in ("text", "204x98", "204x196"):
        assert rules[res] == {"grid", "header", "none"}, (res, rules[res])
        assert len(boxes[res]) >= 4, (res, boxes[res])


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_identifiers_are_fictional(case: Case) -> None:
    text = _text(case.id)
    for phone in re.findall(r"\b\d{3}-\d{4}\b", text):
        assert re.fullmatch(r"555-01\d\d", phone), phone
    assert re.search(r"\b(Testpatient|Sampleperson|Examplecase|Fakename), [A-Z][a-z]+\b", text)
    assert "ZZ-000" in text


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_committed_truth_matches_the_case(case: Case) -> None:
    assert committed(case.id) == derived(case.id)[1]


def test_composed_case_files_are_current() -> None:
    """fixtures/cases/composed/ is what fixtures.compose writes (run `python -m fixtures.generate`)."""
    from fixtures.catalog import COMPOSED_DIR, dump_case
    from fixtures.compose import compose

    for case in compose():
        path = COMPOSED_DIR / f"{case.id}.yaml"
        assert path.is_file(), path
        assert read_case(path) == case
        assert dump_case(case) in path.read_text(encoding="utf-8")


def test_case_schema_file_is_current() -> None:
    from fixtures.catalog import SCHEMA_FILE, schema_text

    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text()


def test_manifest_lists_every_document_and_traps_reach_two() -> None:
    manifest = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
    files = {d["file"] for d in manifest["documents"]}
    on_disk = {p.name for p in CORPUS.iterdir() if p.is_file() and not p.name.endswith(".json")}
    assert files == on_disk
    assert len(files) >= 180
    per_trap: dict[str, int] = {}
    for d in manifest["documents"]:
        for trap in set(d["traps"]) | set(d["rendering_traps"]):
            per_trap[trap] = per_trap.get(trap, 0) + 1
    assert min(per_trap.values()) >= 2, sorted(t for t, n in per_trap.items() if n < 2)
    for needed in (
        "blank_page",
        "upside_down_page",
        "fax_group3",
        "fax_group4",
        "fax_204x98",
        "fax_204x196",
        "missing_pages_against_cover",
        "misfiled_other_patient_page",
    ):
        assert per_trap.get(needed, 0) >= 2, needed


def test_corpus_stays_small_and_cheap_to_ocr() -> None:
    manifest = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
    image_pages = sum(
        d["pages"] for d in manifest["documents"] if d["rendering"].endswith((".tif", "scan.pdf"))
    )
    assert image_pages <= 420
    recorded = sum(p.stat().st_size for p in (CORPUS / "recorded-ocr").glob("*"))
    assert sum(d["bytes"] for d in manifest["documents"]) + recorded < 25_000_000


def test_sample_is_an_approvable_g3_fax() -> None:
    sample = FIXTURES / "sample"
    truth = load_truth(sample / f"{SAMPLE_CASE}.truth.json")
    assert truth.determination == "criteria_met"
    assert (sample / f"{SAMPLE_CASE}.g3-204x196.tif").read_bytes() == (
        CORPUS / f"{SAMPLE_CASE}.g3-204x196.tif"
    ).read_bytes()


def test_abecma_criteria_ids_are_the_first_policy() -> None:
    assert CRITERIA_IDS_BY_POLICY["carepartners-ct-abecma-2025-09"] == CRITERIA_IDS


def test_case_files_reject_real_looking_names() -> None:
    data = BY_ID["case-001"].model_dump(mode="json")
    data["patient"]["name"] = "Smith, John"
    with pytest.raises(ValueError, match="fictional"):
        Case.model_validate(data)


def test_build_is_stable() -> None:
    a = build(BY_ID["case-001"], TMP)
    b = build(BY_ID["case-001"], TMP)
    assert a.layout.cells == b.layout.cells
