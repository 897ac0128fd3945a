"""Time the reading stage, and measure what it reads.

``intake bench [DIR]`` prints one plain table:

* OCR seconds per page, our whole stage (decode, normalise, one tesseract call,
  adapter) against bare ``tesseract`` on the same prepared images, one thread
  each; the goal is <= 1.15x.
* text-layer PDF pages per second (never OCR'd);
* a 10-page fax read with 2 workers against 1 worker (goal <= 0.6x);
* fact extraction time as a share of OCR time (when ``extractors.facts`` exists);
* the peak RSS of the reader process and of a tesseract worker process.

Without ``DIR`` the inputs are generated into a temp folder with
:mod:`fixtures.render`.  With ``DIR``, up to ``limit`` files of each kind found
there (``*.tif``/``*.tiff`` faxes, ``*.pdf``) are used.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

import numpy as np

from common.errors import IntakeError
from common.models import Document, Page
from common.settings import Settings

os.environ.setdefault("OMP_THREAD_LIMIT", "1")


# ------------------------------------------------------------------ accuracy


def levenshtein(a: str, b: str) -> int:
    """Edit distance, one NumPy row at a time (insertions via a running minimum)."""
    if not a:
        return len(b)
    if not b:
        return len(a)
    codes = np.array([ord(c) for c in b], dtype=np.int64)
    cols = np.arange(len(b) + 1, dtype=np.int64)
    prev = cols.copy()
    cand = np.empty_like(prev)
    for i, ch in enumerate(a, start=1):
        cand[0] = i
        np.minimum(prev[:-1] + (codes != ord(ch)), prev[1:] + 1, out=cand[1:])
        prev = np.minimum.accumulate(cand - cols) + cols
    return int(prev[-1])


def normalise_ws(text: str) -> str:
    return " ".join(text.split())


def char_error_rate(hypothesis: str, reference: str) -> float:
    """Character error rate: edits / reference length, whitespace normalised."""
    ref, hyp = normalise_ws(reference), normalise_ws(hypothesis)
    return levenshtein(hyp, ref) / max(1, len(ref))


def document_text(document: Document) -> str:
    from reading.text import page_text

    return "\n".join(page_text(p) for p in document.pages)


# ------------------------------------------------------------------ inputs


def _generate(root: Path) -> dict[str, list[Path]]:
    from fixtures.render import fax_pages, save_fax_tiff, text_pdf

    lines = [
        "Progress note (synthetic): relapsed and refractory multiple myeloma after four prior lines.",
        "Prior therapy: VRd induction 2019, ASCT 2019, lenalidomide maintenance to 2021.",
        "Second line daratumumab, pomalidomide and dexamethasone 2021 to 2023.",
        "Third line carfilzomib and dexamethasone 2023 to 2024; progressive disease.",
        "Fourth line elotuzumab, pomalidomide and dexamethasone to January 2026.",
        "Plan: idecabtagene vicleucel after fludarabine and cyclophosphamide lymphodepletion.",
    ] * 7
    pdf = text_pdf(lines, root / "note.pdf")
    long_pdf = text_pdf([*lines, "\f"] * 10, root / "ten-pages.pdf")
    pages = fax_pages(pdf, dpi=(204, 196), seed=3, skew_deg=1.0, speckle=0.002)
    fax = save_fax_tiff(pages, root / "fine.tif", dpi=(204, 196), compression="group4")
    ten = fax_pages(long_pdf, dpi=(204, 98), seed=5, skew_deg=0.5, speckle=0.001)
    ten_fax = save_fax_tiff(ten, root / "ten-normal.tif", dpi=(204, 98), compression="group3")
    return {"fax": [fax], "text_pdf": [long_pdf], "ten_page_fax": [ten_fax]}


def _dpi_label(tiff: Path) -> str:
    """'204x98' from the TIFF's resolution tags (the fax mode a reviewer would name)."""
    from PIL import Image

    with Image.open(tiff) as img:
        x, y = img.info.get("dpi", (0, 0))
    return f"{round(x)}x{round(y)}"


def _from_corpus(corpus: Path, limit: int) -> dict[str, list[Path]]:
    faxes = sorted(p for p in corpus.rglob("*") if p.suffix.lower() in (".tif", ".tiff"))
    pdfs = sorted(corpus.rglob("*.pdf"))
    return {"fax": faxes[:limit], "text_pdf": pdfs[:limit], "ten_page_fax": faxes[:1]}


# ------------------------------------------------------------------ timings

_REPEAT = 5


