"""Every change writes history in its own transaction: who, when, what, before and after.

Forms, the import and the command line all write through the ORM or the import's loader; the
flush hook and the loader's bulk history must between them see every kind of edit.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from scheduler.extensions import db
from scheduler.models import HistoryEntry, Meeting
from tests import test_stale_edits as stale
from tests import test_web_meetings as meetings
from tests.conftest import TEST_EMAIL, opened_stamp

KEY = "mss-japan-2024-09"


def _history(runner, key) -> list[dict]:
    result = runner.invoke(args=["history", key, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_importing_the_reference_visit_writes_one_create_entry_per_entity(
    app, runner, reference_document, load_document
):
    load_document(reference_document)
    entries = _history(runner, KEY)
    counted = {}
    for e in entries:
        assert e["action"] == "create" and e["user"] is None
        counted[e["entity"]] = counted.get(e["entity"], 0) + 1
    rooms = sum(len(v.get("rooms", [])) for v in reference_document["venues"])
    assert counted == {
        "delegation": 1,
        "organization": len(reference_document["organizations"]),
        "person": len(reference_document["people"]),
        "venue": len(reference_document["venues"]),
        "meeting": len(reference_document["meetings"]),
        **({"room": rooms} if rooms else {}),
        **(
            {"travel_time": len(reference_document["travel_times"])}
            if reference_document["travel_times"]
            else {}
        ),
    }
    cmic = next(e for e in entries if e["entity"] == "meeting" and e["key"] == "cmic")
    source = next(m for m in reference_document["meetings"] if m["key"] == "cmic")
    assert cmic["changes"]["title"] == [None, source["title"]]
    assert cmic["changes"]["attendees"][1] == [
        {"person": a["person"], "role": a.get("role", "required")} for a in source["attendees"]
    ]
    assert cmic["changes"]["venue"] == [None, source["venue"]]
    assert not any("share" in field for e in entries for field in e["changes"])


def test_an_import_of_a_changed_document_writes_exactly_what_changed(
    app, runner, reference_document, load_document
):
    load_document(reference_document)
    with app.app_context():
        before = db.session.scalar(select(func.count(HistoryEntry.id)))
    changed = json.loads(json.dumps(reference_document))
    cmic = next(m for m in changed["meetings"] if m["key"] == "cmic")
    old_end = cmic["end"]
    cmic["end"] = "2024-09-27T14:10"
    dropped = cmic["attendees"].pop()
    person = changed["people"][0]
    old_title = person.get("title")
    person["title"] = "Deputy Minister (acting)"
    gone = changed["meetings"].pop(0)
    load_document(changed, prune=True)

    with app.app_context():
        new = db.session.scalars(
            select(HistoryEntry).order_by(HistoryEntry.id).offset(before)
        ).all()
        by_entity = {(e.entity, e.key): e for e in new}
    assert set(by_entity) == {
        ("meeting", "cmic"),
        ("person", person["key"]),
        ("meeting", gone["key"]),
    }
    cmic_entry = by_entity[("meeting", "cmic")].changes
    assert set(cmic_entry) == {"end", "attendees"}
    assert (
        cmic_entry["end"][0].startswith("2024-09-27")
        and cmic_entry["end"][0] != cmic_entry["end"][1]
    )
    assert old_end != cmic["end"]
    assert {"person": dropped["person"], "role": dropped.get("role", "required")} in cmic_entry[
        "attendees"
    ][0]
    assert dropped["person"] not in [a["person"] for a in cmic_entry["attendees"][1]]
    assert by_entity[("person", person["key"])].changes == {
        "title": [old_title, "Deputy Minister (acting)"]
    }
    cancelled = by_entity[("meeting", gone["key"])]
    assert cancelled.action == "cancel"
    assert cancelled.changes["status"][1] == "cancelled"

    # The same document again changes nothing, and so writes nothing.
    load_document(changed, prune=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(HistoryEntry.id))) == before + len(new)


@pytest.mark.parametrize("case", list(stale.CASES))
def test_each_edit_form_writes_the_account_and_each_field_before_and_after(
    client, app, runner, load_document, login, case
):
    load_document(stale.visit_document())
    page_url, ours, _, _, our_column = stale.CASES[case]
    ids = stale._ids(app)
    url = page_url(ids)
    page = client.get(url).get_data(as_text=True)
    response = stale._post(client, url, {**ours(ids), **opened_stamp(page)})
    assert response.status_code == 302, response.get_data(as_text=True)
    updates = [e for e in _history(runner, "test-visit") if e["action"] == "update"]
    assert len(updates) == 1
    (entry,) = updates
    assert entry["user"] == TEST_EMAIL
    entity = {"organisation": "organization", "travel time": "travel_time"}.get(case, case)
    assert entry["entity"] == entity
    assert (
        entry["key"]
        == {
            "delegation": "test-visit",
            "organisation": "kvic",
            "person": "lim",
            "venue": "ipark",
            "travel time": "ipark->meti",
        }[case]
    )
    assert our_column in entry["changes"]
    before, after = entry["changes"][our_column]
    assert before != after and after == (ours(ids)[our_column] or None)


def test_meeting_edits_cancel_restore_and_saving_despite_errors_are_history(
    client, app, runner, load_document, login
):
    load_document(meetings.visit_document())
    visit = meetings.ids(app)
    created = meetings.post(
        client, "/delegations/test-visit/meetings/new", meetings.meeting_data(visit, key="lunch")
    )
    assert created.status_code == 302
    page = client.get("/delegations/test-visit/meetings/lunch").get_data(as_text=True)
    version = page.split('name="version" type="hidden" value="')[1].split('"')[0]
    moved = meetings.post(
        client,
        "/delegations/test-visit/meetings/lunch",
        meetings.meeting_data(
            visit, start="2024-09-25T12:30", end="2024-09-25T13:30", version=version
        ),
    )
    assert moved.status_code == 302, moved.get_data(as_text=True)
    with app.app_context():
        version = db.session.scalar(select(Meeting.version).where(Meeting.key == "lunch"))
    cancelled = meetings.post(
        client, "/delegations/test-visit/meetings/lunch/cancel", {"version": str(version)}
    )
    assert cancelled.status_code == 302
    entries = [e for e in _history(runner, "test-visit") if e["user"] == TEST_EMAIL]
    assert [e["action"] for e in entries] == ["cancel", "update", "create"]
    assert entries[2]["changes"]["attendees"][1] == [
        {"person": "lim", "role": "chair"},
        {"person": "sato", "role": "required"},
    ]
    assert entries[1]["changes"]["start"] == ["2024-09-25T03:00:00Z", "2024-09-25T03:30:00Z"]
    assert entries[0]["changes"]["status"] == ["confirmed", "cancelled"]


def test_saving_despite_errors_is_recorded_with_its_reason(
    client, app, runner, load_document, login
):
    load_document(meetings.visit_document())
    visit = meetings.ids(app)
    url = "/delegations/test-visit/meetings/new"
    page = meetings.post(client, url, meetings.clash_data(visit)).get_data(as_text=True)
    signature = page.split('name="confirmed_errors" type="hidden" value="')[1].split('"')[0]
    saved = meetings.post(
        client,
        url,
        meetings.clash_data(
            visit,
            confirm_conflicts="y",
            confirmed_errors=meetings._unescape(signature),
            override_reason="The minister takes the helicopter.",
        ),
    )
    assert saved.status_code == 302
    (entry,) = [e for e in _history(runner, "test-visit") if e["action"] == "save-despite-errors"]
    assert entry["user"] == TEST_EMAIL
    assert entry["changes"]["reason"] == [None, "The minister takes the helicopter."]
    assert entry["changes"]["errors"][1] == ["travel_time"]


def test_a_rotated_share_link_is_recorded_without_its_token(app, runner, load_document):
    from scheduler.itinerary.share_links import rotate_share_link
    from scheduler.models import Person

    load_document(stale.visit_document())
    with app.app_context():
        person = db.session.scalar(select(Person))
        old = (person.share_selector, person.share_secret)
        rotate_share_link(person)
        db.session.commit()
        new = (person.share_selector, person.share_secret)
    text = runner.invoke(args=["history", "test-visit", "--json"]).stdout
    (entry,) = [e for e in json.loads(text) if e["action"] == "rotate-share-link"]
    assert (entry["entity"], entry["key"], entry["changes"]) == ("person", "lim", {})
    for secret in (*old, *new):
        assert secret not in text
