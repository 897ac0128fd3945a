"""`intake eval`: measure the pipeline against the ground truth of a corpus.

Runs every document of a corpus (``manifest.json`` beside the files, or any
``case-NNN.truth.json`` with its renderings ``case-NNN.*``) through
:func:`pipeline.composer.process_file` and compares the report and the clinical
facts with the truth: precision, recall and F1 per field, criterion-level
accuracy, the confusion table of determinations and the documents that went
worst.  ``--check-floors`` turns the floors in ``fixtures/floors.json`` into
the exit code.

Scoring rules (so a number can be read without the code):

* ingredient / class: per document, the set of ingredients (classes) the
  patient *received*.  CAR-T products and transplants are compared by class
  ("car_t", "stem_cell_transplant"): the policy does not care which product,
  and "anti-BCMA CAR T" names none.
* assertion: for ingredients found in both, each truth assertion must be
  among the predicted ones; a predicted "received" the truth lacks is an error.
  Extra non-received mentions (a predicted "planned" the truth lacks) are not.
* start / end (month) and therapy line: received therapies paired by
  ingredient (same line first, then nearest start); a year-only truth date is
  compared at year level.  A transplant's or infusion's end is not scored.
* line count, age, diagnosis, prior CAR-T: one decision per document.
* criteria: every (document, criterion id) pair of the truth.
* A document the pipeline fails on counts as predicting nothing, with
  determination "error".
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any

from common.models import ClinicalFacts, Report, Therapy
from fixtures.truth import Truth, TruthTherapy, load_truth

DETERMINATIONS = ("criteria_met", "criteria_not_met", "needs_information")
ERROR = "error"
POINT_EVENT_CLASSES = ("stem_cell_transplant", "car_t")
WORST_SHOWN = 8
# The corpus truth's assertions are the coarse ones of its schema (received, planned,
# negated, family, uncertain); the finer kinds of statement the pipeline tells apart are
# compared as the coarse one they refine.
COARSE_ASSERTION = {
    "requested": "planned",
    "recommended": "planned",
    "eligibility": "planned",
    "discussed": "planned",
    "collected_not_given": "planned",
    "other_patient": "uncertain",
}
RECORDINGS = "recorded-ocr"  # beside the corpus: reading/recorded.py

# ------------------------------------------------------------------ corpus


@dataclass(frozen=True)
class CorpusDocument:
    path: Path
    truth_path: Path
    rendering: str
    # the day the intake queue would have received the fax: the day the truth dates the
    # request (a fax is sent when the request is made); the pipeline counts recency from
    # it only when the document itself dates the request nowhere
    received: str | None = None


def _received_on(truth: Path) -> str | None:
    day = json.loads(truth.read_text(encoding="utf-8")).get("request_date")
    return day if isinstance(day, str) and len(day) == 10 else None


def load_corpus(corpus: Path) -> list[CorpusDocument]:
    """The documents of a corpus folder with their truth files."""
    manifest = corpus / "manifest.json"
    if manifest.is_file():
        data = json.loads(manifest.read_text(encoding="utf-8"))
        return [
            CorpusDocument(
                corpus / d["file"],
                corpus / d["truth"],
                d.get("rendering", d["file"]),
                d.get("received") or _received_on(corpus / d["truth"]),
            )
            for d in data["documents"]
        ]
    docs: list[CorpusDocument] = []
    for truth in sorted(corpus.glob("*.truth.json")):
        case = truth.name.removesuffix(".truth.json")
        for path in sorted(corpus.glob(f"{case}.*")):
            if path != truth and path.is_file():
                docs.append(
                    CorpusDocument(path, truth, path.name.removeprefix(f"{case}."), _received_on(truth))
                )
    return docs


# ------------------------------------------------------------------ counting


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, truth: set[str], predicted: set[str]) -> None:
        self.tp += len(truth & predicted)
        self.fp += len(predicted - truth)
        self.fn += len(truth - predicted)

    def merge(self, other: Counts) -> None:
        self.tp, self.fp, self.fn = self.tp + other.tp, self.fp + other.fp, self.fn + other.fn

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Tally:
    correct: int = 0
    total: int = 0

    def add(self, ok: bool) -> None:
        self.correct += int(ok)
        self.total += 1

    def merge(self, other: Tally) -> None:
        self.correct += other.correct
        self.total += other.total

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 1.0


COUNT_FIELDS = ("ingredient", "class", "assertion", "prior_car_t", "age", "diagnosis")
TALLY_FIELDS = (
    "assertion",
    "start_month",
    "end_month",
    "therapy_line",
    "line_count",
    "prior_car_t",
    "age",
    "diagnosis",
    "criteria",
    "determination",
    "lab_value",  # value, unit and collection date all right; only where the truth lists labs
)


@dataclass
class DocumentScore:
    file: str
    case: str
    rendering: str
    truth_determination: str
    predicted_determination: str
    error: str | None = None
    seconds: float = 0.0
    counts: dict[str, Counts] = field(default_factory=lambda: {f: Counts() for f in COUNT_FIELDS})
    tallies: dict[str, Tally] = field(default_factory=lambda: {f: Tally() for f in TALLY_FIELDS})
    criteria: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (truth, predicted)
    problems: list[str] = field(default_factory=list)

    @property
    def badness(self) -> int:
        wrong_criteria = sum(1 for t, p in self.criteria.values() if t != p)
        det = 10 if self.truth_determination != self.predicted_determination else 0
        return det + 3 * wrong_criteria + len(self.problems) + (100 if self.error else 0)


# ------------------------------------------------------------------ keys and dates


def therapy_key(ingredient: str, therapy_class: str) -> str:
    """Compare like with like: one key per drug, CAR-T and transplants by class."""
    if therapy_class in POINT_EVENT_CLASSES:
        return therapy_class
    key = ingredient.lower().strip()
    key = key.split(" and hyaluronidase")[0]
    # FDA four-letter suffixes: teclistamab-cqyv, daratumumab-fihj.
    if len(key) > 5 and key[-5] == "-" and key[-4:].isalpha():
        key = key[:-5]
    return key


def same_date(truth: str | None, predicted: str | None) -> bool:
    """Month-level agreement; a year-only truth is compared at year level."""
    if truth is None or predicted is None:
        return truth is None and predicted is None
    if len(truth) == 4:
        return predicted[:4] == truth
    return predicted[:7] == truth[:7]


def _received(items: Iterable[Therapy | TruthTherapy]) -> list[Any]:
    # class-level evidence ("triple-class refractory") names no drug: not an ingredient
    return [t for t in items if t.assertion == "received" and not getattr(t, "class_level", False)]


def _pair(truth: list[TruthTherapy], predicted: list[Therapy]) -> list[tuple[TruthTherapy, Therapy]]:
    """Pair received therapies of one key: same line first, then same start, then same end."""
    pairs: list[tuple[TruthTherapy, Therapy]] = []
    free = list(predicted)
    for t in sorted(truth, key=lambda x: (x.line or 0, x.start or "")):
        if not free:
            break

        # The report may repeat a therapy once per mention; prefer the copy that agrees most.
        def rank(p: Therapy, t: TruthTherapy = t) -> tuple[int, int, int, str]:
            return (
                int(p.line != t.line),
                int(not same_date(t.start, p.start)),
                int(not same_date(t.end, p.end)),
                p.start or "",
            )

        best = min(free, key=rank)
        free.remove(best)
        pairs.append((t, best))
    return pairs


# ------------------------------------------------------------------ scoring one document


def score_document(
    truth: Truth,
    report: Report | None,
    facts: ClinicalFacts | None,
    *,
    file: str = "",
    rendering: str = "",
    error: str | None = None,
    seconds: float = 0.0,
) -> DocumentScore:
    predicted_therapies = list(report.therapies) if report else []
    score = DocumentScore(
        file=file,
        case=truth.case,
        rendering=rendering,
        truth_determination=truth.determination,
        predicted_determination=report.determination if report else ERROR,
        error=error,
        seconds=seconds,
    )
    if error:
        score.problems.append(f"pipeline failed: {error}")
    _score_therapies(score, truth, predicted_therapies)
    _score_lines(score, truth, report)
    _score_facts(score, truth, facts)
    _score_labs(score, truth, facts)
    _score_criteria(score, truth, report)
    return score


def _score_labs(score: DocumentScore, truth: Truth, facts: ClinicalFacts | None) -> None:
    from evaluation.labs import score_labs

    for ok, problem in score_labs(getattr(truth, "labs", None) or (), facts.labs if facts else ()):
        score.tallies["lab_value"].add(ok)
        if problem:
            score.problems.append(problem)


def _score_therapies(score: DocumentScore, truth: Truth, predicted: list[Therapy]) -> None:
    t_recv = {therapy_key(t.ingredient, t.therapy_class) for t in _received(truth.therapies)}
    p_recv = {therapy_key(t.ingredient, t.therapy_class) for t in _received(predicted)}
    score.counts["ingredient"].add(t_recv, p_recv)
    for missed in sorted(t_recv - p_recv):
        score.problems.append(f"missed received {missed}")
    for extra in sorted(p_recv - t_recv):
        score.problems.append(f"spurious received {extra}")
    score.counts["class"].add(
        {t.therapy_class for t in _received(truth.therapies)}, {t.therapy_class for t in _received(predicted)}
    )

    t_assert: dict[str, set[str]] = defaultdict(set)
    p_assert: dict[str, set[str]] = defaultdict(set)
    for t in truth.therapies:
        t_assert[therapy_key(t.ingredient, t.therapy_class)].add(t.assertion)
    for p in predicted:
        p_assert[therapy_key(p.ingredient, p.therapy_class)].add(
            COARSE_ASSERTION.get(p.assertion, p.assertion)
        )
    score.counts["assertion"].add(
        {f"{k}:{a}" for k, v in t_assert.items() for a in v},
        {f"{k}:{a}" for k, v in p_assert.items() for a in v},
    )
    for key in sorted(set(t_assert) & set(p_assert)):
        for assertion in sorted(t_assert[key]):
            ok = assertion in p_assert[key]
            score.tallies["assertion"].add(ok)
            if not ok:
                score.problems.append(f"{key}: no '{assertion}' mention found (got {sorted(p_assert[key])})")
        if "received" in p_assert[key] and "received" not in t_assert[key]:
            score.tallies["assertion"].add(False)
            score.problems.append(f"{key}: called received, truth {sorted(t_assert[key])}")

    by_key_t: dict[str, list[TruthTherapy]] = defaultdict(list)
    by_key_p: dict[str, list[Therapy]] = defaultdict(list)
    for t in _received(truth.therapies):
        by_key_t[therapy_key(t.ingredient, t.therapy_class)].append(t)
    for p in _received(predicted):
        by_key_p[therapy_key(p.ingredient, p.therapy_class)].append(p)
    for key, items in by_key_t.items():
        for t, p in _pair(items, by_key_p.get(key, [])):
            if t.start or p.start:
                ok = same_date(t.start, p.start)
                score.tallies["start_month"].add(ok)
                if not ok:
                    score.problems.append(f"{key} (line {t.line}) start {p.start}, truth {t.start}")
            if t.therapy_class not in POINT_EVENT_CLASSES and (t.end or p.end):
                ok = same_date(t.end, p.end)
                score.tallies["end_month"].add(ok)
                if not ok:
                    score.problems.append(f"{key} (line {t.line}) end {p.end}, truth {t.end}")
            if t.line is not None:
                score.tallies["therapy_line"].add(p.line == t.line)

    t_cart = truth.prior_car_t
    p_cart = any(t.therapy_class == "car_t" for t in _received(predicted))
    score.counts["prior_car_t"].add({"car_t"} if t_cart else set(), {"car_t"} if p_cart else set())
    score.tallies["prior_car_t"].add(t_cart == p_cart)
    if p_cart and not t_cart:
        score.problems.append("prior CAR-T reported, truth none")


def _score_lines(score: DocumentScore, truth: Truth, report: Report | None) -> None:
    got = len(report.lines) if report else 0
    ok = got == len(truth.lines)
    score.tallies["line_count"].add(ok)
    if not ok:
        score.problems.append(f"line count {got}, truth {len(truth.lines)}")


def _score_facts(score: DocumentScore, truth: Truth, facts: ClinicalFacts | None) -> None:
    # "at least 18" from a form is no age to score against the member's
    age = facts.age.years if facts and facts.age and facts.age.how != "at_least" else None
    score.tallies["age"].add(age == truth.age)
    score.counts["age"].add(
        {str(truth.age)} if truth.age is not None else set(), {str(age)} if age is not None else set()
    )
    if age != truth.age:
        score.problems.append(f"age {age}, truth {truth.age}")
    target = bool(facts) and any(
        d.is_target and d.assertion == "received" for d in (facts.diagnoses if facts else ())
    )
    score.tallies["diagnosis"].add(target == truth.diagnosis.is_target)
    score.counts["diagnosis"].add(
        {"myeloma"} if truth.diagnosis.is_target else set(), {"myeloma"} if target else set()
    )
    if target != truth.diagnosis.is_target:
        score.problems.append(
            f"myeloma diagnosis {'found' if target else 'not found'}, truth {truth.diagnosis.concept}"
        )


def _score_criteria(score: DocumentScore, truth: Truth, report: Report | None) -> None:
    predicted = {c.id: c.status for c in report.criteria} if report else {}
    for c in truth.criteria:
        got = predicted.get(c.id, "absent")
        score.criteria[c.id] = (c.status, got)
        score.tallies["criteria"].add(got == c.status)
        if got != c.status:
            score.problems.append(f"criterion {c.id}: {got}, truth {c.status} ({c.why})")
    ok = score.predicted_determination == truth.determination
    score.tallies["determination"].add(ok)
    if not ok:
        score.problems.insert(
            0, f"determination {score.predicted_determination}, truth {truth.determination}"
        )


# ------------------------------------------------------------------ the whole corpus


@dataclass
class Summary:
    documents: list[DocumentScore]
    seconds: float
    counts: dict[str, Counts] = field(default_factory=dict)
    tallies: dict[str, Tally] = field(default_factory=dict)
    by_criterion: dict[str, Tally] = field(default_factory=dict)
    confusion: dict[str, Counter[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, documents: list[DocumentScore], seconds: float) -> Summary:
        s = cls(documents, seconds)
        s.counts = {f: Counts() for f in COUNT_FIELDS}
        s.tallies = {f: Tally() for f in TALLY_FIELDS}
        s.by_criterion = defaultdict(Tally)
        s.confusion = {d: Counter() for d in DETERMINATIONS}
        for doc in documents:
            for f in COUNT_FIELDS:
                s.counts[f].merge(doc.counts[f])
            for f in TALLY_FIELDS:
                s.tallies[f].merge(doc.tallies[f])
            for cid, (t, p) in doc.criteria.items():
                s.by_criterion[cid].add(t == p)
            s.confusion.setdefault(doc.truth_determination, Counter())[doc.predicted_determination] += 1
        return s

    def metrics(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for f, c in self.counts.items():
            out[f"{f}.precision"], out[f"{f}.recall"], out[f"{f}.f1"] = c.precision, c.recall, c.f1
        for f, t in self.tallies.items():
            out[f"{f}.accuracy"] = t.accuracy
        out["prior_car_t.false_positives"] = self.counts["prior_car_t"].fp
        out["determination.false_criteria_met"] = sum(
            n
            for truth, row in self.confusion.items()
            if truth != "criteria_met"
            for p, n in row.items()
            if p == "criteria_met"
        )
        out["documents.failed"] = sum(1 for d in self.documents if d.error)
        return out


def load_floors() -> list[dict[str, Any]]:
    text = resources.files("fixtures").joinpath("floors.json").read_text(encoding="utf-8")
    floors: list[dict[str, Any]] = json.loads(text)["floors"]
    return floors


def apply_floors(metrics: dict[str, float], floors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    results = []
    for floor in floors:
        value = metrics[floor["metric"]]
        ok = ("min" not in floor or value >= floor["min"]) and ("max" not in floor or value <= floor["max"])
        results.append({**floor, "value": value, "ok": ok})
    return results


# ------------------------------------------------------------------ running the pipeline

Outcome = tuple[Report | None, ClinicalFacts | None, str | None, float]  # report, facts, error, seconds
_WORKER_SETTINGS: Any = None


OcrMode = str  # "live": always read; "recorded": a current recording, else live; "record": live, then keep it
_WORKER_RECORDINGS: Any = None
_WORKER_MODE: OcrMode = "live"


def _init_worker(mode: OcrMode = "live", recordings: str | None = None) -> None:
    """Build the pipeline once per worker; one OCR process per worker (no oversubscription)."""
    global _WORKER_SETTINGS, _WORKER_RECORDINGS, _WORKER_MODE
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    from common.settings import Settings
    from reading.recorded import Recordings

    _WORKER_SETTINGS = Settings(workers=1)
    _WORKER_MODE = mode
    _WORKER_RECORDINGS = Recordings(Path(recordings)) if recordings else None
    try:
        from extractors.nlp import build_nlp

        build_nlp()
    except Exception:  # a stage still being written: each document will report it
        pass


def _read(path: Path) -> tuple[Any, bool]:
    """The document's reading, and whether it came from a recording."""
    import hashlib

    from reading.reader import read_document
    from reading.recorded import needs_ocr

    recordings = _WORKER_RECORDINGS
    if recordings is not None and _WORKER_MODE == "recorded":
        recorded = recordings.get(hashlib.sha256(path.read_bytes()).hexdigest(), _WORKER_SETTINGS)
        if recorded is not None:
            return recorded, True
    document = read_document(path, _WORKER_SETTINGS)
    if recordings is not None and _WORKER_MODE == "record" and needs_ocr(document):
        recordings.put(document, _WORKER_SETTINGS)
    return document, False


