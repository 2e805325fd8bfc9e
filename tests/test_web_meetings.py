"""The meeting form: saving, validation, conflicts confirmed with a reason, stale edits, cancel."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest
from conftest import csrf_token_from, minimal_document
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import ConflictOverride, Meeting, Person, Room, Venue

KEY = "test-visit"
BASE = f"/delegations/{KEY}"


def visit_document(**delegation) -> dict:
    """Two venues two hours apart, three people, one meeting in the morning."""
    doc = minimal_document(**delegation)
    zone = doc["delegation"]["timezone"]
    doc["organizations"] = [{"key": "mss", "name": "Ministry of SMEs and Startups"}]
    doc["people"] = [
        {"key": "lim", "name": "LIM Jeong-wook", "languages": ["ko", "en"]},
        {"key": "kim", "name": "KIM Soo-jin", "role": "interpreter", "languages": ["ko", "ja"]},
        {"key": "sato", "name": "Sato Hanako", "languages": ["ja"]},
    ]
    doc["venues"] = [
        {
            "key": "ipark",
            "name": "Shonan iPark",
            "timezone": zone,
            "rooms": [{"key": "small", "name": "Small room", "capacity": 2}],
        },
        {"key": "tsukuba", "name": "Tsukuba centre", "timezone": zone},
    ]
    doc["travel_times"] = [{"from": "ipark", "to": "tsukuba", "minutes": 120, "mode": "car"}]
    doc["meetings"] = [
        {
            "key": "morning",
            "title": "Morning briefing",
            "start": "2024-09-25T09:00",
            "end": "2024-09-25T10:00",
            "venue": "ipark",
            "attendees": [{"person": "lim"}, {"person": "kim"}],
        }
    ]
    return doc


@pytest.fixture
def visit(app, load_document, login):
    load_document(visit_document())
    return ids(app)


def ids(app) -> dict:
    with app.app_context():
        people = {p.key: p.id for p in db.session.scalars(select(Person))}
        venues = {v.key: v.id for v in db.session.scalars(select(Venue))}
        rooms = {r.key: r.id for r in db.session.scalars(select(Room))}
        return {"people": people, "venues": venues, "rooms": rooms}


def token(client) -> str:
    return csrf_token_from(client.get("/delegations").get_data(as_text=True))


def meeting_data(visit, **overrides) -> dict:
    data = {
        "title": "Lunch with CROs",
        "kind": "meal",
        "status": "confirmed",
        "start": "2024-09-25T12:00",
        "end": "2024-09-25T13:00",
        "venue_id": str(visit["venues"]["ipark"]),
        "room_id": "0",
        f"attendee_{visit['people']['lim']}": "chair",
        f"attendee_{visit['people']['sato']}": "required",
        "agenda": "Support conditions",
        "internal_notes": "Vegetarian options",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def post(client, url, data):
    return client.post(url, data={**data, "csrf_token": token(client)})


def stored(app, key):
    with app.app_context():
        meeting = db.session.scalar(select(Meeting).where(Meeting.key == key))
        if meeting is None:
            return None
        return {
            "title": meeting.title,
            "kind": meeting.kind,
            "status": meeting.status,
            "start": meeting.start,
            "end": meeting.end,
            "venue": meeting.venue.key if meeting.venue else None,
            "room": meeting.room.key if meeting.room else None,
            "attendees": [(a.person.key, a.role) for a in meeting.attendances],
            "organizations": [o.key for o in meeting.organizations],
            "version": meeting.version,
            "agenda": meeting.agenda,
            "internal_notes": meeting.internal_notes,
        }


def meeting_count(app) -> int:
    with app.app_context():
        return len(db.session.scalars(select(Meeting)).all())


# --------------------------------------------------------------------------- saving


def test_a_valid_new_meeting_is_saved_in_the_venue_zone(app, client, visit):
    response = post(client, f"{BASE}/meetings/new", meeting_data(visit, key="lunch"))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{BASE}/meetings/lunch")
    saved = stored(app, "lunch")
    assert saved["start"] == datetime(2024, 9, 25, 3, 0, tzinfo=UTC)  # 12:00 in Tokyo
    assert saved["end"] == datetime(2024, 9, 25, 4, 0, tzinfo=UTC)
    assert saved["kind"] == "meal"
    assert saved["attendees"] == [("lim", "chair"), ("sato", "required")]
    assert saved["agenda"] == "Support conditions"
    assert saved["internal_notes"] == "Vegetarian options"


def test_a_new_meeting_without_a_key_gets_one_from_its_title(app, client, visit):
    post(client, f"{BASE}/meetings/new", meeting_data(visit))
    post(
        client,
        f"{BASE}/meetings/new",
        meeting_data(visit, start="2024-09-26T12:00", end="2024-09-26T13:00"),
    )
    assert stored(app, "lunch-with-cros") is not None
    assert stored(app, "lunch-with-cros-2") is not None


def test_editing_changes_the_meeting_and_shows_it_in_local_time(app, client, visit):
    page = client.get(f"{BASE}/meetings/morning").get_data(as_text=True)
    assert 'value="2024-09-25 09:00"' in page  # local wall time, not UTC (00:00)
    assert "Asia/Tokyo" in page
    version = stored(app, "morning")["version"]
    response = post(
        client,
        f"{BASE}/meetings/morning",
        meeting_data(
            visit,
            title="Morning briefing (moved)",
            start="2024-09-25T08:30",
            end="2024-09-25T09:30",
            room_id=str(visit["rooms"]["small"]),
            version=str(version),
            organizations=str(ids_org(app)),
        ),
    )
    assert response.status_code == 302
    saved = stored(app, "morning")
    assert saved["title"] == "Morning briefing (moved)"
    assert saved["start"] == datetime(2024, 9, 24, 23, 30, tzinfo=UTC)
    assert saved["room"] == "small"
    assert saved["organizations"] == ["mss"]
    assert saved["version"] > version


def ids_org(app) -> int:
    from scheduler.models import Organization

    with app.app_context():
        return db.session.scalar(select(Organization.id))


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"title": ""}, "title", "This field is required."),
        ({"start": ""}, "start", "When does it start?"),
        ({"end": "2024-09-25T11:00"}, "end", "Must be after the start."),
        (
            {"start": "25/09/2024 noon"},
            "start",
            "Write the date and time as 2024-09-25 14:00 (24-hour clock).",
        ),
        ({"kind": "party"}, "kind", "Not a valid choice."),
        ({"status": "maybe"}, "status", "Not a valid choice."),
        ({"key": "Lunch Time"}, "key", "Use lowercase letters"),
        ({"key": "morning"}, "key", "Another meeting has the key 'morning'."),
        ({"online_url": "zoom.example/123"}, "online_url", "A web address starting with https://"),
        ({"room_id": "999999"}, "room_id", "Not a valid choice."),
    ],
)
def test_each_invalid_field_is_named_and_nothing_is_saved(
    client, app, visit, overrides, field, message
):
    response = post(client, f"{BASE}/meetings/new", meeting_data(visit, **overrides))
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    assert f'id="{field}-error"' in page
    assert message in page
    assert 'aria-invalid="true"' in page
    assert meeting_count(app) == 1


def test_a_room_of_another_venue_is_refused(client, app, visit):
    response = post(
        client,
        f"{BASE}/meetings/new",
        meeting_data(
            visit, venue_id=str(visit["venues"]["tsukuba"]), room_id=str(visit["rooms"]["small"])
        ),
    )
    assert response.status_code == 422
    assert "That room is not at the chosen venue" in response.get_data(as_text=True)
    assert meeting_count(app) == 1


def test_saving_without_a_csrf_token_is_refused(client, app, visit):
    response = client.post(f"{BASE}/meetings/new", data=meeting_data(visit, key="lunch"))
    assert response.status_code == 400
    assert stored(app, "lunch") is None


def test_the_meeting_pages_need_a_signed_in_coordinator(app, load_document):
    load_document(visit_document())
    anonymous = app.test_client()
    for url in (f"{BASE}/meetings/new", f"{BASE}/meetings/morning"):
        response = anonymous.get(url)
        assert response.status_code == 302
        assert "/login?next=" in response.headers["Location"]


# --------------------------------------------------------------------------- wall-clock times


@pytest.fixture
def berlin_visit(app, load_document, login):
    doc = visit_document(timezone="Europe/Berlin", start_date="2024-10-26", end_date="2024-10-28")
    doc["meetings"][0].update(start="2024-10-26T09:00", end="2024-10-26T10:00")
    load_document(doc)
    return ids(app)


def test_a_skipped_wall_time_is_refused_naming_the_field(client, app, load_document, login):
    doc = visit_document(timezone="Europe/Berlin", start_date="2024-03-30", end_date="2024-04-01")
    doc["meetings"][0].update(start="2024-03-30T09:00", end="2024-03-30T10:00")
    load_document(doc)
    visit = ids(app)
    response = post(
        client,
        f"{BASE}/meetings/new",
        meeting_data(visit, start="2024-03-31T02:30", end="2024-03-31T04:00"),
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="start-error"' in page
    assert "does not exist in Europe/Berlin" in page


def test_a_repeated_wall_time_asks_which_and_saves_the_chosen_one(client, app, berlin_visit):
    data = meeting_data(berlin_visit, key="night", start="2024-10-27T02:30", end="2024-10-27T04:00")
    first = post(client, f"{BASE}/meetings/new", data)
    assert first.status_code == 422
    page = first.get_data(as_text=True)
    assert "happens twice in Europe/Berlin" in page
    assert 'name="start_offset"' in page
    assert "+02:00" in page and "+01:00" in page
    second = post(client, f"{BASE}/meetings/new", {**data, "start_offset": "+01:00"})
    assert second.status_code == 302
    assert stored(app, "night")["start"] == datetime(2024, 10, 27, 1, 30, tzinfo=UTC)

    edit = client.get(f"{BASE}/meetings/night").get_data(as_text=True)
    assert '<option selected value="+01:00">' in edit  # the form shows which occurrence it is


# --------------------------------------------------------------------------- conflicts


def clash_data(visit, **overrides):
    """LIM at Tsukuba at 10:30, half an hour after the morning briefing at iPark: 2 h apart."""
    values = {
        "key": "tsukuba-visit",
        "title": "Tsukuba visit",
        "start": "2024-09-25T10:30",
        "end": "2024-09-25T11:30",
        "venue_id": str(visit["venues"]["tsukuba"]),
    }
    return meeting_data(visit, **{**values, **overrides})


def test_an_error_blocks_the_save_until_confirmed_with_a_reason(client, app, visit):
    first = post(client, f"{BASE}/meetings/new", clash_data(visit))
    assert first.status_code == 422
    page = first.get_data(as_text=True)
    assert "Saving would cause" in page
    assert "Not enough travel time" in page
    assert f'href="{BASE.replace("/delegations", "/delegations")}/meetings/morning"' in page or (
        "/meetings/morning" in page
    )
    assert stored(app, "tsukuba-visit") is None
    signature = page.split('name="confirmed_errors" type="hidden" value="')[1].split('"')[0]

    without_reason = post(
        client,
        f"{BASE}/meetings/new",
        clash_data(visit, confirm_conflicts="y", confirmed_errors=_unescape(signature)),
    )
    assert without_reason.status_code == 422
    assert "Say why the meeting is saved despite the errors." in without_reason.get_data(
        as_text=True
    )
    assert stored(app, "tsukuba-visit") is None

    confirmed = post(
        client,
        f"{BASE}/meetings/new",
        clash_data(
            visit,
            confirm_conflicts="y",
            confirmed_errors=_unescape(signature),
            override_reason="The minister takes the helicopter.",
        ),
    )
    assert confirmed.status_code == 302
    assert stored(app, "tsukuba-visit") is not None
    with app.app_context():
        override = db.session.scalar(select(ConflictOverride))
        assert override.reason == "The minister takes the helicopter."
        assert override.user.email == "coordinator@example.org"
        assert override.meeting.key == "tsukuba-visit"
        assert [c["kind"] for c in override.conflicts] == ["travel_time"]
        assert override.created_at.tzinfo is not None
    page = client.get(confirmed.headers["Location"]).get_data(as_text=True)
    assert "Saved despite errors" in page
    assert "The minister takes the helicopter." in page


def test_a_confirmation_covers_only_the_errors_that_were_shown(client, app, visit):
    """Confirming one set of errors does not wave through a different set."""
    response = post(
        client,
        f"{BASE}/meetings/new",
        clash_data(
            visit,
            confirm_conflicts="y",
            confirmed_errors='["something else"]',
            override_reason="Agreed with the protocol office.",
        ),
    )
    assert response.status_code == 422
    assert "The conflicts changed since you confirmed them" in response.get_data(as_text=True)
    assert stored(app, "tsukuba-visit") is None


def test_moving_the_meeting_clears_the_error_and_saves_without_confirmation(client, app, visit):
    response = post(
        client,
        f"{BASE}/meetings/new",
        clash_data(visit, start="2024-09-25T12:00", end="2024-09-25T13:00"),
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(ConflictOverride)) is None


def test_warnings_do_not_block_and_can_be_acknowledged_until_the_meeting_changes(
    client, app, visit
):
    # Three attendees in a room for two: over_capacity, a warning.
    data = meeting_data(
        visit,
        key="crowded",
        room_id=str(visit["rooms"]["small"]),
        **{f"attendee_{visit['people']['kim']}": "interpreter"},
    )
    response = post(client, f"{BASE}/meetings/new", data)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Room over capacity" in page
    token_value = page.split('name="conflict" value="')[1].split('"')[0]

    refused = post(client, f"{BASE}/conflicts/acknowledge", {"conflict": _unescape(token_value)})
    assert refused.status_code == 302
    assert "Say why the warning is acceptable." in client.get(refused.headers["Location"]).get_data(
        as_text=True
    )

    ack = post(
        client,
        f"{BASE}/conflicts/acknowledge",
        {
            "conflict": _unescape(token_value),
            "reason": "Two of them stand; it is a short call.",
            "next": f"{BASE}/meetings/crowded",
        },
    )
    assert ack.headers["Location"].endswith(f"{BASE}/meetings/crowded")
    page = client.get(f"{BASE}/meetings/crowded").get_data(as_text=True)
    assert "Acknowledged by coordinator@example.org" in page
    assert "Two of them stand; it is a short call." in page
    conflicts_page = client.get(f"{BASE}/conflicts").get_data(as_text=True)
    assert "Acknowledged by coordinator@example.org" in conflicts_page

    # Any change to the covered meeting lapses the acknowledgement.
    version = stored(app, "crowded")["version"]
    post(client, f"{BASE}/meetings/crowded", {**data, "agenda": "New agenda", "version": version})
    page = client.get(f"{BASE}/meetings/crowded").get_data(as_text=True)
    assert "Room over capacity" in page
    assert "Acknowledged by" not in page


def test_errors_cannot_be_acknowledged(client, app, visit):
    post(
        client,
        f"{BASE}/meetings/new",
        clash_data(visit, confirm_conflicts="y", override_reason="ok"),
    )  # refused: not confirmed against the shown errors
    page = post(client, f"{BASE}/meetings/new", clash_data(visit)).get_data(as_text=True)
    signature = _unescape(
        page.split('name="confirmed_errors" type="hidden" value="')[1].split('"')[0]
    )
    post(
        client,
        f"{BASE}/meetings/new",
        clash_data(visit, confirm_conflicts="y", confirmed_errors=signature, override_reason="ok"),
    )
    conflicts = client.get(f"{BASE}/conflicts").get_data(as_text=True)
    assert "Not enough travel time" in conflicts
    # The language gap (a warning) may be acknowledged, the travel time (an error) may not.
    assert 'name="conflict" value="[&#34;language_gap&#34;' in conflicts
    assert 'name="conflict" value="[&#34;travel_time&#34;' not in conflicts
    travel = '["travel_time",["morning","tsukuba-visit"],"lim",null,null]'
    response = post(client, f"{BASE}/conflicts/acknowledge", {"conflict": travel, "reason": "x"})
    assert "Errors cannot be acknowledged" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )


def _unescape(text: str) -> str:
    return html.unescape(text)


# --------------------------------------------------------------------------- stale edits


def test_the_second_of_two_concurrent_edits_is_refused_with_the_current_values(app, visit):
    first, second = app.test_client(), app.test_client()
    for client in (first, second):
        with client.session_transaction() as session:
            session.clear()
    from conftest import TEST_EMAIL, TEST_PASSWORD

    for client in (first, second):
        page = client.get("/login").get_data(as_text=True)
        client.post(
            "/login",
            data={
                "email": TEST_EMAIL,
                "password": TEST_PASSWORD,
                "csrf_token": csrf_token_from(page),
            },
        )
    # Both open the form at the same version.
    version = stored(app, "morning")["version"]
    for client in (first, second):
        form = client.get(f"{BASE}/meetings/morning").get_data(as_text=True)
        assert f'name="version" type="hidden" value="{version}"' in form
    opened = html.unescape(re.search(r'name="opened" type="hidden" value="([^"]*)"', form)[1])
    people = visit["people"]
    as_stored = {
        "kind": "meeting",
        "start": "2024-09-25T09:00",
        "end": "2024-09-25T10:00",
        "agenda": "",
        "internal_notes": "",
        f"attendee_{people['lim']}": "required",
        f"attendee_{people['kim']}": "required",
        f"attendee_{people['sato']}": "",
    }
    base = meeting_data(
        visit, title="Morning briefing", version=str(version), opened=opened, **as_stored
    )
    saved = post(
        first,
        f"{BASE}/meetings/morning",
        {**base, "start": "2024-09-25T08:00", "end": "2024-09-25T09:00", "agenda": "Budget"},
    )
    assert saved.status_code == 302
    refused = post(second, f"{BASE}/meetings/morning", {**base, "title": "Second opinion"})
    assert refused.status_code == 409
    page = html.unescape(refused.get_data(as_text=True))
    notice = page[page.index('id="stale"') : page.index("The form below still holds")]
    assert f"Not saved: {TEST_EMAIL} changed this meeting after you opened it" in notice
    # What changed, as the first coordinator saved it; nothing that did not change.
    changed = re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", notice)
    assert changed == [
        ("Starts", "Wed 25 Sep 2024 08:00"),
        ("Ends", "Wed 25 Sep 2024 09:00"),
        ("Agenda", "Budget"),
    ]
    assert stored(app, "morning")["title"] == "Morning briefing"
    assert stored(app, "morning")["start"] == datetime(2024, 9, 24, 23, 0, tzinfo=UTC)
    # The form keeps the second coordinator's input, now at the current version.
    new_version = stored(app, "morning")["version"]
    assert f'name="version" type="hidden" value="{new_version}"' in page
    assert 'value="Second opinion"' in page


def test_a_form_without_a_version_cannot_overwrite(client, app, visit):
    response = post(client, f"{BASE}/meetings/morning", meeting_data(visit, title="No version"))
    assert response.status_code == 409
    assert stored(app, "morning")["title"] == "Morning briefing"


# --------------------------------------------------------------------------- cancel, restore, copy


def test_cancel_and_restore_keep_the_meeting(client, app, visit):
    version = stored(app, "morning")["version"]
    response = post(client, f"{BASE}/meetings/morning/cancel", {"version": version})
    assert response.status_code == 302
    assert stored(app, "morning")["status"] == "cancelled"
    page = client.get(f"{BASE}/meetings/morning").get_data(as_text=True)
    assert "This meeting is cancelled" in page
    assert "Restore" in page

    version = stored(app, "morning")["version"]
    post(client, f"{BASE}/meetings/morning/restore", {"version": version})
    assert stored(app, "morning")["status"] == "tentative"
    assert meeting_count(app) == 1


def test_cancelling_from_a_stale_page_is_refused(client, app, visit):
    stale_version = stored(app, "morning")["version"]
    post(
        client,
        f"{BASE}/meetings/morning",
        meeting_data(visit, title="Changed", version=str(stale_version)),
    )
    response = post(client, f"{BASE}/meetings/morning/cancel", {"version": stale_version})
    assert "someone changed this meeting" in client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    assert stored(app, "morning")["status"] == "confirmed"


def test_restoring_into_a_conflict_asks_for_a_reason_first(client, app, visit):
    post(
        client,
        f"{BASE}/meetings/new",
        clash_data(visit, start="2024-09-25T13:00", end="2024-09-25T14:00"),
    )
    version = stored(app, "morning")["version"]
    post(client, f"{BASE}/meetings/morning/cancel", {"version": version})
    # With the morning meeting cancelled, the Tsukuba visit can move to 10:30.
    tsukuba = stored(app, "tsukuba-visit")
    post(client, f"{BASE}/meetings/tsukuba-visit", clash_data(visit, version=tsukuba["version"]))
    assert stored(app, "tsukuba-visit")["start"] == datetime(2024, 9, 25, 1, 30, tzinfo=UTC)

    version = stored(app, "morning")["version"]
    response = post(client, f"{BASE}/meetings/morning/restore", {"version": version})
    assert response.status_code == 422
    assert "Restoring this meeting would cause the errors below" in response.get_data(as_text=True)
    assert stored(app, "morning")["status"] == "cancelled"


def test_duplicate_opens_a_prefilled_form_and_saves_a_new_meeting(client, app, visit):
    page = client.get(f"{BASE}/meetings/new?copy_of=morning").get_data(as_text=True)
    assert 'value="Morning briefing"' in page
    assert 'value="2024-09-25 09:00"' in page
    assert 'name="version"' in page and 'name="version" type="hidden" value=""' in page
    data = meeting_data(
        visit,
        title="Morning briefing",
        start="2024-09-26T09:00",
        end="2024-09-26T10:00",
        **{f"attendee_{visit['people']['sato']}": ""},
    )
    response = post(client, f"{BASE}/meetings/new", data)
    assert response.status_code == 302
    assert stored(app, "morning-briefing") is not None
    assert stored(app, "morning")["start"] == datetime(2024, 9, 25, 0, 0, tzinfo=UTC)


def test_no_route_deletes_a_meeting(app, client, visit):
    """Meetings are cancelled, never deleted: no rule takes DELETE or is named for deleting."""
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/delegations/<key>/meetings"):
            continue
        assert "DELETE" not in rule.methods, rule.rule
        assert not {"delete", "remove", "destroy"} & set(re.split(r"[/._<>]", rule.rule)), rule
        assert not {"delete", "remove", "destroy"} & set(rule.endpoint.split(".")[-1].split("_"))
    assert client.delete(f"{BASE}/meetings/morning").status_code == 405
    assert stored(app, "morning") is not None


@pytest.mark.parametrize("version", ["abc", "1.5", "-1", "٣"])
@pytest.mark.parametrize("action", ["cancel", "restore"])
def test_a_version_that_is_not_a_number_is_refused_with_a_message(
    client, app, visit, action, version
):
    post(
        client,
        f"{BASE}/meetings/new",
        clash_data(visit, start="2024-09-25T13:00", end="2024-09-25T14:00"),
    )
    post(client, f"{BASE}/meetings/morning/cancel", {"version": stored(app, "morning")["version"]})
    tsukuba = stored(app, "tsukuba-visit")
    post(client, f"{BASE}/meetings/tsukuba-visit", clash_data(visit, version=tsukuba["version"]))
    before = stored(app, "morning")["status"]
    response = post(client, f"{BASE}/meetings/morning/{action}", {"version": version})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "version field must be a whole number" in page
    assert stored(app, "morning")["status"] == before


def test_times_are_typed_and_shown_on_the_24_hour_clock(client, app, visit):
    page = client.get(f"{BASE}/meetings/morning").get_data(as_text=True)
    start = re.search(r'<input[^>]*id="start"[^>]*>', page)[0]
    assert 'type="text"' in start and 'value="2024-09-25 09:00"' in start
    assert "24-hour clock, in Asia/Tokyo." in page
    version = stored(app, "morning")["version"]
    data = meeting_data(visit, start="2024-09-25 21:15", end="2024-09-25T22:00", version=version)
    assert post(client, f"{BASE}/meetings/morning", data).status_code == 302
    assert stored(app, "morning")["start"] == datetime(2024, 9, 25, 12, 15, tzinfo=UTC)
    refused = post(client, f"{BASE}/meetings/new", meeting_data(visit, start="9:15 PM"))
    assert "Write the date and time as 2024-09-25 14:00" in refused.get_data(as_text=True)


def test_long_venue_and_room_names_get_the_whole_row(client, visit):
    page = client.get(f"{BASE}/meetings/new").get_data(as_text=True)
    for name in ("venue_id", "room_id"):
        field = page[: page.index(f'<select id="{name}"')].rsplit('<div class="field', 1)[1]
        assert field.startswith(" wide"), name


@pytest.mark.parametrize(
    "field, value",
    [("version", "abc"), ("venue_id", "abc"), ("room_id", "1e9")],
)
def test_garbled_hidden_or_select_values_are_refused_without_a_500(
    client, app, visit, field, value
):
    data = {**meeting_data(visit, version=stored(app, "morning")["version"]), field: value}
    response = post(client, f"{BASE}/meetings/morning", data)
    assert response.status_code in (409, 422), response.status_code
    assert stored(app, "morning")["title"] == "Morning briefing"


def test_a_new_meeting_past_the_meeting_limit_is_refused_and_nothing_is_saved(client, app, visit):
    """The limit an import keeps to (DOCUMENT_MAX_MEETINGS) holds for the form too."""
    app.config["DOCUMENT_MAX_MEETINGS"] = meeting_count(app)
    response = post(client, f"{BASE}/meetings/new", meeting_data(visit, key="lunch"))
    assert response.status_code == 422
    assert "the most it may have" in html.unescape(response.get_data(as_text=True))
    assert stored(app, "lunch") is None
    app.config["DOCUMENT_MAX_MEETINGS"] = meeting_count(app) + 1
    assert post(client, f"{BASE}/meetings/new", meeting_data(visit, key="lunch")).status_code == 302
