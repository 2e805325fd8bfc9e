"""The domain behind the pages, without a request: local times, stale saves, acknowledgements,
the programme's travel legs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from conftest import minimal_document
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text

from scheduler.extensions import db
from scheduler.itinerary.conflicts import check_delegation
from scheduler.itinerary.document import load_delegation
from scheduler.itinerary.editing import (
    MeetingChanges,
    StaleMeetingError,
    local_to_utc,
    repeated_wall_time_offsets,
    update_meeting,
    utc_to_form,
)
from scheduler.itinerary.programme import build_programme
from scheduler.itinerary.review import (
    acknowledge_warning,
    current_acknowledgements,
    meeting_versions,
    review_conflicts,
)
from scheduler.itinerary.times import WallClockError, zone
from scheduler.models import Meeting

ZONES = ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Tokyo", "Asia/Seoul"]


@settings(max_examples=150, deadline=None)
@given(
    instant=st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
    ),
    zone_name=st.sampled_from(ZONES),
)
def test_a_time_shown_in_the_form_saves_back_to_the_same_instant(instant, zone_name):
    instant = instant.replace(second=0, microsecond=0)
    wall, offset = utc_to_form(instant, zone_name)
    assert local_to_utc(wall, zone_name, offset) == instant


@settings(max_examples=150, deadline=None)
@given(
    wall=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31)),
    zone_name=st.sampled_from(ZONES),
)
def test_every_wall_time_names_no_instant_one_or_asks_which(wall, zone_name):
    """Brute force: the instants whose local time is this wall time, minute by minute."""
    wall = wall.replace(second=0, microsecond=0)
    tz = zone(zone_name)
    base = wall.replace(tzinfo=UTC)
    candidates = sorted(
        {
            base - timedelta(minutes=m)
            for m in range(-15 * 60, 15 * 60 + 1, 15)
            if (base - timedelta(minutes=m)).astimezone(tz).replace(tzinfo=None) == wall
        }
    )
    offsets = repeated_wall_time_offsets(wall, zone_name)
    if not candidates:
        with pytest.raises(WallClockError):
            local_to_utc(wall, zone_name)
    elif len(candidates) == 1:
        assert offsets == []
        assert local_to_utc(wall, zone_name) == candidates[0]
    else:
        with pytest.raises(WallClockError):
            local_to_utc(wall, zone_name)
        assert [local_to_utc(wall, zone_name, o) for o, _label in offsets] == candidates


def visit_document() -> dict:
    doc = minimal_document()
    doc["people"] = [
        {"key": "lim", "name": "LIM Jeong-wook", "languages": ["ko"]},
        {"key": "sato", "name": "Sato Hanako", "languages": ["ja"]},
    ]
    doc["venues"] = [
        {"key": "ipark", "name": "Shonan iPark", "timezone": "Asia/Tokyo"},
        {"key": "tsukuba", "name": "Tsukuba centre", "timezone": "Asia/Tokyo"},
    ]
    doc["travel_times"] = [{"from": "ipark", "to": "tsukuba", "minutes": 150, "mode": "car"}]
    doc["meetings"] = [
        {
            "key": "a",
            "title": "A",
            "start": "2024-09-25T09:00",
            "end": "2024-09-25T10:00",
            "venue": "ipark",
            "attendees": [{"person": "lim"}, {"person": "sato"}],
        },
        {
            "key": "b",
            "title": "B",
            "start": "2024-09-25T12:00",
            "end": "2024-09-25T13:00",
            "venue": "tsukuba",
            "attendees": [{"person": "lim"}],
        },
        {
            "key": "c",
            "title": "C",
            "start": "2024-09-25T12:00",
            "end": "2024-09-25T13:00",
            "venue": "ipark",
            "status": "cancelled",
            "attendees": [{"person": "sato"}],
        },
    ]
    return doc


def changes_of(meeting: Meeting, **overrides) -> MeetingChanges:
    values = {
        "title": meeting.title,
        "kind": meeting.kind,
        "status": meeting.status,
        "start": meeting.start,
        "end": meeting.end,
        "venue_id": meeting.venue_id,
        "room_id": meeting.room_id,
        "attendees": [(a.person_id, a.role) for a in meeting.attendances],
    }
    values.update(overrides)
    return MeetingChanges(**values)


def test_an_update_that_lost_a_race_is_refused_as_stale(app, load_document):
    """The version matched when the form was checked, but another UPDATE landed first."""
    load_document(visit_document())
    with app.app_context():
        meeting = db.session.scalar(select(Meeting).where(Meeting.key == "b"))
        seen = meeting.version
        # Another coordinator's save, committed on its own connection.
        with db.engine.begin() as other:
            other.execute(
                text("UPDATE meeting SET version = version + 1, title = 'Theirs' WHERE key = 'b'")
            )
        with pytest.raises(StaleMeetingError):
            update_meeting(
                db.session, meeting, changes_of(meeting, title="Mine"), expected_version=seen
            )
        db.session.rollback()
        assert db.session.scalar(select(Meeting.title).where(Meeting.key == "b")) == "Theirs"


def test_an_acknowledgement_holds_until_a_covered_meeting_changes(app, load_document):
    load_document(visit_document())
    with app.app_context():
        delegation = load_delegation(db.session, "test-visit")
        warning = next(
            c for c in check_delegation(db.session, delegation) if c.kind == "language_gap"
        )
        assert warning.meetings == ("a",)
        acknowledge_warning(
            db.session,
            delegation,
            warning,
            user_id=None,
            reason="Sato reads ko",
            versions=meeting_versions(delegation.meetings),
        )
        db.session.commit()

        def reviewed():
            fresh = load_delegation(db.session, "test-visit")
            acks = current_acknowledgements(db.session, fresh.id, meeting_versions(fresh.meetings))
            return {
                r.conflict.kind: r.is_open
                for r in review_conflicts(check_delegation(db.session, fresh), acks)
            }

        assert reviewed() == {"language_gap": False, "travel_time": True}
        other = db.session.scalar(select(Meeting).where(Meeting.key == "b"))
        update_meeting(
            db.session, other, changes_of(other, title="B2"), expected_version=other.version
        )
        db.session.commit()
        assert reviewed()["language_gap"] is False  # b is not covered by the warning
        covered = db.session.scalar(select(Meeting).where(Meeting.key == "a"))
        update_meeting(
            db.session, covered, changes_of(covered, title="A2"), expected_version=covered.version
        )
        db.session.commit()
        assert reviewed()["language_gap"] is True


def test_errors_cannot_be_acknowledged(app, load_document):
    load_document(visit_document())
    with app.app_context():
        delegation = load_delegation(db.session, "test-visit")
        error = next(c for c in check_delegation(db.session, delegation) if c.severity == "error")
        with pytest.raises(ValueError, match="only warnings"):
            acknowledge_warning(
                db.session,
                delegation,
                error,
                user_id=None,
                reason="x",
                versions=meeting_versions(delegation.meetings),
            )


def test_the_programme_shows_each_persons_travel_on_the_later_meeting(app, load_document):
    load_document(visit_document())
    with app.app_context():
        delegation = load_delegation(db.session, "test-visit")
        programme = build_programme(delegation)
        [day] = [d for d in programme.days if d.items]
        items = {item.meeting.key: item for item in day.items}
        assert [i.meeting.key for i in day.items] == ["a", "b", "c"]
        assert items["a"].arrivals == []
        [leg] = items["b"].arrivals
        assert (leg.from_venue.key, leg.to_venue.key) == ("ipark", "tsukuba")
        assert (leg.leg.minutes, leg.gap_minutes, leg.too_short) == (150, 120, True)
        assert [p.key for p in leg.people] == ["lim"]
        assert items["c"].arrivals == []  # cancelled: nobody travels to it
        assert items["a"].start.hour == 9  # local wall-clock time
        assert [d.day.isoformat() for d in programme.days] == [
            "2024-09-25",
            "2024-09-26",
            "2024-09-27",
        ]

        sato = next(p for p in delegation.people if p.key == "sato")
        mine = build_programme(delegation, person=sato)
        assert [i.meeting.key for d in mine.days for i in d.items] == ["a", "c"]
