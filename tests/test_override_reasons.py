"""Saving despite errors: the reason shows wherever the error shows, not only on the meeting.

The conflicts page, the programme's badges and the coordinators' agenda and PDF each carry
the reason of the latest override that covered the error, for as long as the error exists.
"""

from __future__ import annotations

import io

import pypdf
import pytest
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.itinerary.conflicts import check_delegation
from scheduler.itinerary.review import record_override
from scheduler.models import Delegation, Meeting
from tests.conftest import fetch_pdf, minimal_document

KEY = "test-visit"
REASON = "The minister joins the second meeting by video."


def _clashing_document() -> dict:
    """One person in two meetings at the same time: a person_double_booked error."""
    document = minimal_document()
    document["people"] = [{"key": "lim", "name": "LIM Jeong-wook", "role": "delegation"}]
    document["meetings"] = [
        {
            "key": key,
            "title": title,
            "kind": "meeting",
            "status": "confirmed",
            "start": "2024-09-25T10:00",
            "end": "2024-09-25T11:00",
            "attendees": [{"person": "lim"}],
        }
        for key, title in (("first", "Breakfast briefing"), ("second", "Ministry call"))
    ]
    return document


@pytest.fixture
def saved_despite_errors(app, user, load_document):
    load_document(_clashing_document())
    with app.app_context():
        delegation = db.session.scalar(select(Delegation).where(Delegation.key == KEY))
        errors = [
            c
            for c in check_delegation(db.session, delegation, estimate_travel=False)
            if c.severity == "error"
        ]
        assert [c.kind for c in errors] == ["person_double_booked"]
        meeting = db.session.scalar(select(Meeting).where(Meeting.key == "second"))
        record_override(db.session, meeting, errors, user_id=user, reason="An earlier reason.")
        record_override(db.session, meeting, errors, user_id=user, reason=REASON)
        db.session.commit()


def test_the_conflicts_page_shows_the_latest_reason_and_who_gave_it(
    client, login, saved_despite_errors
):
    page = client.get(f"/delegations/{KEY}/conflicts").get_data(as_text=True)
    assert REASON in page
    assert "An earlier reason." not in page
    assert "coordinator@example.org" in page


def test_the_programme_badge_carries_the_reason(client, login, saved_despite_errors):
    page = client.get(f"/delegations/{KEY}").get_data(as_text=True)
    # Under both meetings the double booking names.
    assert page.count(REASON) == 2


def test_the_coordinators_agenda_and_pdf_carry_the_reason(client, login, saved_despite_errors):
    html = client.get(f"/delegations/{KEY}/agenda").get_data(as_text=True)
    assert REASON in html
    pdf = fetch_pdf(client, f"/delegations/{KEY}/agenda.pdf")
    assert pdf.status_code == 200
    text = " ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf.data)).pages)
    assert "minister joins the second meeting" in " ".join(text.split())


def test_without_an_override_no_reason_is_shown(app, client, login, load_document):
    load_document(_clashing_document())
    page = client.get(f"/delegations/{KEY}/conflicts").get_data(as_text=True)
    assert "Saved despite this" not in page
    assert "Person double-booked" in page


def test_an_override_after_the_pdf_was_cached_shows_in_the_next_pdf(app, client, login, user):
    """An override raises no revision; the cached coordinators' PDF must not hide it."""

    def pdf_text() -> str:
        pdf = fetch_pdf(client, f"/delegations/{KEY}/agenda.pdf")
        assert pdf.status_code == 200
        pages = pypdf.PdfReader(io.BytesIO(pdf.data)).pages
        return " ".join(" ".join(page.extract_text() for page in pages).split())

    with app.app_context():
        from scheduler.itinerary.document import import_itinerary
        from tests.conftest import own_every_delegation

        import_itinerary(db.session, _clashing_document())
        db.session.commit()
        own_every_delegation()
    assert "minister joins" not in pdf_text()
    with app.app_context():
        delegation = db.session.scalar(select(Delegation).where(Delegation.key == KEY))
        revision = delegation.revision
        errors = [
            c
            for c in check_delegation(db.session, delegation, estimate_travel=False)
            if c.severity == "error"
        ]
        meeting = db.session.scalar(select(Meeting).where(Meeting.key == "second"))
        record_override(db.session, meeting, errors, user_id=user, reason=REASON)
        db.session.commit()
        assert db.session.get(Delegation, delegation.id).revision == revision
    assert "minister joins the second meeting" in pdf_text()
