"""Operations on a delegation's own data: the delegation, organisations, people, venues with
their rooms, and travel times. The web forms validate, call these, and commit.

Each assigns only what changed, so the flush hook (scheduler.models.changes) writes history
for exactly the fields that moved, raises the programme's revision, and names the acting
account from ``session.info["actor"]``. Nothing here commits or knows about Flask.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from scheduler.itinerary.share_links import new_share_credentials
from scheduler.models import Delegation, Organization, Person, Room, TravelTime, Venue


def _assign(row, values: Mapping) -> None:
    """Set each value that differs (an unchanged assignment is no change, and no history)."""
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)


def create_delegation_row(values: Mapping) -> Delegation:
    """A new delegation with fresh share credentials (``imports.create_delegation`` adds it)."""
    delegation = Delegation(**new_share_credentials())
    _assign(delegation, values)
    return delegation


def update_delegation(session: Session, delegation: Delegation, values: Mapping) -> Delegation:
    """Change the delegation's own fields; its key is its identity and never changes."""
    _assign(delegation, {k: v for k, v in values.items() if k != "key"})
    session.flush()
    return delegation


def save_organization(
    session: Session, delegation: Delegation, organization: Organization | None, values: Mapping
) -> Organization:
    """Create (``organization`` None, ``values`` with its key) or change an organisation."""
    if organization is None:
        organization = Organization(delegation_id=delegation.id, key=values["key"])
        session.add(organization)
    _assign(organization, {k: v for k, v in values.items() if k != "key"})
    session.flush()
    return organization


def save_person(
    session: Session, delegation: Delegation, person: Person | None, values: Mapping
) -> Person:
    """Create (with its own share link) or change a person."""
    if person is None:
        person = Person(delegation_id=delegation.id, key=values["key"], **new_share_credentials())
        session.add(person)
    _assign(person, {k: v for k, v in values.items() if k != "key"})
    session.flush()
    return person


@dataclass(frozen=True)
class RoomValues:
    """One room as the venue form gives it: ``room`` None for a new one."""

    room: Room | None
    key: str
    name: str
    capacity: int | None


def save_venue(
    session: Session,
    delegation: Delegation,
    venue: Venue | None,
    values: Mapping,
    rooms: Iterable[RoomValues] = (),
) -> Venue:
    """Create or change a venue and its rooms (rooms are added or changed, never removed here)."""
    if venue is None:
        venue = Venue(delegation_id=delegation.id, key=values["key"])
        session.add(venue)
    _assign(venue, {k: v for k, v in values.items() if k != "key"})
    for wanted in rooms:
        room = wanted.room
        if room is None:
            room = Room(key=wanted.key)
            venue.rooms.append(room)
        _assign(room, {"name": wanted.name, "capacity": wanted.capacity})
    session.flush()
    return venue


def save_travel_time(
    session: Session, delegation: Delegation, travel: TravelTime | None, values: Mapping
) -> TravelTime:
    """Create or change a travel time between two of the delegation's venues."""
    if travel is None:
        travel = TravelTime(delegation_id=delegation.id)
        session.add(travel)
    _assign(travel, values)
    session.flush()
    return travel