def _run_in_worker(
    path: str, received: str | None = None
) -> tuple[str, str | None, str | None, str | None, float, bool]:
    start = time.perf_counter()
    try:
        from pipeline.composer import process_document
        from reading.second import second_reading

        document, recorded = _read(Path(path))
        # the second reader is a stage after the reading, recorded or not (reading/second.py)
        document = second_reading(document, Path(path), _WORKER_SETTINGS)
        day = date.fromisoformat(received) if received and len(received) == 10 else None
        done = process_document(document, settings=_WORKER_SETTINGS, received=day)
        return (
            path,
            done.report.model_dump_json(),
            done.facts.model_dump_json(),
            None,
            time.perf_counter() - start,
            recorded,
        )
    except Exception as err:  # NotImplementedError, ImportError, a bug: a failed document, not a crash
        return path, None, None, f"{type(err).__name__}: {err}", time.perf_counter() - start, False


def run_documents(
    docs: list[CorpusDocument],
    *,
    jobs: int = 2,
    mode: OcrMode = "live",
    recordings: Path | None = None,
) -> dict[Path, Outcome]:
    from tqdm import tqdm

    results: dict[Path, Outcome] = {}
    replayed = 0

    def keep(item: tuple[str, str | None, str | None, str | None, float, bool]) -> None:
        nonlocal replayed
        path, report, facts, error, seconds, recorded = item
        replayed += int(recorded)
        results[Path(path)] = (
            Report.model_validate_json(report) if report else None,
            ClinicalFacts.model_validate_json(facts) if facts else None,
            error,
            seconds,
        )

    init = (mode, str(recordings) if recordings else None)
    bar = tqdm(total=len(docs), file=sys.stderr, unit="doc", desc="eval", disable=None)
    try:
        if jobs <= 1 or len(docs) <= 1:
            _init_worker(*init)
            for d in docs:
                keep(_run_in_worker(str(d.path), d.received))
                bar.update()
        else:
            with ProcessPoolExecutor(
                max_workers=min(jobs, len(docs)), initializer=_init_worker, initargs=init
            ) as pool:
                # Biggest files (most pages to OCR) first, so the two workers finish together.
                ordered = sorted(docs, key=lambda d: -d.path.stat().st_size if d.path.exists() else 0)
                futures = {pool.submit(_run_in_worker, str(d.path), d.received): d.path for d in ordered}
                for future in as_completed(futures):
                    try:
                        keep(future.result())
                    except Exception as err:  # a worker died (BrokenProcessPool): score, don't crash
                        keep((str(futures[future]), None, None, f"{type(err).__name__}: {err}", 0.0, False))
                    bar.update()
    finally:
        bar.close()
    if mode == "recorded":
        print(f"eval: {replayed} of {len(docs)} documents from current OCR recordings", file=sys.stderr)
    return results


