"""The pages coordinators and attendees use most, in Chromium at laptop and phone width.

Screenshots go to tests/artifacts/ (<page>-1280.png, <page>-390.png) to be looked at; the
test itself checks what can be measured: nothing wider than the phone's screen, dates that
do not wrap one word per line, and no favicon request that fails.
"""

from __future__ import annotations

import pytest
from conftest import TEST_EMAIL, TEST_PASSWORD
from sqlalchemy import select
from test_programme_in_browser import ARTIFACTS, CHROMIUM_ARGS, live_server  # noqa: F401

from scheduler.extensions import db
from scheduler.models import Delegation

pytestmark = pytest.mark.e2e
KEY = "mss-japan-2024-09"
WIDTHS = (1280, 390)


@pytest.fixture
def visit(app, load_document, reference_document):
    meeting = dict(reference_document["meetings"][0], key="called-off", status="cancelled")
    reference_document["meetings"].append(meeting)
    load_document(reference_document)
    with app.app_context():
        return db.session.scalar(select(Delegation).where(Delegation.key == KEY)).share_token


def _overflow(page) -> int:
    """How many CSS pixels the page, or a box in it, scrolls sideways (0 when nothing does)."""
    return page.evaluate(
        """() => Math.max(
            document.scrollingElement.scrollWidth - document.documentElement.clientWidth,
            ...[...document.querySelectorAll("main *")]
                .filter(e => ["auto", "scroll"].includes(getComputedStyle(e).overflowX))
                .map(e => e.scrollWidth - e.clientWidth))"""
    )


def test_programme_people_share_and_share_links_fit_a_laptop_and_a_phone(
    live_server,  # noqa: F811
    chromium_path,
    visit,
):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    server, token = live_server, visit
    pages = {
        "delegations": "/delegations",
        "programme": f"/delegations/{KEY}",
        "people": f"/delegations/{KEY}/people",
        "share": f"/share/{token}",
        "share-links": f"/share/manage/{KEY}",
        "agenda": f"/delegations/{KEY}/agenda",
    }
    failed_requests: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on(
            "response",
            lambda r: failed_requests.append(r.url) if r.status >= 400 else None,
        )
        page.goto(f"{server}/login")
        page.get_by_label("Email").fill(TEST_EMAIL)
        page.get_by_label("Password").fill(TEST_PASSWORD)
        page.get_by_label("Password").press("Enter")
        page.get_by_role("heading", name="Delegations").wait_for()
        overflow = {}
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            for name, path in pages.items():
                page.goto(server + path)
                page.wait_for_load_state("networkidle")
                overflow[name, width] = _overflow(page)
                page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
            # The share page's dates stay on one or two lines at phone width.
            page.goto(f"{server}/share/{token}")
            lines = page.eval_on_selector_all(
                "table.meetings td.when",
                """cells => cells.map(cell => {
                    const range = document.createRange();
                    range.selectNodeContents(cell);
                    return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;
                })""",
            )
            assert lines and max(lines) <= 2, (width, lines)
        context.close()
        browser.close()
    assert {k: v for k, v in overflow.items() if v > 0} == {}
    assert failed_requests == []