def _cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _with_cpu(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process and its finished children)."""
    cpu0, start = _cpu(), time.perf_counter()
    fn()
    return time.perf_counter() - start, _cpu() - cpu0


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _prepared_images(path: Path, settings: Settings, out: Path) -> list[Path]:
    """The images our stage hands tesseract, written out for the bare-tesseract run."""
    from reading import images, normalise
    from reading.sniff import sniff

    data = path.read_bytes()
    kind = sniff(data[:8192])
    files: list[Path] = []
    for i in range(images.count_and_check(data, kind, settings)):
        source = images.frame_loader(data, kind, i, settings)()
        prepared = normalise.prepare(source.image, source.dpi, settings.ocr_dpi)
        target = out / f"{path.stem}-{i + 1}.pgm"
        prepared.image.save(target)
        files.append(target)
    return files


def _bare_tesseract(files: Sequence[Path], dpi: int) -> float:
    from reading.tesseract import tesseract_cmd

    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    start = time.perf_counter()
    for f in files:
        subprocess.run(
            [tesseract_cmd(), str(f), "stdout", "--psm", "3", "--dpi", str(dpi), "tsv"],
            capture_output=True,
            check=True,
            env=env,
        )
    return time.perf_counter() - start


def _peak_mb(cmd: list[str]) -> float | None:
    """Peak RSS of one process, polled from /proc (VmHWM, which exec resets).

    ``ru_maxrss`` cannot be used: a child's figure includes the pages of the
    Python parent it shared between fork and exec (here, a loaded spaCy pipeline).
    """
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(os.environ, OMP_THREAD_LIMIT="1"),
    )
    peak_kb = 0
    status = Path(f"/proc/{proc.pid}/status")
    while proc.poll() is None:
        try:
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak_kb = max(peak_kb, int(line.split()[1]))
        except (OSError, ValueError):
            pass
        time.sleep(0.02)
    return peak_kb / 1024 if peak_kb else None


def _tesseract_peak_mb(image: Path, dpi: int) -> float | None:
    from reading.tesseract import tesseract_cmd

    return _peak_mb([tesseract_cmd(), str(image), "stdout", "--psm", "3", "--dpi", str(dpi), "tsv"])


def _extraction_seconds(pages: Sequence[Page], settings: Settings) -> float | None:
    try:
        from extractors.facts import extract_facts
    except ImportError:
        return None
    try:
        extract_facts(pages, low_confidence=settings.low_confidence)  # warm-up: pipeline build
        return _timed(lambda: extract_facts(pages, low_confidence=settings.low_confidence))
    except NotImplementedError:
        return None


def run(inputs: dict[str, list[Path]], tmp: Path) -> list[tuple[str, str, str]]:
    from reading.reader import read_document

    one = Settings(workers=1)
    two = Settings(workers=2)
    rows: list[tuple[str, str, str]] = []
    # A service is warm: import the PDF and image libraries before timing.
    import pdfplumber  # noqa: F401
    import pypdfium2  # noqa: F401

    ocr_total, bare_total, ocr_cpu, bare_cpu, ocr_pages_n = 0.0, 0.0, 0.0, 0.0, 0
    last: Document | None = None
    for fax in inputs["fax"]:
        files = _prepared_images(fax, one, tmp)
        # Best of five: the fastest run is the one least disturbed by other load.
        # CPU seconds (ours: this process + its tesseract children) are reported
        # too, since wall time on a shared machine measures the neighbours.
        # Interleaved, so a neighbour's burst of load falls on both sides alike.
        bare_runs: list[tuple[float, float]] = []
        our_runs: list[tuple[float, float]] = []
        for _ in range(_REPEAT):
            bare_runs.append(_with_cpu(partial(_bare_tesseract, files, one.ocr_dpi)))
            our_runs.append(_with_cpu(partial(read_document, fax, one)))
        bare_total += min(w for w, _ in bare_runs)
        bare_cpu += min(c for _, c in bare_runs)
        ocr_total += min(w for w, _ in our_runs)
        ocr_cpu += min(c for _, c in our_runs)
        last = read_document(fax, one)
        ocr_pages_n += len(last.pages)
    if ocr_pages_n:
        ratio = ocr_total / bare_total if bare_total else float("nan")
        cpu_ratio = ocr_cpu / bare_cpu if bare_cpu else float("nan")
        n = ocr_pages_n
        rows.append(("OCR s/page wall (ours, 1 worker)", f"{ocr_total / n:.2f}", f"CPU {ocr_cpu / n:.2f} s"))
        rows.append(
            ("OCR s/page wall (bare tesseract)", f"{bare_total / n:.2f}", f"CPU {bare_cpu / n:.2f} s")
        )
        labels = sorted({_dpi_label(f) for f in inputs["fax"]})
        rows.append((f"fax {'/'.join(labels)} pages/s, 1 worker", f"{n / ocr_total:.2f}", f"{n} pages"))
        rows.append(("ours / bare tesseract, wall", f"{ratio:.2f}x", "goal <= 1.15x"))
        rows.append(("ours / bare tesseract, CPU", f"{cpu_ratio:.2f}x", "goal <= 1.15x; robust to load"))

    text_pages, text_secs = 0, 0.0
    for pdf in inputs["text_pdf"]:
        start = time.perf_counter()
        doc = read_document(pdf, one)
        text_secs += time.perf_counter() - start
        text_pages += sum(1 for p in doc.pages if p.source.value == "text_layer")
    if text_pages:
        rows.append(("text-layer PDF pages/s", f"{text_pages / text_secs:.1f}", f"{text_pages} pages"))

    for ten in inputs["ten_page_fax"]:
        t1 = _timed(partial(read_document, ten, one))
        t2 = _timed(partial(read_document, ten, two))
        rows.append(("multi-page fax, 1 worker (s)", f"{t1:.1f}", ten.name))
        rows.append(("multi-page fax, 2 workers (s)", f"{t2:.1f}", ""))
        rows.append(("2 workers / 1 worker", f"{t2 / t1:.2f}x", "goal <= 0.6x"))
        pages = len(read_document(ten, one).pages)
        dpi = _dpi_label(ten)
        rows.append((f"fax {dpi} s/page, 1 worker", f"{t1 / pages:.2f}", f"{pages} pages"))
        rows.append((f"fax {dpi} pages/s, 2 workers", f"{pages / t2:.2f}", ""))

    if last is not None and ocr_pages_n:
        secs = _extraction_seconds(last.pages, one)
        share = (
            "n/a (extractors.facts not available)"
            if secs is None
            else f"{secs / (ocr_total / len(inputs['fax'])):.1%}"
        )
        rows.append(("extraction time / OCR time", share, ""))

    if inputs["fax"]:
        reader_mb = _peak_rss(inputs["fax"][0])
        shown_reader = "n/a" if reader_mb is None else f"{reader_mb:.0f} MB"
        rows.append(("peak RSS, reader process", shown_reader, "one fax, 1 worker, /proc VmHWM"))
        prepared = sorted(tmp.glob("*.pgm"))
        tess_mb = _tesseract_peak_mb(prepared[0], one.ocr_dpi) if prepared else None
        shown = "n/a" if tess_mb is None else f"{tess_mb:.0f} MB"
        rows.append(("peak RSS, tesseract worker", shown, "one page, /proc VmHWM"))
    load1, _, _ = os.getloadavg()
    rows.append(
        ("load average (1 min) at the end", f"{load1:.1f}", f"{os.cpu_count()} CPUs; >CPUs skews timings")
    )
    return rows


_READER_PROBE = """
import sys
from pathlib import Path
from common.settings import Settings
from reading.reader import read_document
read_document(Path(sys.argv[1]), Settings(workers=1))
"""


def _peak_rss(path: Path) -> float | None:
    """The reader's own peak RSS in MB (one fax, one worker), in a fresh process."""
    return _peak_mb([sys.executable, "-c", _READER_PROBE, str(path)])


def _print_table(rows: Sequence[tuple[str, str, str]]) -> None:
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    print(f"{'measure':<{w0}}  {'value':>{w1}}  note")
    print(f"{'-' * w0}  {'-' * w1}  ----")
    for name, value, note in rows:
        print(f"{name:<{w0}}  {value:>{w1}}  {note}")


def main(corpus: Path | None, *, limit: int) -> int:
    with tempfile.TemporaryDirectory(prefix="intake-bench-") as tmp_dir:
        tmp = Path(tmp_dir)
        try:
            if corpus is None:
                inputs = _generate(tmp)
            else:
                if not corpus.is_dir():
                    print(f"error: {corpus} is not a folder", file=sys.stderr)
                    return 66
                inputs = _from_corpus(corpus, max(1, limit))
            rows = run(inputs, tmp)
        except IntakeError as err:
            print(f"error {err.code}: {err.message}", file=sys.stderr)
            return err.exit_code
    _print_table(rows)
    return 0
