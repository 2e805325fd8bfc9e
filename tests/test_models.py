"""The data model's guarantees: optimistic locking, aware instants, keys per delegation,
foreign keys (also on SQLite), the room-of-its-venue rule, SEQUENCE and revision bookkeeping,
and the import's update-in-place semantics (nothing deleted; --prune only cancels)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from scheduler.extensions import db
from scheduler.itinerary.document import dump_document, export_itinerary
from scheduler.itinerary.share_links import new_share_credentials
from scheduler.models import (
    Attendance,
    Delegation,
    Meeting,
    Organization,
    Person,
    Room,
    Venue,
)

KEY = "mss-japan-2024-09"


def meeting(session, key: str, delegation_key: str = KEY) -> Meeting:
    return session.scalar(
        select(Meeting).join(Delegation).where(Delegation.key == delegation_key, Meeting.key == key)
    )


def keyed(session, model, key: str, delegation_key: str = KEY):
    return session.scalar(
        select(model).join(Delegation).where(Delegation.key == delegation_key, model.key == key)
    )


def revision(session, delegation_key: str = KEY) -> int:
    return session.scalar(select(Delegation.revision).where(Delegation.key == delegation_key))


def snapshot(app) -> dict:
    """Every row of every table (ids, versions and timestamps included)."""
    with app.app_context():
        state = {
            table.name: db.session.execute(select(table).order_by(*table.primary_key.columns)).all()
            for table in db.metadata.sorted_tables
        }
        db.session.remove()
    return state


# --------------------------------------------------------------------------- optimistic locking


def test_an_update_from_a_stale_copy_is_refused(app, reference_document, load_document):
    load_document(reference_document)
    with app.app_context():
        mine = meeting(db.session, "cmic")  # the copy a coordinator's form was built from
        with Session(db.engine) as theirs:  # meanwhile, someone else moves the meeting
            other = meeting(theirs, "cmic")
            other.start += timedelta(minutes=30)
            other.end += timedelta(minutes=30)
            theirs.commit()
            moved_to = other.start

        mine.title = "Decentralised trials (my edit)"
        with pytest.raises(StaleDataError) as refused:
            db.session.commit()
        assert "expected to update 1 row(s); 0 were matched" in str(refused.value)
        db.session.rollback()

        fresh = meeting(db.session, "cmic")
        assert fresh.title == "Decentralized clinical trials and AI healthcare"
        assert fresh.start == moved_to
        assert fresh.version == 2  # theirs, applied once; mine never


def test_an_edit_made_before_an_import_is_refused_after_it(app, reference_document, load_document):
    """A form opened before a re-import must not overwrite what the import changed."""
    load_document(reference_document)
    changed = copy.deepcopy(reference_document)
    changed["meetings"][3]["title"] = "Regenerative medicine exchange (from the import)"
    with app.app_context(), Session(db.engine) as editor:
        stale = meeting(editor, "astellas")
        load_document(changed)
        stale.agenda = "typed in a form opened before the import"
        with pytest.raises(StaleDataError):
            editor.commit()
        editor.rollback()
        assert meeting(editor, "astellas").title.endswith("(from the import)")
        assert meeting(editor, "astellas").agenda == reference_document["meetings"][3]["agenda"]


def test_the_import_raises_the_version_of_what_it_changes(app, reference_document, load_document):
    load_document(reference_document)
    changed = copy.deepcopy(reference_document)
    changed["meetings"][2]["attendees"].pop()  # attendee list only
    load_document(changed)
    with app.app_context():
        versions = dict(db.session.execute(select(Meeting.key, Meeting.version)).all())
    assert versions["move-in-tour"] == 2
    assert {k: v for k, v in versions.items() if k != "move-in-tour"} == {
        m["key"]: 1 for m in reference_document["meetings"] if m["key"] != "move-in-tour"
    }


# --------------------------------------------------------------------------- instants


def test_utc_datetime_refuses_naive_datetimes(session, reference_document, load_document):
    load_document(reference_document)
    target = meeting(session, "meti")
    target.end = datetime(2024, 9, 27, 18, 0)  # no zone: which 18:00?
    with pytest.raises(StatementError) as refused:
        session.flush()
    assert isinstance(refused.value.orig, ValueError)
    assert "naive datetime" in str(refused.value)
    session.rollback()


def test_utc_datetime_stores_the_instant_and_reads_back_utc(
    session, reference_document, load_document
):
    load_document(reference_document)
    target = meeting(session, "meti")
    seoul = timezone(timedelta(hours=9))
    target.start = datetime(2024, 9, 27, 15, 30, tzinfo=seoul)
    session.commit()
    session.expire_all()
    stored = meeting(session, "meti").start
    assert stored.tzinfo is not None and stored.utcoffset() == timedelta(0)
    assert stored == datetime(2024, 9, 27, 6, 30, tzinfo=UTC)


# --------------------------------------------------------------------------- constraints


def test_foreign_keys_are_enforced(session):
    if db.engine.dialect.name == "sqlite":
        assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1
    session.add(Venue(delegation_id=987654, key="hotel", name="Nowhere", timezone="Asia/Tokyo"))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def _clone(obj, **changes):
    """A new row with the same column values (a new id), for constraint tests."""
    columns = {
        attr.key: getattr(obj, attr.key)
        for attr in inspect(obj).mapper.column_attrs
        if attr.key not in ("id", "share_selector", "share_secret")
    }
    if hasattr(obj, "share_selector"):
        columns.update(new_share_credentials())
    return type(obj)(**{**columns, **changes})


@pytest.mark.parametrize(
    ("model", "key"),
    [(Organization, "mss"), (Person, "lim"), (Venue, "shonan-ipark"), (Meeting, "cmic")],
    ids=lambda v: v if isinstance(v, str) else v.__name__,
)
def test_keys_are_unique_per_delegation(
    session, reference_document, load_document, minimal_doc, model, key
):
    load_document(reference_document)
    load_document(minimal_doc)  # a second delegation
    other = session.scalar(select(Delegation).where(Delegation.key == "test-visit"))
    original = keyed(session, model, key)
    unrelated = {"venue_id": None, "room_id": None} if model is Meeting else {}
    if model is Person:
        unrelated = {"organization_id": None}
    # The same key in another delegation is another record...
    session.add(_clone(original, delegation_id=other.id, **unrelated))
    session.commit()
    assert session.scalar(select(func.count()).where(model.key == key)) == 2
    # ...but twice in one delegation is refused by the database itself.
    session.add(_clone(original, **unrelated))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_room_keys_are_unique_per_venue(session, reference_document, load_document):
    load_document(reference_document)
    venue = keyed(session, Venue, "shonan-ipark")
    session.add(Room(venue_id=keyed(session, Venue, "cmic-tokyo").id, key="hall", name="Hall"))
    session.commit()  # the same room key at another venue is fine
    session.add(Room(venue_id=venue.id, key="hall", name="Second hall"))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_two_delegations_may_both_have_a_venue_hotel(app, load_document, minimal_doc):
    first = copy.deepcopy(minimal_doc)
    first["venues"] = [{"key": "hotel", "name": "Hotel Okura", "timezone": "Asia/Tokyo"}]
    second = copy.deepcopy(first)
    second["delegation"]["key"] = "second-visit"
    second["venues"][0]["name"] = "Palace Hotel"
    load_document(first)
    with app.app_context():
        first_export = dump_document(export_itinerary(db.session, "test-visit"))
        first_rows = db.session.execute(select(Delegation.revision, Delegation.updated_at)).all()
    load_document(second)
    with app.app_context():
        names = db.session.execute(
            select(Delegation.key, Venue.name).join(Venue.delegation).where(Venue.key == "hotel")
        ).all()
        assert sorted(names) == [("second-visit", "Palace Hotel"), ("test-visit", "Hotel Okura")]
        # Importing one delegation never changes another.
        assert dump_document(export_itinerary(db.session, "test-visit")) == first_export
        assert (
            db.session.execute(
                select(Delegation.revision, Delegation.updated_at).where(
                    Delegation.key == "test-visit"
                )
            ).all()
            == first_rows
        )


def test_a_room_of_another_venue_is_refused_by_the_database(
    session, reference_document, load_document
):
    load_document(reference_document)
    visit = meeting(session, "astellas")  # at Astellas Tsukuba, which has no rooms
    conf_a = session.scalar(select(Room).where(Room.key == "conf-a"))  # at Shonan iPark
    visit.room_id = conf_a.id
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()
    visit = meeting(session, "astellas")
    visit.venue_id, visit.room_id = conf_a.venue_id, conf_a.id  # moving there too is fine
    session.commit()


# --------------------------------------------------------------------------- SEQUENCE and revision


def _move_to_cmic(m: Meeting, session) -> None:
    m.venue_id = keyed(session, Venue, "cmic-tokyo").id
    m.room_id = None


SCHEDULING_CHANGES = {
    "start": lambda m, s: setattr(m, "start", m.start - timedelta(minutes=15)),
    "end": lambda m, s: setattr(m, "end", m.end + timedelta(minutes=15)),
    "venue": _move_to_cmic,
    "room": lambda m, s: setattr(m, "room_id", s.scalar(select(Room.id).where(Room.key == "hall"))),
    "status": lambda m, s: setattr(m, "status", "tentative"),
}
OTHER_CHANGES = {
    "title": lambda m, s: setattr(m, "title", "A new title"),
    "native_title": lambda m, s: setattr(m, "native_title", "新しい題名"),
    "agenda": lambda m, s: setattr(m, "agenda", "A new agenda"),
    "internal_notes": lambda m, s: setattr(m, "internal_notes", "call the bank"),
    "kind": lambda m, s: setattr(m, "kind", "briefing"),
}


@pytest.mark.parametrize(
    ("change", "raises_sequence"),
    [(name, True) for name in SCHEDULING_CHANGES] + [(name, False) for name in OTHER_CHANGES],
)
def test_sequence_goes_up_on_time_place_or_status_only(
    session, reference_document, load_document, change, raises_sequence
):
    load_document(reference_document)
    target = meeting(session, "cro-consortium")
    sequence, version, rev = target.sequence, target.version, revision(session)
    updated = target.updated_at
    {**SCHEDULING_CHANGES, **OTHER_CHANGES}[change](target, session)
    session.commit()
    session.expire_all()
    target = meeting(session, "cro-consortium")
    assert target.sequence == sequence + (1 if raises_sequence else 0)
    assert target.version == version + 1
    assert target.updated_at > updated
    assert revision(session) == rev + 1


def test_sequence_through_the_import(app, reference_document, load_document):
    load_document(reference_document)
    changed = copy.deepcopy(reference_document)
    changed["meetings"][0]["title"] = "Retitled"  # no SEQUENCE
    changed["meetings"][1]["start"] = "2024-09-26T10:30"  # SEQUENCE
    changed["meetings"][2]["status"] = "confirmed"  # was tentative: SEQUENCE
    changed["meetings"][4]["venue"] = "meti-tokyo"  # SEQUENCE
    load_document(changed)
    with app.app_context():
        sequences = dict(db.session.execute(select(Meeting.key, Meeting.sequence)).all())
    assert sequences == {
        "cro-consortium": 0,
        "company-pitches": 1,
        "move-in-tour": 1,
        "astellas": 0,
        "cmic": 1,
        "meti": 0,
    }


def test_revision_goes_up_on_a_change_and_not_on_a_no_op_reimport(
    app, reference_document, load_document
):
    load_document(reference_document)
    with app.app_context():
        first = revision(db.session)
    assert first == 1
    assert not load_document(reference_document).changed_anything
    with app.app_context():
        assert revision(db.session) == first
    changed = copy.deepcopy(reference_document)
    changed["meetings"][0]["title"] = "Retitled"
    changed["meetings"][1]["attendees"].pop()
    changed["people"].append({"key": "aide", "name": "An aide"})
    assert load_document(changed).changed_anything
    with app.app_context():
        second = revision(db.session)
    assert second == first + 1  # one import, one revision, however many rows it changed
    load_document(changed)
    with app.app_context():
        assert revision(db.session) == second


def test_renaming_the_delegation_is_a_new_version_of_the_programme(
    session, reference_document, load_document
):
    load_document(reference_document)
    before = revision(session)
    delegation = session.scalar(select(Delegation).where(Delegation.key == KEY))
    delegation.name = "MSS bio delegation to Japan"
    session.commit()
    assert revision(session) == before + 1


def test_rotating_share_links_is_not_a_new_version_of_the_programme(
    session, reference_document, load_document
):
    from scheduler.itinerary.share_links import rotate_share_link

    load_document(reference_document)
    before = revision(session)
    delegation = session.scalar(select(Delegation).where(Delegation.key == KEY))
    rotate_share_link(delegation)
    rotate_share_link(delegation.people[0])
    session.commit()
    assert revision(session) == before


def test_importing_twice_changes_nothing(app, reference_document, load_document):
    load_document(reference_document)
    before = snapshot(app)
    result = load_document(reference_document)
    assert not result.changed_anything
    assert snapshot(app) == before


# --------------------------------------------------------------------------- update in place


def test_update_in_place_changes_adds_replaces_and_deletes_nothing(
    app, reference_document, load_document
):
    load_document(reference_document)
    before = snapshot(app)
    with app.app_context():
        ids_before = dict(db.session.execute(select(Meeting.key, Meeting.id)).all())

    changed = copy.deepcopy(reference_document)
    changed["meetings"][0]["title"] = "CRO consortium: support for Korean companies"
    changed["meetings"][1]["attendees"] = [  # park leaves, yoon joins, lim no longer chairs
        {"person": "yoon", "role": "chair"},
        {"person": "lim"},
        {"person": "fujimoto"},
        {"person": "interp-kim", "role": "interpreter"},
        {"person": "kvic-rep", "role": "optional"},
    ]
    # New entities referring to each other, added to an existing delegation.
    changed["organizations"].append({"key": "kotra", "name": "KOTRA Tokyo", "country": "KR"})
    changed["people"][2]["organization"] = "kotra"  # park changes organisation
    changed["venues"].append(
        {
            "key": "okura",
            "name": "The Okura Tokyo",
            "timezone": "Asia/Tokyo",
            "rooms": [{"key": "heian", "name": "Heian room", "capacity": 40}],
        }
    )
    changed["meetings"].append(
        {
            "key": "farewell-dinner",
            "title": "Farewell dinner",
            "kind": "meal",
            "start": "2024-09-27T18:30",
            "end": "2024-09-27T20:30",
            "venue": "okura",
            "room": "heian",
            "organizations": ["kotra", "mss"],
            "attendees": [{"person": "lim"}, {"person": "park"}],
        }
    )
    # Whole entities left out of the document: the meeting at METI and what only it uses.
    changed["meetings"] = [m for m in changed["meetings"] if m["key"] != "meti"]
    changed["venues"] = [v for v in changed["venues"] if v["key"] != "meti-tokyo"]
    changed["travel_times"] = [
        t for t in changed["travel_times"] if "meti-tokyo" not in (t["from"], t["to"])
    ]
    changed["travel_times"].append({"from": "cmic-tokyo", "to": "okura", "minutes": 15})
    changed["people"] = [p for p in changed["people"] if p["key"] != "meti-director"]
    changed["organizations"] = [o for o in changed["organizations"] if o["key"] != "meti"]

    result = load_document(changed)
    assert result.added["meeting"] == 1
    assert result.cancelled == 0
    after = snapshot(app)
    with app.app_context():
        session = db.session
        ids_after = dict(session.execute(select(Meeting.key, Meeting.id)).all())
        # Updated in place: the same rows, by key.
        assert {k: ids_after[k] for k in ids_before} == ids_before
        assert meeting(session, "cro-consortium").title.startswith("CRO consortium")
        dinner = meeting(session, "farewell-dinner")
        assert (dinner.venue.key, dinner.room.key) == ("okura", "heian")
        assert dinner.room.venue_id == dinner.venue_id
        assert [o.key for o in dinner.organizations] == ["kotra", "mss"]
        assert keyed(session, Person, "park").organization.key == "kotra"
        pitches = meeting(session, "company-pitches")
        assert [(a.person.key, a.role) for a in pitches.attendances] == [
            ("yoon", "chair"),
            ("lim", "required"),
            ("fujimoto", "required"),
            ("interp-kim", "interpreter"),
            ("kvic-rep", "optional"),
        ]
        # Nothing deleted: every row that was there is still there, the METI meeting as it was.
        meti = meeting(session, "meti")
        assert meti.status == "confirmed" and meti.venue.key == "meti-tokyo"
        assert keyed(session, Person, "meti-director") is not None
        assert keyed(session, Organization, "meti") is not None
        assert session.scalar(select(func.count(Attendance.id))) == len(after["attendance"])
    for table in ("organization", "person", "venue", "room", "travel_time", "meeting"):
        assert len(after[table]) >= len(before[table]), table
        kept = {row[0] for row in after[table]}
        assert {row[0] for row in before[table]} <= kept, table


def test_prune_cancels_unlisted_meetings_and_keeps_them(app, reference_document, load_document):
    load_document(reference_document)
    shorter = copy.deepcopy(reference_document)
    shorter["meetings"] = [m for m in shorter["meetings"] if m["key"] not in ("cmic", "meti")]

    result = load_document(shorter)  # without --prune: nothing is cancelled
    assert result.cancelled == 0
    with app.app_context():
        statuses = dict(db.session.execute(select(Meeting.key, Meeting.status)).all())
    assert statuses["cmic"] == statuses["meti"] == "confirmed"

    result = load_document(shorter, prune=True)
    assert result.cancelled == 2
    with app.app_context():
        rows = {m.key: m for m in db.session.scalars(select(Meeting))}
        assert len(rows) == 6  # kept, not deleted
        assert {k for k, m in rows.items() if m.status == "cancelled"} == {"cmic", "meti"}
        assert rows["cmic"].sequence == 1  # calendars learn it is off
        assert rows["astellas"].status == "confirmed"
        assert len(rows["cmic"].attendances) == 3  # its attendees stay on record
        db.session.remove()

    assert load_document(shorter, prune=True).cancelled == 0  # already cancelled
    load_document(reference_document)  # listed again: the document's status holds
    with app.app_context():
        assert meeting(db.session, "cmic").status == "confirmed"


@pytest.fixture
def minimal_doc():
    from tests.conftest import minimal_document

    return minimal_document()


# --------------------------------------------------------------------------- bulk writes


def _programme(reference: dict, copies: int) -> dict:
    """The reference visit with its meetings repeated `copies` times (one day later each)."""
    document = copy.deepcopy(reference)
    meetings = []
    for n in range(copies):
        for m in reference["meetings"]:
            m = copy.deepcopy(m)
            m["key"] = f"{m['key']}-{n}"
            for end in ("start", "end"):
                stamp = datetime.fromisoformat(m[end]) + timedelta(days=n)
                m[end] = stamp.strftime("%Y-%m-%dT%H:%M")
            meetings.append(m)
    document["meetings"] = meetings
    document["people"] += [{"key": f"aide-{n}", "name": f"Aide {n}"} for n in range(copies)]
    return document


def test_the_import_writes_in_bulk_not_per_row(app, reference_document, monkeypatch):
    """The same number of statements for 6 meetings as for 120: no statement per row."""
    from scheduler.itinerary.document import import_itinerary
    from scheduler.models import bulk
    from tests.conftest import count_queries

    # PostgreSQL's COPY goes through psycopg's cursor, unseen by SQLAlchemy's events, so a
    # batch past the threshold would drop out of the count; one statement a table either way.
    monkeypatch.setattr(bulk, "COPY_THRESHOLD", 10**9)
    counts = {}
    for copies in (1, 20):
        document = _programme(reference_document, copies)
        document["delegation"]["key"] = f"bulk-{copies}"
        with app.app_context():
            with count_queries(db.engine) as statements:
                import_itinerary(db.session, copy.deepcopy(document))
                db.session.commit()
            with count_queries(db.engine) as again:
                assert not import_itinerary(db.session, copy.deepcopy(document)).changed_anything
                db.session.commit()
            counts[copies] = (len(statements), len(again))
            assert (
                db.session.scalar(
                    select(func.count(Meeting.id))
                    .join(Delegation)
                    .where(Delegation.key == f"bulk-{copies}")
                )
                == 6 * copies
            )
            db.session.remove()
    assert counts[1] == counts[20], counts
    assert counts[20][0] <= 20, counts
