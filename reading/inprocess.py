"""libtesseract in this process (tesserocr): image in, the same TSV rows as the binary's out.

Why: the ``tesseract`` binary loads its model for every call (a few tenths of a second
of a page's second or so) and is handed the page as an encoded file.  Here the model is
loaded once per thread and kept, and the page's pixels are handed over as raw bytes
(``SetImageBytes``), nothing encoded.  tesserocr releases the GIL while it recognises, so
pages read on two threads use two cores.  The rows come from libtesseract's own TSV
renderer, parsed by :func:`reading.tesseract.parse_tsv`: both engines give the adapter
the same rows.

The wheel carries its own libtesseract (5.5) and no language data; Debian's
``tesseract-ocr-eng`` and ``tesseract-ocr-osd`` data are used (``TESSDATA_PREFIX`` or
tesseract's own data folder).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from common.errors import EngineError, OcrTimeout
from reading.tesseract import INSTALL_HINT, OsdResult, TsvWord, parse_tsv

_DATA_DIRS = (
    "/usr/share/tesseract-ocr/5/tessdata",
    "/usr/share/tesseract-ocr/4.00/tessdata",
    "/usr/share/tessdata",
    "/usr/local/share/tessdata",
)


def available() -> bool:
    try:
        import tesserocr  # noqa: F401
    except ImportError:
        return False
    return tessdata() is not None


@lru_cache(maxsize=1)
def tessdata() -> str | None:
    """The folder holding ``eng.traineddata`` (and ``osd.traineddata``)."""
    env = os.environ.get("TESSDATA_PREFIX")
    candidates = [env, str(Path(env) / "tessdata")] if env else []
    for folder in (*candidates, *_DATA_DIRS):
        if folder and (Path(folder) / "eng.traineddata").is_file():
            return folder.rstrip("/") + "/"
    return None


def version() -> str:
    import tesserocr

    return f"libtesseract {tesserocr.tesseract_version().split()[1]} (tesserocr {tesserocr.__version__})"


# One API per thread and language: libtesseract's objects are not thread-safe, and
# building one loads the model (the cost this module exists to pay once).
_local = threading.local()


def _api(lang: str) -> Any:
    apis: dict[str, Any] = getattr(_local, "apis", None) or {}
    _local.apis = apis
    api = apis.get(lang)
    if api is None:
        import tesserocr

        path = tessdata()
        if path is None:
            raise EngineError("tesseract's language data was not found.", hint=INSTALL_HINT)
        try:
            api = tesserocr.PyTessBaseAPI(path=path, lang=lang, init=True)
        except RuntimeError as err:
            raise EngineError(f"the OCR engine could not load {lang!r}: {err}.", hint=INSTALL_HINT) from err
        apis[lang] = api
    return api


def _set_image(api: Any, image: Image.Image, dpi: int) -> None:
    grey = image if image.mode == "L" else image.convert("L")
    _set_bytes(api, grey.tobytes(), grey.width, grey.height, dpi)


def _set_bytes(api: Any, data: bytes, width: int, height: int, dpi: int) -> None:
    api.SetImageBytes(data, width, height, 1, width)
    api.SetSourceResolution(int(dpi))


@dataclass(frozen=True)
class TesserocrEngine:
    """The OCR engine in process; see the module's docstring."""

    lang: str = "eng"
    psm: int = 3

    def with_psm(self, psm: int) -> TesserocrEngine:
        return replace(self, psm=psm)

    def recognise(self, image: Image.Image, *, dpi: int, timeout: float) -> list[TsvWord]:
        api = _api(self.lang)
        api.SetPageSegMode(self.psm)
        _set_image(api, image, dpi)
        return self._read(api, timeout)

    def recognise_pixels(self, pixels: np.ndarray, *, dpi: int, timeout: float) -> list[TsvWord]:
        """:meth:`recognise` of the 8-bit grey image ``pixels`` (rows of bytes): the same bytes
        handed over, without PIL's ``tobytes`` (16 ms a 300-dpi page, against 1 ms)."""
        api = _api(self.lang)
        api.SetPageSegMode(self.psm)
        height, width = pixels.shape
        _set_bytes(api, np.ascontiguousarray(pixels, dtype=np.uint8).tobytes(), width, height, dpi)
        return self._read(api, timeout)

    def _read(self, api: Any, timeout: float) -> list[TsvWord]:
        try:
            ok = api.Recognize(timeout=int(timeout * 1000))
        except RuntimeError as err:
            raise EngineError(f"tesseract failed on a page: {err}.") from err
        if not ok:
            raise OcrTimeout(f"tesseract did not finish a page within {timeout:g} s.")
        header = (
            "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n"
        )
        return parse_tsv(header + api.GetTSVText(0))

    def orientation(self, image: Image.Image, *, dpi: int, timeout: float) -> OsdResult | None:
        import tesserocr

        api = _api("osd")
        api.SetPageSegMode(tesserocr.PSM.OSD_ONLY)
        _set_image(api, image, dpi)
        try:
            found = api.DetectOrientationScript()
        except RuntimeError:
            return None  # too few characters: not a failure of the page
        if not found:
            return None
        # orient_deg is how far the image was turned clockwise; the turn that makes it
        # upright is the rest of the circle (the binary prints that one as "Rotate").
        rotate = (360 - int(found["orient_deg"])) % 360
        return OsdResult(rotate=rotate, confidence=float(found["orient_conf"]))
