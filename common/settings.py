"""Runtime settings, read from the environment (prefix ``INTAKE_``) with safe defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INTAKE_", frozen=True)

    max_pages: int = Field(default=200, ge=1, description="page cap per document")
    max_file_bytes: int = Field(default=200 * 1024 * 1024, ge=1)
    # A letter page at 600 dpi is ~34 Mpx; anything far beyond is a bomb, not a fax.
    max_page_pixels: int = Field(default=60_000_000, ge=1)
    max_page_points: float = Field(default=14_400.0, description="PDF page side in points (200 inches)")
    workers: int = Field(default=2, ge=1, description="OCR worker processes")
    ocr_dpi: int = Field(default=300, ge=72, le=600)
    ocr_timeout_s: float = Field(default=180.0, gt=0)
    ocr_language: str = "eng"
    # "tesserocr": libtesseract in process (the model loaded once per thread), when
    # installed; "binary": the tesseract program, one process per call.
    ocr_engine: Literal["tesserocr", "binary"] = "tesserocr"
    low_confidence: float = Field(default=0.60, ge=0, le=1, description="word confidence below this is 'low'")
    # words tesseract read below this confidence are read again by a second engine
    # (reading/second.py); its reading replaces a word's only at second_trusted or more
    second_reader: bool = True
    second_read_below: float = Field(default=0.60, ge=0, le=1)
    second_trusted: float = Field(default=0.90, ge=0, le=1)
    # a second reading that is a lexicon term where tesseract's is none takes its own
    # confidence at this or more (reading/second.py says what was measured)
    second_lifts: float = Field(default=0.90, ge=0, le=1.01)
    low_page_confidence: float = Field(default=0.70, ge=0, le=1)
    # Folders of policy files read beside the bundled ones (JSON list in the environment:
    # INTAKE_POLICY_DIRS='["/etc/intake/policies"]'): a new payer or drug is a file there.
    policy_dirs: tuple[Path, ...] = ()
