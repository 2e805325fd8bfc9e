"""Delegations: the list, the delegation form, the programme, conflicts, import and export."""

from __future__ import annotations

import html
import io
import json
from datetime import date, timedelta

import pytest
from conftest import (
    count_queries,
    csrf_token_from,
    minimal_document,
    opened_stamp,
    own_every_delegation,
)
from sqlalchemy import func, select

from scheduler.extensions import db
from scheduler.models import Delegation

BASE = "/delegations/test-visit"


def token(client) -> str:
    return csrf_token_from(client.get("/delegations").get_data(as_text=True))


def post(client, url, data, **kwargs):
    return client.post(url, data={**data, "csrf_token": token(client)}, **kwargs)


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def delegation_data(**overrides) -> dict:
    data = {
        "key": "mss-2025",
        "name": "MSS delegation to Tsukuba",
        "native_name": "중소벤처기업부 방문단",
        "host": "iPark Institute",
        "timezone": "Asia/Tokyo",
        "start_date": "2025-09-24",
        "end_date": "2025-09-26",
        "description": "Follow-up visit",
    }
    data.update(overrides)
    return data


def travel_visit(**delegation) -> dict:
    """LIM goes from iPark to Tsukuba with 30 minutes for a 120-minute drive."""
    doc = minimal_document(**delegation)
    doc["people"] = [
        {"key": "lim", "name": "LIM Jeong-wook", "languages": ["ko"]},
        {"key": "kim", "name": "KIM Soo-jin", "role": "interpreter", "languages": ["ko", "ja"]},
    ]
    doc["venues"] = [
        {
            "key": "ipark",
            "name": "Shonan iPark",
            "timezone": "Asia/Tokyo",
            "rooms": [{"key": "hall", "name": "Event Hall"}],
        },
        {"key": "tsukuba", "name": "Tsukuba centre", "timezone": "Asia/Tokyo"},
    ]
    doc["travel_times"] = [{"from": "ipark", "to": "tsukuba", "minutes": 120, "mode": "car"}]
    doc["meetings"] = [
        {
            "key": "briefing",
            "title": "Morning briefing",
            "start": "2024-09-25T09:00",
            "end": "2024-09-25T10:00",
            "venue": "ipark",
            "room": "hall",
            "attendees": [{"person": "lim", "role": "chair"}, {"person": "kim"}],
        },
        {
            "key": "lab-tour",
            "title": "Lab tour",
            "start": "2024-09-25T10:30",
            "end": "2024-09-25T11:30",
            "venue": "tsukuba",
            "attendees": [{"person": "lim"}],
        },
    ]
    return doc


# --------------------------------------------------------------------------- the delegation form


def test_a_new_delegation_is_created(client, app, login):
    response = post(client, "/delegations/new", delegation_data())
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/delegations/mss-2025")
    with app.app_context():
        delegation = db.session.scalar(select(Delegation))
        assert delegation.name == "MSS delegation to Tsukuba"
        assert delegation.native_name == "중소벤처기업부 방문단"
        assert delegation.start_date == date(2025, 9, 24)
        assert delegation.share_token  # share links work from the start


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"key": ""}, "key", "This field is required."),
        ({"key": "MSS 2025"}, "key", "Use lowercase letters, digits and single hyphens"),
        ({"name": "  "}, "name", "This field is required."),
        ({"name": "x" * 301}, "name", "Field cannot be longer than 300 characters."),
        ({"timezone": "Tokyo"}, "timezone", "'Tokyo' is not an IANA time zone"),
        ({"start_date": "24.09.2025"}, "start_date", "Not a valid date value."),
        ({"end_date": "2025-09-23"}, "end_date", "The last day cannot be before the first day."),
    ],
)
def test_each_invalid_delegation_field_is_named(client, app, login, overrides, field, message):
    response = post(client, "/delegations/new", delegation_data(**overrides))
    assert response.status_code == 200
    page = text(response)
    assert f'id="{field}-error"' in page
    assert message in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Delegation)) == 0


def test_a_delegation_key_is_used_once(client, app, login, load_document):
    load_document(minimal_document(key="mss-2025"))
    response = post(client, "/delegations/new", delegation_data())
    assert "Another delegation already uses the key 'mss-2025'." in text(response)


