"""The API, request by request: what it accepts, what it refuses and with which code,
and that it keeps serving after every refusal."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from intake_support import Docs, docs
from PIL import Image
from service_inline import client_for, open_service, run_jobs
from test_intake_errors import CASES

from common.settings import Settings
from intake.service import Service

__all__ = ["docs"]

DATA = Path(__file__).parent / "data"
LETTER = (DATA / "letter-met.txt").read_bytes()


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    svc = open_service(tmp_path)
    yield svc
    svc.close()


@pytest.fixture
def api(service: Service) -> tuple[TestClient, dict[str, str]]:
    return client_for(service)


def _upload(client: TestClient, auth: dict[str, str], body: bytes, name: str = "fax.pdf", **params: str):  # type: ignore[no-untyped-def]
    return client.post("/v1/documents", files={"file": (name, body)}, params=params, headers=auth)


# ------------------------------------------------------------------ tokens


ENDPOINTS = [
    ("GET", "/v1/documents"),
    ("POST", "/v1/documents"),
    ("GET", "/v1/documents/0123456789abcdef0123456789abcdef"),
    ("GET", "/v1/documents/0123456789abcdef0123456789abcdef/fhir"),
    ("GET", "/v1/documents/0123456789abcdef0123456789abcdef/pages/1"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
@pytest.mark.parametrize(
    "header",
    [None, "Bearer", "Bearer not-a-token", "Basic dXNlcjpwYXNz", "pfi_missing-scheme"],
    ids=["no header", "no token", "unknown token", "basic auth", "no scheme"],
)
def test_every_endpoint_needs_a_known_token(
    api: tuple[TestClient, dict[str, str]], method: str, path: str, header: str | None
) -> None:
    client, _ = api
    headers = {"Authorization": header} if header else {}
    resp = client.request(method, path, headers=headers, content=LETTER if method == "POST" else None)
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == "E405_NOT_AUTHENTICATED"
    assert resp.headers["WWW-Authenticate"] == "Bearer"


def test_health_and_ready_need_no_token(api: tuple[TestClient, dict[str, str]]) -> None:
    client, _ = api
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready")
    assert ready.status_code == 200 and ready.json()["store"] == "ok"


def test_a_revoked_token_is_refused(service: Service, api: tuple[TestClient, dict[str, str]]) -> None:
    client, auth = api
    assert client.get("/v1/documents", headers=auth).status_code == 200
    service.store.revoke_tokens("tester")
    assert client.get("/v1/documents", headers=auth).status_code == 401


def test_only_the_token_hash_is_stored(service: Service, api: tuple[TestClient, dict[str, str]]) -> None:
    token = api[1]["Authorization"].split()[1]
    raw = (service.config.data_dir / "intake.sqlite3").read_bytes()
    assert token.encode() not in raw


# ------------------------------------------------------------------ intake


def test_upload_is_answered_at_once_then_processed(
    service: Service, api: tuple[TestClient, dict[str, str]]
) -> None:
    client, auth = api
    resp = _upload(client, auth, LETTER, name="Testpatient_Alpha.pdf")
    assert resp.status_code == 202, resp.text
    accepted = resp.json()
    assert set(accepted) == {"id", "sha256", "status"} and accepted["status"] == "queued"
    queued = client.get(f"/v1/documents/{accepted['id']}", headers=auth).json()
    assert queued["status"] == "queued" and queued["report"] is None and queued["attempts"] == 0

    assert run_jobs(service) == 1
    done = client.get(f"/v1/documents/{accepted['id']}", headers=auth).json()
    assert done["status"] == "done" and done["attempts"] == 1 and done["error"] is None
    assert done["report"]["document"]["source_type"] == "text"  # sniffed by content, not by name
    assert done["report"]["document"]["sha256"] == accepted["sha256"]
    assert done["determination"] == done["report"]["determination"]


def test_the_report_is_the_composers_json(service: Service, api: tuple[TestClient, dict[str, str]]) -> None:
    from pipeline.composer import process_file

    client, auth = api
    doc_id = _upload(client, auth, LETTER).json()["id"]
    run_jobs(service)
    served = client.get(f"/v1/documents/{doc_id}", headers=auth).json()["report"]
    direct = process_file(DATA / "letter-met.txt", settings=Settings(workers=1)).report.model_dump(
        mode="json"
    )
    assert served == direct


def test_same_bytes_again_answer_the_existing_case(
    service: Service, api: tuple[TestClient, dict[str, str]]
) -> None:
    client, auth = api
    first = _upload(client, auth, LETTER, name="a.txt").json()
    again = _upload(client, auth, LETTER, name="b.pdf")
    assert again.status_code == 200 and again.json()["id"] == first["id"]
    assert run_jobs(service) == 1  # one job, not two
    third = _upload(client, auth, LETTER)
    assert third.status_code == 200 and third.json()["status"] == "done"


def test_raw_body_with_its_content_type(service: Service, api: tuple[TestClient, dict[str, str]]) -> None:
    client, auth = api
    resp = client.post(
        "/v1/documents",
        content=LETTER,
        headers={**auth, "Content-Type": "text/plain"},
        params={"priority": "expedited"},
    )
    assert resp.status_code == 202
    got = client.get(f"/v1/documents/{resp.json()['id']}", headers=auth).json()
    assert got["priority"] == "expedited"


def test_original_is_kept_unchanged_and_private(
    service: Service, api: tuple[TestClient, dict[str, str]]
) -> None:
    client, auth = api
    sha = _upload(client, auth, LETTER).json()["sha256"]
    kept = service.blobs.path(sha)
    assert kept.read_bytes() == LETTER
    assert kept.stat().st_mode & 0o777 == 0o600
    assert kept.parent.stat().st_mode & 0o777 == 0o700
    assert list(service.blobs.incoming.iterdir()) == []  # no temp file left behind


@pytest.mark.parametrize(
    ("priority", "days"),
    [("standard", 7.0), ("expedited", 3.0), (None, 7.0)],
    ids=["standard", "expedited", "default"],
)
def test_due_time_follows_the_priority(
    api: tuple[TestClient, dict[str, str]], priority: str | None, days: float
) -> None:
    from datetime import datetime

    client, auth = api
    files: dict[str, object] = {"file": ("x.txt", LETTER)}
    data = {"priority": priority} if priority else {}
    doc_id = client.post("/v1/documents", files=files, data=data, headers=auth).json()["id"]  # type: ignore[arg-type]
    got = client.get(f"/v1/documents/{doc_id}", headers=auth).json()
    span = datetime.fromisoformat(got["due_at"]) - datetime.fromisoformat(got["received_at"])
    assert span.total_seconds() == days * 86400


def test_queue_soonest_due_first_with_filters_and_pages(
    service: Service, api: tuple[TestClient, dict[str, str]]
) -> None:
    client, auth = api
    ids = []
    for i in range(5):
        prio = "expedited" if i in (1, 3) else "standard"
        ids.append(_upload(client, auth, LETTER + f"\n{i}\n".encode(), priority=prio).json()["id"])
    listed = client.get("/v1/documents", params={"limit": 2}, headers=auth).json()
    first_page = [d["id"] for d in listed["items"]]
    assert first_page == [ids[1], ids[3]]  # expedited cases are due soonest
    rest = client.get(
        "/v1/documents", params={"limit": 10, "cursor": listed["next_cursor"]}, headers=auth
    ).json()
    assert [d["id"] for d in rest["items"]] == [ids[0], ids[2], ids[4]] and rest["next_cursor"] is None
    run_jobs(service)
    done = client.get(
        "/v1/documents", params={"status": "done", "determination": "criteria_met"}, headers=auth
    )
    assert len(done.json()["items"]) == 5
    none = client.get("/v1/documents", params={"determination": "criteria_not_met"}, headers=auth)
    assert none.json()["items"] == []


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"status": "finished"}, "E403_BAD_PARAMETER"),
        ({"determination": "approved"}, "E403_BAD_PARAMETER"),
        ({"limit": "0"}, "E403_BAD_PARAMETER"),
        ({"limit": "many"}, "E403_BAD_PARAMETER"),
        ({"cursor": "not-a-cursor"}, "E403_BAD_PARAMETER"),
    ],
)
def test_bad_queue_parameters(
    api: tuple[TestClient, dict[str, str]], params: dict[str, str], code: str
) -> None:
    client, auth = api
    resp = client.get("/v1/documents", params=params, headers=auth)
    assert resp.status_code == 422 and resp.json()["error"]["code"] == code


# ------------------------------------------------------------------ refusals


@pytest.mark.parametrize(
    ("name", "filename", "make", "overrides", "error", "words"), CASES, ids=[c[0] for c in CASES]
)
def test_every_bad_input_gets_its_code_in_a_4xx_and_the_service_keeps_serving(
    tmp_path: Path,
    docs: Docs,
    name: str,
    filename: str,
    make,  # type: ignore[no-untyped-def]
    overrides: dict[str, int],
    error: type,
    words: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key, value in overrides.items():
        monkeypatch.setenv(f"INTAKE_{key.upper()}", str(value))
    service = open_service(tmp_path)
    client, auth = client_for(service)
    body = make(tmp_path, docs)
    resp = _upload(client, auth, body, name=filename)
    assert 400 <= resp.status_code < 500, resp.text
    got = resp.json()
    assert got["error"]["code"] == error.code
    assert words.lower() in got["error"]["message"].lower()
    assert got["error"]["hint"]
    assert got["status"] == "failed" and got["id"]
    case = client.get(f"/v1/documents/{got['id']}", headers=auth).json()  # kept, with its reason
    assert case["status"] == "failed" and case["error"]["code"] == error.code
    assert service.blobs.path(got["sha256"]).read_bytes() == body  # nothing lost
    again = _upload(client, auth, body, name=filename)  # the same bytes: the same answer, same case
    assert again.status_code == resp.status_code and again.json()["id"] == got["id"]
    good = _upload(client, auth, LETTER)  # and the service goes on
    assert good.status_code == 202
    assert run_jobs(service) == 1
    service.close()


@pytest.mark.parametrize(
    ("request_kwargs", "code", "status"),
    [
        ({"content": b""}, "E401_NO_FILE", 400),
        ({"files": {"other": ("a.txt", LETTER)}}, "E401_NO_FILE", 400),
        ({"data": {"file": "not a file"}}, "E401_NO_FILE", 400),
        ({"files": {"file": ("a.txt", LETTER)}, "params": {"priority": "urgent"}}, "E403_BAD_PARAMETER", 422),
        ({"files": {"file": ("a.txt", LETTER)}, "data": {"priority": "asap"}}, "E403_BAD_PARAMETER", 422),
        (
            {"files": {"file": ("a.txt", LETTER)}, "params": {"policy": "no-such-policy"}},
            "E403_BAD_PARAMETER",
            422,
        ),
    ],
    ids=[
        "empty raw body",
        "no file field",
        "file not a file",
        "bad priority",
        "bad priority field",
        "bad policy",
    ],
)
def test_bad_requests_store_nothing(
    service: Service,
    api: tuple[TestClient, dict[str, str]],
    request_kwargs: dict[str, object],
    code: str,
    status: int,
) -> None:
    client, auth = api
    resp = client.post("/v1/documents", headers=auth, **request_kwargs)  # type: ignore[arg-type]
    assert resp.status_code == status and resp.json()["error"]["code"] == code
    assert service.store.counts() == {"queued": 0, "processing": 0, "done": 0, "failed": 0}
    assert list(service.blobs.incoming.iterdir()) == []


def test_upload_limit_is_enforced_while_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTAKE_MAX_UPLOAD_MB", "1")
    service = open_service(tmp_path)
    client, auth = client_for(service)
    big = b"x" * (3 * 1024 * 1024)
    declared = client.post("/v1/documents", content=big, headers={**auth, "Content-Type": "text/plain"})
    assert declared.status_code == 413 and declared.json()["error"]["code"] == "E402_UPLOAD_TOO_LARGE"

    read: list[int] = []

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit must act mid-stream
        for _ in range(48):
            read.append(1)
            yield b"y" * 65536

    streamed = client.post("/v1/documents", content=chunks(), headers={**auth, "Content-Type": "text/plain"})
    assert streamed.status_code == 413 and streamed.json()["error"]["code"] == "E402_UPLOAD_TOO_LARGE"
    multipart = _upload(client, auth, big)
    assert multipart.status_code == 413
    assert service.store.counts()["queued"] == 0
    assert list(service.blobs.incoming.iterdir()) == [] and list(service.blobs.originals.iterdir()) == []
    assert _upload(client, auth, LETTER).status_code == 202  # still serving
    service.close()


def test_unknown_ids_and_endpoints_are_404_with_codes(api: tuple[TestClient, dict[str, str]]) -> None:
    client, auth = api
    for path in ["/v1/documents/0123456789abcdef0123456789abcdef", "/v1/documents/../../etc", "/v1/nothing"]:
        resp = client.get(path, headers=auth)
        assert resp.status_code == 404 and resp.json()["error"]["code"] == "E404_NOT_FOUND"


# ------------------------------------------------------------------ FHIR, pages, audit


def test_fhir_when_done_409_before(service: Service, api: tuple[TestClient, dict[str, str]]) -> None:
    client, auth = api
    doc_id = _upload(client, auth, LETTER).json()["id"]
    early = client.get(f"/v1/documents/{doc_id}/fhir", headers=auth)
    assert early.status_code == 409 and early.json()["error"]["code"] == "E406_NOT_READY"
    run_jobs(service)
    bundle = client.get(f"/v1/documents/{doc_id}/fhir", headers=auth)
    assert bundle.status_code == 200 and bundle.headers["content-type"].startswith("application/fhir+json")
    assert bundle.json()["resourceType"] == "Bundle"


@pytest.mark.parametrize(
    ("doc", "pages", "aspect"),
    [
        ("normal-g3.tif", 1, 11 / 8.5),  # 204 x 98 dpi: stretched back to the paper's shape
        ("fine-g4.tif", 1, 11 / 8.5),
        ("note.pdf", 1, 11 / 8.5),
        ("letter", 1, 11 / 8.5),  # plain text: drawn on its virtual letter page
    ],
)
def test_page_images_as_received(
    service: Service, api: tuple[TestClient, dict[str, str]], docs: Docs, doc: str, pages: int, aspect: float
) -> None:
    client, auth = api
    body = LETTER if doc == "letter" else docs.get(doc).read_bytes()
    doc_id = _upload(client, auth, body).json()["id"]
    resp = client.get(f"/v1/documents/{doc_id}/pages/1", headers=auth)
    assert resp.status_code == 200 and resp.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(resp.content))
    assert abs(image.height / image.width - aspect) < 0.03
    assert image.getextrema()[0] < 128  # ink on the page
    beyond = client.get(f"/v1/documents/{doc_id}/pages/{pages + 1}", headers=auth)
    assert beyond.status_code == 404 and beyond.json()["error"]["code"] == "E404_NOT_FOUND"
    assert client.get(f"/v1/documents/{doc_id}/pages/0", headers=auth).status_code == 422


def test_text_page_image_puts_each_word_in_its_box(
    service: Service, api: tuple[TestClient, dict[str, str]]
) -> None:
    import numpy as np

    from reading.text import text_pages

    client, auth = api
    doc_id = _upload(client, auth, LETTER).json()["id"]
    image = np.asarray(
        Image.open(io.BytesIO(client.get(f"/v1/documents/{doc_id}/pages/1", headers=auth).content))
    )
    h, w = image.shape
    words = text_pages(LETTER.decode())[0].words
    ink = image < 128
    inside = np.zeros_like(ink)
    for word in words:
        b = word.bbox
        inside[int(b.y0 * h) : int(b.y1 * h) + 1, int(b.x0 * w) : int(b.x1 * w) + 1] = True
    assert ink.sum() > 1000 and (ink & ~inside).sum() == 0  # no ink outside a word's box


def test_audit_records_who_read_what(service: Service, api: tuple[TestClient, dict[str, str]]) -> None:
    client, auth = api
    doc_id = _upload(client, auth, LETTER).json()["id"]
    run_jobs(service)
    client.get(f"/v1/documents/{doc_id}", headers=auth)
    client.get(f"/v1/documents/{doc_id}/fhir", headers=auth)
    client.get(f"/v1/documents/{doc_id}/pages/1", headers=auth)
    trail = service.store.audit_trail(doc_id)
    assert [(r.actor, r.action, r.page) for r in reversed(trail)] == [
        ("tester", "submit", None),
        ("tester", "read_report", None),
        ("tester", "read_fhir", None),
        ("tester", "read_page", 1),
    ]


def test_openapi_docs_describe_the_upload(api: tuple[TestClient, dict[str, str]]) -> None:
    client, _ = api
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    upload = spec["paths"]["/v1/documents"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]
    assert {"202", "200", "401", "413"} <= set(upload["responses"])
