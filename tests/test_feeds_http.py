"""The feed over HTTP: headers, conditional GET from stored validators, share tokens."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from datetime import timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from scheduler import create_app
from scheduler.extensions import db
from scheduler.itinerary.share_links import rotate_share_link
from scheduler.models import Delegation, Meeting, Person
from tests.conftest import ROOT, count_queries

KEY = "mss-japan-2024-09"
INTERNAL_NOTE = "Confirm bank attendees by 09-20."


@pytest.fixture
def visit(load_document, reference_document):
    load_document(reference_document)


def token_of(app, person_key: str | None = None) -> str:
    with app.app_context():
        delegation = db.session.scalar(select(Delegation).where(Delegation.key == KEY))
        if person_key is None:
            return delegation.share_token
        return db.session.scalar(select(Person).where(Person.key == person_key)).share_token


def feed_url(token: str) -> str:
    return f"/share/{token}/calendar.ics"


def edit_meeting(app, key: str, **changes) -> None:
    with app.app_context():
        meeting = db.session.scalar(select(Meeting).where(Meeting.key == key))
        for name, value in changes.items():
            setattr(meeting, name, value)
        db.session.commit()


def uids(body: bytes) -> list[str]:
    return [str(e["UID"]) for e in Calendar.from_ical(body).walk("VEVENT")]


def test_feed_is_served_as_inline_utf8_calendar_with_strong_validators(app, client, visit):
    response = client.get(feed_url(token_of(app)))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith("inline")
    etag = response.headers["ETag"]
    assert etag == '"' + hashlib.sha256(response.data).hexdigest() + '"'  # strong: no W/
    assert response.last_modified is not None
    assert "private" in response.headers["Cache-Control"]
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert len(uids(response.data)) == 6
    assert INTERNAL_NOTE.encode() not in response.data


def test_unchanged_feed_gives_304_without_reading_meetings(app, client, visit):
    url = feed_url(token_of(app))
    first = client.get(url)
    with app.app_context():
        engine = db.engine
    with count_queries(engine) as statements:
        again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == first.headers["ETag"]
    assert not [s for s in statements if "FROM meeting" in s], statements
    assert not [s for s in statements if "calendar_feed_validator.body" in s], statements
    assert len(statements) <= 3, statements
    with count_queries(engine) as statements:  # a 200 from the store reads the bytes
        stored = client.get(url)
    assert stored.status_code == 200 and stored.data == first.data
    assert not [s for s in statements if "FROM meeting" in s], statements
    since = client.get(url, headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert since.status_code == 304


def test_changed_feed_gives_200_with_new_validators(app, client, visit):
    url = feed_url(token_of(app))
    first = client.get(url)
    edit_meeting(app, "cmic", title="Decentralised clinical trials (moved)")
    changed = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200
    assert b"Decentralised clinical trials (moved)" in changed.data
    assert changed.headers["ETag"] != first.headers["ETag"]
    assert changed.last_modified >= first.last_modified
    assert client.get(url, headers={"If-None-Match": changed.headers["ETag"]}).status_code == 304


def test_renaming_the_delegation_changes_the_validators(app, client, visit):
    """A rename is a new version of the programme: the stored validators must not match."""
    url = feed_url(token_of(app))
    first = client.get(url)
    with app.app_context():
        delegation = db.session.scalar(select(Delegation).where(Delegation.key == KEY))
        revision = delegation.revision
        delegation.name = "Renamed visit"
        db.session.commit()
        assert delegation.revision == revision + 1
    by_etag = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert by_etag.status_code == 200
    assert b"X-WR-CALNAME:Renamed visit" in by_etag.data
    by_date = client.get(url, headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert by_date.status_code == 200
    assert by_date.last_modified > first.last_modified


def test_two_app_instances_serve_identical_bytes_and_share_validators(app, client, visit):
    url = feed_url(token_of(app))
    other = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "SECRET_KEY": "another-worker",
            "SERVER_NAME": "scheduler.test",
        }
    )
    try:
        mine = client.get(url)
        theirs = other.test_client().get(url)
        assert theirs.status_code == 200
        assert theirs.data == mine.data
        assert theirs.headers["ETag"] == mine.headers["ETag"]
        # A third "worker" that never built the feed answers 304 from the stored validators.
        third = create_app(dict(other.config))
        with third.app_context():
            engine = db.engine
        with count_queries(engine) as statements:
            cached = third.test_client().get(url, headers={"If-None-Match": mine.headers["ETag"]})
        assert cached.status_code == 304
        assert not [s for s in statements if "FROM meeting" in s]
    finally:
        for instance in (other, locals().get("third")):
            if instance is not None:
                with instance.app_context():
                    db.session.remove()
                    db.engine.dispose()


WORKER = """
import sys
from scheduler import create_app
app = create_app({"SQLALCHEMY_DATABASE_URI": sys.argv[1], "SERVER_NAME": "scheduler.test"})
response = app.test_client().get(sys.argv[2])
assert response.status_code == 200, response.status
sys.stdout.buffer.write(response.data)
"""


def test_identical_bytes_from_separate_worker_processes(app, client, visit):
    """Other processes, other hash seeds (set and dict order), the same bytes."""
    url = feed_url(token_of(app))
    bodies = [
        subprocess.run(
            [sys.executable, "-c", WORKER, app.config["SQLALCHEMY_DATABASE_URI"], url],
            env={**os.environ, "PYTHONHASHSEED": seed},
            cwd=ROOT,
            capture_output=True,
            check=True,
            timeout=60,
        ).stdout
        for seed in ("1", "2")
    ]
    assert bodies[0] == bodies[1] == client.get(url).data


def test_rotated_token_gives_404_and_the_new_one_works(app, client, visit):
    old = token_of(app)
    old_person = token_of(app, "lim")
    assert client.get(feed_url(old)).status_code == 200
    with app.app_context():
        rotate_share_link(db.session.scalar(select(Delegation).where(Delegation.key == KEY)))
        rotate_share_link(db.session.scalar(select(Person).where(Person.key == "lim")))
        db.session.commit()
    for token in (old, old_person):
        assert client.get(feed_url(token)).status_code == 404
        assert client.get(f"/share/{token}").status_code == 404
        assert client.get(f"/share/{token}/meetings/cmic.ics").status_code == 404
    assert client.get(feed_url(token_of(app))).status_code == 200
    assert client.get(feed_url(token_of(app, "lim"))).status_code == 200


@pytest.mark.parametrize(
    "token",
    ["", "short", "0" * 16, "0" * 16 + "x" * 32, "a" * 200, "x" * 40],
)
def test_unknown_tokens_give_404(app, client, visit, token):
    assert client.get(feed_url(token), follow_redirects=True).status_code == 404


def test_a_wrong_secret_with_a_real_selector_gives_404(app, client, visit):
    token = token_of(app)
    forged = token[:16] + ("A" if token[16] != "A" else "B") + token[17:]
    assert client.get(feed_url(forged)).status_code == 404
    person_token = token_of(app, "park")
    assert client.get(feed_url(person_token[:16] + token[16:])).status_code == 404


def test_person_feed_lists_their_meetings_with_the_delegation_uids(app, client, visit):
    everyone = uids(client.get(feed_url(token_of(app))).data)
    park = client.get(feed_url(token_of(app, "park")))
    assert park.status_code == 200
    assert uids(park.data) == [u for u in everyone if "company-pitches" in u or "move-in" in u]
    assert INTERNAL_NOTE.encode() not in park.data


def test_single_meeting_download(app, client, visit):
    token = token_of(app)
    feed = Calendar.from_ical(client.get(feed_url(token)).data)
    response = client.get(f"/share/{token}/meetings/cmic.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="2024-09-27 ')  # day and title, no key
    assert "cmic.ics" not in disposition
    (event,) = Calendar.from_ical(response.data).walk("VEVENT")
    (in_feed,) = [e for e in feed.walk("VEVENT") if str(e["UID"]) == str(event["UID"])]
    assert event.to_ical() == in_feed.to_ical()
    assert [str(tz["TZID"]) for tz in Calendar.from_ical(response.data).walk("VTIMEZONE")] == [
        "Asia/Tokyo"
    ]
    again = client.get(
        f"/share/{token}/meetings/cmic.ics", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304
    assert client.get(f"/share/{token}/meetings/no-such-meeting.ics").status_code == 404


def test_a_person_downloads_only_their_own_meetings(app, client, visit):
    park = token_of(app, "park")
    assert client.get(f"/share/{park}/meetings/company-pitches.ics").status_code == 200
    assert client.get(f"/share/{park}/meetings/cmic.ics").status_code == 404


def test_cancelled_meeting_stays_in_feed_and_download(app, client, visit):
    url = feed_url(token_of(app))
    before = client.get(url)
    edit_meeting(app, "astellas", status="cancelled")
    after = client.get(url, headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    (event,) = [
        e for e in Calendar.from_ical(after.data).walk("VEVENT") if "astellas" in str(e["UID"])
    ]
    assert event["STATUS"] == "CANCELLED"
    assert event["SEQUENCE"] == 1
    download = client.get(f"/share/{token_of(app)}/meetings/astellas.ics")
    assert b"STATUS:CANCELLED" in download.data


def test_public_base_url_setting_is_used_and_changes_the_validators(app, client, visit):
    url = feed_url(token_of(app))
    first = client.get(url)
    assert b"URL:http://scheduler.test/share/" in first.data
    app.config["PUBLIC_BASE_URL"] = "https://delegations.example.org/"
    moved = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert moved.status_code == 200
    assert b"URL:https://delegations.example.org/share/" in moved.data.replace(b"\r\n ", b"")


def test_uid_domain_setting_names_every_uid(app, client, visit):
    app.config["CALENDAR_UID_DOMAIN"] = "calendar.example.org"
    body = client.get(feed_url(token_of(app))).data
    assert all(uid.endswith("@calendar.example.org") for uid in uids(body))


def test_meeting_time_change_raises_sequence_in_the_served_feed(app, client, visit):
    url = feed_url(token_of(app))

    def sequence() -> int:
        calendar = Calendar.from_ical(client.get(url).data)
        (event,) = [e for e in calendar.walk("VEVENT") if "meti" in str(e["UID"])]
        return int(event["SEQUENCE"])

    assert sequence() == 0
    edit_meeting(app, "meti", agenda="Revised agenda")
    assert sequence() == 0
    with app.app_context():
        meeting = db.session.scalar(select(Meeting).where(Meeting.key == "meti"))
        start, end = meeting.start, meeting.end
    edit_meeting(app, "meti", start=start + timedelta(hours=1), end=end + timedelta(hours=1))
    assert sequence() == 1


def _one_outside(app) -> tuple[str, str]:
    """(a person, the key of a meeting they do not attend, though someone else does)."""
    from scheduler.models import Attendance

    with app.app_context():
        rows = db.session.execute(
            select(Person.key, Meeting.key)
            .join(Attendance, Attendance.person_id == Person.id)
            .join(Meeting, Meeting.id == Attendance.meeting_id)
        ).all()
    attends: dict[str, set[str]] = {}
    for person, meeting in rows:
        attends.setdefault(person, set()).add(meeting)
    every = set().union(*attends.values())
    person = next(p for p, theirs in sorted(attends.items()) if every - theirs)
    return person, sorted(every - attends[person])[0]


def test_a_persons_feed_after_an_edit_to_another_persons_meeting_is_served_from_the_store(
    app, client, visit
):
    person, elsewhere = _one_outside(app)
    url = feed_url(token_of(app, person))
    first = client.get(url)
    edit_meeting(app, elsewhere, title="Retitled elsewhere")
    with app.app_context():
        engine = db.engine
    with count_queries(engine) as statements:
        again = client.get(url)  # no If-None-Match: the stored bytes, not a build
    assert again.status_code == 200 and again.data == first.data
    assert again.headers["ETag"] == first.headers["ETag"]
    assert not [s for s in statements if "calendar_feed_validator" in s and "INSERT" in s]
    # The token, the release check and the fingerprint's narrow reads; no build (which reads
    # the meetings in feed order), no write.
    assert not [s for s in statements if "ORDER BY meeting.start" in s], statements
    assert len(statements) <= 12, statements
    with count_queries(engine) as statements:
        conditional = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert conditional.status_code == 304
    assert not [s for s in statements if "INSERT" in s]


def test_a_persons_feed_is_rebuilt_when_one_of_their_meetings_or_what_it_shows_changes(
    app, client, visit
):
    from scheduler.models import Attendance, Venue

    person, _ = _one_outside(app)
    url = feed_url(token_of(app, person))
    first = client.get(url)
    with app.app_context():
        meeting = db.session.scalar(
            select(Meeting)
            .join(Attendance)
            .join(Person)
            .where(Person.key == person, Meeting.venue_id.is_not(None))
        )
        venue_id = meeting.venue_id
        meeting.title = "Retitled for them"
        db.session.commit()
    second = client.get(url)
    assert b"Retitled for them" in second.data
    assert second.headers["ETag"] != first.headers["ETag"]
    with app.app_context():
        db.session.get(Venue, venue_id).name = "A renamed venue"
        db.session.commit()
    third = client.get(url, headers={"If-None-Match": second.headers["ETag"]})
    assert third.status_code == 200 and b"A renamed venue" in third.data


def test_stored_feed_bytes_are_never_served_in_another_language(app, client, visit):
    """The feed's own words follow the reader's language, so its stored copy does too."""
    url = feed_url(token_of(app))
    korean = client.get(url, headers={"Accept-Language": "ko"})
    english = client.get(url, headers={"Accept-Language": "en"})
    assert korean.status_code == english.status_code == 200
    assert korean.data != english.data
    assert korean.headers["ETag"] != english.headers["ETag"]
    again = client.get(url, headers={"Accept-Language": "ko"})
    assert again.data == korean.data