def test_editing_keeps_the_key(client, app, login, load_document):
    load_document(minimal_document())
    page = client.get(f"{BASE}/edit").get_data(as_text=True)
    data = delegation_data(key="hijacked", name="Renamed visit", **opened_stamp(page))
    response = post(client, f"{BASE}/edit", data)
    assert response.status_code == 302
    with app.app_context():
        delegation = db.session.scalar(select(Delegation))
        assert (delegation.key, delegation.name) == ("test-visit", "Renamed visit")


def test_saving_without_a_csrf_token_is_refused(client, app, login):
    response = client.post("/delegations/new", data=delegation_data())
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Delegation)) == 0


# --------------------------------------------------------------------------- the list


def test_the_list_shows_upcoming_visits_first_with_counts_and_open_conflicts(
    client, login, load_document
):
    today = date.today()
    soon = travel_visit(
        key="soon",
        name="Soon visit",
        start_date=str(today + timedelta(days=3)),
        end_date=str(today + timedelta(days=5)),
    )
    day = today + timedelta(days=3)
    for meeting, (start, end) in zip(
        soon["meetings"], (("09:00", "10:00"), ("10:30", "11:30")), strict=True
    ):
        meeting["start"], meeting["end"] = f"{day}T{start}", f"{day}T{end}"
    later = minimal_document(
        key="later",
        name="Later visit",
        start_date=str(today + timedelta(days=40)),
        end_date=str(today + timedelta(days=42)),
    )
    past = minimal_document(key="past", name="Past visit")  # September 2024
    for document in (past, later, soon):
        load_document(document)
    page = text(client.get("/delegations"))
    assert page.index("Soon visit") < page.index("Later visit") < page.index("Past visit")
    soon_row = page[page.index("Soon visit") : page.index("Later visit")]
    assert "1 error" in soon_row
    assert '<td class="num" data-label="Meetings">2' in soon_row
    assert "none" in page[page.index("Later visit") : page.index("Past visit")]
    assert (today + timedelta(days=3)).strftime("%d %b %Y") in soon_row


def _list_queries(app, client, first: int, last: int) -> tuple[int, str]:
    """Add visits first..last-1; the list's queries once its conflict counts are stored."""
    from scheduler.itinerary.document import import_itinerary

    with app.app_context():
        for n in range(first, last):
            import_itinerary(db.session, travel_visit(key=f"visit-{n}", name=f"Visit {n}"))
        db.session.commit()
        own_every_delegation()
        engine = db.engine
    client.get("/delegations")  # counts each delegation once, for its revision
    with count_queries(engine) as statements:
        page = text(client.get("/delegations"))
    return len(statements), page


def test_the_list_costs_the_same_queries_for_1_or_50_delegations(app, client, login):
    one, _ = _list_queries(app, client, 0, 1)
    fifty, page = _list_queries(app, client, 1, 50)
    assert page.count("1 error") == 50  # every row still has its conflict count
    assert fifty == one <= 6, (one, fifty)  # user, delegations, meetings, acks, summaries


def test_the_list_counts_again_after_a_change_or_an_acknowledgement(
    app, client, login, load_document
):
    load_document(travel_visit())
    assert "1 error" in text(client.get("/delegations"))
    document = travel_visit()
    document["meetings"][1]["start"] = "2024-09-25T14:00"
    document["meetings"][1]["end"] = "2024-09-25T15:00"
    load_document(document)  # the lab tour now leaves time to travel
    page = text(client.get("/delegations"))
    assert "1 error" not in page and "sev-ok" in page


# --------------------------------------------------------------------------- programme, conflicts


def test_the_programme_shows_each_day_in_local_time_with_travel_and_badges(
    client, login, load_document
):
    load_document(travel_visit())
    page = text(client.get(f"{BASE}?day=all"))  # the whole visit, not one day
    assert "Wednesday 25 September 2024" in page
    assert "Thursday 26 September 2024" in page  # visit days without meetings are shown too
    assert "09:00</time>–<time" in page  # Tokyo wall-clock, not UTC
    assert "Shonan iPark, Event Hall" in page
    assert 'LIM Jeong-wook</a> <span class="role">(chair)</span>' in page
    assert "Travel Shonan iPark → Tsukuba centre: <strong>120 min</strong> by car" in page
    assert "30 min between meetings" in page
    assert "Not enough travel time" in page
    assert 'class="meeting status-confirmed has-error"' in page


