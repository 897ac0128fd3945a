"""The reviewer page over HTTP, without a browser: what needs a session and what it
answers without one, the cookie, the form check, what a case page shows (counts,
quotes with pages, low-confidence marks, pages set aside, the request to the
provider), the reviewer's actions through its forms, and that it loads nothing
from elsewhere and keeps its colours readable."""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from service_inline import open_service, run_jobs

from intake.api import create_app
from intake.auth import create_token, create_user
from intake.queue.runner import new_owner
from intake.service import Service
from intake.store.cases import now_utc
from intake.store.tables import documents

REPO = Path(__file__).resolve().parent.parent
LETTER = (REPO / "tests" / "data" / "letter-met.txt").read_bytes()
MISFILED = (REPO / "fixtures" / "corpus" / "case-158.text.pdf").read_bytes()  # page 2: another patient
PASSWORD = "long enough password"
HTML = {"Accept": "text/html,application/xhtml+xml"}


class Site:
    def __init__(self, service: Service) -> None:
        self.service = service
        self.token = create_token(service.store, "desk-2")
        self.auth = {"Authorization": f"Bearer {self.token}"}
        create_user(service.accounts, "nurse.a", PASSWORD)
        self.api = TestClient(create_app(service))
        with self.api as c:
            self.letter = c.post(
                "/v1/documents", files={"file": ("a.txt", LETTER)}, headers=self.auth
            ).json()["id"]
            self.misfiled = c.post(
                "/v1/documents", files={"file": ("b.pdf", MISFILED)}, headers=self.auth
            ).json()["id"]
        run_jobs(service)

    def browser(self, **kw: Any) -> TestClient:
        """A client of its own (its own cookies), signed in as nurse.a."""
        client = TestClient(create_app(self.service), **kw)
        resp = client.post(
            "/review/login", data={"name": "nurse.a", "password": PASSWORD}, follow_redirects=False
        )
        assert resp.status_code == 303, resp.text
        return client

    def report(self, doc_id: str) -> dict[str, Any]:
        body: dict[str, Any] = self.api.get(f"/v1/documents/{doc_id}", headers=self.auth).json()
        return body["report"]

    def stored(self, report: dict[str, Any]) -> str:
        """A done case holding this report (a real Report, edited to show one trait)."""
        digest = hashlib.sha256(repr(report).encode()).hexdigest()
        case, _ = self.service.store.create(
            sha256=digest,
            size_bytes=1,
            priority="standard",
            policy_id=None,
            pages=report["document"]["pages"],
        )
        owner = new_owner()
        claimed = self.service.store.claim_next(owner, 30)
        assert claimed is not None and claimed.id == case.id
        self.service.store.finish(
            case.id, owner, report=report, fhir=None, determination=report["determination"], pages=None
        )
        return case.id


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    service = open_service(tmp_path_factory.mktemp("review"))
    yield Site(service)
    service.close()


def _criterion(html: str, criterion_id: str) -> str:
    """One criterion's part of the case page."""
    return html.split(f'<li id="criterion-{criterion_id}"')[1].split('<li id="criterion-')[0]


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "no form check value on the page"
    return found.group(1)


# ------------------------------------------------------------------ sign-in


