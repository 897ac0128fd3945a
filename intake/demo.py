"""`intake demo`: the service end to end on the embedded defaults, as a new user tries it.

Starts ``intake serve`` (a child process, its log in the data folder), makes a
token, submits the bundled sample documents over HTTP, waits for their reports
and prints where to read them.  Then it leaves the service running for a look
at /docs (Ctrl-C stops it), or with ``--exit`` stops it and ends.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
# The README's sample fax, and one document of each other kind from the synthetic corpus.
SAMPLES = (
    "fixtures/sample/case-001.g3-204x196.tif",
    "fixtures/corpus/case-002.ehr.txt",
    "fixtures/corpus/case-004.text.pdf",
    "fixtures/corpus/case-005.g3-204x98.tif",
)


def _free_port(preferred: int = 8000) -> int:
    for candidate in (preferred, 0):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return int(s.getsockname()[1])
    raise RuntimeError("no free port")


def _wait_ready(base: str, proc: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"intake serve ended with exit code {proc.returncode}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/ready", timeout=2).status_code == 200:
                return
        time.sleep(0.3)
    raise RuntimeError("intake serve did not become ready")


def _make_token(data: Path) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "intake.cli", "token", "create", "demo", "--data", str(data)],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip().splitlines()[-1]


def run_demo(files: list[Path] | None, *, port: int, data: Path, keep_running: bool) -> int:
    paths = files or [REPO / s for s in SAMPLES if (REPO / s).is_file()]
    port = port or _free_port()
    base = f"http://127.0.0.1:{port}"
    data.mkdir(parents=True, exist_ok=True)
    log_path = data / "serve.log"
    print(f"starting the service on {base} (log: {log_path}) ...", flush=True)
    with log_path.open("ab") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "intake.cli", "serve", "--port", str(port), "--data", str(data)],
            stdout=log_file,
            stderr=log_file,
            env={**os.environ, "OMP_THREAD_LIMIT": "1"},
        )
    try:
        _wait_ready(base, proc)
        token = _make_token(data)
        headers = {"Authorization": f"Bearer {token}"}
        ids: dict[str, Path] = {}
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            for path in paths:
                resp = client.post("/v1/documents", files={"file": (path.name, path.read_bytes())})
                body = resp.json()
                print(f"  submitted {path.name}: HTTP {resp.status_code}, id {body.get('id')}", flush=True)
                if body.get("id"):
                    ids[body["id"]] = path
            print(f"waiting for {len(ids)} reports (a fax page takes a few seconds to read) ...", flush=True)
            results = _wait_all(client, list(ids), timeout=600)
        print()
        for doc_id, doc in results.items():
            outcome = doc.get("determination") or (doc.get("error") or {}).get("code") or doc["status"]
            print(f"  {ids[doc_id].name:32} {doc['status']:8} {outcome:20} {base}/v1/documents/{doc_id}")
        print(
            f"\nRead a report (the token is sent as a header):\n"
            f"  curl -H 'Authorization: Bearer {token}' {base}/v1/documents/{next(iter(results), '')}\n"
            f"FHIR: .../fhir   page images: .../pages/1   the queue: {base}/v1/documents\n"
            f"API docs: {base}/docs   token: {token}\n"
            f"Reviewer page: {base}/review/ (sign in with the token, or with a user:"
            f" `intake user create NAME --data {data}`)\n"
            f"data (SQLite, originals): {data}/",
            flush=True,
        )
        if not keep_running:
            return 0
        print("\nThe service keeps running; press Ctrl-C to stop it.", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            proc.wait()
        return 0
    finally:
        _stop(proc)


def _wait_all(client: httpx.Client, ids: list[str], timeout: float) -> dict[str, dict[str, Any]]:
    deadline = time.monotonic() + timeout
    results: dict[str, dict[str, Any]] = {}
    while time.monotonic() < deadline and len(results) < len(ids):
        for doc_id in ids:
            if doc_id in results:
                continue
            doc = client.get(f"/v1/documents/{doc_id}").json()
            if doc["status"] in ("done", "failed"):
                results[doc_id] = doc
        time.sleep(0.5)
    return {i: results[i] for i in ids if i in results}


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    print("service stopped.", flush=True)