def test_the_person_programme_lists_only_their_meetings(client, login, load_document):
    load_document(travel_visit())
    page = text(client.get(f"{BASE}/people/kim"))
    assert "Programme of KIM Soo-jin" in page
    assert "Morning briefing" in page
    assert "Lab tour" not in page
    # LIM's travel problem is on a meeting KIM attends, but it is not KIM's to solve.
    assert "Not enough travel time" not in page
    assert "no open conflicts" in page
    assert "Not enough travel time" in text(client.get(f"{BASE}/people/lim"))


def test_the_conflicts_page_groups_by_kind_and_links_the_meetings(client, login, load_document):
    load_document(travel_visit())
    page = text(client.get(f"{BASE}/conflicts"))
    assert '<h2 id="kind-travel_time">Not enough travel time' in page
    assert f'href="{BASE}/meetings/briefing"' in page or "/meetings/briefing" in page
    assert "/meetings/lab-tour" in page


def test_a_delegation_without_conflicts_says_so(client, login, load_document):
    load_document(minimal_document())
    assert "No conflicts" in text(client.get(f"{BASE}/conflicts"))


def _programme_queries(app, client, meetings: int) -> int:
    doc = travel_visit()
    doc["people"] += [{"key": f"p{n}", "name": f"Person {n}"} for n in range(20)]
    doc["meetings"] = [
        {
            "key": f"m{n}",
            "title": f"Meeting {n}",
            "start": f"2024-09-{25 + n % 3}T{8 + (n // 3) % 10:02d}:00",
            "end": f"2024-09-{25 + n % 3}T{8 + (n // 3) % 10:02d}:45",
            "venue": ("ipark", "tsukuba")[n % 2],
            "attendees": [{"person": f"p{(n + k) % 20}"} for k in range(3)],
        }
        for n in range(meetings)
    ]
    from scheduler.itinerary.document import import_itinerary

    with app.app_context():
        for existing in db.session.scalars(select(Delegation)).all():
            existing.key = f"old-{existing.id}"
        db.session.commit()
        import_itinerary(db.session, doc)
        db.session.commit()
        own_every_delegation()
        engine = db.engine
    # Outside the app context: the request gets its own session, as in production.
    with count_queries(engine) as statements:
        response = client.get(f"{BASE}?day=all")  # the whole visit, not one day
    assert response.status_code == 200
    assert response.get_data(as_text=True).count('<li class="meeting status-') == meetings
    return len(statements)


def test_programme_queries_do_not_grow_with_the_meetings(app, client, login):
    """50 against 700: past the 500 ids a selectinload batch holds, so batching would show."""
    few = _programme_queries(app, client, 50)
    many = _programme_queries(app, client, 700)
    assert many == few, (few, many)


# --------------------------------------------------------------------------- import, export


def upload(client, document, prune=False):
    body = document if isinstance(document, bytes) else json.dumps(document).encode()
    data = {"document": (io.BytesIO(body), "visit.json")}
    if prune:
        data["prune"] = "y"
    return post(client, "/delegations/import", data, content_type="multipart/form-data")


def test_an_uploaded_document_is_imported(client, app, login, reference_document):
    response = upload(client, reference_document)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/delegations/mss-japan-2024-09")
    page = text(client.get(response.headers["Location"] + "?day=all"))
    assert "Imported delegation 'mss-japan-2024-09'" in page
    assert "Decentralized clinical trials and AI healthcare" in page


def test_every_problem_of_an_invalid_document_is_shown_and_nothing_is_written(
    client, app, login, reference_document
):
    reference_document["meetings"][0]["end"] = "2024-09-25T13:00"  # before its start
    reference_document["meetings"][1]["venue"] = "nowhere"
    reference_document["people"][0]["organization"] = "unknown-org"
    response = upload(client, reference_document)
    assert response.status_code == 422
    page = text(response)
    assert "Nothing was imported." in page
    assert "3 problems" in page
    assert "<code>meetings[0].end</code>" in page
    assert "<code>meetings[1].venue</code> no venue with key 'nowhere'" in page
    assert "<code>people[0].organization</code>" in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Delegation)) == 0


def test_a_file_that_is_not_json_is_reported(client, app, login):
    page = text(upload(client, b"\xff\xfe not json"))
    assert "Nothing was imported." in page
    assert "<code>$</code>" in page


