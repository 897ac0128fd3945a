"""Benchmark of the service: throughput with warm workers, and upload-to-report time.

``intake bench-service`` starts a real ``intake serve`` (embedded defaults, a
temp data folder) with 1 and then 2 worker processes, and for each:

* warms the workers (each builds its pipeline once, then a document each);
* times one fax and one text export alone on the idle service, from the upload
  to the moment its report can be read (polled every 50 ms);
* submits a batch of fax TIFFs at once and times until every report is done:
  pages per minute.

Figures are printed, never asserted: compare the 1- and 2-worker rows of one run.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "fixtures" / "corpus"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Service:
    def __init__(self, workers: int, root: Path) -> None:
        self.port = _port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
        self.env = {**env, "INTAKE_DATA_DIR": str(root / f"data-{workers}"), "OMP_THREAD_LIMIT": "1"}
        self.log = (root / f"serve-{workers}.log").open("wb")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "intake.cli",
                "serve",
                "--port",
                str(self.port),
                "--workers",
                str(workers),
            ],
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.base}/ready", timeout=2).status_code == 200:
                    break
            time.sleep(0.2)
        out = subprocess.run(
            [sys.executable, "-m", "intake.cli", "token", "create", "bench"],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        token = out.stdout.strip().splitlines()[-1]
        self.client = httpx.Client(
            base_url=self.base, headers={"Authorization": f"Bearer {token}"}, timeout=60
        )

    def submit(self, name: str, body: bytes) -> str:
        resp = self.client.post("/v1/documents", files={"file": (name, body)})
        resp.raise_for_status()
        return str(resp.json()["id"])

    def wait(self, ids: list[str], poll: float = 0.05, timeout: float = 1800) -> dict[str, dict[str, Any]]:
        ended: dict[str, dict[str, Any]] = {}
        deadline = time.monotonic() + timeout
        while len(ended) < len(ids) and time.monotonic() < deadline:
            for doc_id in ids:
                if doc_id not in ended:
                    doc = self.client.get(f"/v1/documents/{doc_id}").json()
                    if doc["status"] in ("done", "failed"):
                        ended[doc_id] = doc
            time.sleep(poll)
        return ended

    def close(self) -> None:
        self.client.close()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.log.close()


def _unique(body: bytes, tag: str) -> bytes:
    # TIFF readers ignore bytes after the last IFD; text gains a line.  Distinct bytes, new jobs.
    return body + f"\nbench {tag}\n".encode()


def _one(svc: _Service, name: str, body: bytes) -> float:
    started = time.monotonic()
    doc_id = svc.submit(name, body)
    svc.wait([doc_id], poll=0.05)
    return time.monotonic() - started


def run(workers: int, faxes: list[Path], root: Path) -> dict[str, float]:
    svc = _Service(workers, root)
    try:
        text = CORPUS / "case-002.ehr.txt"
        warm = [
            svc.submit(text.name, _unique(text.read_bytes(), f"warm-{workers}-{i}"))
            for i in range(workers * 2)
        ]
        svc.wait(warm)
        fax = faxes[0]
        alone_fax = _one(svc, fax.name, _unique(fax.read_bytes(), f"alone-{workers}"))
        alone_text = _one(svc, text.name, _unique(text.read_bytes(), f"alone-{workers}"))
        started = time.monotonic()
        ids = [svc.submit(p.name, _unique(p.read_bytes(), f"batch-{workers}")) for p in faxes]
        ended = svc.wait(ids, poll=0.2)
        took = time.monotonic() - started
        pages = sum(int(d.get("pages") or 0) for d in ended.values())
        return {
            "workers": workers,
            "fax_s": alone_fax,
            "text_s": alone_text,
            "pages": pages,
            "batch_s": took,
            "ppm": pages / took * 60 if took else 0.0,
            "failed": sum(1 for d in ended.values() if d["status"] != "done"),
        }
    finally:
        svc.close()


def main(faxes: int = 6, workers: tuple[int, ...] = (1, 2)) -> int:
    chosen = sorted(CORPUS.glob("*.tif"))[:faxes]
    if not chosen:
        print("no fax TIFFs in fixtures/corpus", file=sys.stderr)
        return 1
    root = Path(tempfile.mkdtemp(prefix="intake-bench-"))
    try:
        rows = [run(n, chosen, root) for n in workers]
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"service benchmark: intake serve on loopback, {len(chosen)} fax TIFFs per batch, warm workers")
    heads = ("workers", "fax alone s", "text alone s", "batch pages", "batch s", "pages/min")
    print("  ".join(f"{h:>7}" for h in heads))
    for r in rows:
        print(
            f"{r['workers']:>7}  {r['fax_s']:>11.2f}  {r['text_s']:>12.2f}  {r['pages']:>11.0f}  "
            f"{r['batch_s']:>7.1f}  {r['ppm']:>9.1f}"
            + (f"  ({r['failed']:.0f} failed)" if r["failed"] else "")
        )
    if len(rows) >= 2 and rows[0]["ppm"]:
        first, last = rows[0], rows[-1]
        ratio = last["ppm"] / first["ppm"]
        print(f"speed-up {last['workers']:.0f} vs {first['workers']:.0f} workers: {ratio:.2f}x")
    print("(upload-to-report: from POST to the report readable by GET; one document on an idle service)")
    return 0
