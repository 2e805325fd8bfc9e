"""Venues with rooms and opening hours, and travel times between them."""

from __future__ import annotations

import html

import pytest
from conftest import csrf_token_from, minimal_document, opened_stamp
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import Room, TravelTime, Venue

BASE = "/delegations/test-visit"


@pytest.fixture
def visit(load_document, login):
    doc = minimal_document()
    doc["venues"] = [
        {
            "key": "ipark",
            "name": "Shonan iPark",
            "timezone": "Asia/Tokyo",
            "rooms": [{"key": "hall", "name": "Event Hall", "capacity": 120}],
        },
        {"key": "meti", "name": "METI main building", "timezone": "Asia/Tokyo"},
    ]
    load_document(doc)


def post(client, url, data):
    token = csrf_token_from(client.get("/delegations").get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


def venue_data(**overrides) -> dict:
    data = {
        "key": "tsukuba",
        "name": "Astellas Tsukuba Research Center",
        "native_name": "",
        "address": "21 Miyukigaoka, Tsukuba",
        "timezone": "Asia/Tokyo",
        "latitude": "36.0835",
        "longitude": "140.1133",
        "hours_mon": "08:00-12:00, 13:00-18:00",
        "hours_tue": "08:00-18:00",
        "rooms-0-key": "lab",
        "rooms-0-name": "Lab 1",
        "rooms-0-capacity": "8",
        "rooms-1-key": "",
        "rooms-1-name": "",
        "rooms-1-capacity": "",
    }
    data.update(overrides)
    return data


def venue(app, key="tsukuba"):
    with app.app_context():
        found = db.session.scalar(select(Venue).where(Venue.key == key))
        if found is None:
            return None
        return {
            "name": found.name,
            "opening_hours": found.opening_hours,
            "latitude": found.latitude,
            "rooms": [(r.key, r.name, r.capacity) for r in found.rooms],
        }


def test_a_venue_is_added_with_rooms_and_opening_hours(client, app, visit):
    response = post(client, f"{BASE}/venues/new", venue_data())
    assert response.status_code == 302
    saved = venue(app)
    assert saved["opening_hours"] == {
        "mon": [["08:00", "12:00"], ["13:00", "18:00"]],
        "tue": [["08:00", "18:00"]],
    }
    assert saved["latitude"] == pytest.approx(36.0835)
    assert saved["rooms"] == [("lab", "Lab 1", 8)]


def test_a_venue_without_hours_is_always_open_and_rooms_are_kept_when_editing(client, app, visit):
    page = client.get(f"{BASE}/venues/ipark/edit").get_data(as_text=True)
    assert page.count('value="Event Hall"') == 1
    with app.app_context():
        hall_id = db.session.scalar(select(Room.id).where(Room.key == "hall"))
    response = post(
        client,
        f"{BASE}/venues/ipark/edit",
        venue_data(
            key="renamed",
            name="Shonan Health Innovation Park",
            hours_mon="",
            hours_tue="",
            **opened_stamp(page),
            **{
                "rooms-0-room_id": str(hall_id),
                "rooms-0-key": "hall",
                "rooms-0-name": "Hall",
                "rooms-0-capacity": "100",
                "rooms-1-key": "conf-a",
                "rooms-1-name": "Room A",
            },
        ),
    )
    assert response.status_code == 302
    saved = venue(app, "ipark")
    assert saved["name"] == "Shonan Health Innovation Park"
    assert saved["opening_hours"] is None
    assert saved["rooms"] == [("conf-a", "Room A", None), ("hall", "Hall", 100)]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"key": "ipark"}, "key", "Another venue of this delegation has the key 'ipark'."),
        ({"name": ""}, "name", "This field is required."),
        ({"timezone": "Mars/Olympus"}, "timezone", "'Mars/Olympus' is not an IANA time zone"),
        ({"latitude": "91"}, "latitude", "Between -90 and 90."),
        ({"longitude": "east"}, "longitude", "Not a valid float value."),
        ({"hours_mon": "8am-6pm"}, "hours_mon", "'8am-6pm' is not a span like 08:00-18:00."),
        ({"hours_tue": "18:00-08:00"}, "hours_tue", "18:00-08:00: closes before it opens."),
        ({"rooms-0-name": ""}, "rooms-0-name", "A room needs a name."),
        ({"rooms-0-capacity": "0"}, "rooms-0-capacity", "At least 1 person."),
        (
            {"rooms-1-key": "lab", "rooms-1-name": "Lab 2"},
            "rooms-1-key",
            "Two rooms have the key 'lab'.",
        ),
    ],
)
def test_each_invalid_venue_field_is_named(client, app, visit, overrides, field, message):
    response = post(client, f"{BASE}/venues/new", venue_data(**overrides))
    assert response.status_code == 200
    page = html.unescape(response.get_data(as_text=True))
    assert message in page
    assert f'id="{field}"' in page
    assert venue(app) is None


def travel_ids(app):
    with app.app_context():
        return {v.key: v.id for v in db.session.scalars(select(Venue))}


def test_a_travel_time_is_added_and_edited(client, app, visit):
    ids = travel_ids(app)
    response = post(
        client,
        f"{BASE}/travel-times/new",
        {"from_venue_id": ids["ipark"], "to_venue_id": ids["meti"], "minutes": "80", "mode": "car"},
    )
    assert response.status_code == 302
    page = client.get(f"{BASE}/venues").get_data(as_text=True)
    assert "METI main building" in page and ">80<" in page
    with app.app_context():
        travel_id = db.session.scalar(select(TravelTime.id))
    page = client.get(f"{BASE}/travel-times/{travel_id}/edit").get_data(as_text=True)
    post(
        client,
        f"{BASE}/travel-times/{travel_id}/edit",
        {
            "from_venue_id": ids["ipark"],
            "to_venue_id": ids["meti"],
            "minutes": "95",
            "mode": "",
            **opened_stamp(page),
        },
    )
    with app.app_context():
        travel = db.session.get(TravelTime, travel_id)
        assert (travel.minutes, travel.mode) == (95, None)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"to": "ipark"}, "Choose two different venues."),
        ({"minutes": "-5"}, "Number must be between 0 and 10000."),
        ({"minutes": ""}, "How many minutes?"),
        ({"duplicate": True}, "A travel time for these two venues exists already"),
    ],
)
def test_each_invalid_travel_time_is_explained(client, app, visit, overrides, message):
    ids = travel_ids(app)
    data = {"from_venue_id": ids["ipark"], "to_venue_id": ids["meti"], "minutes": "80"}
    if overrides.pop("duplicate", False):
        post(client, f"{BASE}/travel-times/new", data)
    if "to" in overrides:
        data["to_venue_id"] = ids[overrides.pop("to")]
    data.update(overrides)
    response = post(client, f"{BASE}/travel-times/new", data)
    assert response.status_code == 200
    assert message in html.unescape(response.get_data(as_text=True))


def test_a_venue_form_without_csrf_is_refused(client, app, visit):
    assert client.post(f"{BASE}/venues/new", data=venue_data()).status_code == 400
    assert venue(app) is None
