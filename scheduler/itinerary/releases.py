"""Releases as data: the snapshot of a programme, the changes between two versions, and what
the share links show (``published_programme``).

A snapshot is plain JSON, ``{"meetings": {key: MEETING}}``, where MEETING holds what attendees
see (no internal notes) with times in UTC and the meeting's zone beside them, and the SEQUENCE
the release gives the meeting's calendar event. Changes are computed from two snapshots (the
draft's is made on the fly), so "changes between any two versions" is one function.

The share links (feeds, agenda pages, PDFs) read their meetings through
``published_programme(delegation)``: the latest release, or the draft before the first one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.itinerary.memory import cycle_collection_paused
from scheduler.itinerary.times import format_document_datetime, meeting_zone_name
from scheduler.models import Delegation, Meeting, Release

# Where and when: a change to any of these "moves" a meeting.
PLACE_FIELDS = ("start", "end", "venue", "room")
# Anything else attendees see: a change "changes" it (cancelling and restoring are their own).
SEEN_FIELDS = (
    "title",
    "native_title",
    "kind",
    "status",
    "agenda",
    "online_url",
    "attendees",
    "organizations",
)


def _utc(instant: datetime) -> str:
    return instant.isoformat()


def meeting_snapshot(meeting: Meeting) -> dict[str, Any]:
    """What attendees see of a meeting, in JSON values (``sequence``: the draft's)."""
    return {
        "id": meeting.id,
        "title": meeting.title,
        "native_title": meeting.native_title,
        "kind": meeting.kind,
        "status": meeting.status,
        "start": _utc(meeting.start),
        "end": _utc(meeting.end),
        "zone": meeting.zone_name,
        "venue": meeting.venue.key if meeting.venue is not None else None,
        "room": meeting.room.key if meeting.room is not None else None,
        "agenda": meeting.agenda,
        "online_url": meeting.online_url,
        "attendees": [[a.person.key, a.role] for a in meeting.attendances],
        "organizations": [link.organization.key for link in meeting.organization_links],
        "sequence": meeting.sequence or 0,
        "created_at": _utc(meeting.created_at),
        "updated_at": _utc(meeting.updated_at),
    }


def draft_snapshot(delegation: Delegation) -> dict[str, Any]:
    """The draft as a snapshot; ``delegation`` loaded with ``load_delegation``."""
    return {"meetings": {m.key: meeting_snapshot(m) for m in delegation.meetings}}


def _differs(before: dict, after: dict) -> bool:
    return any(before.get(f) != after.get(f) for f in (*PLACE_FIELDS, *SEEN_FIELDS))


def release_snapshot(draft: dict, previous: dict | None) -> dict[str, Any]:
    """The draft as the next release publishes it.

    SEQUENCE only goes up: a meeting that differs from the previous release gets at least one
    more than it had there, and never less than the draft's. A meeting the draft no longer has
    stays, cancelled, so subscribed calendars learn that it is off.
    """
    meetings: dict[str, dict] = {}
    old = (previous or {}).get("meetings", {})
    for key, meeting in draft["meetings"].items():
        meeting = dict(meeting)
        before = old.get(key)
        if before is not None:
            raised = before["sequence"] + (1 if _differs(before, meeting) else 0)
            meeting["sequence"] = max(meeting["sequence"], raised)
        meetings[key] = meeting
    for key, before in old.items():
        if key not in meetings:
            gone = dict(before)
            if gone["status"] != "cancelled":
                gone["status"] = "cancelled"
                gone["sequence"] = before["sequence"] + 1
            meetings[key] = gone
    return {"meetings": meetings}


# -- changes ---------------------------------------------------------------------------------


def _active(meeting: dict | None) -> bool:
    return meeting is not None and meeting["status"] != "cancelled"


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _place(meeting: dict) -> dict[str, Any]:
    """start, end (as the interchange document writes them, in the meeting's zone), venue, room."""
    zone = meeting["zone"]
    return {
        "start": format_document_datetime(_instant(meeting["start"]), zone),
        "end": format_document_datetime(_instant(meeting["end"]), zone),
        "venue": meeting["venue"],
        "room": meeting["room"],
    }


def _moved(before: dict, after: dict) -> bool:
    return (
        _instant(before["start"]) != _instant(after["start"])
        or _instant(before["end"]) != _instant(after["end"])
        or before["venue"] != after["venue"]
        or before["room"] != after["room"]
    )


def _changed_fields(before: dict, after: dict) -> list[str]:
    return [f for f in SEEN_FIELDS if before.get(f) != after.get(f)]


def _attendees(meeting: dict | None) -> set[str]:
    if not _active(meeting):
        return set()
    return {person for person, _role in meeting["attendees"]}


@dataclass
class Changes:
    """The changes from one version to another, as the spec's CHANGES object."""

    since: int | None
    until: int | str  # a release number or "draft"
    added: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    moved: list[dict] = field(default_factory=list)
    changed: list[dict] = field(default_factory=list)
    people: dict[str, dict[str, list]] = field(default_factory=dict)

    @property
    def count(self) -> int:
        """How many meetings changed in any way (a meeting moved and changed counts once)."""
        keys = set(self.added) | set(self.cancelled)
        keys |= {m["meeting"] for m in self.moved} | {c["meeting"] for c in self.changed}
        return len(keys)

    def __bool__(self) -> bool:
        return self.count > 0

    def for_person(self, person_key: str) -> dict[str, list]:
        return self.people.get(person_key) or {"added": [], "lost": [], "moved": [], "changed": []}

    def as_json(self) -> dict[str, Any]:
        return {
            "from": self.since,
            "to": self.until,
            "added": self.added,
            "cancelled": self.cancelled,
            "moved": self.moved,
            "changed": self.changed,
            "people": self.people,
        }


def _order(meetings: dict[str, dict], key: str):
    meeting = meetings[key]
    return (_instant(meeting["start"]), _instant(meeting["end"]), key)


def compare(
    before: dict | None, after: dict, *, since: int | None = None, until: int | str = "draft"
) -> Changes:
    """The changes from snapshot BEFORE (None: nothing released) to snapshot AFTER.

    One pass over the union of meeting keys, so the cost grows with the programme, linearly.
    """
    with cycle_collection_paused():
        return _compare(before, after, since, until)


def _compare(before, after, since, until) -> Changes:
    old = (before or {}).get("meetings", {})
    new = after.get("meetings", {})
    changes = Changes(since, until)
    people: dict[str, dict[str, list]] = {}

    def person(key: str) -> dict[str, list]:
        return people.setdefault(key, {"added": [], "lost": [], "moved": [], "changed": []})

    both = {**old, **new}
    for key in sorted(both, key=lambda k: _order(both, k)):
        b, a = old.get(key), new.get(key)
        was, now = _active(b), _active(a)
        moved_entry = changed_entry = None
        if now and not was:
            changes.added.append(key)
        elif was and not now:
            changes.cancelled.append(key)
        elif was and now:
            if _moved(b, a):
                moved_entry = {"meeting": key, "before": _place(b), "after": _place(a)}
                changes.moved.append(moved_entry)
            fields = _changed_fields(b, a)
            if fields:
                changed_entry = {"meeting": key, "fields": fields}
                changes.changed.append(changed_entry)
        attended_before, attending = _attendees(b), _attendees(a)
        for who in attending - attended_before:
            person(who)["added"].append(key)
        for who in attended_before - attending:
            person(who)["lost"].append(key)
        for who in attended_before & attending:
            if moved_entry is not None:
                person(who)["moved"].append(moved_entry)
            if changed_entry is not None:
                person(who)["changed"].append(changed_entry)
    changes.people = {k: people[k] for k in sorted(people)}
    return changes


# -- reading releases ------------------------------------------------------------------------


class UnknownVersion(LookupError):
    pass


def releases_of(session: Session, delegation_id: int) -> list[Release]:
    return list(
        session.scalars(
            select(Release).where(Release.delegation_id == delegation_id).order_by(Release.version)
        )
    )


def _newest_release(delegation_id: int, *columns):
    """The select of the delegation's latest release (or of those of its COLUMNS)."""
    return (
        select(*(columns or (Release,)))
        .where(Release.delegation_id == delegation_id)
        .order_by(Release.version.desc())
        .limit(1)
    )


def latest_release(session: Session, delegation_id: int) -> Release | None:
    return session.scalar(_newest_release(delegation_id))


def release_number(session: Session, delegation_id: int, version: int) -> Release:
    release = session.scalar(
        select(Release).where(Release.delegation_id == delegation_id, Release.version == version)
    )
    if release is None:
        raise UnknownVersion(version)
    return release


def changes_between(
    session: Session,
    delegation: Delegation,
    *,
    since: int | None = None,
    until: int | None = None,
    draft: dict | None = None,
) -> Changes:
    """From release SINCE (None: the latest) to release UNTIL (None: the draft).

    Raises UnknownVersion for a number with no release. Before the first release, SINCE is
    null and every meeting of the draft is added. ``delegation`` loaded with
    ``load_delegation`` when UNTIL is the draft (or pass its ``draft`` snapshot).
    """
    with cycle_collection_paused():
        return _changes_between(session, delegation, since, until, draft)


def _changes_between(session, delegation, since, until, draft) -> Changes:
    if since is None:
        start = latest_release(session, delegation.id)
    else:
        start = release_number(session, delegation.id, since)
    if until is None:
        after = draft if draft is not None else draft_snapshot(delegation)
        label: int | str = "draft"
    else:
        after, label = release_number(session, delegation.id, until).snapshot, until
    return compare(
        start.snapshot if start else None,
        after,
        since=start.version if start else None,
        until=label,
    )


def changes_in(session: Session, release: Release) -> Changes:
    """What changed in version N: from release N-1 (or nothing) to release N."""
    previous = None
    if release.version > 1:
        previous = release_number(session, release.delegation_id, release.version - 1)
    return compare(
        previous.snapshot if previous else None,
        release.snapshot,
        since=previous.version if previous else None,
        until=release.version,
    )


def unreleased_changes(session: Session, delegation: Delegation) -> int:
    """How many meetings the draft has changed since the latest release (0 when none)."""
    release = latest_release(session, delegation.id)
    if release is not None and release.revision == delegation.revision:
        return 0
    if release is None:  # everything not cancelled is added: one count, no diff
        from sqlalchemy import func

        return session.scalar(
            select(func.count())
            .select_from(Meeting)
            .where(Meeting.delegation_id == delegation.id, Meeting.status != "cancelled")
        )
    from scheduler.itinerary.document import load_delegation

    loaded = load_delegation(session, delegation.key)
    return changes_between(session, loaded, draft=draft_snapshot(loaded)).count


# -- what share links show -------------------------------------------------------------------


@dataclass
class PublishedAttendance:
    person: Any
    person_id: int
    role: str
    position: int


@dataclass
class PublishedLink:
    organization: Any


@dataclass
class PublishedMeeting:
    """A meeting as a release published it, read like a ``Meeting`` by feeds and agendas.

    Venues, rooms, people and organisations are today's rows, found by key: a release keeps
    where and who, and those rows' own details (an address, a phone number) are current.
    """

    id: int
    key: str
    delegation: Any
    delegation_id: int
    title: str
    native_title: str | None
    kind: str
    status: str
    start: datetime
    end: datetime
    venue: Any
    room: Any
    online_url: str | None
    agenda: str | None
    attendances: list[PublishedAttendance]
    organization_links: list[PublishedLink]
    sequence: int
    created_at: datetime
    updated_at: datetime
    internal_notes: None = None

    @property
    def venue_id(self) -> int | None:
        return self.venue.id if self.venue is not None else None

    @property
    def room_id(self) -> int | None:
        return self.room.id if self.room is not None else None

    @property
    def zone_name(self) -> str:
        return meeting_zone_name(self.venue, self.delegation.timezone)

    @property
    def is_cancelled(self) -> bool:
        return self.status == "cancelled"

    @property
    def organizations(self) -> list:
        return [link.organization for link in self.organization_links]


class PublishedStamp:
    """The delegation row with the revision and time of a release: all a stored agenda
    copy's key and file name read; the rest is the row's."""

    def __init__(self, delegation: Delegation, version: int, created_at):
        self._delegation = delegation
        self.revision = version
        self.updated_at = created_at

    def __getattr__(self, name: str):
        return getattr(self._delegation, name)


class PublishedDelegation(PublishedStamp):
    """A loaded delegation whose ``meetings`` are those of a release; all else is the row's."""

    def __init__(self, delegation: Delegation, release: Release, meetings: list):
        super().__init__(delegation, release.version, release.created_at)
        self.release = release
        self.meetings = meetings


def published_stamp(session: Session, delegation: Delegation):
    """``published_programme``'s revision and time (the latest release's, else the draft's),
    in one small query: a stored PDF is found, or a 304 answered, without the programme."""
    newest = _newest_release(delegation.id, Release.version, Release.created_at)
    row = session.execute(newest).first()
    return delegation if row is None else PublishedStamp(delegation, row.version, row.created_at)


def published_meetings(delegation: Delegation, release: Release) -> list[PublishedMeeting]:
    """The meetings of RELEASE as objects the feeds and agendas read (``delegation`` loaded)."""
    venues = {v.key: v for v in delegation.venues}
    people = {p.key: p for p in delegation.people}
    organizations = {o.key: o for o in delegation.organizations}
    meetings = []
    for key, m in release.snapshot["meetings"].items():
        venue = venues.get(m["venue"]) if m["venue"] else None
        room = None
        if venue is not None and m["room"]:
            room = next((r for r in venue.rooms if r.key == m["room"]), None)
        attendances = [
            PublishedAttendance(people[who], people[who].id, role, i)
            for i, (who, role) in enumerate(m["attendees"])
            if who in people
        ]
        links = [PublishedLink(organizations[o]) for o in m["organizations"] if o in organizations]
        meetings.append(
            PublishedMeeting(
                id=m["id"],
                key=key,
                delegation=delegation,
                delegation_id=delegation.id,
                title=m["title"],
                native_title=m["native_title"],
                kind=m["kind"],
                status=m["status"],
                start=_instant(m["start"]),
                end=_instant(m["end"]),
                venue=venue,
                room=room,
                online_url=m["online_url"],
                agenda=m["agenda"],
                attendances=attendances,
                organization_links=links,
                sequence=m["sequence"],
                created_at=_instant(m["created_at"]),
                updated_at=_instant(m["updated_at"]),
            )
        )
    meetings.sort(key=lambda m: (m.start, m.end, m.key))
    return meetings


def published_programme(session: Session, delegation: Delegation):
    """What the share links show: the latest release, else (before the first) the draft.

    Returns a delegation-like object loaded as ``load_delegation`` loads one, whose
    ``meetings`` are the published ones; ``revision`` is the release number once released.
    """
    from scheduler.itinerary.document import load_delegation

    loaded = load_delegation(session, delegation.key)
    if loaded is None:
        return None
    release = latest_release(session, loaded.id)
    if release is None:
        return loaded
    return PublishedDelegation(loaded, release, published_meetings(loaded, release))


def shared_meetings(session: Session, delegation: Delegation, person=None) -> list:
    """The meetings a share link's feed and page list, in feed order: the published ones.

    Before the first release, the draft's (one query, as ``feed_meetings`` reads them).
    """
    from scheduler.calendar.feeds import feed_meetings

    if latest_release(session, delegation.id) is None:
        return feed_meetings(session, delegation, person)
    published = published_programme(session, delegation)
    meetings = published.meetings
    if person is not None:
        meetings = [m for m in meetings if any(a.person_id == person.id for a in m.attendances)]
    return meetings
