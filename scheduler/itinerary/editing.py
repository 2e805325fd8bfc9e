"""Editing meetings from the coordinators' forms: created, saved, cancelled, restored.

No Flask in here: the views turn form input into a ``MeetingChanges`` and call these, and tests
call them directly. Meetings are never deleted. Every save checks the version the coordinator
saw, so an edit made on a stale copy is refused instead of silently overwriting someone's work;
the other forms (people, organisations, venues, travel times, the delegation) carry an edit
stamp of the values they opened with, compared the same way (``edit_stamp``).
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from scheduler.itinerary.document import KEY_PATTERN
from scheduler.itinerary.times import (
    WallClockError,
    is_ambiguous,
    offset_text,
    parse_document_datetime,
    to_local,
    zone,
)
from scheduler.models import Attendance, Delegation, Meeting, MeetingOrganization

KEY_RE = re.compile(KEY_PATTERN)  # the document's key pattern, for the forms
KEY_MAX = 64


def edit_stamp(values: Mapping[str, object]) -> str:
    """The values a form opened with, as text the page carries back with the save."""
    return json.dumps(_plain(values), sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def changed_since(stamp: str | None, values: Mapping[str, object]) -> list[str]:
    """The names whose value now differs from the stamp's; all of them when it is unreadable.

    A save whose form opened with other values than the row has now would overwrite what
    someone else saved meanwhile: the view refuses it and shows what changed.
    """
    try:
        opened = json.loads(stamp) if stamp else None
    except ValueError:
        opened = None
    if not isinstance(opened, dict):
        return list(values)
    now = _plain(values)
    return [name for name in values if name not in opened or opened[name] != now[name]]


def _plain(values: Mapping[str, object]) -> dict:
    """JSON's view of the values (datetimes as text, tuples as lists), so both sides compare."""
    return json.loads(json.dumps(dict(values), default=str))


class StaleMeetingError(Exception):
    """The meeting changed after the coordinator opened it; ``meeting_id`` says which one."""

    def __init__(self, meeting_id: int):
        self.meeting_id = meeting_id
        super().__init__("this meeting was changed by someone else after you opened it")


class TooManyMeetings(Exception):
    """The delegation already has the most meetings one may have (``DOCUMENT_MAX_MEETINGS``,
    the limit an import keeps to as well)."""

    def __init__(self, limit: int):
        self.limit = limit
        super().__init__(
            f"a delegation may have at most {limit:,} meetings (setting DOCUMENT_MAX_MEETINGS)"
        )


def meeting_limit() -> int:
    """The setting an import checks too, from the app's configuration when there is one."""
    from flask import current_app, has_app_context

    from scheduler.itinerary.json_input import Limits

    if has_app_context():
        return Limits.from_config(current_app.config).max_meetings
    return Limits().max_meetings


# --------------------------------------------------------------------------- local times


def repeated_wall_time_offsets(wall: datetime, zone_name: str) -> list[tuple[str, str]]:
    """For a wall-clock time the zone repeats: (offset, label) of each occurrence, first first."""
    tz = zone(zone_name)
    if not is_ambiguous(wall, tz):
        return []
    choices = []
    for fold, which in ((0, "first"), (1, "second")):
        aware = wall.replace(tzinfo=tz, fold=fold)
        offset = offset_text(aware.utcoffset())
        label = f"{wall:%H:%M} {aware.tzname()} (UTC{offset}), the {which} time"
        choices.append((offset, label))
    return choices


def local_to_utc(wall: datetime, zone_name: str, offset: str | None = None) -> datetime:
    """A wall-clock time entered in a form (naive), in the zone, as a UTC instant.

    Raises WallClockError for a skipped time, or a repeated one without an offset saying which.
    """
    text = wall.replace(tzinfo=None, second=0, microsecond=0).isoformat(timespec="minutes")
    if offset:
        valid = dict(repeated_wall_time_offsets(wall, zone_name))
        if valid and offset not in valid:
            raise WallClockError(
                f"{offset} is not an offset of {wall:%Y-%m-%d %H:%M} in {zone_name}"
            )
        if valid:
            text += offset  # an offset left over from an earlier answer is ignored otherwise
    return parse_document_datetime(text, zone_name)


def utc_to_form(instant: datetime, zone_name: str) -> tuple[datetime, str | None]:
    """The naive wall time a form shows for an instant, and the offset where the time repeats."""
    local = to_local(instant, zone_name)
    wall = local.replace(tzinfo=None)
    return wall, offset_text(local.utcoffset()) if is_ambiguous(wall, local.tzinfo) else None


# --------------------------------------------------------------------------- keys


