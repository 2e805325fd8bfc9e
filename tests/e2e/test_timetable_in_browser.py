"""Must show 1 and 4 of issue 17 in Debian's Chromium: drag a meeting onto a time that
double-books a person (conflict before saving, confirmed with a reason), drag another to a
free slot (saved at once) and undo it; screenshots of the grid go to tests/artifacts/."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from conftest import TEST_EMAIL, TEST_PASSWORD
from sqlalchemy import select
from werkzeug.serving import make_server

from scheduler.extensions import db
from scheduler.models import Meeting, Person

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
HOUR_PX = 4 * 18  # four 15-minute slots of 18 px (timetable.js)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture
def live_server(app, user, load_document, reference_document):
    load_document(reference_document)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


@pytest.fixture
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def signed_in(browser, server, width=1280, height=900):
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{server}/login")
    page.get_by_label("Email").fill(TEST_EMAIL)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    return page


def open_grid(page, server, **args):
    query = "&".join(f"{k}={v}" for k, v in {"day": "2024-09-27", **args}.items())
    page.goto(f"{server}/delegations/{KEY}/timetable?{query}")
    page.locator('#timetable[data-loaded] .ec-event[data-meeting="cmic"]').first.wait_for()


def drag(page, meeting_key: str, hours: float) -> None:
    block = page.locator(f'.ec-event[data-meeting="{meeting_key}"]').first
    block.evaluate("e => e.scrollIntoView({block: 'center'})")
    box = block.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + min(12, box["height"] / 2)
    page.mouse.move(x, y)
    page.mouse.down()
    steps = 12
    for n in range(1, steps + 1):
        page.mouse.move(x, y + hours * HOUR_PX * n / steps)
    page.mouse.up()


def local_start(app, key: str) -> str:
    with app.app_context():
        meeting = db.session.scalar(select(Meeting).where(Meeting.key == key))
        return meeting.start.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Tokyo")).strftime(
            "%H:%M"
        )


def test_dragging_on_the_timetable_checks_confirms_saves_and_undoes(app, live_server, browser):
    ARTIFACTS.mkdir(exist_ok=True)
    page = signed_in(browser, live_server)
    open_grid(page, live_server)
    page.screenshot(path=str(ARTIFACTS / "timetable-by-room.png"), full_page=True)
    open_grid(page, live_server, mode="person")  # LIM travels Tsukuba -> Tokyo
    page.locator(".ec-event.travel").first.wait_for()
    page.screenshot(path=str(ARTIFACTS / "timetable-by-person.png"), full_page=True)
    open_grid(page, live_server)

    # CMIC 12:30 -> 10:30: LIM is at Astellas until 11:30, so he would be double-booked.
    drag(page, "cmic", -2)
    panel = page.locator("#move-panel")
    panel.get_by_text("Person double-booked").first.wait_for()
    assert local_start(app, "cmic") == "12:30"  # nothing saved before the decision
    page.screenshot(path=str(ARTIFACTS / "timetable-conflict.png"), full_page=True)
    panel.get_by_label("Reason for saving anyway").fill("The minister can only come then")
    panel.get_by_role("button", name="Save despite these errors").click()
    panel.get_by_text("Moved “").wait_for()
    assert local_start(app, "cmic") == "10:30"

    programme = page.context.new_page()
    programme.goto(f"{live_server}/delegations/{KEY}?day=2024-09-27")
    assert "10:30" in programme.locator("#meeting-cmic").inner_text()
    with app.app_context():
        lim = db.session.scalar(select(Person).where(Person.key == "lim")).share_token
    feed = page.request.get(f"{live_server}/share/{lim}/calendar.ics").text()
    assert "DTSTART:20240927T013000Z" in feed or "20240927T103000" in feed
    programme.close()

    # METI 15:00 -> 17:00 is free for everyone: saved without a question, then undone.
    drag(page, "meti", 2)
    panel.get_by_role("button", name="Undo").wait_for()
    assert local_start(app, "meti") == "17:00"
    panel.get_by_role("button", name="Undo").click()
    panel.get_by_text("Move undone").wait_for()
    assert local_start(app, "meti") == "15:00"

    page.context.close()

    phone = signed_in(browser, live_server, width=390, height=844)
    phone.goto(f"{live_server}/delegations/{KEY}/timetable?day=2024-09-27")
    link = phone.get_by_role("link", name="See this day's list")
    assert link.is_visible()
    assert not phone.locator("#timetable").is_visible()
    phone.screenshot(path=str(ARTIFACTS / "timetable-phone.png"), full_page=True)
    link.click()
    phone.wait_for_load_state()
    phone.locator("#meeting-cmic").wait_for()
    phone.screenshot(path=str(ARTIFACTS / "timetable-phone-day-list.png"), full_page=True)
    phone.context.close()
