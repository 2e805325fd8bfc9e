"""Releases: numbered snapshots, the changes between versions, and what share links show."""

from __future__ import annotations

import copy
import json

from icalendar import Calendar
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.itinerary.editing import set_meeting_status
from scheduler.models import Delegation, HistoryEntry, Meeting, Release
from tests.conftest import fetch_pdf

KEY = "mss-japan-2024-09"


def _release(runner, *args):
    result = runner.invoke(args=["release", KEY, *args])
    assert result.exit_code == 0, result.output
    return result.output


def _changes(runner, *args) -> dict:
    result = runner.invoke(args=["changes", KEY, "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _edit(app, meeting_key: str, **values) -> None:
    with app.app_context():
        meeting = db.session.scalar(select(Meeting).where(Meeting.key == meeting_key))
        for name, value in values.items():
            setattr(meeting, name, value)
        db.session.commit()


def test_first_release_numbers_one_and_lists_every_meeting_as_added(
    app, runner, load_document, reference_document
):
    load_document(reference_document)
    before = _changes(runner)
    assert before["from"] is None and before["to"] == "draft"
    assert len(before["added"]) == 6
    output = json.loads(_release(runner, "--note", "First", "--json"))
    assert output["version"] == 1
    assert output["changes"]["from"] is None and output["changes"]["to"] == 1
    assert sorted(output["changes"]["added"]) == sorted(before["added"])
    assert _changes(runner)["added"] == []
    with app.app_context():
        release = db.session.scalar(select(Release))
        assert release.note == "First" and release.version == 1
        entry = db.session.scalar(select(HistoryEntry).where(HistoryEntry.action == "release"))
        assert entry.changes["version"] == [None, 1]
    assert _release(runner).strip() == "2"


def test_changes_name_moved_changed_cancelled_and_each_persons_share(
    app, runner, load_document, reference_document
):
    load_document(reference_document)
    _release(runner)
    with app.app_context():
        meeting = db.session.scalar(select(Meeting).where(Meeting.key == "cro-consortium"))
        start = meeting.start
    from datetime import timedelta

    _edit(app, "cro-consortium", start=start + timedelta(hours=1), end=start + timedelta(hours=2))
    _edit(app, "cro-consortium", title="Renamed")
    with app.app_context():
        other = db.session.scalars(select(Meeting).where(Meeting.key != "cro-consortium")).first()
        other_key = other.key
        attendee_keys = [a.person.key for a in other.attendances]
        set_meeting_status(db.session, other, "cancelled", expected_version=other.version)
        db.session.commit()
    changes = _changes(runner)
    assert changes["from"] == 1 and changes["to"] == "draft"
    assert changes["cancelled"] == [other_key]
    [moved] = changes["moved"]
    assert moved["meeting"] == "cro-consortium"
    assert moved["before"]["start"] == "2024-09-25T14:00"
    assert moved["after"]["start"] == "2024-09-25T15:00"
    assert changes["changed"] == [{"meeting": "cro-consortium", "fields": ["title"]}]
    assert changes["people"]["lim"]["moved"][0]["meeting"] == "cro-consortium"
    for person in attendee_keys:
        assert other_key in changes["people"][person]["lost"]
    _release(runner)
    assert _changes(runner, "--since", "1", "--until", "2") == {**changes, "to": 2}
    assert _changes(runner)["cancelled"] == []


def test_unknown_key_or_version_exits_2(runner, load_document, reference_document):
    load_document(reference_document)
    assert runner.invoke(args=["changes", "nope"]).exit_code == 2
    assert runner.invoke(args=["release", "nope"]).exit_code == 2
    result = runner.invoke(args=["changes", KEY, "--since", "3"])
    assert result.exit_code == 2 and "no release 3" in result.output


def _share_token(app, person_key=None):
    from scheduler.models import Person

    with app.app_context():
        if person_key is None:
            return db.session.scalar(select(Delegation)).share_token
        return db.session.scalar(select(Person).where(Person.key == person_key)).share_token


def test_share_feed_shows_the_release_not_the_draft(
    app, client, runner, load_document, reference_document
):
    load_document(reference_document)
    _release(runner)
    token = _share_token(app, "lim")
    first = Calendar.from_ical(client.get(f"/share/{token}/calendar.ics").data)
    sequence = {str(e["UID"]): int(e["SEQUENCE"]) for e in first.walk("VEVENT")}
    _edit(app, "cro-consortium", title="Draft title")
    feed = client.get(f"/share/{token}/calendar.ics").get_data(as_text=True)
    assert "Draft title" not in feed
    _release(runner)
    second = Calendar.from_ical(client.get(f"/share/{token}/calendar.ics").data)
    titles = {str(e["SUMMARY"]) for e in second.walk("VEVENT")}
    assert "Draft title" in titles
    uid = next(str(e["UID"]) for e in second.walk("VEVENT") if str(e["SUMMARY"]) == "Draft title")
    after = {str(e["UID"]): int(e["SEQUENCE"]) for e in second.walk("VEVENT")}
    assert after[uid] > sequence[uid]
    assert all(after[u] >= s for u, s in sequence.items())


def test_meeting_cancelled_in_a_release_stays_in_the_feed_as_cancelled(
    app, client, runner, load_document, reference_document
):
    load_document(reference_document)
    _release(runner)
    token = _share_token(app)
    with app.app_context():
        meeting = db.session.scalar(select(Meeting).where(Meeting.key == "cro-consortium"))
        set_meeting_status(db.session, meeting, "cancelled", expected_version=meeting.version)
        db.session.commit()
    draft_feed = Calendar.from_ical(client.get(f"/share/{token}/calendar.ics").data)
    statuses = {str(e["UID"]).split("@")[0]: str(e["STATUS"]) for e in draft_feed.walk("VEVENT")}
    assert statuses[f"{KEY}.cro-consortium"] == "CONFIRMED"
    _release(runner)
    released = Calendar.from_ical(client.get(f"/share/{token}/calendar.ics").data)
    statuses = {str(e["UID"]).split("@")[0]: str(e["STATUS"]) for e in released.walk("VEVENT")}
    assert statuses[f"{KEY}.cro-consortium"] == "CANCELLED"


def test_share_agenda_shows_the_release_not_the_draft(
    app, client, runner, load_document, reference_document
):
    load_document(reference_document)
    token = _share_token(app, "lim")
    _edit(app, "cro-consortium", title="Before any release")
    assert "Before any release" in client.get(f"/share/{token}/agenda").get_data(as_text=True)
    _release(runner)
    _edit(app, "cro-consortium", title="Unreleased draft title")
    page = client.get(f"/share/{token}/agenda").get_data(as_text=True)
    assert "Before any release" in page and "Unreleased draft title" not in page
    _release(runner)
    page = client.get(f"/share/{token}/agenda").get_data(as_text=True)
    assert "Unreleased draft title" in page


def test_share_pdf_shows_the_release_not_the_draft(
    app, client, runner, load_document, reference_document
):
    import io

    from pypdf import PdfReader

    load_document(reference_document)
    _release(runner)
    token = _share_token(app)
    _edit(app, "cro-consortium", title="Zebra draft title")

    def text():
        response = fetch_pdf(client, f"/share/{token}/agenda.pdf")
        assert response.status_code == 200
        reader = PdfReader(io.BytesIO(response.data))
        return " ".join(page.extract_text() for page in reader.pages)

    assert "Zebra draft title" not in text()
    _release(runner)
    assert "Zebra draft title" in text()


def _csrf(client, url):
    from tests.conftest import csrf_token_from

    return csrf_token_from(client.get(url).get_data(as_text=True))


def test_release_page_shows_unreleased_changes_and_asks_a_reason_when_errors_are_open(
    app, load_document, reference_document, client, login
):
    # Two meetings at once for one person: an error the release page lists.
    document = copy.deepcopy(reference_document)
    first = document["meetings"][0]
    document["meetings"][1].update(start=first["start"], end=first["end"])
    document["meetings"][1]["attendees"] = first["attendees"]
    load_document(document)
    url = f"/delegations/{KEY}/release"
    page = client.get(url).get_data(as_text=True)
    assert "6 changes not released" in page
    assert "Open errors" in page and "Why release anyway?" in page
    token = _csrf(client, url)
    refused = client.post(url, data={"csrf_token": token, "note": "Try"})
    assert refused.status_code == 400
    assert "say why you release anyway" in refused.get_data(as_text=True)
    done = client.post(
        url, data={"csrf_token": token, "note": "First cut", "reason": "Chair agreed"}
    )
    assert done.status_code == 302 and done.headers["Location"].endswith("/releases/1")
    with app.app_context():
        release = db.session.scalar(select(Release))
        assert release.reason == "Chair agreed" and release.open_errors
        assert release.note == "First cut"
    version_page = client.get(f"/delegations/{KEY}/releases/1").get_data(as_text=True)
    assert "What changed in version 1" in version_page and "Chair agreed" in version_page
    assert "Released" in client.get(f"/delegations/{KEY}").get_data(as_text=True)
    listing = client.get(f"/delegations/{KEY}/releases").get_data(as_text=True)
    assert "First cut" in listing


def test_share_link_shows_what_changed_in_version_n_for_that_person(
    app, client, runner, load_document, reference_document
):
    load_document(reference_document)
    _release(runner)
    _edit(app, "cro-consortium", title="Moved to the big hall")
    _release(runner, "--note", "Hall change")
    lim = _share_token(app, "lim")
    page = client.get(f"/share/{lim}/changes/2").get_data(as_text=True)
    assert "What changed in version 2" in page and "Moved to the big hall" in page
    assert "Hall change" in page
    landing = client.get(f"/share/{lim}").get_data(as_text=True)
    assert f"/share/{lim}/changes/2" in landing
    with app.app_context():
        meeting = db.session.scalar(select(Meeting).where(Meeting.key == "cro-consortium"))
        outsider = next(
            p
            for p in meeting.delegation.people
            if all(a.person_id != p.id for a in meeting.attendances)
        )
        outsider_token = outsider.share_token
    theirs = client.get(f"/share/{outsider_token}/changes/2").get_data(as_text=True)
    assert "Moved to the big hall" not in theirs and "No changes." in theirs
    assert client.get(f"/share/{lim}/changes/9").status_code == 404
