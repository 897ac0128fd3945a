"""A long fax shows how far the reading has got: pages read of the total, on stderr, when
stderr is a terminal; never in a pipe or a service's log, never for a page or two.

The command runs for real (tesseract reads the pages) with stderr on a pseudo-terminal."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")  # Debian fonts-dejavu-core


def _fax(path: Path, pages: int) -> Path:
    """A small fax of ``pages`` pages, one typed line on each."""
    font = ImageFont.truetype(str(FONT), 28)
    frames = []
    for n in range(1, pages + 1):
        page = Image.new("L", (900, 300), 255)
        ImageDraw.Draw(page).text((40, 120), f"Progress note page {n}: lenalidomide daily", font=font, fill=0)
        frames.append(page.convert("1"))
    frames[0].save(path, save_all=True, append_images=frames[1:], compression="group4", dpi=(200, 200))
    return path


def _run(path: Path, *, terminal: bool) -> str:
    """stderr of ``intake ocr FILE``, through a pseudo-terminal or a pipe."""
    exe = Path(sys.executable).with_name("intake")
    # One worker: pages finish one after another, so every count is drawn.
    env = dict(os.environ, INTAKE_WORKERS="1", OMP_THREAD_LIMIT="1")
    if not terminal:
        done = subprocess.run(
            [str(exe), "ocr", str(path)], capture_output=True, text=True, env=env, timeout=300, check=True
        )
        return done.stderr
    leader, follower = pty.openpty()
    # A new pseudo-terminal is 0 columns wide, and tqdm cuts its line to the width.
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    try:
        proc = subprocess.Popen(
            [str(exe), "ocr", str(path)], stdout=subprocess.DEVNULL, stderr=follower, env=env
        )
        os.close(follower)
        follower = -1
        out = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
        assert proc.wait(timeout=300) == 0
        return out.decode("utf-8", "replace")
    finally:
        os.close(leader)
        if follower >= 0:
            os.close(follower)


@pytest.mark.ocr
def test_a_long_fax_on_a_terminal_shows_pages_read_of_the_total(tmp_path: Path) -> None:
    shown = _run(_fax(tmp_path / "three.tif", 3), terminal=True)
    counts = {int(n) for n in re.findall(r"page (\d+) of 3 read", shown)}
    assert counts >= {0, 3}, shown


@pytest.mark.ocr
def test_no_progress_in_a_pipe(tmp_path: Path) -> None:
    assert "of 3 read" not in _run(_fax(tmp_path / "three.tif", 3), terminal=False)


@pytest.mark.ocr
def test_no_progress_for_two_pages(tmp_path: Path) -> None:
    assert "of 2 read" not in _run(_fax(tmp_path / "two.tif", 2), terminal=True)
