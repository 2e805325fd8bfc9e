"""Pages that load what they show (issues 17 and 18): the same programme, fewer rows read.

The programme's day view reads one day's meetings (and the earlier meetings its travel notes
come from), a person's page that person's meetings, and both reuse the delegation's conflict
check made at its revision. Each is compared here with the whole programme built from the
fully loaded delegation and a fresh check, and their query counts at 50 and 2,000 meetings.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from conftest import count_queries
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.itinerary.conflicts import check_delegation
from scheduler.itinerary.document import load_delegation
from scheduler.itinerary.programme import build_programme
from scheduler.itinerary.programme_loading import day_counts, day_programme, person_meetings
from scheduler.itinerary.review import acknowledge_warning, meeting_versions
from scheduler.itinerary.summary import delegation_conflicts, reviewed_conflicts
from scheduler.models import Delegation, Meeting, Person

ROOT = Path(__file__).resolve().parent.parent


def _bench():
    spec = importlib.util.spec_from_file_location("bench_pages", ROOT / "bench" / "pages.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def generated(meetings: int) -> dict:
    """The benchmark's delegation, with one venue far away (its days straddle UTC's)."""
    document = _bench().generate_document(meetings)
    document["venues"][5]["timezone"] = "America/Los_Angeles"
    return document


def _seen(items) -> list:
    """What a programme row shows of a meeting: its key, badges and travel notes."""
    return [
        (
            item.meeting.key,
            item.start,
            [(b.kind, b.severity, b.acknowledged, b.messages) for b in item.badges],
            [
                (
                    note.from_venue.key,
                    note.to_venue.key,
                    note.leg,
                    note.gap_minutes,
                    tuple(p.key for p in note.people),
                )
                for note in item.arrivals
            ],
        )
        for item in items
    ]


def _days(programme) -> list:
    return [(d.day, d.within_visit, d.meeting_count, d.cancelled_count) for d in programme.days]


def _acknowledge_a_warning(key: str) -> None:
    delegation = load_delegation(db.session, key)
    conflicts = check_delegation(db.session, delegation)
    warning = next((c for c in conflicts if c.severity == "warning"), None)
    if warning is not None:
        acknowledge_warning(
            db.session,
            delegation,
            warning,
            user_id=None,
            reason="fine",
            versions=meeting_versions(delegation.meetings),
        )
        db.session.commit()


def _whole(key: str):
    """The programme as it was built before: the loaded delegation and a fresh check."""
    loaded = load_delegation(db.session, key)
    reviewed = reviewed_conflicts(db.session, loaded, estimate_travel=True)
    whole = build_programme(loaded, reviewed)
    people = {
        p.key: {
            "days": _days(mine := build_programme(loaded, reviewed, person=p)),
            "items": [_seen(d.items) for d in mine.days],
        }
        for p in loaded.people
    }
    result = (
        _days(whole),
        {d.day: _seen(d.items) for d in whole.days},
        people,
        [(r.conflict, r.is_open) for r in reviewed],
    )
    db.session.remove()
    return result


@pytest.mark.parametrize("visit", ["reference", "generated"])
def test_the_day_and_person_views_show_what_the_whole_programme_shows(
    app, load_document, reference_document, visit
):
    document = reference_document if visit == "reference" else generated(300)
    key = document["delegation"]["key"]
    load_document(document)
    with app.app_context():
        _acknowledge_a_warning(key)
        days, items, people, conflicts = _whole(key)
        assert any(item[2] for shown in items.values() for item in shown)  # badges to compare
        assert any(item[3] for shown in items.values() for item in shown)  # and travel notes

        delegation = db.session.scalar(select(Delegation).where(Delegation.key == key))
        reviewed = reviewed_conflicts(db.session, delegation, estimate_travel=True, cached=True)
        assert [(r.conflict, r.is_open) for r in reviewed] == conflicts
        counts = day_counts(db.session, delegation)
        for day in items:
            db.session.expunge_all()  # nothing loaded by the day before
            delegation = db.session.scalar(select(Delegation).where(Delegation.key == key))
            shown = day_programme(db.session, delegation, reviewed, day, counts)
            assert _days(shown) == days
            (today,) = [d for d in shown.days if d.day == day]
            for got, want in zip(_seen(today.items), items[day], strict=True):
                assert got[3] == want[3], (day, got[0])
                assert got == want

        for person_key, expected in people.items():
            db.session.expunge_all()
            delegation = db.session.scalar(select(Delegation).where(Delegation.key == key))
            person = db.session.scalar(
                select(Person).where(
                    Person.delegation_id == delegation.id, Person.key == person_key
                )
            )
            mine = build_programme(
                delegation, reviewed, person=person, meetings=person_meetings(db.session, person)
            )
            assert _days(mine) == expected["days"], person_key
            assert [_seen(d.items) for d in mine.days] == expected["items"], person_key


def test_the_check_is_reused_until_the_programme_changes(app, load_document):
    document = generated(300)
    load_document(document)
    key = document["delegation"]["key"]
    with app.app_context():
        delegation = db.session.scalar(select(Delegation).where(Delegation.key == key))
        first = delegation_conflicts(db.session, delegation, estimate_travel=True)
        assert delegation_conflicts(db.session, delegation, estimate_travel=True) is first
        assert list(first) == check_delegation(db.session, delegation)
        revision = delegation.revision
        meeting = db.session.scalar(
            select(Meeting).where(Meeting.delegation_id == delegation.id, Meeting.key == "m1")
        )
        other = db.session.scalar(
            select(Meeting).where(Meeting.delegation_id == delegation.id, Meeting.key == "m2")
        )
        meeting.start, meeting.end = other.start, other.end  # a new double booking, perhaps
        meeting.room_id = other.room_id = None
        meeting.attendances[0].person_id = other.attendances[0].person_id
        db.session.commit()
        assert delegation.revision > revision
        again = delegation_conflicts(db.session, delegation, estimate_travel=True)
        assert again is not first
        assert list(again) == check_delegation(db.session, delegation)
        assert list(again) != list(first)


# --------------------------------------------------------------------------- query counts


def _page_queries(app, client, load_document, size: int) -> dict[str, int]:
    document = _bench().generate_document(size)
    key = document["delegation"]["key"] = f"bench-{size}"
    load_document(document)
    base = f"/delegations/{key}"
    with app.app_context():
        delegation_id = db.session.scalar(select(Delegation.id).where(Delegation.key == key))
        first = db.session.scalar(
            select(Meeting.start).where(Meeting.delegation_id == delegation_id, Meeting.key == "m1")
        ).date()
        engine = db.engine
    pages = {
        "programme (first day)": base,
        "programme (a day)": f"{base}?day={first.isoformat()}",
        "person programme": f"{base}/people/p1",
        "conflicts": f"{base}/conflicts",
    }
    counts = {}
    for name, path in pages.items():
        for reuse in (False, True):  # the first request checks, the next reuses the check
            with count_queries(engine) as statements:
                response = client.get(path)
            assert response.status_code == 200, path
            assert "<h1>" in response.get_data(as_text=True)
            counts[name, reuse] = len(statements)
    return counts


def test_the_pages_run_the_same_queries_however_big_the_delegation(
    app, client, load_document, login
):
    """Issue 18 point 2 and issue 17: the programme's day, a person's page and the conflicts
    page cost as many statements at 2,000 meetings as at 50, checked or reusing the check."""
    few = _page_queries(app, client, load_document, 50)
    many = _page_queries(app, client, load_document, 2000)
    assert many == few
