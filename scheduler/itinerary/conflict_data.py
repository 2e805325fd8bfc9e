"""What the conflict rules read, as plain data: a snapshot of a delegation, loaded in fixed queries.

The rules in ``conflicts.py`` run on this snapshot, never on ORM objects, so that they run the
same on a delegation read from the database, on the neighbourhood of one proposed meeting, and on
itineraries a test or a benchmark builds in memory.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from scheduler.models import Attendance, Delegation, Meeting, Person, Room, TravelTime, Venue


@dataclass(frozen=True, slots=True)
class PersonInfo:
    id: int
    key: str
    name: str
    role: str = "delegation"
    languages: tuple[str, ...] = ()
    available_from: datetime | None = None
    available_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class VenueInfo:
    id: int
    key: str
    name: str
    timezone: str
    latitude: float | None = None
    longitude: float | None = None
    # Weekday ("mon".."sun") to [["HH:MM", "HH:MM"], ...]; None (or empty) means always open.
    opening_hours: Mapping[str, list] | None = None


@dataclass(frozen=True, slots=True)
class RoomInfo:
    id: int
    key: str
    name: str
    venue_id: int
    capacity: int | None = None


@dataclass(frozen=True, slots=True)
class TravelEntry:
    from_venue_id: int
    to_venue_id: int
    minutes: int
    mode: str | None = None


@dataclass(frozen=True, slots=True)
class MeetingInfo:
    id: int | None
    key: str
    title: str
    status: str
    start: datetime  # aware
    end: datetime
    venue_id: int | None = None
    room_id: int | None = None
    attendees: tuple[tuple[int, str], ...] = ()  # (person id, attendee role)


@dataclass(frozen=True, slots=True)
class DelegationSnapshot:
    key: str
    timezone: str
    start_date: date
    end_date: date
    people: Mapping[int, PersonInfo] = field(default_factory=dict)
    venues: Mapping[int, VenueInfo] = field(default_factory=dict)
    rooms: Mapping[int, RoomInfo] = field(default_factory=dict)
    travel_times: tuple[TravelEntry, ...] = ()
    meetings: tuple[MeetingInfo, ...] = ()


# --------------------------------------------------------------------------- loading

_PERSON_COLUMNS = (
    Person.id,
    Person.key,
    Person.name,
    Person.role,
    Person.languages,
    Person.available_from,
    Person.available_until,
)
_VENUE_COLUMNS = (
    Venue.id,
    Venue.key,
    Venue.name,
    Venue.timezone,
    Venue.latitude,
    Venue.longitude,
    Venue.opening_hours,
)
_ROOM_COLUMNS = (Room.id, Room.key, Room.name, Room.venue_id, Room.capacity)
_TRAVEL_COLUMNS = (
    TravelTime.from_venue_id,
    TravelTime.to_venue_id,
    TravelTime.minutes,
    TravelTime.mode,
)
_MEETING_COLUMNS = (
    Meeting.id,
    Meeting.key,
    Meeting.title,
    Meeting.status,
    Meeting.start,
    Meeting.end,
    Meeting.venue_id,
    Meeting.room_id,
)


def _person(row) -> PersonInfo:
    return PersonInfo(
        row.id,
        row.key,
        row.name,
        row.role,
        tuple(row.languages or ()),
        row.available_from,
        row.available_until,
    )


def _venue(row) -> VenueInfo:
    return VenueInfo(
        row.id, row.key, row.name, row.timezone, row.latitude, row.longitude, row.opening_hours
    )


def _snapshot(
    delegation: Delegation, people, venues, rooms, travel, meetings
) -> DelegationSnapshot:
    return DelegationSnapshot(
        key=delegation.key,
        timezone=delegation.timezone,
        start_date=delegation.start_date,
        end_date=delegation.end_date,
        people={row.id: _person(row) for row in people},
        venues={row.id: _venue(row) for row in venues},
        rooms={row.id: RoomInfo(*row) for row in rooms},
        travel_times=tuple(TravelEntry(*row) for row in travel),
        meetings=tuple(meetings),
    )


def load_snapshot(session: Session, delegation: Delegation) -> DelegationSnapshot:
    """Everything the rules read about one delegation, in six queries whatever its size.

    Cancelled meetings take part in no rule, so they are not read at all.
    """
    did = delegation.id
    people = session.execute(select(*_PERSON_COLUMNS).where(Person.delegation_id == did)).all()
    venues = session.execute(select(*_VENUE_COLUMNS).where(Venue.delegation_id == did)).all()
    rooms = session.execute(
        select(*_ROOM_COLUMNS)
        .join(Venue, Room.venue_id == Venue.id)
        .where(Venue.delegation_id == did)
    ).all()
    travel = session.execute(select(*_TRAVEL_COLUMNS).where(TravelTime.delegation_id == did)).all()
    active = and_(Meeting.delegation_id == did, Meeting.status != "cancelled")
    # In the engine's rank order, so that it need not sort: keys compared by code point, as
    # Python compares them (SQLite's default; a PostgreSQL database's locale may not be).
    key = (
        Meeting.key.collate("C") if session.get_bind().dialect.name == "postgresql" else Meeting.key
    )
    meeting_rows = session.execute(
        select(*_MEETING_COLUMNS).where(active).order_by(Meeting.start, Meeting.end, key)
    ).all()
    attendees: dict[int, list[tuple[int, str]]] = {}
    for meeting_id, person_id, role in session.execute(
        select(Attendance.meeting_id, Attendance.person_id, Attendance.role)
        .join(Meeting, Attendance.meeting_id == Meeting.id)
        .where(active)
        .order_by(Attendance.meeting_id, Attendance.position, Attendance.id)
    ):
        attendees.setdefault(meeting_id, []).append((person_id, role))
    meetings = [
        MeetingInfo(*row, attendees=tuple(attendees.get(row.id, ()))) for row in meeting_rows
    ]
    return _snapshot(delegation, people, venues, rooms, travel, meetings)


def load_neighbourhood(
    session: Session,
    delegation: Delegation,
    proposal: MeetingInfo,
) -> DelegationSnapshot:
    """The proposal and only the meetings it can conflict with, in at most nine queries.

    For each of its people: the meetings that overlap it, the one(s) starting first at or after
    it ends (its next meeting), and those ending after every other meeting of theirs that starts
    before it (the meetings whose next one it may be). Plus the meetings overlapping it in its
    room. A neighbour carries only the attendances of the proposal's people, so the snapshot
    answers only for conflicts that involve the proposal.
    """
    did = delegation.id
    person_ids = sorted({person_id for person_id, _ in proposal.attendees})
    people = []
    if person_ids:
        people = session.execute(
            select(*_PERSON_COLUMNS).where(Person.delegation_id == did, Person.id.in_(person_ids))
        ).all()
    others = [Meeting.delegation_id == did, Meeting.status != "cancelled"]
    if proposal.id is not None:
        others.append(Meeting.id != proposal.id)
    overlapping = and_(Meeting.start < proposal.end, Meeting.end > proposal.start)

    # (person id, attendee role, *meeting columns), or only the meeting columns for the room's.
    rows = _people_neighbours(session, proposal, [row.id for row in people], others, overlapping)
    room = None
    if proposal.room_id is not None:
        room = session.execute(select(*_ROOM_COLUMNS).where(Room.id == proposal.room_id)).first()
        rows += session.execute(
            select(*_MEETING_COLUMNS).where(
                *others, overlapping, Meeting.room_id == proposal.room_id
            )
        ).all()
    meetings = [proposal, *_neighbour_meetings(rows)]
    venues, travel = _places(session, did, proposal, meetings)
    return _snapshot(delegation, people, venues, [room] if room else [], travel, meetings)


def _people_neighbours(session: Session, proposal: MeetingInfo, person_ids, others, overlapping):
    """The people's meetings that overlap the proposal, come next after it, or come before it."""
    if not person_ids:
        return []
    mine = and_(*others, Attendance.person_id.in_(person_ids))

    def attended():
        return select(Attendance.person_id, Attendance.role, *_MEETING_COLUMNS).join(
            Meeting, Attendance.meeting_id == Meeting.id
        )

    rows = list(session.execute(attended().where(mine, overlapping)).all())
    first_after = (
        select(Attendance.person_id, func.min(Meeting.start).label("at"))
        .join(Meeting, Attendance.meeting_id == Meeting.id)
        .where(mine, Meeting.start >= proposal.end)
        .group_by(Attendance.person_id)
        .subquery()
    )
    rows += session.execute(
        attended()
        .join(
            first_after,
            and_(
                first_after.c.person_id == Attendance.person_id,
                Meeting.start == first_after.c.at,
            ),
        )
        .where(*others)
    ).all()
    # A meeting A has the proposal P as its next one only if no meeting of the same person
    # starts in [A.end, P.start): so A ends after the last start before P.start.
    last_before = (
        select(Attendance.person_id, func.max(Meeting.start).label("at"))
        .join(Meeting, Attendance.meeting_id == Meeting.id)
        .where(mine, Meeting.start < proposal.start)
        .group_by(Attendance.person_id)
        .subquery()
    )
    rows += session.execute(
        attended()
        .join(last_before, last_before.c.person_id == Attendance.person_id)
        .where(*others, Meeting.end > last_before.c.at, Meeting.end <= proposal.start)
    ).all()
    return rows


