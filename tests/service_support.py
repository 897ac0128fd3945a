"""The service under test, for real: `intake serve` and `intake worker` as processes,
Redis and PostgreSQL as servers (scripts/servers.sh), a client that sends a token.

Backends: ``embedded`` (SQLite and worker processes of `intake serve`) and
``celery`` (PostgreSQL holds the cases, Celery on Redis carries the jobs,
`intake worker` runs them).  The same tests run on both.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "fixtures" / "corpus"
BACKENDS = ("embedded", "celery")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ------------------------------------------------------------------ Redis and PostgreSQL


@dataclass
class Servers:
    broker_url: str
    database_url: str
    folder: Path | None = None  # set when this session started them

    def fresh_database(self) -> str:
        """A new empty database on the server, so each test starts with no cases."""
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        admin = self.database_url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.database_url.rsplit("/", 1)[0] + "/" + name

    def flush_broker(self) -> None:
        import redis

        redis.Redis.from_url(self.broker_url).flushdb()


def _start_servers(folder: Path) -> Servers:
    out = subprocess.run(
        ["bash", str(REPO / "scripts" / "servers.sh"), "start", str(folder)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    values = dict(line.split("=", 1) for line in out.split() if "=" in line)
    return Servers(values["INTAKE_TEST_BROKER_URL"], values["INTAKE_TEST_DATABASE_URL"], folder)


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """The URLs scripts/test.sh exported, or servers this session starts (and stops)."""
    broker, database = os.environ.get("INTAKE_TEST_BROKER_URL"), os.environ.get("INTAKE_TEST_DATABASE_URL")
    if broker and database:
        yield Servers(broker, database)
        return
    have = (
        subprocess.run(
            ["bash", "-c", "command -v redis-server && ls /usr/lib/postgresql/*/bin/initdb"],
            capture_output=True,
        ).returncode
        == 0
    )
    if not have:
        if os.environ.get("CI"):
            pytest.fail("redis-server or PostgreSQL is missing; scripts/setup.sh --servers installs them")
        pytest.skip("redis-server or PostgreSQL not installed (bash scripts/setup.sh --servers)")
    folder = Path(tmp_path_factory.mktemp("servers"))
    started = _start_servers(folder)
    try:
        yield started
    finally:
        subprocess.run(["bash", str(REPO / "scripts" / "servers.sh"), "stop", str(folder)], check=False)


# ------------------------------------------------------------------ the service's processes


@dataclass
class Deployment:
    """One service: its environment, its processes, their logs."""

    backend: str
    data: Path
    env: dict[str, str]
    logs: Path
    port: int = field(default_factory=free_port)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    token: str = ""

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _start(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            [sys.executable, "-m", "intake.cli", *args],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            start_new_session=True,  # its own process group: a kill reaches its children too
        )
        log.close()
        self.procs[name] = proc
        return proc

    def start_api(self, workers: int = 2) -> None:
        self._start("serve", ["serve", "--port", str(self.port), "--workers", str(workers)])
        self.wait_ready()

    def start_worker(self, name: str = "worker", concurrency: int = 2) -> subprocess.Popen[bytes]:
        return self._start(name, ["worker", "--concurrency", str(concurrency)])

    def start(self, workers: int = 2) -> None:
        """The API, and its workers: its own (embedded) or a Celery worker."""
        self.start_api(workers if self.backend == "embedded" else 0)
        if self.backend == "celery":
            self.start_worker(concurrency=workers)
        if not self.token:
            self.token = self.create_token("tests")

    def create_token(self, name: str) -> str:
        out = subprocess.run(
            [sys.executable, "-m", "intake.cli", "token", "create", name],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO,
        )
        return out.stdout.strip().splitlines()[-1]

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            proc = self.procs.get("serve")
            if proc is not None and proc.poll() is not None:
                raise AssertionError(f"intake serve ended ({proc.returncode}):\n{self.log_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.base}/ready", timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        raise AssertionError(f"not ready:\n{self.log_text()[-3000:]}")

    def kill(self, name: str, sig: int = signal.SIGKILL, group: bool = False) -> None:
        proc = self.procs[name]
        if group:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
        proc.wait(30)

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)

    def log_text(self) -> str:
        return "".join(p.read_text(errors="replace") for p in sorted(self.logs.glob("*.log")))

    def client(self, token: str | None = None, timeout: float = 30.0) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        return httpx.Client(base_url=self.base, headers=headers, timeout=timeout)

    def wait_all(self, ids: list[str], timeout: float = 300.0) -> dict[str, dict[str, Any]]:
        """Every job's final state (done or failed); fails the test on a timeout."""
        ended: dict[str, dict[str, Any]] = {}
        deadline = time.monotonic() + timeout
        with self.client() as c:
            while len(ended) < len(ids):
                listed = _all_cases(c)
                if time.monotonic() > deadline:
                    left = [
                        {k: listed.get(i, {}).get(k) for k in ("id", "status", "attempts", "error")}
                        for i in ids
                        if i not in ended
                    ]
                    raise AssertionError(f"{len(left)} jobs unfinished: {left[:5]}")
                for doc_id in ids:
                    if doc_id not in ended and listed.get(doc_id, {}).get("status") in ("done", "failed"):
                        ended[doc_id] = listed[doc_id]
                time.sleep(0.5)
        return ended


def _all_cases(c: httpx.Client) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 500}
        if cursor:
            params["cursor"] = cursor
        page = c.get("/v1/documents", params=params).json()
        out.update({d["id"]: d for d in page["items"]})
        cursor = page["next_cursor"]
        if not cursor:
            return out


def make_deployment(backend: str, tmp_path: Path, request: pytest.FixtureRequest, **env: str) -> Deployment:
    data, logs = tmp_path / "data", tmp_path / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
    base_env |= {
        "OMP_THREAD_LIMIT": "1",
        "INTAKE_DATA_DIR": str(data),
        "INTAKE_JOB_LEASE_S": "6",
        "INTAKE_SWEEP_S": "0.5",
        "PYTHONUNBUFFERED": "1",
        **env,
    }
    if backend == "celery":
        found: Servers = request.getfixturevalue("servers")
        found.flush_broker()
        base_env["INTAKE_BROKER_URL"] = found.broker_url
        base_env["INTAKE_DATABASE_URL"] = found.fresh_database()
    return Deployment(backend=backend, data=data, env=base_env, logs=logs)


@pytest.fixture(params=BACKENDS)
def deployment(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Deployment]:
    dep = make_deployment(request.param, tmp_path, request)
    try:
        yield dep
    finally:
        dep.stop()
