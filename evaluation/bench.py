"""Time the reading stage and the whole job the way a user compares them, and measure
what each reads.

``intake bench [DIR]`` (or ``python -m evaluation.bench`` for the options) prints plain
tables.  The documents (:mod:`evaluation.bench_inputs`): a 10-page fine-mode fax
(204x196), a 10-page normal-mode fax (204x98), a 10-page scanned PDF (200 dpi) and the
same pages as a text PDF, made from the corpus's packets, so every page has a source text.
For each, in rounds, the order turned every round so a neighbour's burst of load falls
on every contender alike; medians over the rounds:

* whole job: ``intake process FILE --json`` in a fresh process, start-up included;
* ``ocrmypdf -j 2 --sidecar`` on the same file (installed by ``scripts/bench-setup.sh``
  into ``.venv-bench``, never a dependency of the project);
* bare ``tesseract`` on the original file, one thread (a PDF's page images extracted
  first, untimed);
* our OCR stage with one worker (``read_document`` in this process, warm as a service is);
* character error rate and word recall of each against the source text, words laid out
  in lines by their boxes (:mod:`evaluation.source_text`), so reading order does not count.

Wall seconds and CPU seconds (the process and its children) are both shown: on a shared
machine wall time measures the neighbours too; the load average is printed.  Then: the
OCR stage with 2 workers against 1, text-layer pages per second, and (``--long N``) an
N-page fax's whole job: its cost per page against the 10-page fax's, and its peak memory.

``--startup [--against DIR]``: the whole job outside the OCR instead, stage by stage, and
this checkout against another one side by side (:mod:`evaluation.startup`).
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from rapidfuzz.distance import Levenshtein

from common.errors import IntakeError
from common.models import Document
from common.settings import Settings
from evaluation.bench_inputs import BenchFile, make_inputs
from evaluation.source_text import SourceWord

os.environ.setdefault("OMP_THREAD_LIMIT", "1")


# ------------------------------------------------------------------ accuracy


def levenshtein(a: str, b: str) -> int:
    """Edit distance (rapidfuzz, the project's edit-distance library since the OCR matcher)."""
    return int(Levenshtein.distance(a, b))


def normalise_ws(text: str) -> str:
    return " ".join(text.split())


def char_error_rate(hypothesis: str, reference: str) -> float:
    """Character error rate: edits / reference length, whitespace normalised."""
    ref, hyp = normalise_ws(reference), normalise_ws(hypothesis)
    return levenshtein(hyp, ref) / max(1, len(ref))


def document_text(document: Document) -> str:
    from reading.text import page_text

    return "\n".join(page_text(p) for p in document.pages)


# ------------------------------------------------------------------ contenders

BENCH_VENV = Path(".venv-bench")
Words = list[tuple[str, float, float, float, float, object]]  # text, relative box, engine line


@dataclass
class Run:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    pages: list[Words] | None = None  # what it read, per page (from the last run)
    note: str = ""

    def add(self, wall: float, cpu: float) -> None:
        self.wall.append(wall)
        self.cpu.append(cpu)


def _children_cpu() -> float:
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return kids.ru_utime + kids.ru_stime


def _self_cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    return me.ru_utime + me.ru_stime


def _env() -> dict[str, str]:
    return dict(os.environ, OMP_THREAD_LIMIT="1")


def _run(cmd: list[str], **kwargs: object) -> tuple[float, float, subprocess.CompletedProcess[bytes]]:
    cpu0, start = _children_cpu(), time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, env=_env(), check=False, **kwargs)  # type: ignore[call-overload]
    return time.perf_counter() - start, _children_cpu() - cpu0, done


def intake_cmd() -> list[str]:
    found = Path(sys.executable).with_name("intake")
    return [str(found)] if found.is_file() else [sys.executable, "-m", "intake.cli"]


def ocrmypdf_cmd() -> list[str] | None:
    for candidate in (BENCH_VENV / "bin" / "ocrmypdf", Path(sys.executable).with_name("ocrmypdf")):
        if candidate.is_file():
            return [str(candidate)]
    return None


def whole_job(path: Path) -> tuple[float, float]:
    wall, cpu, done = _run([*intake_cmd(), "process", str(path), "--json"])
    if done.returncode != 0:
        raise RuntimeError(f"intake process failed on {path.name}: {done.stderr.decode()[-500:]}")
    return wall, cpu