def test_pages_send_a_browser_to_sign_in_and_answer_anything_else_401(site: Site) -> None:
    anon = TestClient(create_app(site.service))
    case = f"/review/cases/{site.letter}"
    resp = anon.get(case, headers=HTML, follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == f"/review/login?next={case}"
    for path in [
        "/review/queue/rows",
        f"{case}/pages/1/image",
        f"{case}/report.json",
        f"{case}/fhir.json",
        f"{case}/pages/1",
    ]:
        resp = anon.get(path, follow_redirects=False)
        assert resp.status_code == 401 and resp.json()["error"]["code"] == "E405_NOT_AUTHENTICATED", path
    resp = anon.post(f"{case}/criteria/age", data={"action": "accept"}, follow_redirects=False)
    assert resp.status_code == 401
    # A form a browser sends after its session ended: sign in, then back to the case.
    resp = anon.post(f"{case}/criteria/age", data={"action": "accept"}, headers=HTML, follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == f"/review/login?next={case}"
    assert site.service.reviews.of(site.letter) == []


def test_signing_in_with_a_token_sets_a_strict_http_only_cookie(site: Site) -> None:
    client = TestClient(create_app(site.service))
    resp = client.post(
        "/review/login", data={"token": site.token, "next": "/review/"}, follow_redirects=False
    )
    assert resp.status_code == 303 and resp.headers["location"] == "/review/"
    cookie = resp.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/review" in cookie
    assert "Secure" not in cookie and "Max-Age" not in cookie  # plain HTTP here; gone when the browser closes
    page = client.get("/review/")
    assert page.status_code == 200 and "Signed in as <strong" in page.text and "desk-2" in page.text


def test_over_https_the_cookie_is_secure(site: Site) -> None:
    client = TestClient(create_app(site.service), base_url="https://testserver")
    resp = client.post("/review/login", data={"token": site.token}, follow_redirects=False)
    assert "Secure" in resp.headers["set-cookie"]


@pytest.mark.parametrize(
    ("form", "status", "says"),
    [
        ({"name": "nurse.a", "password": "wrong password here"}, 401, "The name or the password is wrong."),
        ({"name": "nobody", "password": PASSWORD}, 401, "The name or the password is wrong."),
        ({"token": "pfi_not-a-token"}, 401, "That token is not known or was revoked."),
        ({}, 400, "Give a name and a password, or a token."),
    ],
    ids=["wrong password", "unknown name", "unknown token", "nothing"],
)
def test_a_failed_sign_in_says_why_and_sets_no_cookie(
    site: Site, form: dict[str, str], status: int, says: str
) -> None:
    client = TestClient(create_app(site.service))
    resp = client.post("/review/login", data=form, follow_redirects=False)
    assert resp.status_code == status and says in resp.text
    assert "set-cookie" not in resp.headers


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/v1/documents", "/review\\..\\x"]
)
def test_after_sign_in_it_goes_only_to_a_page_of_its_own(site: Site, target: str) -> None:
    client = TestClient(create_app(site.service))
    resp = client.post("/review/login", data={"token": site.token, "next": target}, follow_redirects=False)
    assert resp.headers["location"] == "/review/"


def test_signing_out_ends_the_session_and_the_old_cookie_is_refused(site: Site) -> None:
    client = site.browser()
    page = client.get("/review/")
    cookie = client.cookies.get("intake_review")
    resp = client.post("/review/logout", data={"csrf": _csrf(page.text)}, follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == "/review/login?signed_out=1"
    again = TestClient(create_app(site.service), cookies={"intake_review": cookie or ""})
    assert again.get("/review/", headers=HTML, follow_redirects=False).status_code == 303
    assert again.get(f"/review/cases/{site.letter}/pages/1/image").status_code == 401


def test_a_form_without_the_sessions_check_value_is_refused(site: Site) -> None:
    client = site.browser()
    for data in [{"action": "accept"}, {"action": "accept", "csrf": "forged"}]:
        resp = client.post(f"/review/cases/{site.letter}/criteria/age", data=data, headers=HTML)
        assert resp.status_code == 403 and "E407_FORBIDDEN" in resp.text
    assert client.post("/review/logout", data={"csrf": "forged"}).status_code == 403
    assert site.service.reviews.of(site.letter) == []


# ------------------------------------------------------------------ the queue


def test_the_queue_lists_cases_soonest_due_first_and_marks_the_overdue(site: Site) -> None:
    client = site.browser()
    overdue = site.stored(copy.deepcopy(site.report(site.letter)) | {"missing": ["x"]})
    with site.service.store.transaction() as conn:
        conn.execute(
            documents.update().where(documents.c.id == overdue).values(due_at=now_utc() - timedelta(hours=5))
        )
    rows = client.get("/review/queue/rows").text
    ids = re.findall(r'<tr data-id="([0-9a-f]{32})"', rows)
    assert ids[0] == overdue and {site.letter, site.misfiled} <= set(ids)
    first = rows.split("</tr>")[0]
    assert 'class="overdue"' in first and "Overdue" in first and "overdue by 5 h" in first
    page = client.get("/review/?determination=criteria_met")
    shown = re.findall(r'<tr data-id="([0-9a-f]{32})"', page.text)
    assert shown and all(site.service.case(i).determination == "criteria_met" for i in shown)
    assert client.get("/review/?status=done").status_code == 200
    assert client.get("/review/?status=lost", headers=HTML).status_code == 422


# ------------------------------------------------------------------ a case


def test_a_case_shows_its_checklist_with_counts_reasons_and_quotes(site: Site) -> None:
    client = site.browser()
    html = client.get(f"/review/cases/{site.letter}").text
    report = site.report(site.letter)
    counts = {
        s: sum(1 for c in report["criteria"] if c["status"] == s)
        for s in ("met", "not_met", "not_documented")
    }
    for status, n in counts.items():
        assert f'data-testid="count-{status}">{n}<' in html
    for c in report["criteria"]:
        assert f'id="criterion-{c["id"]}"' in html
        for e in c["evidence"]:
            assert f'data-page="{e["page"]}"' in html and f"page {e['page']}" in html
    assert "Age 18 or older" in html  # the policy file's label, not the id


def test_low_confidence_evidence_is_marked(site: Site) -> None:
    report = copy.deepcopy(site.report(site.letter))
    report["criteria"][0]["evidence"][0]["confidence"] = 0.41
    report["criteria"][0]["needs_review"] = True
    case_id = site.stored(report)
    html = site.browser().get(f"/review/cases/{case_id}").text
    block = _criterion(html, report["criteria"][0]["id"])
    assert 'class="quote low"' in block and "low OCR confidence (41%)" in block and "needs review" in block
    assert 'data-low="41"' in block


def test_pages_set_aside_are_shown_as_such(site: Site) -> None:
    report = site.report(site.misfiled)
    assert report["pages_set_aside"] == [2]
    html = site.browser().get(f"/review/cases/{site.misfiled}").text
    assert "Set aside: page 2 (another patient" in html
    page_2 = html.split('<li class="aside" data-page="2">')[1].split("</li>")[0]
    assert "another patient" in page_2


def test_the_missing_documentation_is_a_ready_request_to_the_provider(site: Site) -> None:
    report = copy.deepcopy(site.report(site.letter))
    report["missing"] = ["Member's age or date of birth", "Dates of each prior line of therapy"]
    report["determination"] = "needs_information"
    case_id = site.stored(report)
    client = site.browser()
    html = client.get(f"/review/cases/{case_id}").text
    letter = html.split('data-testid="request-text">')[1].split("</textarea>")[0]
    assert f"Our reference: {case_id}" in letter
    assert "1. Member&#39;s age or date of birth" in letter and "2. Dates of each prior line" in letter
    assert 'data-copy="request-text"' in html
    printable = client.get(f"/review/cases/{case_id}/request").text
    assert "2. Dates of each prior line of therapy" in printable and "data-print" in printable


def test_the_timeline_draws_a_bar_per_dated_line_with_its_evidence_one_click_away(site: Site) -> None:
    html = site.browser().get(f"/review/cases/{site.letter}").text
    lines = site.report(site.letter)["lines"]
    dated = [line for line in lines if line["start"]]
    assert dated
    for line in dated:
        assert f'href="#line-{line["number"]}" class="bar"' in html
        assert f'<details id="line-{line["number"]}"' in html


def test_an_override_through_the_form_is_shown_with_who_and_when(site: Site) -> None:
    client = site.browser()
    doc = site.stored(copy.deepcopy(site.report(site.letter)) | {"warnings": []})
    before = site.report(doc)
    page = client.get(f"/review/cases/{doc}")
    resp = client.post(
        f"/review/cases/{doc}/criteria/prior_lines",
        data={
            "csrf": _csrf(page.text),
            "action": "override",
            "status": "not_met",
            "reason": "only one line dated",
        },
        follow_redirects=False,
    )
    assert resp.status_code == 303 and resp.headers["location"].endswith("#criterion-prior_lines")
    html = client.get(f"/review/cases/{doc}").text
    block = _criterion(html, "prior_lines")
    assert "Overridden</strong> from met to <strong>not met</strong> by" in block
    assert '<span class="by">nurse.a</span>' in block and "only one line dated" in block
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00">', block)
    assert site.report(doc) == before  # the report is unchanged by the override
    assert 'data-testid="count-met">8<' in html  # the counts as extracted stay
    assert "as reviewed: 7 met, 1 not met" in html


def test_an_override_without_a_reason_is_sent_back_with_what_was_typed(site: Site) -> None:
    client = site.browser()
    doc = site.stored(copy.deepcopy(site.report(site.letter)) | {"missing": ["y"]})
    page = client.get(f"/review/cases/{doc}")
    resp = client.post(
        f"/review/cases/{doc}/criteria/age",
        data={"csrf": _csrf(page.text), "action": "override", "status": "not_met", "reason": " "},
    )
    assert resp.status_code == 422 and "an override needs a reason" in resp.text
    assert site.service.reviews.of(doc) == []


def test_approval_opens_only_when_every_criterion_is_reviewed_and_met(site: Site) -> None:
    client = site.browser()
    doc = site.stored(copy.deepcopy(site.report(site.letter)) | {"missing": ["z"]})
    html = client.get(f"/review/cases/{doc}").text
    assert re.search(r'value="approved" required\s+disabled', html)
    csrf = _csrf(html)
    resp = client.post(f"/review/cases/{doc}/outcome", data={"csrf": csrf, "outcome": "approved"})
    assert resp.status_code == 409 and "not reviewed yet" in resp.text
    for c in site.report(doc)["criteria"]:
        client.post(f"/review/cases/{doc}/criteria/{c['id']}", data={"csrf": csrf, "action": "accept"})
    html = client.get(f"/review/cases/{doc}").text
    assert not re.search(r'value="approved" required\s+disabled', html)
    resp = client.post(
        f"/review/cases/{doc}/outcome", data={"csrf": csrf, "outcome": "approved"}, follow_redirects=False
    )
    assert resp.status_code == 303
    html = client.get(f"/review/cases/{doc}").text
    assert 'data-testid="final-outcome">Approved: the documentation supports the request<' in html
    assert "decided" in client.get("/review/queue/rows").text


def test_page_images_need_the_session_are_revalidated_and_audited(site: Site) -> None:
    client = site.browser()
    url = f"/review/cases/{site.letter}/pages/1/image"
    first = client.get(url)
    assert first.status_code == 200 and first.headers["content-type"] == "image/png"
    assert first.content[:8] == b"\x89PNG\r\n\x1a\n" and first.headers["cache-control"] == "private, no-cache"
    again = client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    reads = [r for r in site.service.store.audit_trail(site.letter) if r.action == "read_page"]
    assert reads and reads[0].actor == "nurse.a" and reads[0].page == 1


def test_a_quote_leads_to_its_page_with_the_box_drawn_without_script(site: Site) -> None:
    client = site.browser()
    html = client.get(f"/review/cases/{site.letter}/pages/1?box=0.1,0.2,0.3,0.25&quote=62").text
    assert '<rect class="hl" x="0.1" y="0.2" width="0.19999999999999998" height="0.04999999999999999"' in html
    assert client.get(f"/review/cases/{site.letter}/pages/9", headers=HTML).status_code == 422


def test_the_case_json_holds_the_report_and_the_review_beside_it(site: Site) -> None:
    client = site.browser()
    body = client.get(f"/review/cases/{site.letter}/report.json").json()
    assert body["report"] == site.report(site.letter) and set(body["review"]) == {
        "criteria",
        "outcome",
        "history",
    }
    assert client.get(f"/review/cases/{site.letter}/fhir.json").json()["resourceType"] == "Bundle"


# ------------------------------------------------------------------ nothing from elsewhere, readable


def test_every_page_forbids_anything_from_elsewhere(site: Site) -> None:
    client = site.browser()
    for path in ["/review/", f"/review/cases/{site.letter}", "/review/login"]:
        resp = client.get(path)
        csp = resp.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert resp.headers["cache-control"] == "no-store"
        assert not re.search(r"(src|href)=\"(https?:)?//", resp.text)


def test_templates_and_assets_name_no_other_site() -> None:
    folder = REPO / "intake" / "review"
    for path in [*folder.glob("templates/*.html"), *folder.glob("static/*")]:
        text = path.read_text()
        urls = set(re.findall(r"https?://[^\s\"')]+", text)) - {"http://www.w3.org/2000/svg"}
        assert not urls, (path.name, urls)
        assert "@import" not in text and "fonts.googleapis" not in text


def _luminance(hex_colour: str) -> float:
    rgb = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _css_vars() -> dict[str, str]:
    css = (REPO / "intake" / "review" / "static" / "review.css").read_text()
    return dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", css))


@pytest.mark.parametrize(
    ("fg", "bg"),
    [
        ("text", "bg"),
        ("muted", "bg"),
        ("muted", "panel"),
        ("link", "bg"),
        ("link", "panel"),
        ("met-fg", "met-bg"),
        ("notmet-fg", "notmet-bg"),
        ("nodoc-fg", "nodoc-bg"),
        ("warn-fg", "warn-bg"),
        ("danger-fg", "danger-bg"),
    ],
)
def test_text_colours_are_readable(fg: str, bg: str) -> None:
    found = _css_vars()
    assert contrast(found[fg], found[bg]) >= 4.5, (fg, bg)


@pytest.mark.parametrize("mark", ["focus", "hl", "hl-low", "danger-bg", "met-fg", "notmet-fg"])
def test_marks_and_focus_rings_stand_out(mark: str) -> None:
    assert contrast(_css_vars()[mark], "#ffffff") >= 3.0, mark


def test_every_class_colour_of_the_timeline_stands_out_on_white() -> None:
    from intake.review.timeline import OTHER_DISEASE, PALETTE

    for colour in (*PALETTE, OTHER_DISEASE):
        assert contrast(colour, "#ffffff") >= 3.0, colour
    assert len(set(PALETTE)) == len(PALETTE)


def test_the_service_bundles_the_page_in_its_package() -> None:
    import tomllib

    data = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert {"review/templates/*.html", "review/static/*"} <= set(
        data["tool"]["setuptools"]["package-data"]["intake"]
    )
