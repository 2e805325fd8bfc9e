"""The timetable: grid data by room and by person, the move check and the move save by the
meeting form's rules, and the programme's filters and one day at a time."""

from __future__ import annotations

import importlib.util
import json

import pytest
from conftest import count_queries, csrf_token_from
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import ConflictOverride, Meeting

KEY = "mss-japan-2024-09"
BASE = f"/delegations/{KEY}"
ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent


@pytest.fixture
def visit(app, load_document, reference_document, login):
    load_document(reference_document)


def token(client) -> str:
    return csrf_token_from(client.get(f"{BASE}/timetable").get_data(as_text=True))


def post(client, url, body, csrf):
    return client.post(
        url, data=json.dumps(body), content_type="application/json", headers={"X-CSRFToken": csrf}
    )


def version(app, key: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Meeting.version).where(Meeting.key == key))


def test_the_grid_by_room_has_a_column_per_room_grouped_by_venue(client, visit):
    data = client.get(f"{BASE}/timetable.json?day=2024-09-26").get_json()
    titles = [(r["extendedProps"]["venue"], r["title"]) for r in data["resources"]]
    shonan = [title for venue, title in titles if venue == "Shonan Health Innovation Park"]
    assert shonan == ["Conference Room A", "Event Hall", "No room"]
    assert ("CMIC head office", "Whole venue") in titles
    events = {e["id"]: e for e in data["events"]}
    assert set(events) == {"company-pitches", "move-in-tour"}
    assert events["company-pitches"]["start"] == "2024-09-26T10:00"
    assert events["company-pitches"]["extendedProps"]["url"].endswith("/meetings/company-pitches")
    column_ids = {r["id"] for r in data["resources"]}
    assert all(set(e["resourceIds"]) <= column_ids for e in data["events"])


def test_the_grid_by_person_shows_each_persons_travel_between_venues(client, visit):
    data = client.get(f"{BASE}/timetable.json?day=2024-09-27&mode=person").get_json()
    travel = [e for e in data["events"] if e["extendedProps"]["kind"] == "travel"]
    assert travel, "Tsukuba to Tokyo needs a journey"
    assert all("→" in e["title"] for e in travel)
    people = {r["title"] for r in data["resources"]}
    assert any("LIM" in name or "Lim" in name for name in people)


def test_bad_filters_are_refused_naming_the_field(client, visit):
    response = client.get(f"{BASE}/timetable.json?day=tomorrow")
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "day"
    assert client.get(f"{BASE}/timetable.json?status=maybe").status_code == 400
    assert client.get(f"{BASE}/timetable.json?mode=sideways").status_code == 400
    assert client.get(f"{BASE}?day=tomorrow").status_code == 400


def test_a_move_that_double_books_needs_a_confirmed_reason(app, client, visit):
    csrf = token(client)
    url = f"{BASE}/meetings/company-pitches/move"
    move = {"start": "2024-09-25T14:00", "end": "2024-09-25T15:30", "resource": None}
    checked = post(client, url + "/check", move, csrf).get_json()
    assert checked["errors"] >= 1
    assert "person_double_booked" in {c["kind"] for c in checked["conflicts"]}
    before = version(app, "company-pitches")

    refused = post(client, url, {**move, "version": before}, csrf)
    assert refused.status_code == 422 and refused.get_json()["needs_confirmation"]
    no_reason = post(
        client, url, {**move, "version": before, "confirmed": checked["signature"]}, csrf
    )
    assert no_reason.status_code == 422
    assert version(app, "company-pitches") == before

    saved = post(
        client,
        url,
        {**move, "version": before, "confirmed": checked["signature"], "reason": "Only slot"},
        csrf,
    )
    assert saved.status_code == 200, saved.get_json()
    answer = saved.get_json()
    assert answer["meeting"]["start"] == "2024-09-25T14:00"
    assert answer["before"]["start"] == "2024-09-26T10:00"
    with app.app_context():
        override = db.session.scalar(select(ConflictOverride))
        assert override.reason == "Only slot"
    programme = client.get(f"{BASE}?day=2024-09-25").get_data(as_text=True)
    assert "Company pitches" in programme or "company-pitches" in programme


