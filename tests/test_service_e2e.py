"""The service as staff run it: real `intake serve` (and `intake worker`) processes,
real HTTP, on the embedded default and on Celery + Redis + PostgreSQL alike."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from service_support import BACKENDS, CORPUS, REPO, Deployment, make_deployment, servers

__all__ = ["servers"]

# Text documents, a born-digital PDF and a fax; uploaded under names a fax server might give.
RUN = {
    "case-002.ehr.txt": "Testpatient_Beta_2026-09-15.txt",
    "case-004.text.pdf": "Testpatient Delta DOB 1960-01-05.pdf",
    "case-006.ehr.txt": "PA request Testpatient.txt",
    "case-002.g4-204x98.tif": "incoming-fax-0001.tif",
}
BAD = b"<!DOCTYPE html><html><body>Session expired</body></html>"


@dataclass
class FullRun:
    dep: Deployment
    ids: dict[str, str]  # corpus file -> case id
    ended: dict[str, dict[str, Any]]
    bad: httpx.Response
    logs: str


@pytest.fixture(scope="module", params=BACKENDS)
def full_run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FullRun]:
    dep = make_deployment(request.param, tmp_path_factory.mktemp(f"run-{request.param}"), request)
    try:
        dep.start(workers=2)
        ids: dict[str, str] = {}
        with dep.client() as c:
            for source, name in RUN.items():
                resp = c.post("/v1/documents", files={"file": (name, (CORPUS / source).read_bytes())})
                assert resp.status_code == 202, resp.text
                ids[source] = resp.json()["id"]
            bad = c.post("/v1/documents", files={"file": ("Testpatient_Epsilon.pdf", BAD)})
            ended = dep.wait_all(list(ids.values()), timeout=300)
            for doc_id in ids.values():  # read everything, as a reviewer would
                c.get(f"/v1/documents/{doc_id}")
                c.get(f"/v1/documents/{doc_id}/fhir")
                c.get(f"/v1/documents/{doc_id}/pages/1")
        dep.stop()
        yield FullRun(dep, ids, ended, bad, dep.log_text())
    finally:
        dep.stop()


def test_every_document_gets_its_report(full_run: FullRun) -> None:
    with httpx.Client(base_url=full_run.dep.base) as _:
        pass
    for source, doc_id in full_run.ids.items():
        got = full_run.ended[doc_id]
        assert got["status"] == "done", (source, got)
        assert got["determination"] in ("criteria_met", "criteria_not_met", "needs_information")
        assert got["pages"] >= 1


def test_a_bad_file_is_refused_with_its_code_and_kept(full_run: FullRun) -> None:
    assert full_run.bad.status_code == 415
    body = full_run.bad.json()
    assert body["error"]["code"] == "E104_HTML_PAGE" and body["status"] == "failed"


def test_the_logs_name_no_patient_no_birth_date_and_no_file(full_run: FullRun) -> None:
    from fixtures.catalog import load_cases

    logs = full_run.logs
    assert "done" in logs  # the jobs were logged, by id
    for doc_id in full_run.ids.values():
        assert doc_id in logs
    cases = {c.id: c for c in load_cases()}
    forbidden: set[str] = {"Testpatient", "Epsilon"}
    for source, upload_name in RUN.items():
        forbidden |= {source, Path(source).stem, upload_name}
        case = cases[source.split(".")[0]]
        forbidden |= {case.patient.name, case.patient.name.split(", ")[0], case.mrn}
        if case.patient.dob:
            d = case.patient.dob
            forbidden |= {
                d.isoformat(),
                f"{d:%m/%d/%Y}",
                f"{d.month}/{d.day}/{d.year}",
                f"{d:%B} {d.day}, {d.year}",
            }
    found = sorted(s for s in forbidden if s.lower() in logs.lower())
    assert found == [], f"in the logs: {found}"
    # Nor anything that reads like a patient line of a document.
    assert not re.search(r"(?i)\b(patient|dob|mrn)\s*[:=]", logs)


def test_requests_without_a_token_get_401(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    dep = make_deployment("embedded", tmp_path, request)
    try:
        dep.start_api(workers=0)
        for method, path in [("GET", "/v1/documents"), ("POST", "/v1/documents"), ("GET", "/v1/documents/x")]:
            resp = httpx.request(method, dep.base + path, content=b"x" if method == "POST" else None)
            assert resp.status_code == 401 and resp.json()["error"]["code"] == "E405_NOT_AUTHENTICATED"
        assert httpx.get(dep.base + "/health").status_code == 200
    finally:
        dep.stop()


def test_the_watched_folder_command(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    dep = make_deployment("embedded", tmp_path, request)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(CORPUS / "case-002.ehr.txt", inbox / "Testpatient_Beta.txt")
    (inbox / "portal-page.pdf").write_bytes(BAD)
    out = subprocess.run(
        [sys.executable, "-m", "intake.cli", "watch", str(inbox), "--once", "--workers", "1"],
        env=dep.env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert out.returncode == 0, out.stderr
    lines = sorted(line.split("\t")[1:] for line in out.stdout.strip().splitlines())
    assert lines == [["done", "criteria_met"], ["failed", "E104_HTML_PAGE"]]
    assert (inbox / "processed" / "Testpatient_Beta.txt.report.json").is_file()
    assert (inbox / "failed" / "portal-page.pdf.error.json").is_file()
    assert "Testpatient" not in out.stdout + out.stderr


@pytest.mark.parametrize(
    "args",
    [["token"], ["nosuch"], ["serve", "--bogus"], ["token", "create"], ["watch"]],
    ids=["group without command", "unknown command", "unknown option", "missing argument", "missing folder"],
)
def test_a_mistyped_command_is_a_usage_error(args: list[str]) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "intake.cli", *args], capture_output=True, text=True, cwd=REPO
    )
    assert out.returncode == 2, out.stderr
    assert "Usage" in out.stdout + out.stderr and "E000_INTERNAL" not in out.stderr


def test_token_create_prints_the_token_alone_on_its_last_line(tmp_path: Path) -> None:
    env = {"INTAKE_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-m", "intake.cli", "token", "create", "intake desk"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        check=True,
    )
    token = out.stdout.splitlines()[-1]
    assert re.fullmatch(r"pfi_[A-Za-z0-9_-]{43}", token)
    listed = subprocess.run(
        [sys.executable, "-m", "intake.cli", "token", "list"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
    )
    assert "intake desk" in listed.stdout and token not in listed.stdout
