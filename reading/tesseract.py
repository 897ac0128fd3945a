"""A thin wrapper around the ``tesseract`` binary: image in, raw TSV rows out.

Nothing here knows about pages, boxes relative to a page, or our models; the
adapter in :mod:`reading.ocr` maps these rows to :class:`common.models.Word`.

Why not ``pytesseract.image_to_data``: it writes a compressed PNG temp file and
reads the result back from another file for every call.  Piping an uncompressed
PGM through stdin costs a few milliseconds instead of a few hundred, which is
most of the difference between our per-page time and bare tesseract's.  The
subprocess also gets a hard timeout and ``OMP_THREAD_LIMIT=1`` (tesseract's
OpenMP threads fight our page-level parallelism on small machines).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from dataclasses import dataclass

from PIL import Image

from common.errors import EngineError, OcrTimeout

INSTALL_HINT = (
    "Install tesseract with `sudo apt-get install -y tesseract-ocr tesseract-ocr-eng tesseract-ocr-osd` "
    "(or set TESSERACT_CMD to its path) and try again; the original file is kept."
)


class TesseractFailed(EngineError):
    """Tesseract ran but exited non-zero (same code as any engine failure)."""


@dataclass(frozen=True)
class TsvWord:
    """One word row of tesseract's TSV output, in pixels of the image it was given."""

    text: str
    left: int
    top: int
    width: int
    height: int
    conf: float  # 0..100
    block: int
    par: int
    line: int


@dataclass(frozen=True)
class OsdResult:
    rotate: int  # degrees to turn the image clockwise to make it upright
    confidence: float  # tesseract's orientation confidence (roughly: >2 means sure)


def tesseract_cmd() -> str:
    return os.environ.get("TESSERACT_CMD") or shutil.which("tesseract") or "tesseract"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["OMP_THREAD_LIMIT"] = "1"
    return env


def encode_pgm(image: Image.Image) -> bytes:
    """Uncompressed PGM (or PBM for bilevel): the cheapest format leptonica reads."""
    buf = io.BytesIO()
    img = image if image.mode in ("L", "1") else image.convert("L")
    img.save(buf, format="PPM")
    return buf.getvalue()


def run_tesseract(args: list[str], stdin: bytes, *, timeout: float) -> str:
    cmd = [tesseract_cmd(), "stdin", "stdout", *args]
    try:
        done = subprocess.run(cmd, input=stdin, capture_output=True, timeout=timeout, env=_env(), check=False)
    except FileNotFoundError as err:
        raise EngineError(f"the OCR engine was not found ({cmd[0]}).", hint=INSTALL_HINT) from err
    except subprocess.TimeoutExpired as err:
        raise OcrTimeout(f"tesseract did not finish a page within {timeout:g} s.") from err
    except OSError as err:
        raise EngineError(f"the OCR engine could not be started: {err}.", hint=INSTALL_HINT) from err
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        last = detail[-1] if detail else f"exit status {done.returncode}"
        raise TesseractFailed(f"tesseract failed on a page: {last}")
    return done.stdout.decode("utf-8", "replace")


def parse_tsv(tsv: str) -> list[TsvWord]:
    words: list[TsvWord] = []
    for row in tsv.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 12 or cols[0] != "5":  # level 5 = word
            continue
        text = cols[11].strip()
        conf = float(cols[10])
        if not text or conf < 0:
            continue
        words.append(
            TsvWord(
                text=text,
                left=int(cols[6]),
                top=int(cols[7]),
                width=int(cols[8]),
                height=int(cols[9]),
                conf=conf,
                block=int(cols[2]),
                par=int(cols[3]),
                line=int(cols[4]),
            )
        )
    return words


def image_to_words(
    image: Image.Image, *, lang: str = "eng", psm: int = 3, dpi: int = 300, timeout: float = 180.0
) -> list[TsvWord]:
    args = ["-l", lang, "--psm", str(psm), "--dpi", str(dpi), "tsv"]
    return parse_tsv(run_tesseract(args, encode_pgm(image), timeout=timeout))


_ROTATE = re.compile(r"^Rotate:\s*(\d+)", re.M)
_CONF = re.compile(r"^Orientation confidence:\s*([\d.]+)", re.M)


def image_to_osd(image: Image.Image, *, dpi: int = 300, timeout: float = 60.0) -> OsdResult | None:
    """Orientation of the page, or None when tesseract cannot tell (too little text)."""
    try:
        out = run_tesseract(["--psm", "0", "--dpi", str(dpi)], encode_pgm(image), timeout=timeout)
    except TesseractFailed:
        # OSD refuses sparse pages ("Too few characters"); that is not a failure of the page.
        return None
    rot, conf = _ROTATE.search(out), _CONF.search(out)
    if not rot or not conf:
        return None
    return OsdResult(rotate=int(rot.group(1)) % 360, confidence=float(conf.group(1)))


def version() -> str:
    try:
        done = subprocess.run(
            [tesseract_cmd(), "--version"], capture_output=True, timeout=20, env=_env(), check=False
        )
    except (OSError, subprocess.TimeoutExpired) as err:
        raise EngineError(f"the OCR engine was not found ({tesseract_cmd()}).", hint=INSTALL_HINT) from err
    text = (done.stdout or done.stderr).decode("utf-8", "replace")
    return text.splitlines()[0] if text else "tesseract (unknown version)"
