"""A suggestion in Debian's Chromium: tick who meets whom in the matrix, run a suggestion,
see the proposal on the programme, apply it, and find the tentative meetings. Screenshots go
to tests/artifacts/."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from conftest import TEST_EMAIL, TEST_PASSWORD, own_every_delegation
from werkzeug.serving import make_server

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
KEY = "mss-japan-2024-09"

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def live_server(app, user):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    app.config["SERVER_NAME"] = f"127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


@pytest.fixture
def browser_page(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        page = context.new_page()
        page.set_default_timeout(20_000)
        yield page
        context.close()
        browser.close()


def test_matrix_to_tentative_meetings(
    app, live_server, browser_page, load_document, reference_document
):
    load_document(reference_document)
    with app.app_context():
        own_every_delegation()
    page = browser_page
    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", TEST_EMAIL)
    page.fill("input[name=password]", TEST_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()

    page.goto(f"{live_server}/delegations/{KEY}/requests/matrix")
    page.get_by_label("CEfO Bio – Mediport").check()
    page.get_by_label("CEfO Bio – Nemoto Science").check()
    page.get_by_label("CEfO Bio – CMIC Pharma Science").check()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "suggest-matrix.png"), full_page=True)
    page.get_by_role("button", name="Create requests").click()
    page.wait_for_load_state()
    assert page.locator("tr[data-request]").count() == 3

    page.get_by_role("link", name="Suggest a schedule").click()
    page.fill("#time_limit", "3")
    page.get_by_role("button", name="Run a suggestion").click()
    page.wait_for_selector("text=3 placed, 0 unplaced", timeout=30_000)
    proposed = page.locator("li.meeting.proposed")
    assert proposed.count() == 3
    assert page.locator("li.meeting:not(.proposed)").count() >= 6  # the programme around it
    page.screenshot(path=str(ARTIFACTS / "suggest-proposal.png"), full_page=True)

    page.get_by_role("button", name="Apply: add them as tentative meetings").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/delegations/{KEY}")
    page.screenshot(path=str(ARTIFACTS / "suggest-applied-programme.png"), full_page=True)
    for key in ("match-cefo-mediport", "match-cefo-nemoto", "match-cefo-cmic"):
        assert page.locator(f"[href*='/meetings/{key}']").count() >= 1, key
    body = page.content()
    assert "Business matching: CEfO Bio and Mediport" in body
