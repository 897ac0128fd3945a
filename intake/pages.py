"""Page images for the reviewer: each page as received, as PNG.

Not the normalised image OCR saw: the page as the sender's fax machine or
printer made it (not deskewed, not turned), so the report's boxes (0..1 of the
original page, origin top-left) fall where they belong.  Two adjustments keep
it faithful to the paper: a fax's non-square pixels (204 x 98 dpi) are
stretched back to the page's true proportions, which scales both axes of every
relative box alike; and a plain-text document is drawn on the virtual page its
word boxes were laid out on (reading.text).
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from common.errors import NotFound
from common.settings import Settings
from intake.precheck import check_document
from reading import images, pdf
from reading.sniff import Kind, sniff
from reading.text import PAGE_HEIGHT, PAGE_WIDTH, text_pages

RENDER_DPI = 150  # a PDF or text page: enough to read, small enough to send


def page_png(original: Path, number: int, settings: Settings) -> bytes:
    count = check_document(original, settings)
    if not 1 <= number <= count:
        raise NotFound(f"the document has {count} page(s); there is no page {number}.")
    data = original.read_bytes()
    kind = sniff(data[:8192])
    if kind is Kind.TEXT:
        image = _text_page(data.decode("utf-8"), number)
    elif kind is Kind.PDF:
        image = _pdf_page(data, number, settings)
    else:
        image = _image_page(data, kind, number, settings)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False, compress_level=6)
    return out.getvalue()


def _pdf_page(data: bytes, number: int, settings: Settings) -> Image.Image:
    opened = pdf.open_pdf(data, settings)
    try:
        return pdf.page_loader(
            opened, number - 1, settings.model_copy(update={"ocr_dpi": RENDER_DPI})
        )().image
    finally:
        opened.close()


def _image_page(data: bytes, kind: Kind, number: int, settings: Settings) -> Image.Image:
    page = images.frame_loader(data, kind, number - 1, settings)()
    image = page.image
    if page.dpi and page.dpi[0] > 0 and page.dpi[1] > 0 and abs(page.dpi[0] - page.dpi[1]) > 1:
        # Fax "normal" resolution: 204 dpi across, 98 down; draw it at 204 x 204.
        height = round(image.height * page.dpi[0] / page.dpi[1])
        image = image.resize((image.width, height), Image.Resampling.BILINEAR)
    return image


def _text_page(text: str, number: int) -> Image.Image:
    page = text_pages(text)[number - 1]
    scale = RENDER_DPI / 72.0
    width, height = round(PAGE_WIDTH * scale), round(PAGE_HEIGHT * scale)
    canvas = Image.new("L", (width, height), 255)
    font = ImageFont.load_default(size=32)
    for word in page.words:
        box = word.bbox
        x0, y0 = round(box.x0 * width), round(box.y0 * height)
        w, h = max(1, round((box.x1 - box.x0) * width)), max(1, round((box.y1 - box.y0) * height))
        # Each word is stretched to fill its own box, so a highlight covers exactly its word.
        left, top, right, bottom = font.getbbox(word.text)
        glyphs = Image.new("L", (max(1, int(right - left)), max(1, int(bottom - top))), 255)
        ImageDraw.Draw(glyphs).text((-left, -top), word.text, fill=0, font=font)
        inset = max(1, h // 8)
        canvas.paste(glyphs.resize((w, max(1, h - 2 * inset)), Image.Resampling.LANCZOS), (x0, y0 + inset))
    return canvas
