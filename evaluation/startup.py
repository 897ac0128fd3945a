"""The whole job outside the OCR: where a one-off ``intake process`` spends its CPU, and
this checkout against another one, side by side.

``python -m evaluation.bench --startup [--against DIR]`` (DIR: another checkout of the
project, e.g. an older commit unpacked with ``git archive``).  On the bench's 10-page
fine fax and text PDF (:mod:`evaluation.bench_inputs`):

* **phases**: one process per file and checkout runs the job's stages one after the
  other and prints each one's CPU seconds: importing the CLI and the composer, importing
  the extractors (spaCy with them), reading the pages, building the NLP pipeline,
  extraction with the policy check, the report's JSON.  (In a real run the NLP build
  overlaps the reading, on a thread of its own; here they run in turn, so each is seen.)
* **whole job**: ``intake process FILE --json`` in a fresh process, start-up included,
  both checkouts in turn within each round (the order turned every round); medians of
  wall and CPU seconds (the process and its threads), and the ratio of this checkout to
  the other, so both meet the same neighbours on a shared machine.
* **same reports**: whether both checkouts printed the same report for every file.

Both checkouts run on this interpreter (the same installed packages), each from its own
folder, and their bytecode is compiled first, as an installed package has it: with
``PYTHONDONTWRITEBYTECODE`` set, every run would otherwise compile the project anew.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

PACKAGES = ("common", "reading", "extractors", "criteria", "pipeline", "outputs", "intake")
PHASES = ("CLI + composer imports", "extractor imports", "read", "NLP build", "extract + evaluate", "JSON")


def phases(path: Path) -> dict[str, float]:
    """CPU seconds of each stage of one job, in this process (run it in a fresh one)."""
    from time import process_time

    marks = [process_time()]
    import intake.cli  # noqa: F401
    from common.settings import Settings
    from pipeline.composer import process_document
    from reading.reader import read_document

    marks.append(process_time())
    import extractors.facts
    import extractors.nlp

    marks.append(process_time())
    document = read_document(path, Settings())
    marks.append(process_time())
    extractors.nlp.build_nlp()
    marks.append(process_time())
    done = process_document(document)
    marks.append(process_time())
    done.report.model_dump_json(indent=2)
    marks.append(process_time())
    return {name: marks[i + 1] - marks[i] for i, name in enumerate(PHASES)}


def _children_cpu() -> float:
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return kids.ru_utime + kids.ru_stime


def _env() -> dict[str, str]:
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    env.pop("PYTHONPATH", None)
    return env


def compile_bytecode(checkout: Path) -> None:
    folders = [str(checkout / p) for p in PACKAGES if (checkout / p).is_dir()]
    subprocess.run([sys.executable, "-m", "compileall", "-q", *folders], check=True, capture_output=True)


def run_phases(checkout: Path, path: Path) -> dict[str, float]:
    """:func:`phases` of ``path`` in a fresh process, importing the project from ``checkout``."""
    script = Path(__file__).resolve()
    code = (
        "import json, runpy, sys; "
        f"ns = runpy.run_path({str(script)!r}); "
        f"print(json.dumps(ns['phases'](__import__('pathlib').Path({str(path)!r}))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=checkout, env=_env(), capture_output=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"phases failed in {checkout}: {done.stderr.decode()[-800:]}")
    return dict(json.loads(done.stdout.decode().strip().splitlines()[-1]))


def whole_job(checkout: Path, path: Path) -> tuple[float, float, bytes]:
    """(wall s, CPU s, report) of ``intake process FILE --json`` run from ``checkout``."""
    cpu0, start = _children_cpu(), time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "intake.cli", "process", str(path), "--json"],
        cwd=checkout,
        env=_env(),
        capture_output=True,
        check=False,
    )
    wall, cpu = time.perf_counter() - start, _children_cpu() - cpu0
    if done.returncode != 0:
        why = done.stderr.decode()[-800:]
        raise RuntimeError(f"intake process failed in {checkout} on {path.name}: {why}")
    return wall, cpu, done.stdout


@dataclass
class Times:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    reports: set[bytes] = field(default_factory=set)


def compare(
    files: Sequence[tuple[str, Path]], checkouts: Sequence[tuple[str, Path]], *, rounds: int
) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    """(phase rows, whole-job rows) for every file and checkout."""
    for _, checkout in checkouts:
        compile_bytecode(checkout)
    phase_rows: list[tuple[str, ...]] = []
    for label, path in files:
        for name, checkout in checkouts:
            found = run_phases(checkout, path)
            outside = sum(v for k, v in found.items() if k != "read")
            each = (f"{found[k]:.2f}" for k in PHASES)
            phase_rows.append((label, name, *each, f"{outside:.2f}", f"{sum(found.values()):.2f}"))
    times: dict[tuple[str, str], Times] = {}
    for r in range(rounds):
        for i, (label, path) in enumerate(files):
            turn = (r + i) % len(checkouts)
            for name, checkout in [*checkouts[turn:], *checkouts[:turn]]:
                wall, cpu, report = whole_job(checkout, path)
                got = times.setdefault((label, name), Times())
                got.wall.append(wall)
                got.cpu.append(cpu)
                got.reports.add(report)
    job_rows: list[tuple[str, ...]] = []
    first = checkouts[0][0]
    for label, _ in files:
        reports = set().union(*(times[(label, n)].reports for n, _ in checkouts))
        for name, _ in checkouts:
            t = times[(label, name)]
            wall, cpu = statistics.median(t.wall), statistics.median(t.cpu)
            vs = ""
            if name != first:
                mine = times[(label, first)]
                vs = (
                    f"{statistics.median(mine.wall) / wall:.2f}x wall, "
                    f"{statistics.median(mine.cpu) / cpu:.2f}x CPU"
                )
            same = "yes" if len(reports) == 1 else "NO"
            job_rows.append((label, name, f"{wall:.1f}", f"{cpu:.2f}", vs, same))
    return phase_rows, job_rows


def main(files: Sequence[tuple[str, Path]], against: Path | None, *, rounds: int) -> int:
    from evaluation.bench import _print_rows

    here = Path(__file__).resolve().parents[1]
    checkouts = [("this checkout", here)]
    if against is not None:
        if not (against / "pipeline" / "composer.py").is_file():
            print(f"error: {against} is not a checkout of this project", file=sys.stderr)
            return 66
        checkouts.append((f"against {against}", against.resolve()))
    phase_rows, job_rows = compare(files, checkouts, rounds=rounds)
    print("CPU seconds of each stage, run one after another in a fresh process")
    _print_rows(("document", "code", *PHASES, "all but read", "all"), phase_rows)
    print()
    print(f"whole job, intake process FILE --json; medians of {rounds} interleaved rounds")
    _print_rows(("document", "code", "wall s", "CPU s", "this checkout / that", "same reports"), job_rows)
    return 0
