"""The meetings of a share link's feed read as plain rows: what the events show, and no more.

Loading 500 meetings with their attendees, venues and organisations as ORM objects took most
of a feed rebuild's time (identity map, instance state, lazy-load machinery for thousands of
objects) even when every event's bytes were already kept. A feed only reads, so five narrow
column queries fill small plain objects with the attribute names ``feeds`` reads on a
``Meeting``. After a release the meetings are the release's (``releases.published_meetings``,
fed the same plain venues, people and organisations). The share pages keep their own loading
(``releases.shared_meetings``); tests/test_feed_loading.py checks both give the same feed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from scheduler.itinerary.times import meeting_zone_name
from scheduler.models import (
    Attendance,
    Delegation,
    Meeting,
    MeetingOrganization,
    Organization,
    Person,
    Room,
    Venue,
)


@dataclass(slots=True)
class FeedVenue:
    id: int
    key: str
    name: str
    native_name: str | None
    address: str | None
    timezone: str
    latitude: float | None
    longitude: float | None
    rooms: list[FeedRoom] = field(default_factory=list)


@dataclass(slots=True)
class FeedRoom:
    id: int
    key: str
    name: str


@dataclass(slots=True)
class FeedPerson:
    id: int
    key: str
    name: str
    native_name: str | None
    title: str | None
    email: str | None

    display_name = property(Person.display_name.fget)


@dataclass(slots=True)
class FeedOrganization:
    id: int
    key: str
    name: str
    native_name: str | None


@dataclass(slots=True)
class FeedAttendance:
    person: FeedPerson
    person_id: int
    role: str
    position: int


@dataclass(slots=True)
class FeedMeeting:
    id: int
    key: str
    title: str
    native_title: str | None
    kind: str
    status: str
    start: datetime
    end: datetime
    venue: FeedVenue | None
    room: FeedRoom | None
    online_url: str | None
    agenda: str | None
    sequence: int
    created_at: datetime
    updated_at: datetime
    zone_name: str
    attendances: list[FeedAttendance] = field(default_factory=list)
    organizations: list[FeedOrganization] = field(default_factory=list)

    @property
    def is_cancelled(self) -> bool:
        return self.status == "cancelled"


@dataclass
class FeedDelegation:
    """What ``releases.published_meetings`` reads of a loaded delegation."""

    id: int
    timezone: str
    venues: list[FeedVenue]
    people: list[FeedPerson]
    organizations: list[FeedOrganization]


def _venues(connection: Connection, delegation: Delegation) -> dict[int, FeedVenue]:
    venues = {
        row.id: FeedVenue(*row)
        for row in connection.execute(
            select(
                Venue.id,
                Venue.key,
                Venue.name,
                Venue.native_name,
                Venue.address,
                Venue.timezone,
                Venue.latitude,
                Venue.longitude,
            )
            .where(Venue.delegation_id == delegation.id)
            .order_by(Venue.key)
        ).all()
    }
    rooms = connection.execute(
        select(Room.venue_id, Room.id, Room.key, Room.name)
        .join(Venue, Venue.id == Room.venue_id)
        .where(Venue.delegation_id == delegation.id)
        .order_by(Room.venue_id, Room.key)
    ).all()
    for venue_id, *room in rooms:
        venues[venue_id].rooms.append(FeedRoom(*room))
    return venues


_PERSON_COLUMNS = (
    Person.id,
    Person.key,
    Person.name,
    Person.native_name,
    Person.title,
    Person.email,
)


def feed_programme(
    session: Session, delegation: Delegation, person: Person | None = None
) -> list[FeedMeeting]:
    """The meetings of the feed of ``delegation`` (or of ``person``), in feed order: the latest
    release's once there is one, else the draft's."""
    from scheduler.itinerary.releases import latest_release

    if session.autoflush:
        session.flush()  # the column queries below go to the connection, past autoflush
    release = latest_release(session, delegation.id)
    if release is not None:
        return _released(session, delegation, release, person)
    return _draft(session, delegation, person)


def _draft(session: Session, delegation: Delegation, person: Person | None) -> list[FeedMeeting]:
    shown = select(Meeting.id).where(Meeting.delegation_id == delegation.id)
    if person is not None:
        attended = select(Attendance.meeting_id).where(Attendance.person_id == person.id)
        shown = shown.where(Meeting.id.in_(attended))
    connection = session.connection()
    venues = _venues(connection, delegation)
    rooms = {room.id: room for venue in venues.values() for room in venue.rooms}
    home = delegation.timezone
    meetings: dict[int, FeedMeeting] = {}
    rows = connection.execute(
        select(
            Meeting.id,
            Meeting.key,
            Meeting.title,
            Meeting.native_title,
            Meeting.kind,
            Meeting.status,
            Meeting.start,
            Meeting.end,
            Meeting.venue_id,
            Meeting.room_id,
            Meeting.online_url,
            Meeting.agenda,
            Meeting.sequence,
            Meeting.created_at,
            Meeting.updated_at,
        )
        .where(Meeting.id.in_(shown))
        .order_by(Meeting.start, Meeting.end, Meeting.key)
    ).all()
    for (id_, key, title, native_title, kind, status, start, end, venue_id, room_id,
         online_url, agenda, sequence, created_at, updated_at) in rows:  # fmt: skip
        venue = venues.get(venue_id) if venue_id is not None else None
        meetings[id_] = FeedMeeting(
            id_,
            key,
            title,
            native_title,
            kind,
            status,
            start,
            end,
            venue,
            rooms.get(room_id) if room_id is not None else None,
            online_url,
            agenda,
            sequence,
            created_at,
            updated_at,
            meeting_zone_name(venue, home),
            [],
            [],
        )
    if not meetings:
        return []
    people: dict[int, FeedPerson] = {}
    attendances = connection.execute(
        select(Attendance.meeting_id, Attendance.role, Attendance.position, *_PERSON_COLUMNS)
        .join(Person, Person.id == Attendance.person_id)
        .where(Attendance.meeting_id.in_(shown))
        .order_by(Attendance.meeting_id, Attendance.position, Attendance.id)
    ).all()
    for meeting_id, role, position, *who in attendances:
        found = people.get(who[0])
        if found is None:
            found = people[who[0]] = FeedPerson(*who)
        meetings[meeting_id].attendances.append(FeedAttendance(found, found.id, role, position))
    organizations: dict[int, FeedOrganization] = {}
    links = connection.execute(
        select(
            MeetingOrganization.meeting_id,
            Organization.id,
            Organization.key,
            Organization.name,
            Organization.native_name,
        )
        .join(Organization, Organization.id == MeetingOrganization.organization_id)
        .where(MeetingOrganization.meeting_id.in_(shown))
        .order_by(MeetingOrganization.meeting_id, MeetingOrganization.position)
    ).all()
    for meeting_id, *organization in links:
        found = organizations.get(organization[0])
        if found is None:
            found = organizations[organization[0]] = FeedOrganization(*organization)
        meetings[meeting_id].organizations.append(found)
    return list(meetings.values())


def _released(session: Session, delegation: Delegation, release, person: Person | None) -> list:
    from scheduler.itinerary.releases import published_meetings

    connection = session.connection()
    people = [
        FeedPerson(*row)
        for row in connection.execute(
            select(*_PERSON_COLUMNS)
            .where(Person.delegation_id == delegation.id)
            .order_by(Person.key)
        ).all()
    ]
    organizations = [
        FeedOrganization(*row)
        for row in connection.execute(
            select(Organization.id, Organization.key, Organization.name, Organization.native_name)
            .where(Organization.delegation_id == delegation.id)
            .order_by(Organization.key)
        ).all()
    ]
    loaded = FeedDelegation(
        delegation.id,
        delegation.timezone,
        list(_venues(connection, delegation).values()),
        people,
        organizations,
    )
    meetings = published_meetings(loaded, release)
    if person is not None:
        meetings = [m for m in meetings if any(a.person_id == person.id for a in m.attendances)]
    return meetings
