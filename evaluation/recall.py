"""Word recall and character error rate of the reading stage on the corpus's image pages,
beside bare ``tesseract`` on the plain square-pixel image of the same page.

    python -m evaluation.recall fixtures/corpus [--every N] [--json OUT]

Each page's source text comes from :mod:`evaluation.source_text`.  Bare tesseract reads
the page as a new user would: the stored image brought to square pixels with a plain
resize (a normal-mode fax's rows doubled), nothing else, ``--psm 3``, one thread.  Its
readings do not depend on our code, so they are kept in ``var/recall-cache/`` by the
file's hash; ours are read again every run (the stage is what is measured).

Printed: overall word recall and CER of each, per fax mode, and every page where ours
falls more than 1% of the source words below bare tesseract's.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from evaluation.bench import char_error_rate
from evaluation.source_text import (
    SourcePage,
    _in_lines,
    corpus_pages,
    read_text,
    source_text,
    straightened,
    word_recall,
)

os.environ.setdefault("OMP_THREAD_LIMIT", "1")
CACHE = Path("var/recall-cache")


@dataclass(frozen=True)
class PageScore:
    file: str
    page: int
    mode: str
    words: int
    ours_found: int
    bare_found: int
    ours_cer: float
    bare_cer: float
    missing: tuple[str, ...]  # source words ours lacks and bare tesseract has

    @property
    def ours(self) -> float:
        return self.ours_found / max(1, self.words)

    @property
    def bare(self) -> float:
        return self.bare_found / max(1, self.words)


# ------------------------------------------------------------------ bare tesseract


def plain_images(path: Path) -> list[tuple[Image.Image, int]]:
    """Each page of the file at square pixels by a plain resize, with its dpi."""
    if path.suffix.lower() == ".pdf":
        import pypdfium2 as pdfium

        doc = pdfium.PdfDocument(str(path))
        try:
            out = []
            for i in range(len(doc)):
                page = doc[i]
                out.append((page.render(scale=200 / 72.0, grayscale=True).to_pil().convert("L"), 200))
                page.close()
            return out
        finally:
            doc.close()
    out = []
    with Image.open(path) as img:
        for i in range(getattr(img, "n_frames", 1)):
            img.seek(i)
            dx, dy = (float(v) for v in img.info.get("dpi", (204, 196)))
            frame = img.convert("L")
            if abs(dx - dy) > 1:
                frame = frame.resize((frame.width, round(frame.height * dx / dy)), Image.Resampling.BICUBIC)
            out.append((frame, round(dx)))
    return out


BareWord = tuple[str, float, float, float, float, str]  # text, relative box, engine line


def bare_tesseract(image: Image.Image, dpi: int) -> list[BareWord]:
    from reading.tesseract import encode_pgm, parse_tsv, tesseract_cmd

    done = subprocess.run(
        [tesseract_cmd(), "stdin", "stdout", "--psm", "3", "--dpi", str(dpi), "tsv"],
        input=encode_pgm(image),
        capture_output=True,
        check=True,
        env=dict(os.environ, OMP_THREAD_LIMIT="1"),
    )
    w, h = image.size
    return [
        (
            r.text,
            r.left / w,
            r.top / h,
            (r.left + r.width) / w,
            (r.top + r.height) / h,
            f"{r.block}.{r.par}.{r.line}",
        )
        for r in parse_tsv(done.stdout.decode("utf-8", "replace"))
    ]


def _bare_file(path: Path) -> list[list[BareWord]]:
    from reading.recorded import _tesseract_version

    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    key = hashlib.sha256(f"{digest}/{_tesseract_version()}/plain-psm3-v2".encode()).hexdigest()[:20]
    cached = CACHE / f"{key}.json"
    if cached.is_file():
        return [[tuple(w) for w in page] for page in json.loads(cached.read_text())]
    pages = [bare_tesseract(img, dpi) for img, dpi in plain_images(path)]
    CACHE.mkdir(parents=True, exist_ok=True)
    cached.write_text(json.dumps(pages))
    return pages


# ------------------------------------------------------------------ ours


def _ours_file(path: Path, save: Path | None) -> list[tuple[list[str], str]]:
    from common.settings import Settings
    from reading.reader import read_document

    doc = read_document(path, Settings(workers=1))
    if save is not None:
        save.mkdir(parents=True, exist_ok=True)
        (save / f"{path.name}.json.gz").write_bytes(gzip.compress(doc.model_dump_json().encode(), mtime=0))
    return [([w.text for w in p.words], read_text(p)) for p in doc.pages]


def _both(path: str, save: str | None) -> tuple[str, list[list[BareWord]], list[tuple[list[str], str]]]:
    p = Path(path)
    return path, _bare_file(p), _ours_file(p, Path(save) if save else None)


def bare_text(words: list[BareWord], aspect: float) -> str:
    items = [w[:5] for w in words]
    return _in_lines(straightened(items, [w[5] for w in words], aspect))


def measure(pages: list[SourcePage], *, jobs: int = 2, save: Path | None = None) -> list[PageScore]:
    by_file: dict[Path, list[SourcePage]] = defaultdict(list)
    for sp in pages:
        by_file[sp.file].append(sp)
    scores: list[PageScore] = []
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        files = [str(f) for f in by_file]
        for path, bare, ours in pool.map(_both, files, [str(save) if save else None] * len(files)):
            for sp in by_file[Path(path)]:
                src = [w.text for w in sp.words]
                if not src:
                    continue
                bare_words = bare[sp.page - 1] if sp.page <= len(bare) else []
                our_words, our_text = ours[sp.page - 1] if sp.page <= len(ours) else ([], "")
                found, total = word_recall(src, our_words)
                bare_found, _ = word_recall(src, [w[0] for w in bare_words])
                ref = source_text(sp)
                from collections import Counter

                from evaluation.source_text import fold

                have = Counter(fold(t) for t in our_words)
                theirs = Counter(fold(w[0]) for w in bare_words)
                missing = tuple(
                    t for t in dict.fromkeys(fold(s) for s in src) if t and not have[t] and theirs[t]
                )
                scores.append(
                    PageScore(
                        file=Path(path).name,
                        page=sp.page,
                        mode=sp.mode,
                        words=total,
                        ours_found=found,
                        bare_found=bare_found,
                        ours_cer=char_error_rate(our_text, ref),
                        bare_cer=char_error_rate(bare_text(bare_words, sp.aspect), ref),
                        missing=missing,
                    )
                )
    return scores


def report(scores: list[PageScore]) -> str:
    lines = []
    groups: dict[str, list[PageScore]] = defaultdict(list)
    for s in scores:
        groups[s.mode].append(s)
        groups["all"].append(s)
    lines.append(
        f"{'pages':<14} {'n':>4} {'words':>6}  {'recall ours':>11} {'bare':>6}  {'CER ours':>8} {'bare':>6}"
    )
    for mode in sorted(groups, key=lambda m: (m == "all", m)):
        g = groups[mode]
        words = sum(s.words for s in g)
        ours = sum(s.ours_found for s in g) / max(1, words)
        bare = sum(s.bare_found for s in g) / max(1, words)
        # CER pooled by characters: each page weighted by its length in words as a proxy.
        cer_o = sum(s.ours_cer * s.words for s in g) / max(1, words)
        cer_b = sum(s.bare_cer * s.words for s in g) / max(1, words)
        lines.append(
            f"{mode:<14} {len(g):>4} {words:>6}  {ours:>11.2%} {bare:>6.2%}  {cer_o:>8.2%} {cer_b:>6.2%}"
        )
    worse = [s for s in scores if s.ours < s.bare - 0.01]
    lines.append(f"\npages where ours < bare - 1%: {len(worse)} of {len(scores)}")
    for s in sorted(worse, key=lambda s: s.ours - s.bare):
        lines.append(
            f"  {s.file} p{s.page} ({s.mode}): ours {s.ours:.1%} bare {s.bare:.1%}; "
            f"missing {' '.join(s.missing[:12])}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--every", type=int, default=1, help="every Nth image document only")
    ap.add_argument("--only", nargs="*", help="file names")
    ap.add_argument("--json", type=Path, help="write the per-page scores here")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--save", type=Path, help="keep our readings here (gzip JSON per file)")
    args = ap.parse_args(argv)
    start = time.perf_counter()
    pages = corpus_pages(args.corpus, only=args.only)
    files = sorted({p.file for p in pages})[:: max(1, args.every)]
    keep = set(files)
    pages = [p for p in pages if p.file in keep]
    scores = measure(pages, jobs=args.jobs, save=args.save)
    print(report(scores))
    load1, _, _ = os.getloadavg()
    print(f"\n{len(files)} files, {len(scores)} pages, {time.perf_counter() - start:.0f} s, load {load1:.1f}")
    if args.json:
        args.json.write_text(json.dumps([s.__dict__ for s in scores], indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
