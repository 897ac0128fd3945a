"""`intake eval` scoring, on hand-made reports against hand-made truth.

Each case is one way a pipeline can be wrong, and the metric it must move.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from common.models import (
    AgeFact,
    ClinicalFacts,
    CriterionResult,
    DiagnosisFact,
    DocumentInfo,
    LineOfTherapy,
    PolicyInfo,
    Report,
    Therapy,
)
from evaluation import corpus as ev
from fixtures.truth import CRITERIA_IDS, Truth

TRUTH = Truth.model_validate(
    {
        "case": "case-900",
        "purpose": "hand-made",
        "traps": ["bispecific_not_car_t"],
        "age": 70,
        "age_how": "stated",
        "date_of_service": "2026-05-01",
        "diagnosis": {"concept": "multiple_myeloma", "is_target": True, "status": "relapsed"},
        "therapies": [
            {
                "ingredient": "lenalidomide",
                "therapy_class": "immunomodulatory_agent",
                "start": "2019-03",
                "end": "2019-07",
                "line": 1,
            },
            {
                "ingredient": "bortezomib",
                "therapy_class": "proteasome_inhibitor",
                "start": "2019-03",
                "end": "2019-07",
                "line": 1,
            },
            {
                "ingredient": "daratumumab",
                "therapy_class": "anti_cd38_antibody",
                "start": "2016",
                "end": "2017",
                "line": 2,
            },
            {"ingredient": "teclistamab", "therapy_class": "bcma_bispecific", "start": "2024-03", "line": 3},
            {"ingredient": "idecabtagene vicleucel", "therapy_class": "car_t", "assertion": "planned"},
        ],
        "lines": [
            {"number": 1, "start": "2019-03"},
            {"number": 2, "start": "2016"},
            {"number": 3, "start": "2024-03"},
        ],
        "stated_prior_lines": None,
        "prior_car_t": False,
        "criteria": [{"id": cid, "status": "met", "why": "hand-made"} for cid in CRITERIA_IDS],
        "determination": "criteria_met",
    }
)


def _report(therapies: list[dict[str, Any]] | None = None, **changes: Any) -> Report:
    items = therapies if therapies is not None else [t.model_dump() for t in TRUTH.therapies]
    criteria = changes.pop("criteria", {})
    return Report(
        document=DocumentInfo(sha256="0" * 64, pages=1, source_type="text"),
        policy=PolicyInfo(id="p", title="p"),
        determination=changes.pop("determination", TRUTH.determination),
        criteria=tuple(
            CriterionResult(id=c.id, status=criteria.get(c.id, c.status), reason="") for c in TRUTH.criteria
        ),
        therapies=tuple(Therapy(**{k: v for k, v in t.items() if k in Therapy.model_fields}) for t in items),
        lines=tuple(LineOfTherapy(number=n) for n in range(1, changes.pop("lines", 3) + 1)),
        missing=(),
    )


def _facts(age: int | None = 70, myeloma: bool = True) -> ClinicalFacts:
    return ClinicalFacts(
        age=AgeFact(years=age, how="stated") if age is not None else None,
        diagnoses=(DiagnosisFact(concept="multiple_myeloma", is_target=True, text="MM"),) if myeloma else (),
    )


def _therapies(**patch: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for t in TRUTH.therapies:
        d = t.model_dump()
        d.update(patch.get(t.ingredient, {}))
        out.append(d)
    return out


def test_perfect_report_scores_one_everywhere() -> None:
    s = ev.Summary.of([ev.score_document(TRUTH, _report(), _facts())], 1.0)
    m = s.metrics()
    for key in (
        "ingredient.f1",
        "class.f1",
        "assertion.accuracy",
        "start_month.accuracy",
        "end_month.accuracy",
        "line_count.accuracy",
        "criteria.accuracy",
        "determination.accuracy",
        "age.accuracy",
    ):
        assert m[key] == 1.0, key
    assert m["prior_car_t.false_positives"] == 0
    assert all(f["ok"] for f in ev.apply_floors(m, ev.load_floors()))


# (what went wrong, report therapies, metric, expected value)
THERAPY_ERRORS = [
    (
        "missed daratumumab",
        [t.model_dump() for t in TRUTH.therapies if t.ingredient != "daratumumab"],
        "ingredient.recall",
        3 / 4,
    ),
    (
        "planned Abecma called received",
        _therapies(**{"idecabtagene vicleucel": {"assertion": "received"}}),
        "prior_car_t.false_positives",
        1,
    ),
    (
        "bispecific called CAR-T",
        _therapies(teclistamab={"therapy_class": "car_t"}),
        "prior_car_t.false_positives",
        1,
    ),
    ("start a month off", _therapies(bortezomib={"start": "2019-04"}), "start_month.accuracy", 3 / 4),
    (
        "year-only truth, month predicted in that year",
        _therapies(daratumumab={"start": "2016-05"}),
        "start_month.accuracy",
        1.0,
    ),
    ("end missing", _therapies(lenalidomide={"end": None}), "end_month.accuracy", 2 / 3),
    ("wrong line number", _therapies(teclistamab={"line": 4}), "therapy_line.accuracy", 3 / 4),
]


@pytest.mark.parametrize(
    ("what", "therapies", "metric", "expected"), THERAPY_ERRORS, ids=[e[0] for e in THERAPY_ERRORS]
)
def test_therapy_errors_move_their_metric(
    what: str, therapies: list[dict[str, Any]], metric: str, expected: float
) -> None:
    m = ev.Summary.of([ev.score_document(TRUTH, _report(therapies), _facts())], 1.0).metrics()
    assert m[metric] == pytest.approx(expected), what


def test_planned_called_received_is_an_assertion_error() -> None:
    therapies = _therapies(**{"idecabtagene vicleucel": {"assertion": "received"}})
    score = ev.score_document(TRUTH, _report(therapies), _facts())
    assert score.tallies["assertion"].accuracy < 1.0
    assert any("called received" in p for p in score.problems)


def test_extra_non_received_mentions_are_not_penalised() -> None:
    extra = [
        *_therapies(),
        {"ingredient": "lenalidomide", "therapy_class": "immunomodulatory_agent", "assertion": "planned"},
    ]
    m = ev.Summary.of([ev.score_document(TRUTH, _report(extra), _facts())], 1.0).metrics()
    assert m["assertion.accuracy"] == 1.0 and m["ingredient.f1"] == 1.0


@pytest.mark.parametrize(
    ("ingredient", "therapy_class", "key"),
    [
        ("daratumumab and hyaluronidase-fihj", "anti_cd38_antibody", "daratumumab"),
        ("teclistamab-cqyv", "bcma_bispecific", "teclistamab"),
        ("Lenalidomide", "immunomodulatory_agent", "lenalidomide"),
        ("unspecified car-t", "car_t", "car_t"),
        ("ciltacabtagene autoleucel", "car_t", "car_t"),
        ("autologous stem cell transplant", "stem_cell_transplant", "stem_cell_transplant"),
    ],
)
def test_therapy_keys(ingredient: str, therapy_class: str, key: str) -> None:
    assert ev.therapy_key(ingredient, therapy_class) == key


def test_fact_and_criterion_errors() -> None:
    report = _report(
        lines=2, criteria={"no_prior_car_t": "not_documented"}, determination="needs_information"
    )
    score = ev.score_document(TRUTH, report, _facts(age=None, myeloma=False))
    m = ev.Summary.of([score], 1.0).metrics()
    assert m["line_count.accuracy"] == 0.0
    assert m["age.accuracy"] == 0.0 and m["diagnosis.accuracy"] == 0.0
    assert m["criteria.accuracy"] == pytest.approx(7 / 8)
    assert m["determination.accuracy"] == 0.0
    assert score.problems[0].startswith("determination needs_information")


def test_false_criteria_met_is_counted() -> None:
    truth = TRUTH.model_copy(update={"determination": "needs_information"})
    m = ev.Summary.of([ev.score_document(truth, _report(), _facts())], 1.0).metrics()
    assert m["determination.false_criteria_met"] == 1
    failed = [f for f in ev.apply_floors(m, ev.load_floors()) if not f["ok"]]
    assert {f["metric"] for f in failed} == {"determination.accuracy", "determination.false_criteria_met"}


def test_a_failed_document_is_scored_not_raised() -> None:
    score = ev.score_document(TRUTH, None, None, error="NotImplementedError: reader")
    assert score.predicted_determination == "error"
    assert score.counts["ingredient"].recall == 0.0
    assert score.problems[0].startswith("determination error")
    assert ev._worst(ev.Summary.of([score], 0.0))[0] is score


@pytest.fixture
def tiny_corpus(tmp_path: Path) -> Path:
    (tmp_path / "case-900.truth.json").write_text(TRUTH.model_dump_json(), encoding="utf-8")
    (tmp_path / "case-900.ehr.txt").write_text("placeholder\n", encoding="utf-8")
    (tmp_path / "case-900.text.pdf").write_bytes(b"%PDF-placeholder")
    return tmp_path


def test_corpus_without_manifest_pairs_renderings_with_truth(tiny_corpus: Path) -> None:
    docs = ev.load_corpus(tiny_corpus)
    assert [d.rendering for d in docs] == ["ehr.txt", "text.pdf"]
    assert all(d.truth_path.name == "case-900.truth.json" for d in docs)


def test_main_exit_codes_and_json(
    tiny_corpus: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def run(docs: list[ev.CorpusDocument], **_: Any) -> dict[Path, Any]:
        good = (_report(), _facts(), None, 0.1)
        bad = (None, None, "ImportError: stage not written yet", 0.0)
        return {d.path: good if d.rendering == "ehr.txt" else bad for d in docs}

    monkeypatch.setattr(ev, "run_documents", run)
    assert ev.main(tiny_corpus, as_json=True, check_floors=True) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["documents"] == 2 and out["failed"][0]["error"].startswith("ImportError")
    assert out["confusion"]["criteria_met"] == {"criteria_met": 1, "error": 1}
    assert ev.main(tiny_corpus, as_json=False, check_floors=False) == 0
    text = capsys.readouterr().out
    assert "FAIL determination.accuracy" in text and "worst documents" in text


def test_real_pipeline_failure_becomes_a_failed_document(tmp_path: Path) -> None:
    missing = tmp_path / "nothing.pdf"
    ev._init_worker()
    _path, report, facts, error, _, recorded = ev._run_in_worker(str(missing))
    assert not recorded
    assert report is None and facts is None and error


@pytest.mark.slow
def test_eval_runs_the_real_pipeline_in_two_workers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = Path(__file__).resolve().parent.parent / "fixtures" / "corpus"
    for name in ("case-001.text.pdf", "case-001.truth.json", "case-002.ehr.txt", "case-002.truth.json"):
        (tmp_path / name).write_bytes((corpus / name).read_bytes())
    ev.main(tmp_path, as_json=True, check_floors=False, jobs=2)
    out = json.loads(capsys.readouterr().out)
    assert out["documents"] == 2 and out["failed"] == []
    assert {d["file"] for d in out["per_document"]} == {"case-001.text.pdf", "case-002.ehr.txt"}
