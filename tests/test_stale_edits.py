"""Stale edits of delegations, organisations, people, venues and travel times are refused.

A coordinator opens an edit form; meanwhile someone else saves the same row (in another form,
or by importing the programme again). Saving the first form must not overwrite that: it is
refused with what changed, nothing is lost, and saving again after looking applies it.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime

import pytest
from conftest import csrf_token_from, minimal_document, opened_stamp
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.itinerary.editing import changed_since, edit_stamp
from scheduler.models import Delegation, Organization, Person, TravelTime, Venue

BASE = "/delegations/test-visit"


def visit_document() -> dict:
    document = minimal_document()
    document["organizations"] = [{"key": "kvic", "name": "KVIC", "kind": "VC"}]
    document["people"] = [{"key": "lim", "name": "LIM Jeong-wook", "email": "lim@example.org"}]
    document["venues"] = [
        {
            "key": "ipark",
            "name": "Shonan iPark",
            "timezone": "Asia/Tokyo",
            "address": "Fujisawa",
            "rooms": [{"key": "hall", "name": "Event Hall", "capacity": 120}],
        },
        {"key": "meti", "name": "METI main building", "timezone": "Asia/Tokyo"},
    ]
    document["travel_times"] = [{"from": "ipark", "to": "meti", "minutes": 80}]
    return document


@pytest.fixture
def visit(load_document, login):
    load_document(visit_document())


def _ids(app) -> dict:
    with app.app_context():
        venues = dict(db.session.execute(select(Venue.key, Venue.id)).all())
        return {
            "travel": db.session.scalar(select(TravelTime.id)),
            "hall": db.session.scalar(select(Venue).where(Venue.key == "ipark")).rooms[0].id,
            **venues,
        }


# Each form: its page, what our coordinator submits, what someone else changes meanwhile (a
# column set on the row), the label the refusal names, and the column our save sets.
CASES = {
    "delegation": (
        lambda ids: f"{BASE}/edit",
        lambda ids: {
            "name": "Ours",
            "timezone": "Asia/Tokyo",
            "start_date": "2024-09-25",
            "end_date": "2024-09-27",
        },
        (Delegation, "host", "KOTRA"),
        "Host",
        "name",
    ),
    "organisation": (
        lambda ids: f"{BASE}/organizations/kvic/edit",
        lambda ids: {"name": "Ours", "kind": "VC"},
        (Organization, "kind", "agency"),
        "Kind",
        "name",
    ),
    "person": (
        lambda ids: f"{BASE}/people/lim/edit",
        lambda ids: {
            "name": "Ours",
            "organization_id": "0",
            "role": "delegation",
            "email": "lim@example.org",
        },
        (Person, "email", "jw.lim@example.org"),
        "Email",
        "name",
    ),
    "venue": (
        lambda ids: f"{BASE}/venues/ipark/edit",
        lambda ids: {
            "name": "Ours",
            "timezone": "Asia/Tokyo",
            "address": "Fujisawa",
            "rooms-0-room_id": str(ids["hall"]),
            "rooms-0-key": "hall",
            "rooms-0-name": "Event Hall",
            "rooms-0-capacity": "120",
        },
        (Venue, "address", "26-1 Muraoka-Higashi, Fujisawa"),
        "Address",
        "name",
    ),
    "travel time": (
        lambda ids: f"{BASE}/travel-times/{ids['travel']}/edit",
        lambda ids: {
            "from_venue_id": str(ids["ipark"]),
            "to_venue_id": str(ids["meti"]),
            "minutes": "95",
            "mode": "train",
        },
        (TravelTime, "minutes", 70),
        "Minutes door to door",
        "mode",
    ),
}


def _post(client, url, data):
    token = csrf_token_from(client.get("/delegations").get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


def _row(app, model):
    with app.app_context():
        row = db.session.scalars(select(model).order_by(model.id)).first()  # ipark of two venues
        db.session.expunge(row)
        return row


def _change_meanwhile(app, model, column, value) -> None:
    with app.app_context():
        row = db.session.scalars(select(model).order_by(model.id)).first()  # ipark of two venues
        setattr(row, column, value)
        db.session.commit()


@pytest.mark.parametrize("case", list(CASES))
def test_a_save_over_someone_elses_change_is_refused_then_applied_on_purpose(
    client, app, visit, case
):
    page_url, ours, (model, column, theirs), label, our_column = CASES[case]
    ids = _ids(app)
    url = page_url(ids)
    page = client.get(url).get_data(as_text=True)
    ours = ours(ids)
    _change_meanwhile(app, model, column, theirs)

    refused = _post(client, url, {**ours, **opened_stamp(page)})
    assert refused.status_code == 409
    text = html.unescape(refused.get_data(as_text=True))
    assert "Nothing was saved" in text and "someone else saved changes" in text
    assert f"{label}: now" in text and str(theirs) in text
    row = _row(app, model)
    assert getattr(row, column) == theirs  # their change is kept
    assert getattr(row, our_column) != (ours.get(our_column) or None)  # ours is not applied
    # The refusal keeps what our coordinator typed, to save again after looking.
    assert 'value="Ours"' in text or 'value="train"' in text

    saved = _post(client, url, {**ours, **opened_stamp(refused.get_data(as_text=True))})
    assert saved.status_code == 302
    assert getattr(_row(app, model), our_column) == ours[our_column]


def test_a_save_from_a_form_opened_before_an_import_changed_the_person_is_refused(
    client, app, visit, load_document
):
    page = client.get(f"{BASE}/people/lim/edit").get_data(as_text=True)
    document = visit_document()
    document["people"][0]["phone"] = "+82 10 0000 0000"
    load_document(document)  # the import updates people in bulk, past the ORM
    data = {"name": "LIM J.", "organization_id": "0", "role": "delegation"}
    response = _post(client, f"{BASE}/people/lim/edit", {**data, **opened_stamp(page)})
    assert response.status_code == 409
    text = html.unescape(response.get_data(as_text=True))
    assert "Phone: now <q>+82 10 0000 0000</q>" in text
    assert _row(app, Person).name == "LIM Jeong-wook"


def test_the_refusal_says_empty_for_a_cleared_value_and_changed_for_a_reference(client, app, visit):
    page = client.get(f"{BASE}/people/lim/edit").get_data(as_text=True)
    with app.app_context():
        lim = db.session.scalar(select(Person))
        lim.email = None
        lim.organization_id = db.session.scalar(select(Organization.id))
        db.session.commit()
    data = {"name": "LIM J.", "organization_id": "0", "role": "delegation"}
    response = _post(client, f"{BASE}/people/lim/edit", {**data, **opened_stamp(page)})
    text = html.unescape(response.get_data(as_text=True))
    assert "<li>Email: now empty</li>" in text
    assert "<li>Organisation: changed</li>" in text  # an id would mean nothing


def test_a_save_without_a_stamp_is_refused_as_it_cannot_tell_what_was_opened(client, app, visit):
    data = {"name": "LIM J.", "organization_id": "0", "role": "delegation"}
    response = _post(client, f"{BASE}/people/lim/edit", data)
    assert response.status_code == 409
    assert _row(app, Person).name == "LIM Jeong-wook"


def test_an_unchanged_row_saves_at_once(client, app, visit):
    page = client.get(f"{BASE}/organizations/kvic/edit").get_data(as_text=True)
    response = _post(
        client,
        f"{BASE}/organizations/kvic/edit",
        {"name": "KVIC", "kind": "CRO", **opened_stamp(page)},
    )
    assert response.status_code == 302
    assert _row(app, Organization).kind == "CRO"


def test_changed_since_compares_what_json_keeps():
    opened = {
        "at": datetime(2024, 9, 25, 1, 0, tzinfo=UTC),
        "languages": ["ko", "en"],
        "rooms": [(1, "hall", "Event Hall", 120)],
        "latitude": 35.3312,
        "notes": None,
    }
    stamp = edit_stamp(opened)
    assert changed_since(stamp, opened) == []
    later = {**opened, "at": datetime(2024, 9, 25, 1, 30, tzinfo=UTC), "latitude": 35.3313}
    assert changed_since(stamp, later) == ["at", "latitude"]
    assert changed_since(stamp, {**opened, "rooms": [(1, "hall", "Event Hall", 80)]}) == ["rooms"]
    assert changed_since(stamp, {**opened, "phone": None}) == ["phone"]  # not on the old form
    assert changed_since("not json", opened) == list(opened)
    assert changed_since(None, opened) == list(opened)