def evaluate_corpus(
    docs: list[CorpusDocument],
    results: dict[Path, Outcome],
    seconds: float,
) -> Summary:
    scores = []
    for d in docs:
        report, facts, error, took = results[d.path]
        scores.append(
            score_document(
                load_truth(d.truth_path),
                report,
                facts,
                file=d.path.name,
                rendering=d.rendering,
                error=error,
                seconds=took,
            )
        )
    return Summary.of(scores, seconds)


# ------------------------------------------------------------------ output


def as_dict(summary: Summary, floors: list[dict[str, Any]], corpus: Path) -> dict[str, Any]:
    return {
        "corpus": str(corpus),
        "documents": len(summary.documents),
        "failed": [{"file": d.file, "error": d.error} for d in summary.documents if d.error],
        "seconds": round(summary.seconds, 1),
        "fields": {
            **{
                f: {
                    "precision": c.precision,
                    "recall": c.recall,
                    "f1": c.f1,
                    "tp": c.tp,
                    "fp": c.fp,
                    "fn": c.fn,
                }
                for f, c in summary.counts.items()
            },
        },
        "accuracy": {
            f: {"accuracy": t.accuracy, "correct": t.correct, "total": t.total}
            for f, t in summary.tallies.items()
        },
        "criteria_by_id": {
            cid: {"accuracy": t.accuracy, "correct": t.correct, "total": t.total}
            for cid, t in sorted(summary.by_criterion.items())
        },
        "confusion": {t: dict(row) for t, row in summary.confusion.items()},
        "metrics": summary.metrics(),
        "floors": floors,
        "worst": [_doc_dict(d) for d in _worst(summary)],
        "per_document": [_doc_dict(d) for d in summary.documents],
    }