def ocrmypdf(path: Path, out: Path, *, text_pdf: bool) -> tuple[float, float, Path]:
    cmd = ocrmypdf_cmd()
    assert cmd is not None
    target, sidecar = out / f"{path.stem}.ocrmypdf.pdf", out / f"{path.stem}.ocrmypdf.txt"
    skip = ["--skip-text"] if text_pdf else []
    wall, cpu, done = _run([*cmd, "-j", "2", *skip, "--sidecar", str(sidecar), str(path), str(target)])
    if done.returncode not in (0, 6):  # 6: the PDF already has text (with --skip-text, it is kept)
        raise RuntimeError(f"ocrmypdf failed on {path.name}: {done.stderr.decode()[-500:]}")
    return wall, cpu, target


def original_images(path: Path, out: Path) -> Path:
    """What bare tesseract is given: the file itself, or for a PDF its page images in a list."""
    if path.suffix.lower() != ".pdf":
        return path
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    doc = pdfium.PdfDocument(str(path))
    names: list[str] = []
    try:
        for i in range(len(doc)):
            page = doc[i]
            images = list(page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,), max_depth=2))
            if images:
                pil = images[0].get_bitmap(render=False).to_pil()
                left, _, right, _ = images[0].get_bounds()
                dpi = round(pil.width * 72.0 / max(1.0, right - left))
                target = out / f"{path.stem}-{i + 1}.png"
                pil.convert("L").save(target, dpi=(dpi, dpi))
                names.append(str(target))
            page.close()
    finally:
        doc.close()
    listing = out / f"{path.stem}.list.txt"
    listing.write_text("\n".join(names) + "\n")
    return listing


def _bare_pages(source: Path, tsv: str) -> list[Words]:
    """Bare tesseract's TSV of a multi-page run, per page, boxes relative to each page."""
    sizes: dict[int, tuple[int, int]] = {}
    rows: dict[int, Words] = {}
    for line in tsv.splitlines()[1:]:
        cols = line.split("\t")
        if len(cols) < 12:
            continue
        page = int(cols[1])
        if cols[0] == "1":
            sizes[page] = (int(cols[8]), int(cols[9]))
        elif cols[0] == "5" and cols[11].strip() and float(cols[10]) >= 0:
            w, h = sizes.get(page, (1, 1))
            x, y, bw, bh = (int(c) for c in cols[6:10])
            rows.setdefault(page, []).append(
                (cols[11].strip(), x / w, y / h, (x + bw) / w, (y + bh) / h, (cols[2], cols[3], cols[4]))
            )
    return [rows.get(n, []) for n in range(1, max(sizes, default=0) + 1)]


def _pdf_pages(pdf: Path) -> list[Words]:
    """An OCR'd PDF's text layer (ocrmypdf's output), per page, lines from pdfplumber."""
    import pdfplumber

    out: list[Words] = []
    with pdfplumber.open(str(pdf)) as doc:
        for page in doc.pages:
            w, h = float(page.width), float(page.height)
            out.append(
                [
                    (str(x["text"]), x["x0"] / w, x["top"] / h, x["x1"] / w, x["bottom"] / h, round(x["top"]))
                    for x in page.extract_words(keep_blank_chars=False, use_text_flow=False)
                ]
            )
    return out


def _our_pages(document: Document) -> list[Words]:
    from reading.normalise import upright_bbox

    out: list[Words] = []
    for page in document.pages:
        words: Words = []
        for w in page.words:
            b = upright_bbox(w.bbox, page.rotation)
            words.append((w.text, b.x0, b.y0, b.x1, b.y1, w.line))
        out.append(words)
    return out


# ------------------------------------------------------------------ accuracy of a reading


def accuracy(pages: Sequence[Words], sources: Sequence[Sequence[SourceWord]]) -> tuple[float, float]:
    """(character error rate, word recall) of a reading over the file, pooled by characters."""
    from evaluation.source_text import _in_lines, straightened, word_recall

    edits, chars, found, total = 0.0, 0, 0, 0
    for i, src in enumerate(sources):
        words = pages[i] if i < len(pages) else []
        ref = _in_lines([(s.text, s.x0, s.y0, s.x1, s.y1) for s in src])
        hyp = _in_lines(straightened([w[:5] for w in words], [w[5] for w in words], 11.0 / 8.5))
        n = len(normalise_ws(ref))
        edits += char_error_rate(hyp, ref) * n
        chars += n
        f, t = word_recall([s.text for s in src], [w[0] for w in words])
        found, total = found + f, total + t
    return edits / max(1, chars), found / max(1, total)


# ------------------------------------------------------------------ the comparison


