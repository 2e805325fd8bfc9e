"""ETag and Last-Modified of a feed, stored so that any worker answers 304 without building it.

The ETag is a strong hash of the bytes. The first build of a feed stores it with a
fingerprint of everything those bytes depend on: whose feed it is and its share token, the
delegation's ``revision`` (the flush hook, scheduler.models.changes, raises it on every change
to the delegation's own fields and to its people, venues, rooms, organisations, meetings and
attendance), the delegation's own fields that the feed shows (which the revision covers too;
kept as a cheap second guard), the settings, and the code and zone data that write the bytes.
A request whose fingerprint matches the stored one gets the stored validators; any other
builds the feed and stores new ones.

Why this never hands out a stale ETag: a request reads the delegation (and its revision)
before the meetings, and every change to the meetings raises the revision in the same
transaction. So bytes stored under revision R are those of R or of something newer; a
newer state has a higher revision, and its requests do not match R's fingerprint.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from importlib import metadata

import icalendar
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.calendar.feeds import FEED_FORMAT_VERSION, FeedSettings
from scheduler.i18n import current_language
from scheduler.models import CalendarFeedValidator, Delegation, Person


@dataclass(frozen=True)
class FeedValidators:
    etag: str  # unquoted
    last_modified: datetime
    body: bytes | None = None  # the stored bytes, when read from the store


def feed_kind(entity: Delegation | Person) -> str:
    return "delegation" if isinstance(entity, Delegation) else "person"


def etag_of(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


@lru_cache(maxsize=1)
def _writer_versions() -> tuple[str, str]:
    """The library and zone data that write the bytes: an upgrade must not reuse old ETags."""
    try:
        tzdata = metadata.version("tzdata")
    except metadata.PackageNotFoundError:
        tzdata = ""
    return icalendar.__version__, tzdata


def person_state(session: Session, delegation: Delegation, person: Person) -> str:
    """A digest of everything one person's feed shows, read cheaply (a few narrow queries).

    After a release the feed shows the release, so the release's id is the whole state: draft
    edits cost nothing. Before one: the person's meetings (id, version, updated_at, venue,
    room), their attendances with the names of everyone named in them, the venues, rooms and
    organisations they refer to. An edit elsewhere in the delegation changes none of this.
    """
    from scheduler.itinerary.releases import latest_release
    from scheduler.models import (
        Attendance,
        Meeting,
        MeetingOrganization,
        Organization,
        Room,
        Venue,
    )

    release = latest_release(session, delegation.id)
    if release is not None:
        return f"release-{release.id}"
    attended = select(Attendance.meeting_id).where(Attendance.person_id == person.id)
    meetings = session.execute(
        select(*Meeting.__table__.c)
        .where(Meeting.delegation_id == delegation.id, Meeting.id.in_(attended))
        .order_by(Meeting.id)
    ).all()
    ids = [row.id for row in meetings]
    digest = hashlib.sha256(repr(meetings).encode())
    if ids:
        attendees = session.execute(
            select(
                Attendance.meeting_id,
                Attendance.person_id,
                Attendance.role,
                Attendance.position,
                *(c for c in Person.__table__.c if c.name not in ("share_secret",)),
            )
            .join(Person, Person.id == Attendance.person_id)
            .where(Attendance.meeting_id.in_(ids))
            .order_by(Attendance.meeting_id, Attendance.id)
        ).all()
        venue_ids = {row.venue_id for row in meetings if row.venue_id is not None}
        room_ids = {row.room_id for row in meetings if row.room_id is not None}
        venues = session.execute(
            select(*Venue.__table__.c).where(Venue.id.in_(venue_ids)).order_by(Venue.id)
        ).all()
        rooms = session.execute(
            select(*Room.__table__.c).where(Room.id.in_(room_ids)).order_by(Room.id)
        ).all()
        organizations = session.execute(
            select(
                MeetingOrganization.meeting_id,
                MeetingOrganization.position,
                *Organization.__table__.c,
            )
            .join(Organization, Organization.id == MeetingOrganization.organization_id)
            .where(MeetingOrganization.meeting_id.in_(ids))
            .order_by(MeetingOrganization.meeting_id, MeetingOrganization.position)
        ).all()
        for rows in (attendees, venues, rooms, organizations):
            digest.update(repr(rows).encode())
    return digest.hexdigest()


def feed_fingerprint(
    entity: Delegation | Person,
    delegation: Delegation,
    settings: FeedSettings,
    state: str | None = None,
) -> str:
    """Whose feed, through which link, in which state. ``state``: a person's (person_state);
    None: the delegation-wide ``revision``."""
    parts = [
        FEED_FORMAT_VERSION,
        *_writer_versions(),
        feed_kind(entity),
        entity.id,
        entity.share_token,
        delegation.id,
        delegation.revision if state is None else state,
        delegation.key,
        delegation.name,
        delegation.native_name,
        delegation.timezone,
        settings.base_url,
        settings.uid_domain,
        # The feed's own words ("Cancelled:", "Agenda:") follow the reader's language.
        current_language(),
    ]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()


def _stored_row(session: Session, entity: Delegation | Person, with_body: bool = False):
    return session.execute(
        select(
            CalendarFeedValidator.fingerprint,
            CalendarFeedValidator.etag,
            CalendarFeedValidator.last_modified,
            *((CalendarFeedValidator.body,) if with_body else ()),
        ).where(
            CalendarFeedValidator.feed_kind == feed_kind(entity),
            CalendarFeedValidator.entity_id == entity.id,
        )
    ).first()


def stored_validators(
    session: Session, entity: Delegation | Person, fingerprint: str, *, with_body: bool = False
) -> FeedValidators | None:
    """The validators stored for exactly this state of the feed, or None; WITH_BODY, its
    bytes too (a 304 needs none: a 5,000-event feed's 7 MB read cost it 4 ms)."""
    row = _stored_row(session, entity, with_body=with_body)
    if row is None or row.fingerprint != fingerprint:
        return None
    return FeedValidators(row.etag, row.last_modified, row.body if with_body else None)


def store_validators(
    session: Session,
    entity: Delegation | Person,
    fingerprint: str,
    body: bytes,
    data_changed_at: datetime,
) -> FeedValidators:
    """Store the validators of freshly built bytes; the caller commits.

    Last-Modified is when the data last changed, except that new bytes never get a date at
    or before the previous bytes' (a change to the delegation's own fields moves no
    timestamp), so If-Modified-Since stays honest too. No clock is read: every worker
    derives the same date from the same rows.
    """
    etag = etag_of(body)
    last_modified = data_changed_at
    previous = _stored_row(session, entity)
    if previous is not None:
        if previous.etag == etag:
            last_modified = previous.last_modified
        elif last_modified <= previous.last_modified:
            last_modified = previous.last_modified + timedelta(seconds=1)
    values = {
        "feed_kind": feed_kind(entity),
        "entity_id": entity.id,
        "fingerprint": fingerprint,
        "etag": etag,
        "last_modified": last_modified,
        "body": body,
    }
    _upsert(session, values)
    return FeedValidators(etag, last_modified)


def _upsert(session: Session, values: dict) -> None:
    """One statement, so two workers building the same feed at once do not collide."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - we ship for SQLite and PostgreSQL
        raise RuntimeError(f"no upsert for database {dialect!r}")
    statement = insert(CalendarFeedValidator).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=["feed_kind", "entity_id"],
        set_={
            name: statement.excluded[name]
            for name in ("fingerprint", "etag", "last_modified", "body")
        },
    )
    session.execute(statement)
