"""The team's pages in Chromium: the access list, accounts, your account, the history, and the
override reasons beside the errors they were given for.

Screenshots go to tests/artifacts/team-<page>-<width>.png to be looked at; the test checks
what can be measured: the flows work through the real forms, and nothing is wider than a phone.
"""

from __future__ import annotations

import pytest
from conftest import TEST_EMAIL, TEST_PASSWORD
from sqlalchemy import select
from test_pages_at_two_widths import _overflow
from test_programme_in_browser import ARTIFACTS, CHROMIUM_ARGS, live_server  # noqa: F401

from scheduler.extensions import db
from scheduler.itinerary.conflicts import check_delegation
from scheduler.itinerary.review import record_override
from scheduler.models import Delegation, Meeting, User

pytestmark = pytest.mark.e2e
KEY = "mss-japan-2024-09"
REASON = "Agreed with the protocol office: the minister leaves early."


@pytest.fixture
def team(app, user, load_document, reference_document, _test_password_hash):
    """The reference visit, its coordinator an admin, a colleague, one override, some edits."""
    # Lim at two meetings at once: an error to save despite.
    clash = dict(reference_document["meetings"][0], key="briefing", title="Press briefing")
    reference_document["meetings"].append(clash)
    load_document(reference_document)
    with app.app_context():
        me = db.session.get(User, user)
        me.is_admin = True
        db.session.add(User(email="colleague@example.org", password_hash=_test_password_hash))
        db.session.info["actor"] = user
        delegation = db.session.scalar(select(Delegation).where(Delegation.key == KEY))
        cmic = db.session.scalar(select(Meeting).where(Meeting.key == "cmic"))
        cmic.title = "CMIC Pharma Science: clinical trial support"
        cmic.internal_notes = "Ask about the Osaka site."
        db.session.flush()
        errors = [
            c
            for c in check_delegation(db.session, delegation, estimate_travel=False)
            if c.severity == "error" and "briefing" in c.meetings
        ]
        briefing = db.session.scalar(select(Meeting).where(Meeting.key == "briefing"))
        record_override(db.session, briefing, errors, user_id=user, reason=REASON)
        db.session.commit()
        db.session.info.pop("actor", None)


def test_team_pages_work_and_fit_a_laptop_and_a_phone(live_server, chromium_path, team):  # noqa: F811
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    server = live_server
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{server}/login")
        page.get_by_label("Email").fill(TEST_EMAIL)
        page.get_by_label("Password", exact=True).fill(TEST_PASSWORD)
        page.get_by_label("Password", exact=True).press("Enter")
        page.get_by_role("heading", name="Delegations").wait_for()

        # The owner adds a colleague as a host of CMIC, through the access list.
        page.goto(f"{server}/delegations/{KEY}/access")
        page.get_by_label("Email of the account").fill("colleague@example.org")
        page.get_by_label("Role", exact=True).select_option("host")
        page.get_by_label("Organisation (for a host)").select_option("cmic")
        page.get_by_role("button", name="Add", exact=True).click()
        page.get_by_text("colleague@example.org is now host.").wait_for()

        # The admin creates an account and gets its one-time link.
        page.goto(f"{server}/accounts")
        page.get_by_label("Email").fill("newcomer@example.org")
        page.get_by_role("button", name="Create account and link").click()
        link = page.locator("input.copy-link").input_value()
        assert "/set-password/" in link

        pages = {
            "access": f"/delegations/{KEY}/access",
            "history": f"/delegations/{KEY}/history",
            "history-meeting": f"/delegations/{KEY}/history?meeting=cmic",
            "meeting": f"/delegations/{KEY}/meetings/cmic",
            "conflicts": f"/delegations/{KEY}/conflicts",
            "programme": f"/delegations/{KEY}",
            "account": "/account",
            "agenda": f"/delegations/{KEY}/agenda",
        }
        overflow = {}
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            # The accounts page with the link showing: re-issue one for the newcomer.
            page.goto(f"{server}/accounts")
            page.locator("tr", has_text="newcomer@example.org").get_by_role(
                "button", name="New password link"
            ).click()
            page.locator("input.copy-link").wait_for()
            overflow["accounts", width] = _overflow(page)
            page.screenshot(path=str(ARTIFACTS / f"team-accounts-{width}.png"), full_page=True)
            for name, path in pages.items():
                page.goto(server + path)
                page.wait_for_load_state("networkidle")
                overflow[name, width] = _overflow(page)
                page.screenshot(path=str(ARTIFACTS / f"team-{name}-{width}.png"), full_page=True)

        page.goto(f"{server}/delegations/{KEY}/conflicts")
        assert REASON in page.content()
        page.goto(f"{server}/delegations/{KEY}")
        assert REASON in page.content()

        # The newcomer sets a password with the link, once.
        other = browser.new_context(viewport={"width": 390, "height": 800}).new_page()
        other.goto(link)
        other.screenshot(path=str(ARTIFACTS / "team-set-password-390.png"), full_page=True)
        other.get_by_label("New password", exact=True).fill("a good long secret")
        other.get_by_label("New password again").fill("a good long secret")
        other.get_by_role("button", name="Set password").click()
        other.get_by_text("Password set: sign in with it.").wait_for()
        assert other.goto(link).status == 404
        browser.close()
    assert {k: v for k, v in overflow.items() if v > 0} == {}
