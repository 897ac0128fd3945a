"""The bench's documents: 10-page faxes (fine and normal mode), a scanned PDF and a text PDF,
made from the corpus's packets, with the words every page printed.

The pages are the content pages of the composed corpus cases (letters, notes, drawn
tables, payer forms with checkboxes), taken in case order until there are ten, so the
bench reads what the corpus reads and its character error rate has a source text.
Each fax gets the sending machine's header line, a skew and line noise as the corpus's
faxes do (:func:`fixtures.render.degrade`); the scan is bilevel at 200 dpi.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from evaluation.source_text import SourceWord, _header_words, _pdf_words

PAGES = 10
_HEADER = "11/27/2026 10:14  FROM: 555-0199 BENCH ONC  TO: 555-0100"


@dataclass(frozen=True)
class BenchFile:
    label: str  # "fine fax 204x196", ...
    path: Path
    pages: tuple[tuple[SourceWord, ...], ...]  # source words per page of the file


def _content_pdf(tmp: Path, pages: int) -> Path:
    """The first ``pages`` content pages of the composed cases, as one PDF."""
    import pypdfium2 as pdfium

    from fixtures.catalog import load_cases
    from fixtures.generate import build

    out = pdfium.PdfDocument.new()
    try:
        for case in sorted(load_cases(), key=lambda c: c.id):
            if not case.id.startswith("case-1"):
                continue
            built = build(case, tmp)
            src = pdfium.PdfDocument(str(built.content))
            try:
                take = min(len(src), pages - len(out))
                out.import_pages(src, list(range(take)))
            finally:
                src.close()
            if len(out) >= pages:
                break
        target = tmp / "bench-content.pdf"
        buf = io.BytesIO()
        out.save(buf)
        target.write_bytes(buf.getvalue())
        return target
    finally:
        out.close()


def make_inputs(tmp: Path, *, pages: int = PAGES) -> list[BenchFile]:
    from fixtures.render import degrade, rasterise_pdf, save_fax_tiff, save_scanned_pdf

    content = _content_pdf(tmp, pages)
    words = _pdf_words(content.read_bytes())
    files: list[BenchFile] = []
    for label, dpi, compression in (
        ("fine fax 204x196", (204, 196), "group4"),
        ("normal fax 204x98", (204, 98), "group3"),
    ):
        images = rasterise_pdf(content, dpi)
        degraded = [
            degrade(
                img, seed=11 + i, skew_deg=0.8, speckle=0.001, header=f"{_HEADER}  P.{i + 1}/{len(images)}"
            )
            for i, img in enumerate(images)
        ]
        path = save_fax_tiff(degraded, tmp / f"bench-{dpi[1]}.tif", dpi=dpi, compression=compression)  # type: ignore[arg-type]
        sources = tuple(
            tuple(_header_words(f"{_HEADER}  P.{i + 1}/{len(images)}") + words[i]) for i in range(len(images))
        )
        files.append(BenchFile(label, path, sources))
    scans = []
    for i, img in enumerate(rasterise_pdf(content, (200, 200))):
        page = degrade(img, seed=31 + i, skew_deg=-1.0, speckle=0.0008)
        page = page.point(lambda v: 255 if v >= 160 else 0)
        page.info["dpi"] = (200, 200)
        scans.append(page)
    scan = save_scanned_pdf(scans, tmp / "bench-scan.pdf", dpi=(200, 200))
    files.append(BenchFile("scanned PDF 200 dpi", scan, tuple(tuple(w) for w in words)))
    files.append(BenchFile("text PDF", content, tuple(tuple(w) for w in words)))
    return files
