"""A coordinator's afternoon in Debian's Chromium: build a visit, hit a travel-time conflict on
the programme, move the meeting, and see the conflict go. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from conftest import TEST_EMAIL, TEST_PASSWORD
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

pytestmark = pytest.mark.e2e


@pytest.fixture
def live_server(app, user):
    """The test app (and its database) served on a free local port for the length of one test."""
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
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(15_000)
        yield page
        context.close()
        browser.close()


def submit(page, label: str = "") -> None:
    page.locator("main form button[type=submit]").last.click() if not label else page.get_by_role(
        "button", name=label
    ).click()
    page.wait_for_load_state()


def add_venue(page, base: str, key: str, name: str) -> None:
    page.goto(f"{base}/venues/new")
    page.get_by_label("Key", exact=True).fill(key)
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_role("button", name="Add venue").click()
    page.get_by_text(f"{name} added.").wait_for()


def add_person(page, base: str, key: str, name: str, role: str = "delegation") -> None:
    page.goto(f"{base}/people/new")
    page.get_by_label("Key", exact=True).fill(key)
    page.get_by_label("Name (Latin letters)").fill(name)
    page.get_by_label("Role in the visit").select_option(role)
    page.get_by_role("button", name="Add person").click()
    page.get_by_text(f"{name} added.").wait_for()


def fill_meeting(page, *, title, start, end, venue, attendees) -> None:
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_label("Starts").fill(start)
    page.get_by_label("Ends").fill(end)
    page.get_by_label("Venue").select_option(label=venue)
    for name, role in attendees.items():
        page.get_by_label(name).select_option(role)


def test_a_travel_conflict_appears_on_the_programme_and_goes_when_the_meeting_moves(
    live_server, browser_page
):
    page, server = browser_page, live_server
    ARTIFACTS.mkdir(exist_ok=True)

    # Sign in with the keyboard.
    page.goto(f"{server}/delegations")
    assert "/login" in page.url
    page.get_by_label("Email").fill(TEST_EMAIL)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_label("Password").press("Enter")
    page.get_by_role("heading", name="Delegations").wait_for()

    # A delegation.
    page.get_by_role("link", name="New delegation").click()
    page.get_by_label("Key", exact=True).fill("mss-2024")
    page.get_by_label("Name", exact=True).fill("MSS bio delegation to Shonan iPark and Tsukuba")
    page.get_by_label("Name in the delegation's language").fill(
        "중소벤처기업부 한일 바이오 협력 방문단"
    )
    page.get_by_label("Time zone").fill("Asia/Tokyo")
    page.get_by_label("First day").fill("2024-09-25")
    page.get_by_label("Last day").fill("2024-09-27")
    page.get_by_role("button", name="Create delegation").click()
    page.get_by_role("heading", name="Programme").wait_for()
    base = f"{server}/delegations/mss-2024"

    # Two venues and the drive between them.
    add_venue(page, base, "ipark", "Shonan iPark")
    add_venue(page, base, "tsukuba", "Tsukuba Research Center")
    page.get_by_role("link", name="Add a travel time").click()
    page.get_by_label("From").select_option(label="Shonan iPark")
    page.get_by_label("To", exact=True).select_option(label="Tsukuba Research Center")
    page.get_by_label("Minutes door to door").fill("150")
    page.get_by_label("Mode").fill("car")
    page.get_by_role("button", name="Add travel time").click()
    page.get_by_text("Travel time added.").wait_for()

    # Three people.
    add_person(page, base, "lim", "LIM Jeong-wook")
    add_person(page, base, "kim", "KIM Soo-jin", role="interpreter")
    add_person(page, base, "fujimoto", "Toshio Fujimoto", role="host")

    # A morning meeting at iPark, then a lab tour in Tsukuba only an hour later.
    page.goto(f"{base}/meetings/new")
    fill_meeting(
        page,
        title="CRO consortium",
        start="2024-09-25T09:00",
        end="2024-09-25T10:30",
        venue="Shonan iPark",
        attendees={
            "LIM Jeong-wook": "chair",
            "KIM Soo-jin": "interpreter",
            "Toshio Fujimoto": "required",
        },
    )
    page.get_by_role("button", name="Create meeting").click()
    page.get_by_text("Meeting saved").wait_for()

    page.goto(f"{base}/meetings/new")
    fill_meeting(
        page,
        title="Regenerative medicine lab tour",
        start="2024-09-25T11:30",
        end="2024-09-25T12:30",
        venue="Tsukuba Research Center",
        attendees={"LIM Jeong-wook": "required", "KIM Soo-jin": "interpreter"},
    )
    page.get_by_role("button", name="Create meeting").click()
    aside = page.locator("aside")
    aside.get_by_text("Not enough travel time").first.wait_for()
    assert aside.get_by_role("link", name="CRO consortium").count() >= 1
    page.screenshot(path=str(ARTIFACTS / "meeting-form-confirm.png"), full_page=True)
    page.get_by_label("Save despite these errors").check()
    page.get_by_label("Reason for saving anyway").fill("Checking whether a train is faster.")
    page.get_by_role("button", name="Create meeting").click()
    page.get_by_text("Meeting saved despite 2 errors").wait_for()

    # The programme shows the conflict on both meetings and the leg between them.
    page.get_by_role("link", name="Programme", exact=True).click()
    tour = page.locator("li.meeting", has_text="Regenerative medicine lab tour")
    assert tour.locator(".badge.sev-error", has_text="Not enough travel time ×2").count() == 1
    assert page.locator("li.travel.too-short").count() == 1
    assert "150 min" in page.locator("li.travel").inner_text()
    page.screenshot(path=str(ARTIFACTS / "programme-with-travel-conflict.png"), full_page=True)

    # Move the tour to the afternoon: the conflict goes.
    tour.get_by_role("link", name="Regenerative medicine lab tour").click()
    page.get_by_label("Starts").fill("2024-09-25T14:00")
    page.get_by_label("Ends").fill("2024-09-25T15:00")
    page.get_by_role("button", name="Save meeting").click()
    page.get_by_text("Meeting saved").wait_for()
    assert "despite" not in page.locator(".flash").inner_text()
    page.get_by_role("link", name="Programme", exact=True).click()
    page.get_by_role("heading", name="Programme").wait_for()
    assert page.get_by_text("Not enough travel time").count() == 0
    assert page.locator("li.travel.too-short").count() == 0
    assert "3 h 30 min between meetings" in page.locator("li.travel").inner_text()
    page.screenshot(path=str(ARTIFACTS / "programme-after-move.png"), full_page=True)

    # And on a phone.
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(ARTIFACTS / "programme-phone.png"), full_page=True)
