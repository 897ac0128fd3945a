"""The HTTP intake: originals kept, errors with codes, and the service keeps serving."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from intake.api import create_app

DATA = Path(__file__).parent / "data"


def _client(tmp_path: Path) -> TestClient:
    return TestClient(create_app(store_root=tmp_path))


def test_upload_returns_report_and_keeps_original(tmp_path: Path) -> None:
    client = _client(tmp_path)
    body = (DATA / "letter-met.txt").read_bytes()
    resp = client.post("/documents", files={"file": ("letter.pdf", body, "application/pdf")})
    assert resp.status_code == 201, resp.text
    got = resp.json()
    assert got["report"]["document"]["source_type"] == "text"  # sniffed by content, not by name
    assert got["determination"] == got["report"]["determination"]
    assert (tmp_path / "originals" / f"{got['sha256']}.pdf").read_bytes() == body
    again = client.get(f"/documents/{got['sha256']}/report")
    assert again.status_code == 200
    assert again.json()["document"]["sha256"] == got["sha256"]


def test_bad_upload_gets_coded_error_original_kept_service_keeps_serving(tmp_path: Path) -> None:
    client = _client(tmp_path)
    resp = client.post("/documents", files={"file": ("empty.pdf", b"", "application/pdf")})
    assert resp.status_code == 422
    error = resp.json()["error"]
    assert error["code"] == "E102_EMPTY_FILE"
    assert error["hint"]
    assert len(list((tmp_path / "originals").iterdir())) == 1
    assert client.get("/health").json() == {"status": "ok"}


def test_unknown_report_is_404(tmp_path: Path) -> None:
    assert _client(tmp_path).get("/documents/0000/report").status_code == 404
