"""In Chromium: edit a meeting, see "1 change not released", release with a note, and see
what changed behind an attendee's share link. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import pytest
from conftest import TEST_EMAIL, TEST_PASSWORD
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import Person
from tests.e2e.test_programme_in_browser import ARTIFACTS, browser_page, live_server  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
KEY = "mss-japan-2024-09"


def test_edit_release_and_the_attendee_sees_what_changed(
    app,
    runner,
    load_document,
    reference_document,
    live_server,  # noqa: F811
    browser_page,  # noqa: F811
):
    load_document(reference_document)
    assert runner.invoke(args=["release", KEY, "--note", "First"]).exit_code == 0
    with app.app_context():
        lim_token = db.session.scalar(select(Person).where(Person.key == "lim")).share_token
    page, server = browser_page, live_server
    ARTIFACTS.mkdir(exist_ok=True)

    page.goto(f"{server}/login")
    page.get_by_label("Email").fill(TEST_EMAIL)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()

    page.goto(f"{server}/delegations/{KEY}/meetings/cro-consortium")
    page.get_by_label("Title", exact=True).fill("Consortium meeting, now in the main hall")
    page.get_by_role("button", name="Save meeting").click()
    page.wait_for_load_state()
    if page.get_by_label("Save despite these errors").count():
        page.get_by_label("Save despite these errors").check()
        page.get_by_label("Reason for saving anyway").fill("Known.")
        page.get_by_role("button", name="Save meeting").click()
        page.wait_for_load_state()
    page.get_by_role("link", name="1 change not released").wait_for()
    page.screenshot(path=str(ARTIFACTS / "release-1-unreleased.png"))

    page.get_by_role("link", name="1 change not released").click()
    page.wait_for_load_state()
    assert "Consortium meeting, now in the main hall" in page.content()
    page.get_by_label("Note for this version").fill("The consortium meeting has a new title.")
    if page.locator("#reason").count():
        page.locator("#reason").fill("The double booking is on purpose.")
    page.screenshot(path=str(ARTIFACTS / "release-2-page.png"), full_page=True)
    page.get_by_role("button", name="Release", exact=True).click()
    page.wait_for_load_state()
    page.get_by_text("Version 2 released.").wait_for()
    page.get_by_role("link", name="Released").wait_for()

    page.goto(f"{server}/share/{lim_token}")
    page.get_by_role("link", name="What changed in version 2").click()
    page.wait_for_load_state()
    body = page.content()
    assert "What changed in version 2" in body
    assert "Consortium meeting, now in the main hall" in body
    assert "The consortium meeting has a new title." in body
    page.screenshot(path=str(ARTIFACTS / "release-3-attendee-changes.png"), full_page=True)