def _median(xs: Sequence[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def compare(
    files: Sequence[BenchFile], tmp: Path, *, rounds: int
) -> list[tuple[str, str, str, str, str, str]]:
    from reading.reader import read_document

    one = Settings(workers=1)
    have_ocrmypdf = ocrmypdf_cmd() is not None
    sources = {f.path: original_images(f.path, tmp) for f in files}
    runs: dict[tuple[Path, str], Run] = {}
    # Warm: the engine's model and the PDF libraries are loaded once, as in a service.
    read_document(files[0].path, one)
    contenders = ["whole job", "ocrmypdf -j 2", "bare tesseract", "OCR stage, 1 worker"]
    for r in range(rounds):
        for i, f in enumerate(files):
            text_pdf = "text" in f.label
            order = contenders[(r + i) % len(contenders) :] + contenders[: (r + i) % len(contenders)]
            for who in order:
                run = runs.setdefault((f.path, who), Run())
                if who == "whole job":
                    run.add(*whole_job(f.path))
                elif who == "ocrmypdf -j 2":
                    if not have_ocrmypdf:
                        run.note = "not installed: bash scripts/bench-setup.sh"
                        continue
                    wall, cpu, pdf = ocrmypdf(f.path, tmp, text_pdf=text_pdf)
                    run.add(wall, cpu)
                    run.pages = _pdf_pages(pdf)
                elif who == "bare tesseract":
                    if text_pdf:
                        run.note = "no image to read"
                        continue
                    from reading.tesseract import tesseract_cmd

                    wall, cpu, done = _run(
                        [tesseract_cmd(), str(sources[f.path]), "stdout", "--psm", "3", "tsv"]
                    )
                    run.add(wall, cpu)
                    run.pages = _bare_pages(sources[f.path], done.stdout.decode("utf-8", "replace"))
                else:
                    cpu0, start = _self_cpu(), time.perf_counter()
                    document = read_document(f.path, one)
                    run.add(time.perf_counter() - start, _self_cpu() - cpu0)
                    run.pages = _our_pages(document)
    rows = []
    for f in files:
        job = runs.get((f.path, "whole job"))
        for who in contenders:
            found = runs.get((f.path, who))
            if found is None:
                continue
            run = found
            if not run.wall:
                rows.append((f.label, who, "-", "-", "-", run.note))
                continue
            wall, cpu = _median(run.wall), _median(run.cpu)
            acc = "-"
            if run.pages is not None:
                cer, recall = accuracy(run.pages, f.pages)
                acc = f"CER {cer:.2%}, recall {recall:.1%}"
            vs = ""
            if who != "whole job" and job and job.wall:
                job_wall, job_cpu = _median(job.wall), _median(job.cpu)
                vs = f"whole job / this: {job_wall / wall:.2f}x wall, {job_cpu / cpu:.2f}x CPU"
            rows.append((f.label, who, f"{wall:.1f}", f"{cpu:.1f}", acc, vs))
        stage, bare = runs.get((f.path, "OCR stage, 1 worker")), runs.get((f.path, "bare tesseract"))
        if stage and bare and stage.wall and bare.wall:
            rows.append(
                (
                    f.label,
                    "OCR stage / bare tesseract",
                    f"{_median(stage.wall) / _median(bare.wall):.2f}x",
                    f"{_median(stage.cpu) / _median(bare.cpu):.2f}x",
                    "",
                    "goal <= 1.15x",
                )
            )
    return rows


def workers_and_text(files: Sequence[BenchFile]) -> list[tuple[str, str, str]]:
    from reading.reader import read_document

    rows: list[tuple[str, str, str]] = []
    fax = next(f for f in files if "fine" in f.label)
    one, two = Settings(workers=1), Settings(workers=2)
    t1 = [_timed(partial(read_document, fax.path, one)) for _ in range(2)]
    t2 = [_timed(partial(read_document, fax.path, two)) for _ in range(2)]
    rows.append(
        ("OCR stage, 2 workers / 1 worker", f"{min(t2) / min(t1):.2f}x", f"{fax.label}; goal <= 0.6x")
    )
    text = next(f for f in files if "text" in f.label)
    secs = _timed(partial(read_document, text.path, one))
    rows.append(("text-layer PDF pages/s", f"{len(text.pages) / secs:.1f}", f"{len(text.pages)} pages"))
    return rows


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def peak_mb(cmd: list[str]) -> tuple[float, float | None]:
    """(wall seconds, peak RSS in MB) of one process, polled from /proc (VmHWM)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env())
    peak_kb = 0
    status = Path(f"/proc/{proc.pid}/status")
    while proc.poll() is None:
        try:
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak_kb = max(peak_kb, int(line.split()[1]))
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    return time.perf_counter() - start, (peak_kb / 1024 if peak_kb else None)


def long_fax(files: Sequence[BenchFile], tmp: Path, pages: int) -> list[tuple[str, str, str]]:
    """An N-page fax (the 10-page fine fax over and over) against the 10-page one, whole job."""
    from PIL import Image

    fax = next(f for f in files if "fine" in f.label)
    frames = []
    with Image.open(fax.path) as img:
        for i in range(getattr(img, "n_frames", 1)):
            img.seek(i)
            frames.append(img.copy())
    long_path = tmp / f"bench-{pages}-pages.tif"
    many = [frames[i % len(frames)] for i in range(pages)]
    many[0].save(long_path, save_all=True, append_images=many[1:], compression="group4", dpi=(204, 196))
    cmd = [*intake_cmd(), "process"]
    short_s, short_mb = peak_mb([*cmd, str(fax.path), "--json"])
    long_s, long_mb = peak_mb([*cmd, str(long_path), "--json"])
    short_per, long_per = short_s / len(frames), long_s / pages
    return [
        (f"whole job, {pages}-page fax, s/page", f"{long_per:.2f}", f"{long_s:.0f} s"),
        (f"whole job, {len(frames)}-page fax, s/page", f"{short_per:.2f}", f"{short_s:.0f} s"),
        ("per-page cost, long / short", f"{long_per / short_per:.2f}x", "goal <= 1.1x"),
        (f"peak RSS, {pages}-page fax", "n/a" if long_mb is None else f"{long_mb:.0f} MB", "goal < 1.5 GiB"),
        (f"peak RSS, {len(frames)}-page fax", "n/a" if short_mb is None else f"{short_mb:.0f} MB", ""),
    ]


def _print_rows(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print("  ".join(f"{h:<{w}}" for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(f"{c:<{w}}" for c, w in zip(r, widths, strict=True)))


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.1f} / {five:.1f} / {fifteen:.1f} (1/5/15 min) on {os.cpu_count()} CPUs"


def _from_folder(folder: Path, limit: int) -> list[BenchFile]:
    """Files of a folder (no source text: accuracy is not measured)."""
    found = sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".tif", ".tiff", ".pdf"))
    return [BenchFile(p.name, p, ()) for p in found[:limit]]


def main(
    corpus: Path | None,
    *,
    limit: int = 3,
    rounds: int = 3,
    long: int = 0,
    startup: bool = False,
    against: Path | None = None,
    only: Sequence[str] = (),
) -> int:
    from reading.ocr import engine_version

    print(f"engine: {engine_version(Settings())}; {_load()} at the start")
    with tempfile.TemporaryDirectory(prefix="intake-bench-") as tmp_dir:
        tmp = Path(tmp_dir)
        try:
            if startup:
                from evaluation import startup as outside_ocr

                made = make_inputs(tmp)
                chosen = [(f.label, f.path) for f in made if "fine" in f.label or "text" in f.label]
                code = outside_ocr.main(chosen, against, rounds=rounds)
                if code:
                    return code
            else:
                if corpus is None:
                    files = make_inputs(tmp)
                    if only:
                        files = [f for f in files if any(o in f.label for o in only)]
                elif not corpus.is_dir():
                    print(f"error: {corpus} is not a folder", file=sys.stderr)
                    return 66
                else:
                    files = _from_folder(corpus, max(1, limit))
                rows = compare(files, tmp, rounds=rounds)
                _print_rows(("document", "contender", "wall s", "CPU s", "reads", "note"), rows)
                print()
                if corpus is None and not only:
                    extra = workers_and_text(files)
                    if long:
                        extra += long_fax(files, tmp, long)
                    _print_rows(("measure", "value", "note"), extra)
        except IntakeError as err:
            print(f"error {err.code}: {err.message}", file=sys.stderr)
            return err.exit_code
    print(f"\n{_load()} at the end; medians of {rounds} interleaved rounds")
    return 0


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(
        description="the reading stage and the whole job against ocrmypdf and tesseract"
    )
    ap.add_argument("folder", type=Path, nargs="?")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--long", type=int, default=0, help="also a fax of this many pages (e.g. 200)")
    ap.add_argument("--limit", type=int, default=3)
    ap.add_argument("--startup", action="store_true", help="the whole job outside the OCR, stage by stage")
    ap.add_argument("--against", type=Path, help="with --startup: another checkout, side by side")
    ap.add_argument(
        "--only",
        action="append",
        default=[],
        help="only the documents whose label holds this (fine, normal, scanned, text); repeatable",
    )
    a = ap.parse_args()
    sys.exit(
        main(
            a.folder,
            limit=a.limit,
            rounds=a.rounds,
            long=a.long,
            startup=a.startup,
            against=a.against,
            only=a.only,
        )
    )