def test_a_move_to_a_free_slot_saves_at_once_and_a_stale_one_is_refused(app, client, visit):
    csrf = token(client)
    url = f"{BASE}/meetings/meti/move"
    first = version(app, "meti")
    move = {"start": "2024-09-27T17:00", "end": "2024-09-27T18:00"}
    saved = post(client, url, {**move, "version": first}, csrf)
    assert saved.status_code == 200 and saved.get_json()["overridden"] == 0
    stale = post(client, url, {**move, "start": "2024-09-27T16:30", "version": first}, csrf)
    assert stale.status_code == 409
    assert stale.get_json()["current"]["start"] == "2024-09-27T17:00"
    undo = {**saved.get_json()["before"], "version": saved.get_json()["meeting"]["version"]}
    assert post(client, url, undo, csrf).status_code == 200
    with app.app_context():
        meeting = db.session.scalar(select(Meeting).where(Meeting.key == "meti"))
        assert meeting.start.hour == 6  # 15:00 in Tokyo, back where it was


def test_a_drop_onto_another_room_moves_the_meeting_there(app, client, visit):
    csrf = token(client)
    data = client.get(f"{BASE}/timetable.json?day=2024-09-26").get_json()
    hall = next(e for e in data["events"] if e["id"] == "company-pitches")["resourceIds"][0]
    other = next(
        r["id"] for r in data["resources"] if r["id"].startswith("room-") and r["id"] != hall
    )
    body = {
        "start": "2024-09-26T10:00",
        "end": "2024-09-26T12:00",
        "resource": other,
        "version": version(app, "company-pitches"),
    }
    response = post(client, f"{BASE}/meetings/company-pitches/move", body, csrf)
    assert response.status_code in (200, 422)
    if response.status_code == 200:
        assert response.get_json()["meeting"]["resource"] == other


@pytest.mark.parametrize(
    "body, field",
    [
        ({"start": "soon", "end": "2024-09-27T18:00", "version": 1}, "start"),
        ({"start": "2024-09-27T18:00", "end": "2024-09-27T17:00", "version": 1}, "end"),
        ({"start": "2024-09-27T17:00", "end": "2024-09-27T18:00", "version": "x"}, "version"),
        (
            {
                "start": "2024-09-27T17:00",
                "end": "2024-09-27T18:00",
                "resource": "room-999999",
                "version": 1,
            },
            "resource",
        ),
    ],
)
def test_bad_moves_are_refused_naming_the_field(client, visit, body, field):
    response = post(client, f"{BASE}/meetings/meti/move", body, token(client))
    assert 400 <= response.status_code < 500
    assert response.get_json()["error"]["field"] == field


def test_a_move_without_a_csrf_token_is_refused(client, visit):
    body = {"start": "2024-09-27T17:00", "end": "2024-09-27T18:00", "version": 1}
    response = client.post(f"{BASE}/meetings/meti/move", json=body)
    assert response.status_code == 400


def test_the_programme_shows_one_day_and_finds_things(client, visit):
    first = client.get(BASE).get_data(as_text=True)
    assert "CRO" in first or "consortium" in first.lower()
    assert 'id="meeting-cro-consortium"' in first and 'id="meeting-astellas"' not in first
    found = client.get(f"{BASE}?day=all&q=astellas").get_data(as_text=True)
    body = found.split('role="search"', 1)[1]
    assert "meeting-astellas" in body and "meeting-cmic" not in body
    by_venue = client.get(f"{BASE}?day=all&venue=cmic-tokyo").get_data(as_text=True)
    assert "meeting-cmic" in by_venue and "meeting-astellas" not in by_venue
    by_status = client.get(f"{BASE}?day=all&status=cancelled").get_data(as_text=True)
    assert 'class="meeting ' not in by_status


def _bench():
    spec = importlib.util.spec_from_file_location("bench_pages", ROOT / "bench" / "pages.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("size", [50, 2000])
def test_the_move_check_runs_the_same_queries_however_big_the_delegation(
    app, client, load_document, login, size
):
    """Must show 2: the count is compared with the 50-meeting one (same number)."""
    bench = _bench()
    load_document(bench.generate_document(size))
    key = bench.KEY
    page = client.get(f"/delegations/{key}/timetable").get_data(as_text=True)
    csrf = csrf_token_from(page)
    with app.app_context():
        meeting = db.session.scalar(select(Meeting).where(Meeting.key == "m1"))
        day = meeting.start.date().isoformat()
    body = {"start": f"{day}T08:00", "end": f"{day}T09:00"}
    with app.app_context():
        engine = db.engine
    with count_queries(engine) as statements:
        response = post(client, f"/delegations/{key}/meetings/m1/move/check", body, csrf)
    assert response.status_code == 200
    CHECK_QUERIES[size] = len(statements)
    if 50 in CHECK_QUERIES and 2000 in CHECK_QUERIES:
        assert CHECK_QUERIES[50] == CHECK_QUERIES[2000]
    assert len(statements) <= 15


CHECK_QUERIES: dict[int, int] = {}
