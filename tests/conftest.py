"""Shared test set-up.  Area-specific fixtures live beside their tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Tesseract's OpenMP threads fight the worker processes on a 2-core machine.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO
