"""The history as pages: a delegation's (filterable, paginated, newest first) and a meeting's.

Share tokens never appear; a host sees only its meetings' entries, without internal notes;
the page costs the same number of queries however long the history.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.itinerary import history
from scheduler.itinerary.access import grant_role
from scheduler.models import Delegation, Meeting, Organization, Person, User
from tests.conftest import TEST_PASSWORD, count_queries, csrf_token_from, minimal_document

KEY = "mss-japan-2024-09"
URL = f"/delegations/{KEY}/history"


@pytest.fixture
def visit(load_document, reference_document, login):
    load_document(reference_document)


def _edit(app, changes, *, email=None):
    """Change the programme through the ORM as ``email`` (the flush hook writes history)."""
    with app.app_context():
        actor = db.session.scalar(select(User).where(User.email == email)) if email else None
        db.session.info["actor"] = actor.id if actor else None
        changes(db.session)
        db.session.commit()
        db.session.info.pop("actor", None)


def _retitle(key, title):
    def change(session):
        session.scalar(select(Meeting).where(Meeting.key == key)).title = title

    return change


def _listed(page: str) -> str:
    """The entries' part of a history page (not the filters' choices)."""
    return page[page.index('<ol class="history">') :] if '<ol class="history">' in page else ""


def _entries(page: str) -> list[str]:
    return re.findall(
        r'<li class="history-entry">(.*?)</li>\s*(?=<li class="history-entry">|</ol>)', page, re.S
    )


def test_the_history_shows_each_field_before_and_after_newest_first(app, client, visit):
    _edit(app, _retitle("cmic", "CMIC: first"), email="coordinator@example.org")
    _edit(app, _retitle("cmic", "CMIC: second"), email="coordinator@example.org")
    page = client.get(URL).get_data(as_text=True)
    first, second = page.index("CMIC: second"), page.index("CMIC: first")
    assert first < second  # newest first
    entry = _entries(page)[0]
    assert "coordinator@example.org" in entry and "update" in entry
    assert re.search(
        r'class="before">CMIC: first</td>.*class="after">CMIC: second</td>', entry, re.S
    )


def test_filters_by_meeting_person_and_account(app, client, visit, _test_password_hash):
    with app.app_context():
        db.session.add(User(email="other@example.org", password_hash=_test_password_hash))
        db.session.commit()
    _edit(app, _retitle("cmic", "CMIC retitled"), email="coordinator@example.org")
    _edit(app, _retitle("astellas", "Astellas retitled"), email="other@example.org")

    def rename(session):
        session.scalar(select(Person).where(Person.key == "nakamura")).title = "Director"

    _edit(app, rename)

    by_meeting = _listed(client.get(URL + "?meeting=cmic").get_data(as_text=True))
    assert "CMIC retitled" in by_meeting and "Astellas retitled" not in by_meeting
    assert "Director" not in by_meeting

    with app.app_context():
        other = db.session.scalar(select(User.id).where(User.email == "other@example.org"))
    by_account = _listed(client.get(URL + f"?account={other}").get_data(as_text=True))
    assert "Astellas retitled" in by_account and "CMIC retitled" not in by_account
    assert len(_entries(by_account)) == 1

    by_person = _listed(client.get(URL + "?person=nakamura").get_data(as_text=True))
    assert "Director" in by_person
    # Nakamura attends the CMIC meeting: its creation (attendees) mentions them; Astellas does not.
    assert "meeting <code>cmic</code>" in by_person
    assert "meeting <code>astellas</code>" not in by_person

    assert client.get(URL + "?account=abc").status_code == 400


def test_the_history_is_paginated(app, client, visit):
    with app.app_context():
        delegation = db.session.scalar(select(Delegation).where(Delegation.key == KEY))
        for n in range(120):
            history.record(
                db.session,
                delegation_id=delegation.id,
                user_id=None,
                action="update",
                entity="meeting",
                key="cmic",
                changes={"title": [f"t{n}", f"t{n + 1}"]},
            )
        db.session.commit()
    first = client.get(URL + "?meeting=cmic").get_data(as_text=True)
    assert len(_entries(first)) == 50
    assert 'rel="next"' in first and 'rel="prev"' not in first
    last = client.get(URL + "?meeting=cmic&page=3").get_data(as_text=True)
    assert 'rel="prev"' in last and 'rel="next"' not in last
    assert len(_entries(last)) == 121 - 100  # and the import's create entry


def test_the_page_costs_the_same_queries_however_long_the_history(
    app, client, login, load_document
):
    load_document(minimal_document())  # one entry of its own, so the first page is short
    url = "/delegations/test-visit/history"

    def add(n):
        with app.app_context():
            delegation = db.session.scalar(select(Delegation).where(Delegation.key == "test-visit"))
            users = [User(email=f"u{i}-{n}@example.org", password_hash="x") for i in range(n)]
            db.session.add_all(users)
            db.session.flush()
            for user in users:
                history.record(
                    db.session,
                    delegation_id=delegation.id,
                    user_id=user.id,
                    action="update",
                    entity="delegation",
                    key="test-visit",
                    changes={"name": ["a", "b"]},
                )
            db.session.commit()

    with app.app_context():
        engine = db.engine
    add(3)
    with count_queries(engine) as few:
        assert len(_entries(client.get(url).get_data(as_text=True))) == 4
    add(40)
    with count_queries(engine) as many:
        page = client.get(url).get_data(as_text=True)
    assert len(_entries(page)) == 44
    assert len(many) == len(few), many


def test_a_rotated_share_link_appears_without_its_token(app, client, visit):
    with app.app_context():
        before = db.session.scalar(select(Delegation).where(Delegation.key == KEY)).share_token
    manage = f"/share/manage/{KEY}"
    token = csrf_token_from(client.get(manage).get_data(as_text=True))
    assert client.post(
        manage + "/rotate", data={"csrf_token": token, "target": "delegation", "confirmed": "yes"}
    ).status_code in (302, 303)
    with app.app_context():
        delegation = db.session.scalar(select(Delegation).where(Delegation.key == KEY))
        after = delegation.share_token
        secrets = [before, after, delegation.share_selector, delegation.share_secret]
    assert before != after
    page = client.get(URL).get_data(as_text=True)
    assert "rotate-share-link" in page
    for secret in secrets:
        assert secret not in page


def test_a_meeting_page_shows_its_latest_changes(app, client, visit):
    _edit(app, _retitle("cmic", "CMIC: moved to the afternoon"), email="coordinator@example.org")
    page = client.get(f"/delegations/{KEY}/meetings/cmic").get_data(as_text=True)
    aside = page[page.index('id="meeting-history-head"') :]
    assert "CMIC: moved to the afternoon" in aside
    assert "coordinator@example.org" in aside
    assert f"{URL}?meeting=cmic" in aside


def test_a_host_sees_only_its_meetings_history_without_internal_notes(
    app, visit, _test_password_hash
):
    def note(session):
        meeting = session.scalar(select(Meeting).where(Meeting.key == "cmic"))
        meeting.internal_notes = "Do not tell CMIC about the budget."
        session.scalar(select(Meeting).where(Meeting.key == "astellas")).title = "Astellas moved"

    _edit(app, note, email="coordinator@example.org")
    with app.app_context():
        db.session.add(User(email="astellas-only@example.org", password_hash="x"))
        db.session.commit()
    _edit(app, _retitle("astellas", "Astellas again"), email="astellas-only@example.org")
    with app.app_context():
        delegation = db.session.scalar(select(Delegation).where(Delegation.key == KEY))
        cmic = db.session.scalar(
            select(Organization).where(
                Organization.delegation_id == delegation.id, Organization.key == "cmic"
            )
        )
        host = User(email="host@cmic.example", password_hash=_test_password_hash)
        db.session.add(host)
        db.session.flush()
        grant_role(db.session, delegation, host, "host", organization_id=cmic.id)
        db.session.commit()
    client = app.test_client()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    client.post(
        "/login",
        data={"email": "host@cmic.example", "password": TEST_PASSWORD, "csrf_token": token},
    )
    page = client.get(URL).get_data(as_text=True)
    assert "meeting <code>cmic</code>" in page
    assert "astellas" not in page.lower()  # neither its entries nor a filter choice
    assert "budget" not in page
    # The filter offers only accounts that changed its meetings.
    assert "coordinator@example.org" in page
    assert "astellas-only@example.org" not in page
    assert "internal_notes" in page  # the field changed; its value is not shown
    meeting_page = client.get(f"/delegations/{KEY}/meetings/cmic").get_data(as_text=True)
    assert "budget" not in meeting_page


def test_without_a_role_the_history_does_not_exist(app, client, visit, _test_password_hash):
    with app.app_context():
        db.session.add(User(email="stranger@example.org", password_hash=_test_password_hash))
        db.session.commit()
    stranger = app.test_client()
    token = csrf_token_from(stranger.get("/login").get_data(as_text=True))
    stranger.post(
        "/login",
        data={"email": "stranger@example.org", "password": TEST_PASSWORD, "csrf_token": token},
    )
    assert stranger.get(URL).status_code == 404


@pytest.mark.parametrize(
    ("language", "status_word", "moment"),
    [
        ("en", "tentative", "Wed 25 Sep 2024"),
        ("ko", "미정", "2024년 9월 25일"),
        ("ja", "仮", "2024年9月25日"),
    ],
)
def test_history_values_are_words_and_dates_in_the_readers_language(
    app, client, visit, language, status_word, moment
):
    """Stored codes and ISO instants are made words where the language is known."""
    from datetime import UTC, datetime

    def change(session):
        meeting = session.scalar(select(Meeting).where(Meeting.key == "cmic"))
        meeting.status = "tentative"
        meeting.start = datetime(2024, 9, 25, 1, 0, tzinfo=UTC)

    _edit(app, change, email="coordinator@example.org")
    page = client.get(URL, headers={"Accept-Language": language}).get_data(as_text=True)
    newest = _entries(_listed(page))[0]
    after = re.findall(r'<td class="after">(.*?)</td>', newest, re.S)
    assert any(status_word in cell for cell in after), after
    assert any(moment in cell and "UTC" in cell for cell in after), after
    if language != "en":
        assert not any(cell.strip() in ("tentative", "confirmed") for cell in after)
        assert "2024-09-25T" not in newest