def slugify(text: str) -> str:
    """A key made from a title: lowercase ASCII words joined by single '-'."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:48].strip("-") or "meeting"


def unused_meeting_key(session: Session, delegation_id: int, base: str) -> str:
    """``base``, or ``base-2``, ``base-3``... whichever the delegation does not use yet."""
    base = base[: KEY_MAX - 4].strip("-")
    taken = set(
        session.scalars(
            select(Meeting.key).where(
                Meeting.delegation_id == delegation_id, Meeting.key.like(f"{base}%")
            )
        )
    )
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


# --------------------------------------------------------------------------- saving


@dataclass
class MeetingChanges:
    """A meeting as the edit form says it should be; times already UTC instants."""

    title: str
    kind: str
    status: str
    start: datetime
    end: datetime
    venue_id: int | None = None
    room_id: int | None = None
    native_title: str | None = None
    online_url: str | None = None
    agenda: str | None = None
    internal_notes: str | None = None
    attendees: list[tuple[int, str]] = field(default_factory=list)  # (person id, role)
    organization_ids: list[int] = field(default_factory=list)


def _set_attendees(meeting: Meeting, attendees: list[tuple[int, str]]) -> None:
    """Keep the rows of people who stay (one row per person and meeting), add and drop the rest."""
    existing = {a.person_id: a for a in meeting.attendances}
    wanted = []
    for position, (person_id, role) in enumerate(attendees):
        row = existing.pop(person_id, None) or Attendance(person_id=person_id)
        if row.role != role:
            row.role = role
        if row.position != position:
            row.position = position
        wanted.append(row)
    meeting.attendances = wanted


def _set_organizations(meeting: Meeting, organization_ids: list[int]) -> None:
    existing = {link.organization_id: link for link in meeting.organization_links}
    wanted = []
    for position, organization_id in enumerate(organization_ids):
        link = existing.pop(organization_id, None) or MeetingOrganization(
            organization_id=organization_id
        )
        if link.position != position:
            link.position = position
        wanted.append(link)
    meeting.organization_links = wanted


def _assign(meeting: Meeting, changes: MeetingChanges) -> None:
    for name in (
        "title",
        "native_title",
        "kind",
        "status",
        "start",
        "end",
        "venue_id",
        "room_id",
        "online_url",
        "agenda",
        "internal_notes",
    ):
        value = getattr(changes, name)
        if getattr(meeting, name) != value:
            setattr(meeting, name, value)
    _set_attendees(meeting, changes.attendees)
    _set_organizations(meeting, changes.organization_ids)


@contextmanager
def _refused_if_stale(session: Session, meeting: Meeting):
    """A concurrent UPDATE that got there first (at any flush) becomes a StaleMeetingError."""
    meeting_id = meeting.id
    try:
        yield
        session.flush()
    except StaleDataError:
        session.rollback()
        raise StaleMeetingError(meeting_id) from None


def check_version(meeting: Meeting, expected_version: int | None) -> None:
    """Refuse a change made on a copy of another version (or on no known version at all)."""
    if meeting.version != expected_version:
        raise StaleMeetingError(meeting.id)


def _changed_by(session: Session, meeting: Meeting, user_id: int | None) -> None:
    """Remember who made the change, if anything changed (so a no-op save stays one)."""
    if session.is_modified(meeting) or any(session.is_modified(a) for a in meeting.attendances):
        meeting.updated_by_id = user_id


def create_meeting(
    session: Session,
    delegation: Delegation,
    changes: MeetingChanges,
    key: str | None = None,
    *,
    user_id: int | None = None,
) -> Meeting:
    """A new meeting of the delegation; its key from the title when none is given.
    TooManyMeetings when the delegation already has as many as one may have."""
    limit = meeting_limit()
    count = session.scalar(
        select(func.count(Meeting.id)).where(Meeting.delegation_id == delegation.id)
    )
    if count >= limit:
        raise TooManyMeetings(limit)
    meeting = Meeting(
        delegation_id=delegation.id,
        key=key or unused_meeting_key(session, delegation.id, slugify(changes.title)),
        updated_by_id=user_id,
    )
    session.add(meeting)
    _assign(meeting, changes)
    session.flush()
    return meeting


def update_meeting(
    session: Session,
    meeting: Meeting,
    changes: MeetingChanges,
    *,
    expected_version: int | None,
    user_id: int | None = None,
) -> Meeting:
    """Apply the form's values to the meeting the coordinator opened at ``expected_version``."""
    check_version(meeting, expected_version)
    with _refused_if_stale(session, meeting):
        _assign(meeting, changes)
        _changed_by(session, meeting, user_id)
    return meeting


def set_meeting_status(
    session: Session,
    meeting: Meeting,
    status: str,
    *,
    expected_version: int | None,
    user_id: int | None = None,
) -> Meeting:
    """Cancel (``cancelled``) or restore (``tentative``: someone confirms it again) a meeting."""
    check_version(meeting, expected_version)
    if meeting.status != status:
        with _refused_if_stale(session, meeting):
            meeting.status = status
            meeting.updated_by_id = user_id
    return meeting
