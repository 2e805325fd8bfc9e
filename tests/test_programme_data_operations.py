"""The operations behind the people, venue and delegation forms, called without any request.

Only changed fields are assigned, so history names exactly what moved, and saving the same
values again writes nothing.
"""

from __future__ import annotations

from sqlalchemy import func, select

from scheduler.extensions import db
from scheduler.models import Delegation, HistoryEntry, Person, TravelTime, Venue
from scheduler.operations import programme_data
from tests.conftest import minimal_document


def _entries() -> int:
    return db.session.scalar(select(func.count()).select_from(HistoryEntry))


def test_people_venues_and_travel_times_are_saved_with_exact_history(app, load_document):
    load_document(minimal_document())
    with app.app_context():
        delegation = db.session.scalar(select(Delegation))
        person = programme_data.save_person(
            db.session, delegation, None, {"key": "lim", "name": "LIM", "role": "delegation"}
        )
        hall = programme_data.save_venue(
            db.session,
            delegation,
            None,
            {"key": "hall", "name": "Hall", "timezone": "Asia/Tokyo"},
            [programme_data.RoomValues(None, "a", "Room A", 12)],
        )
        office = programme_data.save_venue(
            db.session,
            delegation,
            None,
            {"key": "office", "name": "Office", "timezone": "Asia/Tokyo"},
        )
        programme_data.save_travel_time(
            db.session,
            delegation,
            None,
            {"from_venue_id": hall.id, "to_venue_id": office.id, "minutes": 30, "mode": "car"},
        )
        db.session.commit()
        before = _entries()

        programme_data.save_person(
            db.session, delegation, person, {"name": "LIM", "role": "delegation"}
        )
        db.session.commit()
        assert _entries() == before  # nothing changed, nothing written

        programme_data.save_person(db.session, delegation, person, {"title": "Deputy Minister"})
        programme_data.update_delegation(db.session, delegation, {"key": "ignored", "host": "MSS"})
        db.session.commit()
        entries = db.session.scalars(
            select(HistoryEntry).order_by(HistoryEntry.id.desc()).limit(2)
        ).all()
        assert {(e.entity, e.key): e.changes for e in entries} == {
            ("person", "lim"): {"title": [None, "Deputy Minister"]},
            ("delegation", "test-visit"): {"host": [None, "MSS"]},
        }
        assert delegation.key == "test-visit"
        assert db.session.scalar(select(Person.title)) == "Deputy Minister"
        assert [
            r.key for r in db.session.scalar(select(Venue).where(Venue.key == "hall")).rooms
        ] == ["a"]
        assert db.session.scalar(select(TravelTime.minutes)) == 30
