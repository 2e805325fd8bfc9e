"""The request pages: list, form, matrix, and a suggestion run in the background, applied."""

import time

from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import HistoryEntry, Meeting, MeetingRequest, SuggestionRun
from tests.conftest import csrf_token_from, own_every_delegation

KEY = "mss-japan-2024-09"


def _ready(app, client, load_document, reference_document, login):
    load_document(reference_document)
    with app.app_context():
        own_every_delegation()
    page = client.get(f"/delegations/{KEY}/requests").get_data(as_text=True)
    return csrf_token_from(page)


def test_matrix_suggest_apply(app, client, login, load_document, reference_document):
    token = _ready(app, client, load_document, reference_document, login)
    page = client.get(f"/delegations/{KEY}/requests/matrix").get_data(as_text=True)
    assert "CEfO Bio" in page and "Mediport" in page
    response = client.post(
        f"/delegations/{KEY}/requests/matrix",
        data={
            "csrf_token": token,
            "pair": ["cefo|mediport", "cefo|nemoto"],
            "venues": ["shonan-ipark"],
            "duration_minutes": "30",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        keys = sorted(db.session.scalars(select(MeetingRequest.key)))
        assert keys == ["match-cefo-mediport", "match-cefo-nemoto"]
        assert db.session.scalar(
            select(HistoryEntry).where(HistoryEntry.entity == "meeting_request")
        )
    began = time.monotonic()
    response = client.post(
        f"/delegations/{KEY}/suggest", data={"csrf_token": token, "time_limit": "3"}
    )
    assert response.status_code == 302
    assert time.monotonic() - began < 1.0  # the search runs in the background
    for _ in range(100):
        state = client.get(f"/delegations/{KEY}/suggest/status.json").get_json()["state"]
        if state == "done":
            break
        time.sleep(0.1)
    assert state == "done"
    page = client.get(f"/delegations/{KEY}/suggest").get_data(as_text=True)
    assert "2 placed, 0 unplaced" in page and "proposed" in page
    with app.app_context():
        run_id = db.session.scalar(select(SuggestionRun.id))
    response = client.post(
        f"/delegations/{KEY}/suggest/apply", data={"csrf_token": token, "run_id": str(run_id)}
    )
    assert response.status_code == 302
    with app.app_context():
        meetings = db.session.scalars(select(Meeting).where(Meeting.key.like("match-%"))).all()
        assert {m.status for m in meetings} == {"tentative"} and len(meetings) == 2
    page = client.get(f"/delegations/{KEY}/requests").get_data(as_text=True)
    assert page.count("placed · tentative") == 2


def test_the_form_names_the_wrong_field(app, client, login, load_document, reference_document):
    token = _ready(app, client, load_document, reference_document, login)
    response = client.post(
        f"/delegations/{KEY}/requests/new",
        data={"csrf_token": token, "title": "X", "duration_minutes": "3"},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "duration_minutes" in page and "attendees" in page and "venues" in page
    response = client.post(
        f"/delegations/{KEY}/requests/new",
        data={
            "csrf_token": token,
            "title": "Lunch with CMIC",
            "attendees": ["lim", "nakamura"],
            "venues": ["cmic-tokyo"],
            "duration_minutes": "60",
            "not_before": "2024-09-27T11:00",
            "priority": "must",
            "interpreter": "if_needed",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        r = db.session.scalar(select(MeetingRequest))
        assert r.key == "lunch-with-cmic" and r.priority == "must"
