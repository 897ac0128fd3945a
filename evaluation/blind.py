"""The blind held-out set: documents nobody who writes code or fixtures has seen.

Written by authors who read only the policies and the domain reference (see
``fixtures/blind/README.md``), as HTML the way offices print them, with a truth
file each (``blind-truth/1``: determination, criterion statuses, the lines of therapy
the document tells with their start months, prior CAR-T, age).  This module
renders them (Chromium's print to PDF for the text PDF, then the corpus's fax
degradation for one fax or scan rendering each) and scores the pipeline on them,
reported apart from the corpus.  Its documents never become test rows or rules.

Scoring (one decision per document unless said):

* determination right; wrong ``criteria_met`` (truth is not); wrong
  ``criteria_not_met`` (truth is not).
* criteria: every (document, criterion id) of the truth.
* line count: the number of myeloma lines found equals the truth's.
* line start months: for each truth line with a start, a found line starts in the
  same month (the year, for a year-only truth); each found line pairs once.
* prior CAR-T caught: truth "yes" and a received CAR-T found; false prior CAR-T:
  truth not "yes" and one found.
* age: equal to the truth's (None included).
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from common.models import ClinicalFacts, Report
from evaluation.corpus import RECORDINGS, CorpusDocument, OcrMode, Tally, run_documents, same_date

DETERMINATIONS = ("criteria_met", "criteria_not_met", "needs_information")
# Renderings given in turn (by the document's id hash) besides the text PDF.
FAX_RENDERINGS = ("g3-204x98.tif", "g4-204x196.tif", "scan.pdf", "g3-204x196.tif", "g4-204x98.tif")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class BlindCriterion(_Frozen):
    status: Literal["met", "not_met", "not_documented"]
    why: str = ""


class BlindLine(_Frozen):
    # None: a line the document tells without its place in the sequence ("most recent
    # regimen only"; the earlier lines not documented)
    number: int | None = None
    start: str | None = None
    end: str | None = None
    therapy: str = ""


class BlindTruth(_Frozen):
    schema_: Literal["blind-truth/1"]
    id: str
    author: str = ""
    kinds: tuple[str, ...] = ()
    summary: str = ""
    policy: str
    requested_product: str | None = None
    request_date: str | None = None
    pages: int | None = None
    age: int | None = None
    determination: Literal["criteria_met", "criteria_not_met", "needs_information"]
    criteria: dict[str, BlindCriterion] = {}
    history_complete: bool | None = None
    stated_prior_lines: int | None = None
    lines: tuple[BlindLine, ...] = ()
    prior_car_t: Literal["yes", "no", "not_documented"] = "not_documented"
    other_patient_pages: tuple[int, ...] = ()


def load_blind_truth(path: Path) -> BlindTruth:
    data = json.loads(path.read_text(encoding="utf-8"))
    data["schema_"] = data.pop("schema", None)
    return BlindTruth.model_validate(data)


def is_blind_set(folder: Path) -> bool:
    return any(
        json.loads(p.read_text(encoding="utf-8")).get("schema") == "blind-truth/1"
        for p in list(folder.rglob("*.truth.json"))[:1]
    )


# ------------------------------------------------------------------ rendering


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    raise SystemExit("rendering the blind set needs Debian's chromium: apt-get install chromium")


def html_to_pdf(html: Path, out: Path) -> Path:
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                _chromium(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                "--no-pdf-header-footer",
                f"--print-to-pdf={out}",
                str(html),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    return out


def _fax_rendering(doc_id: str) -> str:
    digest = int(hashlib.sha256(doc_id.encode()).hexdigest(), 16)
    return FAX_RENDERINGS[digest % len(FAX_RENDERINGS)]


def render_one(html: Path, truth: BlindTruth) -> list[Path]:
    """The text PDF and one degraded rendering of a blind document, beside its HTML."""
    from fixtures.render import degrade, rasterise_pdf, save_fax_tiff, save_scanned_pdf

    stem = html.with_suffix("")
    text_pdf = html_to_pdf(html, stem.with_name(stem.name + ".text.pdf"))
    rendering = _fax_rendering(truth.id)
    rng = random.Random(f"blind/{truth.id}/{rendering}")
    out = stem.with_name(f"{stem.name}.{rendering}")
    if rendering == "scan.pdf":
        pages = rasterise_pdf(text_pdf, (200, 200))
        skew = round(rng.uniform(-1.5, 1.5), 2)
        scanned = []
        for page in pages:
            page = degrade(page, seed=rng.randrange(1 << 30), skew_deg=skew, speckle=0.0008)
            page = page.point(lambda v: 255 if v >= 160 else 0)
            page.info["dpi"] = (200, 200)
            scanned.append(page)
        save_scanned_pdf(scanned, out, dpi=(200, 200))
        return [text_pdf, out]
    compression = "group3" if rendering.startswith("g3") else "group4"
    dpi = (204, 98) if "204x98" in rendering else (204, 196)
    pages = rasterise_pdf(text_pdf, dpi)
    year, month, day = ((truth.request_date or "2026-10-01") + "-01-01").split("-")[:3]
    stamp = f"{month}/{day}/{year} {rng.randint(8, 17):02d}:{rng.randint(0, 59):02d}"
    header = f"{stamp}  FROM: 555-01{rng.randint(10, 99)}  TO: 555-0199"
    skew = round(rng.uniform(-1.2, 1.2), 2)
    speckle = rng.choice([0.0005, 0.001, 0.002])
    # about one document in six has its last page fed upside down, as the corpus's do
    turned = len(pages) - 1 if len(pages) > 1 and rng.random() < 1 / 6 else -1
    degraded = [
        degrade(
            page,
            seed=rng.randrange(1 << 30),
            skew_deg=skew,
            speckle=speckle,
            rotate=180 if i == turned else 0,
            header=f"{header}  P.{i + 1}/{len(pages)}",
        )
        for i, page in enumerate(pages)
    ]
    save_fax_tiff(degraded, out, dpi=dpi, compression=compression)  # type: ignore[arg-type]
    return [text_pdf, out]


def render_set(folder: Path) -> int:
    count = 0
    for html in sorted(folder.rglob("*.html")):
        truth = load_blind_truth(html.with_suffix(".truth.json"))
        render_one(html, truth)
        count += 1
    return count


# ------------------------------------------------------------------ documents


@dataclass(frozen=True)
class BlindDocument:
    path: Path
    truth: BlindTruth
    rendering: str


def load_blind_set(folder: Path) -> list[BlindDocument]:
    docs: list[BlindDocument] = []
    for truth_path in sorted(folder.rglob("*.truth.json")):
        truth = load_blind_truth(truth_path)
        stem = truth_path.name.removesuffix(".truth.json")
        for path in sorted(truth_path.parent.glob(f"{stem}.*")):
            if path.suffix in {".pdf", ".tif", ".tiff"}:
                docs.append(BlindDocument(path, truth, path.name.removeprefix(f"{stem}.")))
    return docs


# ------------------------------------------------------------------ scoring


@dataclass
class BlindScore:
    file: str
    truth: BlindTruth
    predicted: str
    problems: list[str] = field(default_factory=list)
    tallies: dict[str, Tally] = field(default_factory=dict)


TALLIES = (
    "determination",
    "criteria",
    "line_count",
    "line_start_month",
    "prior_car_t_caught",
    "age",
)


def score_blind(
    truth: BlindTruth, report: Report | None, facts: ClinicalFacts | None, file: str
) -> BlindScore:
    score = BlindScore(file, truth, report.determination if report else "error")
    t = score.tallies = {name: Tally() for name in TALLIES}
    t["determination"].add(score.predicted == truth.determination)
    if score.predicted != truth.determination:
        score.problems.append(f"determination {score.predicted}, truth {truth.determination}")
    predicted = {c.id: c.status for c in report.criteria} if report else {}
    for cid, c in truth.criteria.items():
        got = predicted.get(cid, "absent")
        t["criteria"].add(got == c.status)
        if got != c.status:
            score.problems.append(f"{cid}: {got}, truth {c.status}")
    lines = [line for line in (report.lines if report else ()) if not line.other_disease]
    t["line_count"].add(len(lines) == len(truth.lines))
    if len(lines) != len(truth.lines):
        score.problems.append(f"line count {len(lines)}, truth {len(truth.lines)}")
    free = [line.start for line in lines]
    for line in truth.lines:
        if not line.start:
            continue
        hit = next((s for s in free if s and same_date(line.start, s)), None)
        t["line_start_month"].add(hit is not None)
        if hit is None:
            score.problems.append(f"line {line.number} start {line.start} not found")
        else:
            free.remove(hit)
    car_t = any(
        x.therapy_class == "car_t" and x.assertion == "received" for x in (report.therapies if report else ())
    )
    if truth.prior_car_t == "yes":
        t["prior_car_t_caught"].add(car_t)
        if not car_t:
            score.problems.append("prior CAR-T missed")
    elif car_t:
        score.problems.append("false prior CAR-T")
    # "at least 18" from a form is no age to score against the member's
    age = facts.age.years if facts and facts.age and facts.age.how != "at_least" else None
    t["age"].add(age == truth.age)
    if age != truth.age:
        score.problems.append(f"age {age}, truth {truth.age}")
    return score


def _false_car_t(scores: list[BlindScore]) -> int:
    return sum(1 for s in scores if "false prior CAR-T" in s.problems)


def summarise(scores: list[BlindScore]) -> dict[str, Any]:
    tallies = {name: Tally() for name in TALLIES}
    confusion: dict[str, Counter[str]] = {d: Counter() for d in DETERMINATIONS}
    for s in scores:
        for name in TALLIES:
            tallies[name].merge(s.tallies[name])
        confusion[s.truth.determination][s.predicted] += 1
    wrong_met = sum(
        n
        for truth, row in confusion.items()
        if truth != "criteria_met"
        for p, n in row.items()
        if p == "criteria_met"
    )
    wrong_not_met = sum(
        n
        for truth, row in confusion.items()
        if truth != "criteria_not_met"
        for p, n in row.items()
        if p == "criteria_not_met"
    )
    return {
        "documents": len(scores),
        "accuracy": {
            k: {"accuracy": v.accuracy, "correct": v.correct, "total": v.total} for k, v in tallies.items()
        },
        "wrong_criteria_met": wrong_met,
        "wrong_criteria_not_met": wrong_not_met,
        "false_prior_car_t": _false_car_t(scores),
        "confusion": {k: dict(v) for k, v in confusion.items()},
    }


def render_text(groups: dict[str, dict[str, Any]], seconds: float, folder: Path, show_documents: bool) -> str:
    out = [f"blind set {folder} ({seconds:.0f} s)", ""]
    header = f"{'':<28}" + "".join(f"{g:>16}" for g in groups)
    out.append(header)
    names = list(next(iter(groups.values()))["accuracy"])
    out.append(f"{'documents':<28}" + "".join(f"{g['documents']:>16}" for g in groups.values()))
    for name in names:
        cells = []
        for g in groups.values():
            a = g["accuracy"][name]
            cells.append(f"{a['accuracy']:.3f} ({a['correct']}/{a['total']})" if a["total"] else "-")
        out.append(f"{name:<28}" + "".join(f"{c:>16}" for c in cells))
    for key in ("wrong_criteria_met", "wrong_criteria_not_met", "false_prior_car_t"):
        out.append(f"{key:<28}" + "".join(f"{g[key]:>16}" for g in groups.values()))
    if show_documents:
        out += ["", "documents (problems only):"]
        for g in groups.values():
            for line in g.get("problems", []):
                out.append("  " + line)
    return "\n".join(out)


def saved_reports(docs: list[BlindDocument], folder: Path) -> dict[Path, Any]:
    """Reports saved by another checkout of the pipeline (``<author>-<file>.report.json`` and
    ``.facts.json``), to score an earlier version side by side with this one."""
    out: dict[Path, Any] = {}
    for d in docs:
        stem = folder / f"{d.path.parent.name}-{d.path.name}"
        report = stem.with_name(stem.name + ".report.json")
        facts = stem.with_name(stem.name + ".facts.json")
        error = stem.with_name(stem.name + ".error.txt")
        out[d.path] = (
            Report.model_validate_json(report.read_text()) if report.is_file() else None,
            ClinicalFacts.model_validate_json(facts.read_text()) if facts.is_file() else None,
            error.read_text() if error.is_file() else (None if report.is_file() else "no saved report"),
            0.0,
        )
    return out


def main(
    folder: Path,
    *,
    as_json: bool = False,
    jobs: int = 2,
    ocr: OcrMode = "recorded",
    show: bool = False,
    reports: Path | None = None,
) -> int:
    docs = load_blind_set(folder)
    if not docs:
        print(f"no blind documents in {folder}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    if reports is not None:
        results = saved_reports(docs, reports)
    else:
        corpus_docs = [CorpusDocument(d.path, d.path, d.rendering, d.truth.request_date) for d in docs]
        results = run_documents(corpus_docs, jobs=jobs, mode=ocr, recordings=folder / RECORDINGS)
    scores = []
    for d in docs:
        report, facts, error, _ = results[d.path]
        s = score_blind(d.truth, report, facts, f"{d.truth.id}.{d.rendering}")
        if error:
            s.problems.insert(0, f"failed: {error}")
        scores.append(s)
    groups: dict[str, dict[str, Any]] = {}
    selections = {
        "all": scores,
        "abecma": [s for s in scores if s.truth.policy == "abecma"],
        "carvykti": [s for s in scores if s.truth.policy == "carvykti"],
        "text.pdf": [s for s in scores if s.file.endswith("text.pdf")],
        "fax/scan": [s for s in scores if not s.file.endswith("text.pdf")],
    }
    for name, chosen in selections.items():
        if chosen:
            groups[name] = summarise(chosen)
    groups["all"]["problems"] = [f"{s.file}: " + "; ".join(s.problems) for s in scores if s.problems]
    seconds = time.perf_counter() - started
    if as_json:
        print(json.dumps({"folder": str(folder), "seconds": round(seconds, 1), "groups": groups}, indent=2))
    else:
        print(render_text(groups, seconds, folder, show))
    return 0


if __name__ == "__main__":  # python -m evaluation.blind render FOLDER
    if len(sys.argv) == 3 and sys.argv[1] == "render":
        print(f"rendered {render_set(Path(sys.argv[2]))} documents")
    else:
        print("usage: python -m evaluation.blind render FOLDER", file=sys.stderr)
        sys.exit(2)