def test_the_import_needs_a_file(client, login):
    response = post(client, "/delegations/import", {}, content_type="multipart/form-data")
    assert "Choose a delegation-itinerary/1 JSON file or the programme .xlsx." in text(response)


def test_export_downloads_the_document(client, login, load_document, reference_document):
    load_document(reference_document)
    response = client.get("/delegations/mss-japan-2024-09/export.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith(
        'attachment; filename="mss-japan-2024-09-'
    )
    exported = json.loads(response.get_data(as_text=True))
    assert exported["delegation"]["key"] == "mss-japan-2024-09"
    assert len(exported["meetings"]) == len(reference_document["meetings"])
    assert client.get("/delegations/unknown/export.json").status_code == 404


def test_every_conflict_kind_the_engine_reports_has_a_label_and_a_section():
    from scheduler.itinerary.conflicts import KINDS, SEVERITY
    from scheduler.web.common import CONFLICT_KIND_LABELS, conflict_kinds

    assert set(CONFLICT_KIND_LABELS) == set(KINDS) == set(SEVERITY)
    assert [kind for kind, _ in conflict_kinds()] == list(KINDS)


def test_cancelled_meetings_are_shown_but_not_counted(client, login, load_document):
    document = travel_visit()
    document["meetings"].append(
        dict(document["meetings"][0], key="called-off", title="Called off", status="cancelled")
    )
    load_document(document)
    page = text(client.get(BASE))
    assert "Called off" in page
    assert "2 meetings" in page and "(and 1 cancelled)" in page
    assert "Wed 25 Sep <span" in page and "(2)</span>" in page and "(3)</span>" not in page


def test_travel_gaps_read_in_hours_and_overnight_as_the_next_day(client, login, load_document):
    document = travel_visit()
    document["meetings"][1]["start"] = "2024-09-25T13:30"
    document["meetings"][1]["end"] = "2024-09-25T14:00"
    document["meetings"].append(
        {
            "key": "next-morning",
            "title": "Next morning at iPark",
            "start": "2024-09-26T09:00",
            "end": "2024-09-26T10:00",
            "venue": "ipark",
            "attendees": [{"person": "lim"}],
        }
    )
    load_document(document)
    page = text(client.get(f"{BASE}?day=all"))
    assert "3 h 30 min between meetings" in page
    assert "next day: the previous meeting ended the day before at 14:00" in page
    assert "1140 min" not in page


def test_the_korean_name_in_the_list_carries_its_language(client, login, load_document):
    load_document(travel_visit(native_name="중소벤처기업부 방문단"))
    page = text(client.get("/delegations"))
    assert '<span class="native" lang="ko">중소벤처기업부 방문단</span>' in page
    assert 'lang=""' not in page


def test_the_coordinators_agenda_goes_back_to_its_delegation(client, login, load_document):
    load_document(travel_visit())
    page = text(client.get(f"{BASE}/agenda"))
    assert f'<a href="{BASE}">Back to the delegation</a>' in page
    assert '<link rel="icon" href="data:,">' in page


def test_stored_counts_follow_an_acknowledgement(app, load_document):
    from scheduler.itinerary.review import acknowledge_warning, meeting_versions
    from scheduler.itinerary.summary import open_conflict_counts, reviewed_conflicts

    document = minimal_document()
    document["people"] = [
        {"key": "lim", "name": "LIM", "languages": ["ko"]},
        {"key": "sato", "name": "Sato", "languages": ["ja"]},
    ]
    document["meetings"] = [
        {"key": "talk", "title": "Talk", "start": "2024-09-25T10:00", "end": "2024-09-25T11:00",
         "attendees": [{"person": "lim"}, {"person": "sato"}]},
    ]  # fmt: skip
    load_document(document)
    with app.app_context():
        delegation = db.session.scalar(select(Delegation))
        assert open_conflict_counts(db.session, [delegation], estimate_travel=True) == {
            delegation.id: (0, 1)
        }
        [gap] = reviewed_conflicts(db.session, delegation, estimate_travel=True)
        acknowledge_warning(
            db.session,
            delegation,
            gap.conflict,
            user_id=None,
            reason="They bring their own interpreter.",
            versions=meeting_versions(delegation.meetings),
        )
        db.session.commit()
        assert open_conflict_counts(db.session, [delegation], estimate_travel=True) == {
            delegation.id: (0, 0)
        }