def _doc_dict(d: DocumentScore) -> dict[str, Any]:
    return {
        "file": d.file,
        "truth": d.truth_determination,
        "predicted": d.predicted_determination,
        "seconds": round(d.seconds, 2),
        "error": d.error,
        "problems": d.problems,
    }


def _worst(summary: Summary) -> list[DocumentScore]:
    bad = [d for d in summary.documents if d.badness > 0]
    return sorted(bad, key=lambda d: (-d.badness, d.file))[:WORST_SHOWN]


def render_text(summary: Summary, floors: list[dict[str, Any]], corpus: Path) -> str:
    n = len(summary.documents)
    failed = sum(1 for d in summary.documents if d.error)
    out = [f"corpus {corpus}: {n} documents, {failed} failed, {summary.seconds:.1f} s", ""]
    out.append(f"{'field':<16}{'precision':>10}{'recall':>8}{'f1':>8}{'accuracy':>10}{'n':>6}")
    rows = [
        ("ingredient", "ingredient", None),
        ("class", "class", None),
        ("assertion", "assertion", "assertion"),
        ("start (month)", None, "start_month"),
        ("end (month)", None, "end_month"),
        ("therapy line", None, "therapy_line"),
        ("line count", None, "line_count"),
        ("prior CAR-T", "prior_car_t", "prior_car_t"),
        ("age", "age", "age"),
        ("diagnosis", "diagnosis", "diagnosis"),
        ("criteria", None, "criteria"),
        ("determination", None, "determination"),
    ]
    if summary.tallies["lab_value"].total:  # only a corpus whose truth lists lab values
        rows.append(("lab value", None, "lab_value"))
    for label, count, tally in rows:
        c = summary.counts.get(count) if count else None
        t = summary.tallies.get(tally) if tally else None
        prf = f"{c.precision:>10.3f}{c.recall:>8.3f}{c.f1:>8.3f}" if c else " " * 26
        acc = f"{t.accuracy:>10.3f}{t.total:>6}" if t else ""
        out.append(f"{label:<16}{prf}{acc}")
    out += ["", "criteria by id:"]
    for cid, t in sorted(summary.by_criterion.items()):
        out.append(f"  {cid:<20}{t.accuracy:>7.3f}  ({t.correct}/{t.total})")
    out += ["", "determinations (rows: truth, columns: predicted):"]
    cols = [*DETERMINATIONS, ERROR]
    out.append(" " * 20 + "".join(f"{c:>19}" for c in cols))
    for truth in DETERMINATIONS:
        row = summary.confusion.get(truth, Counter())
        out.append(f"{truth:<20}" + "".join(f"{row.get(c, 0):>19}" for c in cols))
    out += ["", "floors:"]
    for f in floors:
        bound = f"≥ {f['min']}" if "min" in f else f"≤ {f['max']}"
        out.append(f"  {'ok  ' if f['ok'] else 'FAIL'} {f['metric']:<36}{f['value']:>8.3f}  (floor {bound})")
    worst = _worst(summary)
    if worst:
        out += ["", "worst documents:"]
        for d in worst:
            out.append(f"  {d.file}: truth {d.truth_determination}, got {d.predicted_determination}")
            out += [f"      - {p}" for p in d.problems[:8]]
            if len(d.problems) > 8:
                out.append(f"      ... {len(d.problems) - 8} more")
    return "\n".join(out)


def main(corpus: Path, *, as_json: bool, check_floors: bool, jobs: int = 2, ocr: OcrMode = "recorded") -> int:
    """Run the corpus, print the figures, return the exit code (1: under a floor when checking)."""
    docs = load_corpus(corpus)
    if not docs:
        print(f"no documents with ground truth in {corpus}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    results = run_documents(docs, jobs=jobs, mode=ocr, recordings=corpus / RECORDINGS)
    summary = evaluate_corpus(docs, results, time.perf_counter() - started)
    floors = apply_floors(summary.metrics(), load_floors())
    if as_json:
        print(json.dumps(as_dict(summary, floors, corpus), indent=2))
    else:
        print(render_text(summary, floors, corpus))
    if check_floors and not all(f["ok"] for f in floors):
        return 1
    return 0
