"""The reviewer page in a real browser (Debian's chromium, headless, driven by
Playwright) against a real `intake serve`: a fax uploaded while the queue is open
appears without a reload and is processed by the service's worker (tesseract); a
click on a quote opens the page as received with the highlight lying over the
quoted words, which the test finds on the served image with its own OCR; an
override is recorded with who and when and reaches the case's JSON and FHIR; the
page works at phone width and from the keyboard; after sign-out the session, its
pages and its images are refused.  Screenshots of the queue and the case at
desktop and phone width are left in var/screenshots/ (INTAKE_SCREENSHOTS)."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from difflib import SequenceMatcher
from typing import Any

import pytest
from browser_support import DESKTOP, PHONE, browser, screenshot
from service_support import CORPUS, REPO, Deployment, make_deployment

__all__ = ["browser"]

FAX = "case-006.g4-204x98.tif"  # a G4 fax at normal resolution (204 x 98 dpi), 2 pages
USER, PASSWORD = "nurse.a", "a long enough password"
BoxT = tuple[float, float, float, float]


@dataclass
class Live:
    dep: Deployment
    browser: Any
    context: Any  # desktop, signed in as nurse.a
    page: Any
    case_id: str
    report: dict[str, Any]
    appeared_without_reload: bool

    def case_url(self) -> str:
        return f"{self.dep.base}/review/cases/{self.case_id}"


def _sign_in(page: Any, base: str) -> None:
    page.goto(f"{base}/review/")
    assert "/review/login" in page.url  # signed out: the queue asks to sign in
    page.fill("#name", USER)
    page.fill("#password", PASSWORD)
    page.click("form[aria-labelledby=with-account] button[type=submit]")
    page.wait_for_url(f"{base}/review/")


@pytest.fixture(scope="module")
def live(
    browser: Any, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Live]:
    dep = make_deployment("embedded", tmp_path_factory.mktemp("review-e2e"), request)
    try:
        dep.start(workers=1)
        subprocess.run(
            [sys.executable, "-m", "intake.cli", "user", "create", USER, "--password-stdin"],
            input=PASSWORD + "\n",
            env=dep.env,
            cwd=REPO,
            check=True,
            capture_output=True,
            text=True,
        )
        context = browser.new_context(viewport=DESKTOP)
        page = context.new_page()
        _sign_in(page, dep.base)
        page.evaluate("window.__notReloaded = true")
        with dep.client() as c:
            resp = c.post("/v1/documents", files={"file": ("incoming-fax.tif", (CORPUS / FAX).read_bytes())})
            assert resp.status_code == 202, resp.text
            case_id = resp.json()["id"]
        row = f'tr[data-id="{case_id}"]'
        page.wait_for_selector(row, timeout=20_000)  # the queue refreshes itself
        page.wait_for_selector(f"{row} .badge.st-done", timeout=240_000)  # and shows it processed
        appeared = bool(page.evaluate("window.__notReloaded === true"))
        with dep.client() as c:
            report = c.get(f"/v1/documents/{case_id}").json()["report"]
        screenshot(page, "queue-desktop")
        yield Live(dep, browser, context, page, case_id, report, appeared)
        context.close()
    finally:
        dep.stop()


# ------------------------------------------------------------------ the quoted words, found independently


def _norm(text: str) -> str:
    return "".join(re.findall(r"[a-z0-9]+", text.lower()))


def _union(boxes: list[BoxT]) -> BoxT:
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def words_on_image(png: bytes, quote: str) -> list[BoxT]:
    """Where tesseract, run here on the image the browser showed, finds the quoted words
    (0..1 of the image): every run of words on one line that reads as the quote."""
    import pytesseract
    from PIL import Image

    image = Image.open(io.BytesIO(png))
    width, height = image.size
    data = pytesseract.image_to_data(image, output_type=pytesseract.Output.DICT)
    words = [
        (
            _norm(data["text"][i]),
            (
                data["left"][i] / width,
                data["top"][i] / height,
                (data["left"][i] + data["width"][i]) / width,
                (data["top"][i] + data["height"][i]) / height,
            ),
            (data["block_num"][i], data["par_num"][i], data["line_num"][i]),
        )
        for i in range(len(data["text"]))
        if _norm(data["text"][i])
    ]
    target = _norm(quote)
    found: list[BoxT] = []
    for i, (_, _, line) in enumerate(words):
        joined, boxes = "", []
        for text, box, same in words[i : i + 8]:
            if same != line or len(joined) > len(target) + 3:
                break
            joined += text
            boxes.append(box)
            # The same letters, give or take a misread one or two: never a neighbour's word more.
            if abs(len(joined) - len(target)) <= 2 and SequenceMatcher(None, joined, target).ratio() >= 0.85:
                found.append(_union(boxes))
    return found


def iou(a: BoxT, b: BoxT) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    area = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / area if area > 0 else 0.0


def _clear_quote(report: dict[str, Any]) -> dict[str, Any]:
    """A quote of the checklist read with high confidence, on one line, of a few letters."""
    for c in report["criteria"]:
        for e in c["evidence"]:
            b = e["bbox"]
            if (
                b
                and (e["confidence"] or 0) >= 0.85
                and len(_norm(e["text"])) >= 5
                and b["y1"] - b["y0"] < 0.03
            ):
                return dict(e)
    raise AssertionError("no clear quote in the report")


def _box_attr(e: dict[str, Any]) -> str:
    b = e["bbox"]
    return f"{b['x0']:.5f},{b['y0']:.5f},{b['x1']:.5f},{b['y1']:.5f}"


# ------------------------------------------------------------------ the tests


def test_a_new_case_appears_in_the_queue_without_a_reload(live: Live) -> None:
    assert live.appeared_without_reload
    row = live.page.locator(f'tr[data-id="{live.case_id}"]')
    assert row.locator("td[data-label=Pages]").inner_text().strip() == "2"
    assert "due in 6 d" in row.locator("td[data-label=Due]").inner_text()


def test_a_click_on_a_quote_shows_its_page_with_the_highlight_over_the_quoted_words(live: Live) -> None:
    page = live.page
    page.goto(live.case_url())
    assert page.locator('[data-testid="count-met"]').inner_text().strip().isdigit()
    screenshot(page, "case-desktop")
    evidence = _clear_quote(live.report)
    link = page.locator(f'#checklist a.quote[data-box="{_box_attr(evidence)}"]').first
    assert f"page {evidence['page']}" in link.inner_text()
    link.click()
    page.wait_for_selector(f'#viewer[data-ready="{evidence["page"]}"]', timeout=30_000)
    geometry = page.evaluate(
        """() => {
        const img = document.querySelector('#viewer img').getBoundingClientRect();
        const hl = document.querySelector('#viewer [data-testid=highlight]').getBoundingClientRect();
        const view = document.querySelector('#viewer [data-role=scroll]').getBoundingClientRect();
        return {img: [img.left, img.top, img.width, img.height], hl: [hl.left, hl.top, hl.right, hl.bottom],
                view: [view.left, view.top, view.right, view.bottom]};
    }"""
    )
    left, top, width, height = geometry["img"]
    hl = geometry["hl"]
    shown: BoxT = (
        (hl[0] - left) / width,
        (hl[1] - top) / height,
        (hl[2] - left) / width,
        (hl[3] - top) / height,
    )
    # The highlight was scrolled into the viewer's visible part.
    view = geometry["view"]
    assert view[0] <= (hl[0] + hl[2]) / 2 <= view[2] and view[1] <= (hl[1] + hl[3]) / 2 <= view[3]
    png = live.context.request.get(f"{live.case_url()}/pages/{evidence['page']}/image").body()
    candidates = words_on_image(png, evidence["text"])
    assert candidates, f"tesseract finds no {evidence['text']!r} on page {evidence['page']}"
    best = max(candidates, key=lambda box: iou(box, shown))
    assert iou(best, shown) >= 0.6, (evidence["text"], best, shown)
    cx, cy = (best[0] + best[2]) / 2, (best[1] + best[3]) / 2
    assert shown[0] <= cx <= shown[2] and shown[1] <= cy <= shown[3]
    screenshot(page, "case-desktop-quote", full_page=False)
    page.keyboard.press("Escape")
    assert page.locator("#viewer").is_hidden()


def test_the_timeline_shows_the_evidence_behind_a_bar(live: Live) -> None:
    page = live.page
    page.goto(live.case_url())
    bar = page.locator("svg.timeline a.bar").first
    line = bar.get_attribute("data-line")
    assert page.locator(f"#line-{line}").get_attribute("open") is None
    bar.click()
    detail = page.locator(f"#line-{line}")
    assert detail.get_attribute("open") is not None
    assert detail.locator("a.quote").count() >= 1 and detail.locator("a.quote").first.is_visible()


def test_the_page_is_usable_from_the_keyboard(live: Live) -> None:
    page = live.page
    page.goto(live.case_url())
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.matches('a.quote')"):
            break
    else:
        raise AssertionError("no quote reached with Tab")
    quote = page.evaluate("document.activeElement.dataset.box")
    page.keyboard.press("Enter")
    page.wait_for_selector("#viewer:not([hidden])")
    assert page.evaluate("document.activeElement.id") == "viewer-title"
    page.keyboard.press("Escape")
    assert page.evaluate("document.activeElement.dataset.box") == quote  # back where it was
    focus = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert focus == "solid"  # a visible focus ring


def test_at_phone_width_nothing_spills_sideways_and_a_quote_fills_the_screen(live: Live) -> None:
    phone = live.browser.new_context(
        viewport=PHONE, storage_state=live.context.storage_state(), is_mobile=True
    )
    try:
        page = phone.new_page()
        page.goto(f"{live.dep.base}/review/")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        screenshot(page, "queue-phone")
        page.goto(live.case_url())
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        screenshot(page, "case-phone")
        evidence = _clear_quote(live.report)
        page.locator(f'#checklist a.quote[data-box="{_box_attr(evidence)}"]').first.click()
        page.wait_for_selector(f'#viewer[data-ready="{evidence["page"]}"]', timeout=30_000)
        box = page.locator("#viewer").bounding_box()
        assert box is not None and box["width"] >= PHONE["width"] - 1 and box["height"] >= PHONE["height"] - 1
        assert page.locator("#viewer [data-testid=highlight]").is_visible()
        screenshot(page, "case-phone-quote", full_page=False)
        page.click("#viewer button[data-act=close]")
        assert page.locator("#viewer").is_hidden()
    finally:
        phone.close()


def test_an_override_is_recorded_with_who_and_when_in_the_page_json_and_fhir(live: Live) -> None:
    page = live.page
    page.goto(live.case_url())
    target = next(c for c in live.report["criteria"] if c["status"] == "met")
    block = page.locator(f"#criterion-{target['id']}")
    block.locator("details.override summary").click()
    block.locator('input[name=status][value="not_documented"]').check()
    block.locator("textarea[name=reason]").fill("The dates on page 2 are cut off by the fax header.")
    before = datetime.now(UTC) - timedelta(seconds=5)
    block.locator('[data-testid="override"]').click()
    page.wait_for_load_state()
    state = page.locator(f"#criterion-{target['id']} [data-testid=review-state]")
    text = state.inner_text()
    assert "Overridden from met to not documented by nurse.a" in text
    assert "cut off by the fax header" in text
    when = datetime.fromisoformat(state.locator("time").get_attribute("datetime") or "")
    assert before <= when <= datetime.now(UTC) + timedelta(seconds=5)
    assert "as reviewed:" in page.locator(".counts").inner_text()
    with live.dep.client() as c:
        body = c.get(f"/v1/documents/{live.case_id}").json()
        assert body["report"] == live.report  # the extracted report is unchanged
        [standing] = [s for s in body["review"]["criteria"] if s["criterion"] == target["id"]]
        assert standing["by"] == {"name": USER, "kind": "user"} and standing["status"] == "not_documented"
        bundle = c.get(f"/v1/documents/{live.case_id}/fhir").json()
    reviewed = [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "QuestionnaireResponse"
        and e["resource"]["status"] == "in-progress"
    ]
    [answer] = [i for i in reviewed[0]["item"] if i["linkId"] == target["id"]]
    assert answer["answer"][0]["valueCoding"]["code"] == "not-documented"
    practitioners = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Practitioner"
    ]
    assert practitioners[0]["name"] == [{"text": USER}]


def test_after_signing_out_the_session_pages_and_images_are_refused(live: Live) -> None:
    context = live.browser.new_context(viewport=DESKTOP)
    try:
        page = context.new_page()
        _sign_in(page, live.dep.base)
        image = f"{live.case_url()}/pages/1/image"
        assert context.request.get(image).status == 200
        cookie = next(c for c in context.cookies() if c["name"] == "intake_review")
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        page.click("text=Sign out")
        page.wait_for_url(re.compile(r".*/review/login\?signed_out=1$"))
        assert "You have signed out." in page.inner_text("main")
        page.goto(live.case_url())
        assert "/review/login" in page.url and "Sign in" in page.inner_text("h1")
        assert context.request.get(image).status == 401
        # The cookie as it was before signing out is refused too: the session ended on the server.
        replay = live.browser.new_context()
        try:
            replay.add_cookies([cookie])
            assert replay.request.get(image).status == 401
            assert replay.request.get(f"{live.dep.base}/review/queue/rows").status == 401
        finally:
            replay.close()
    finally:
        context.close()


def test_the_run_leaves_its_screenshots(live: Live) -> None:
    from browser_support import SCREENSHOTS

    for name in ("queue-desktop", "case-desktop", "queue-phone", "case-phone"):
        path = SCREENSHOTS / f"{name}.png"
        assert path.is_file() and path.stat().st_size > 5_000, name
        assert time.time() - path.stat().st_mtime < 3600