def _neighbour_meetings(rows) -> list[MeetingInfo]:
    """One MeetingInfo per meeting found, with the attendances of the proposal's people."""
    neighbours: dict[int, tuple] = {}
    attendees: dict[int, set[tuple[int, str]]] = {}
    for row in rows:
        meeting = tuple(row[-len(_MEETING_COLUMNS) :])
        neighbours[meeting[0]] = meeting
        people_of = attendees.setdefault(meeting[0], set())
        if len(row) > len(_MEETING_COLUMNS):
            people_of.add((row[0], row[1]))
    return [
        MeetingInfo(*columns, attendees=tuple(sorted(attendees[mid])))
        for mid, columns in neighbours.items()
    ]


def _places(session: Session, did: int, proposal: MeetingInfo, meetings) -> tuple[list, list]:
    """The venues of these meetings, and the travel times to or from the proposal's venue."""
    venue_ids = {m.venue_id for m in meetings if m.venue_id is not None}
    if not venue_ids:
        return [], []
    venues = session.execute(
        select(*_VENUE_COLUMNS).where(Venue.delegation_id == did, Venue.id.in_(venue_ids))
    ).all()
    travel = []
    if len(venue_ids) > 1 and proposal.venue_id is not None:
        travel = session.execute(
            select(*_TRAVEL_COLUMNS).where(
                TravelTime.delegation_id == did,
                or_(
                    TravelTime.from_venue_id == proposal.venue_id,
                    TravelTime.to_venue_id == proposal.venue_id,
                ),
            )
        ).all()
    return venues, travel
