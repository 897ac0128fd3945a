"""TIFF, PNG and JPEG files as pages to OCR.

Every frame's size is read from its header and checked before a single pixel
is decoded: a 40-byte TIFF can claim a 100 000 x 100 000 page, and decoding it
would take the machine down.  Pillow decodes CCITT G3 (1-D and 2-D), G4, LZW,
PackBits and uncompressed TIFF through libtiff.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from common.errors import CorruptFile, DecompressionBomb, TooManyPages
from common.settings import Settings
from reading.ocr import PageImage
from reading.sniff import Kind

# A truncated page is an error to report, not an image to guess at.
ImageFile.LOAD_TRUNCATED_IMAGES = False

_NAMES = {Kind.TIFF: "TIFF", Kind.PNG: "PNG", Kind.JPEG: "JPEG"}


def _open(data: bytes, kind: Kind) -> Image.Image:
    name = _NAMES.get(kind, "image")
    try:
        return Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as err:
        raise DecompressionBomb(f"the {name} claims a page far larger than any fax: {err}") from err
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as err:
        raise CorruptFile(f"the {name} file cannot be read: {err}.") from err


def _check_frame(img: Image.Image, index: int, name: str, settings: Settings) -> None:
    w, h = img.size
    if w <= 0 or h <= 0:
        raise CorruptFile(f"page {index + 1} of the {name} has no pixels ({w} x {h}).")
    if w * h > settings.max_page_pixels:
        raise DecompressionBomb(
            f"page {index + 1} of the {name} is {w} x {h} pixels ({w * h / 1e6:.0f} megapixels); "
            f"the limit is {settings.max_page_pixels / 1e6:.0f} megapixels."
        )


def count_and_check(data: bytes, kind: Kind, settings: Settings) -> int:
    """Number of pages, after checking every frame's header (no pixel decoded)."""
    name = _NAMES.get(kind, "image")
    # Pillow's own bomb check runs at open; ours (below) is stricter and per frame,
    # so its warning is noise (and damaged files warn before failing properly).
    # This runs on the calling thread, before any page is decoded in a worker.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _count_frames(data, kind, name, settings)


def _count_frames(data: bytes, kind: Kind, name: str, settings: Settings) -> int:
    img = _open(data, kind)
    index = 0
    try:
        while True:
            _check_frame(img, index, name, settings)
            if index + 1 > settings.max_pages:
                raise TooManyPages(f"the {name} has more than {settings.max_pages} pages (INTAKE_MAX_PAGES).")
            try:
                img.seek(index + 1)
            except EOFError:
                break
            except (OSError, ValueError, SyntaxError) as err:
                raise CorruptFile(f"the {name} is damaged after page {index + 1}: {err}.") from err
            index += 1
    finally:
        img.close()
    return index + 1


def _to_8bit(img: Image.Image) -> Image.Image:
    """16/32-bit greyscale (some scanners write it) scaled to 8 bits, not clipped."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        lo, hi = float(arr.min()), float(arr.max())
        scaled = (arr - lo) * (255.0 / (hi - lo)) if hi > lo else np.full(arr.shape, 255.0)
        return Image.fromarray(scaled.astype(np.uint8), mode="L")
    return img


def frame_loader(data: bytes, kind: Kind, index: int, settings: Settings) -> Callable[[], PageImage]:
    def load() -> PageImage:
        img = _open(data, kind)
        img.seek(index)
        dpi = img.info.get("dpi")
        img.load()
        # Phones and some scanners store the page turned and say so in EXIF; the
        # page "as stored" is the page as any viewer shows it.
        if kind is Kind.JPEG:
            img = ImageOps.exif_transpose(img)
        frame = _to_8bit(img)
        tag = (float(dpi[0]), float(dpi[1])) if dpi else None
        return PageImage(image=frame, dpi=tag, width=float(frame.width), height=float(frame.height))

    return load
