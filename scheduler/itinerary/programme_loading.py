"""Loading only the part of a programme a page shows: one day, or one person's meetings.

``load_delegation`` reads the whole visit; at 2,000 meetings that is most of a page's time.
These loaders read the meetings shown (with venue, room, attendees and organisations, in a
fixed number of queries) plus what their travel notes need, and count the other days in the
database. Travel is paired as ``travel.arrivals`` pairs it over the whole programme:

- A person's page: all of that person's meetings (their legs involve no one else's).
- A day: the meetings starting in a window around it (all of them: a meeting at a venue in
  another zone may start between two of the day's), and for each person attending one of the
  shown meetings, their meetings that could come just before: those starting before the first
  shown meeting (at ``first``) and ending after the last start of theirs before ``first``. Any
  earlier meeting of theirs has a later one (that last start) before ``first``, so it is not
  followed by a shown meeting; the meetings between one loaded and a shown one are loaded too.
  So every shown meeting gets the legs the whole programme would give it (test_web_programme_
  loading compares the two).

Not for hosts: their programme is the loaded delegation restricted to their organisation
(``access.restrict_to_host``), and the views keep that path for them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, subqueryload

from scheduler.itinerary.programme import (
    Programme,
    ProgrammeDay,
    build_programme,
    visit_dates,
)
from scheduler.itinerary.review import ReviewedConflict
from scheduler.itinerary.times import UTC, to_local
from scheduler.models import Attendance, Delegation, Meeting, MeetingOrganization, Person, Venue

# Local days of every zone on earth start within 14 hours before and 12 after UTC midnight.
_EARLIEST_OFFSET = timedelta(hours=14)
_LATEST_OFFSET = timedelta(hours=12)


def _shown(statement):
    """Meetings with what a programme row shows, loaded by subquery (queries fixed)."""
    return statement.options(
        joinedload(Meeting.venue),
        joinedload(Meeting.room),
        subqueryload(Meeting.attendances).joinedload(Attendance.person),
        subqueryload(Meeting.organization_links).joinedload(MeetingOrganization.organization),
    )


def day_counts(session: Session, delegation: Delegation) -> dict[date, tuple[int, int]]:
    """Local day -> (meetings taking place, cancelled), from three columns of each meeting."""
    counts: dict[date, list[int]] = {}
    rows = session.execute(
        select(Meeting.start, Meeting.status, Venue.timezone)
        .outerjoin(Venue, Venue.id == Meeting.venue_id)
        .where(Meeting.delegation_id == delegation.id)
    )
    home = delegation.timezone
    for start, status, venue_zone in rows:
        pair = counts.setdefault(to_local(start, venue_zone or home).date(), [0, 0])
        pair[status == "cancelled"] += 1
    return {day: (held, cancelled) for day, (held, cancelled) in counts.items()}


def days_of(delegation: Delegation, counts: dict[date, tuple[int, int]]) -> list[date]:
    """The visit's days and any other day with meetings, in order."""
    return sorted(visit_dates(delegation) | set(counts))


def _window(session: Session, delegation: Delegation, day: date) -> list[Meeting]:
    """The meetings starting in the UTC hours that some zone's ``day`` spans."""
    midnight = datetime.combine(day, time(), tzinfo=UTC)
    window = (midnight - _EARLIEST_OFFSET, midnight + timedelta(days=1) + _LATEST_OFFSET)
    return session.scalars(
        _shown(
            select(Meeting).where(
                Meeting.delegation_id == delegation.id,
                Meeting.start >= window[0],
                Meeting.start < window[1],
            )
        )
    ).all()


def _arriving_from(session: Session, delegation: Delegation, shown: Iterable[Meeting]):
    """The meetings the shown ones' people may come from, before the first shown one."""
    taking_place = [m for m in shown if not m.is_cancelled]
    if not taking_place:
        return []
    first = min(m.start for m in taking_place)
    people = sorted({a.person_id for m in taking_place for a in m.attendances})
    if not people:
        return []
    theirs = (
        Meeting.delegation_id == delegation.id,
        Meeting.status != "cancelled",
        Attendance.person_id.in_(people),
        Meeting.start < first,
    )
    last_before = (
        select(Attendance.person_id, func.max(Meeting.start).label("at"))
        .join(Meeting, Attendance.meeting_id == Meeting.id)
        .where(*theirs)
        .group_by(Attendance.person_id)
        .subquery()
    )
    candidates = (
        select(Meeting.id)
        .join(Attendance, Attendance.meeting_id == Meeting.id)
        .join(last_before, last_before.c.person_id == Attendance.person_id)
        .where(*theirs, Meeting.end > last_before.c.at)
    )
    return session.scalars(_shown(select(Meeting).where(Meeting.id.in_(candidates)))).all()


def day_programme(
    session: Session,
    delegation: Delegation,
    reviewed: Iterable[ReviewedConflict],
    day: date | None,
    counts: dict[date, tuple[int, int]],
    *,
    estimate_travel: bool = True,
) -> Programme:
    """Every day of the visit with its counts, and ``day``'s meetings with conflicts and travel."""
    within = visit_dates(delegation)
    days = [
        ProgrammeDay(d, [], d in within, counts.get(d, (0, 0))) for d in days_of(delegation, counts)
    ]
    if day is None:
        return Programme(delegation, days)
    window = _window(session, delegation, day)
    shown = [m for m in window if to_local(m.start, m.zone_name).date() == day]
    before = _arriving_from(session, delegation, shown)
    loaded = {m.id for m in window}
    meetings = window + [m for m in before if m.id not in loaded]
    seen = {m.id for m in shown}
    built = build_programme(
        delegation, reviewed, estimate_travel=estimate_travel, meetings=meetings
    )
    items = next((d.items for d in built.days if d.day == day), [])
    for d in days:
        if d.day == day:
            d.items = [item for item in items if item.meeting.id in seen]
    return Programme(delegation, days)


def person_meetings(session: Session, person: Person) -> list[Meeting]:
    """Every meeting the person attends, with what the programme shows of each."""
    attends = select(Attendance.meeting_id).where(Attendance.person_id == person.id)
    return session.scalars(
        _shown(
            select(Meeting).where(
                Meeting.delegation_id == person.delegation_id, Meeting.id.in_(attends)
            )
        )
    ).all()


def meeting_titles(session: Session, delegation_id: int, keys: Iterable[str]) -> dict[str, str]:
    """Meeting key -> title, for the keys asked (two columns of the delegation's meetings)."""
    wanted = set(keys)
    if not wanted:
        return {}
    rows = session.execute(
        select(Meeting.key, Meeting.title).where(Meeting.delegation_id == delegation_id)
    )
    return {key: title for key, title in rows if key in wanted}
