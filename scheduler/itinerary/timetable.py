"""One day of the programme as a grid: columns (resources) by room or by person, meetings and
travel legs as blocks, in the delegation's wall-clock time.

Built from a delegation loaded with ``load_delegation`` and its reviewed conflicts, so the grid
data costs the same queries as the programme page. Plain dicts in the shape the vendored
EventCalendar reads (``resources``, ``events``); the words come from the caller (``labels``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta

from scheduler.itinerary.finding import MeetingFilter
from scheduler.itinerary.review import ReviewedConflict
from scheduler.itinerary.times import to_local
from scheduler.itinerary.travel import TravelTable, arrivals, rank_order
from scheduler.models import Delegation, Meeting

MODES = ("room", "person")
NO_VENUE = "none"
NO_FILTER = MeetingFilter()


def wall(instant: datetime, zone_name: str) -> str:
    """The floating local time the grid shows (no offset: the grid has one zone)."""
    return to_local(instant, zone_name).replace(tzinfo=None).isoformat(timespec="minutes")


def room_resource(meeting: Meeting) -> str:
    if meeting.room_id:
        return f"room-{meeting.room_id}"
    if meeting.venue_id:
        return f"venue-{meeting.venue_id}"
    return NO_VENUE


def parse_room_resource(text: str) -> tuple[int | None, int | None] | None:
    """(venue id, room id) a room-mode column stands for; None when it is not one."""
    if text == NO_VENUE:
        return None, None
    kind, _, number = text.partition("-")
    if kind in ("room", "venue") and number.isdigit():
        return (None, int(number)) if kind == "room" else (int(number), None)
    return None


def programme_days(delegation: Delegation, meetings: Iterable[Meeting]) -> list[tuple[date, int]]:
    """(day, meetings that take place) for every visit day and any day with meetings."""
    counts: dict[date, int] = defaultdict(int)
    zone_name = delegation.timezone
    for meeting in meetings:
        day = to_local(meeting.start, zone_name).date()
        counts[day] += 0 if meeting.is_cancelled else 1
    span = (delegation.end_date - delegation.start_date).days + 1
    visit = {delegation.start_date + timedelta(days=n) for n in range(max(span, 0))}
    return [(day, counts.get(day, 0)) for day in sorted(visit | set(counts))]


def grid_day(
    delegation: Delegation,
    reviewed: Iterable[ReviewedConflict],
    day: date,
    *,
    mode: str = "room",
    found: MeetingFilter = NO_FILTER,
    show_cancelled: bool = False,
    estimate_travel: bool = True,
    labels: dict[str, str],
    meeting_url: Callable[[str], str],
    kind_label: Callable[[str], str] = str,
    message_of: Callable = lambda conflict: conflict.message,  # words in the reader's language
) -> dict:
    """The day's resources and events for the grid, with the filter applied."""
    zone_name = delegation.timezone
    shown = [
        m
        for m in found.apply(sorted(delegation.meetings, key=rank_order))
        if to_local(m.start, zone_name).date() == day and (show_cancelled or not m.is_cancelled)
    ]
    by_meeting: dict[str, list[ReviewedConflict]] = defaultdict(list)
    for item in reviewed:
        if item.is_open:
            for key in item.conflict.meetings:
                by_meeting[key].append(item)
    events = [
        _meeting_event(
            m, mode, zone_name, by_meeting.get(m.key, []), meeting_url, kind_label, message_of
        )
        for m in shown
    ]
    if mode == "person":
        resources = _person_resources(delegation, shown, found)
        events += _travel_events(delegation, shown, zone_name, estimate_travel, labels)
    else:
        resources = _room_resources(delegation, found, labels)
    return {"day": day.isoformat(), "mode": mode, "resources": resources, "events": events}


def _meeting_event(
    meeting, mode, zone_name, conflicts, meeting_url, kind_label, message_of=None
) -> dict:
    errors = [c for c in conflicts if c.conflict.severity == "error"]
    classes = ["meeting", f"status-{meeting.status}"]
    if errors:
        classes.append("has-error")
    elif conflicts:
        classes.append("has-warning")
    if mode == "person":
        resource_ids = [f"person-{a.person_id}" for a in meeting.attendances]
    else:
        resource_ids = [room_resource(meeting)]
    where = meeting.venue.name if meeting.venue else ""
    if meeting.room:
        where += f", {meeting.room.name}"
    return {
        "id": meeting.key,
        "title": meeting.title,
        "start": wall(meeting.start, zone_name),
        "end": wall(meeting.end, zone_name),
        "resourceIds": resource_ids,
        "classNames": classes,
        "editable": not meeting.is_cancelled,
        "extendedProps": {
            "kind": "meeting",
            "key": meeting.key,
            "url": meeting_url(meeting.key),
            "version": meeting.version,
            "status": meeting.status,
            "where": where,
            "people": [a.person.name for a in meeting.attendances],
            "conflicts": [
                {
                    "severity": c.conflict.severity,
                    "kind": c.conflict.kind,
                    "label": kind_label(c.conflict.kind),
                    "message": message_of(c.conflict) if message_of else c.conflict.message,
                }
                for c in conflicts
            ],
        },
    }


def _room_resources(delegation: Delegation, found: MeetingFilter, labels) -> list[dict]:
    """A column per room, grouped by venue; a venue's own column when meetings use no room."""
    without_room = {m.venue_id for m in delegation.meetings if m.venue_id and not m.room_id}
    resources = []
    for group, venue in enumerate(sorted(delegation.venues, key=lambda v: v.name)):
        if found.venue and venue.key != found.venue:
            continue
        extra = {"venue": venue.name, "group": group % 2}
        for room in sorted(venue.rooms, key=lambda r: r.name):
            resources.append({"id": f"room-{room.id}", "title": room.name, "extendedProps": extra})
        if venue.id in without_room or not venue.rooms:
            title = labels["no_room"] if venue.rooms else labels["whole_venue"]
            resources.append({"id": f"venue-{venue.id}", "title": title, "extendedProps": extra})
    if not found.venue and any(m.venue_id is None for m in delegation.meetings):
        resources.append(
            {
                "id": NO_VENUE,
                "title": labels["no_venue"],
                "extendedProps": {"venue": "", "group": 0},
            }
        )
    return resources


def _person_resources(delegation, shown, found: MeetingFilter) -> list[dict]:
    """The people of the day's meetings (all of them when the day is empty), by name."""
    busy = {a.person_id for m in shown for a in m.attendances}
    people = [p for p in delegation.people if p.id in busy or not busy]
    if found.person:
        people = [p for p in people if p.key == found.person]
    return [
        {
            "id": f"person-{p.id}",
            "title": p.name,
            "extendedProps": {
                "venue": p.organization.name if p.organization else "",
                "group": 0,
            },
        }
        for p in sorted(people, key=lambda p: p.name)
    ]


def _travel_events(delegation, shown, zone_name, estimate_travel, labels) -> list[dict]:
    """Each person's journeys to the day's meetings: a block from the end of the meeting before."""
    table = TravelTable(delegation.travel_times, delegation.venues, estimate=estimate_travel)
    legs = arrivals(delegation.meetings, table)
    events = []
    for meeting in shown:
        for note in legs.get(meeting.id, []):
            leaves = meeting.start - timedelta(minutes=note.gap_minutes)
            arrives = leaves + timedelta(minutes=note.leg.minutes)
            title = labels["travel"].format(
                origin=note.from_venue.name,
                destination=note.to_venue.name,
                minutes=note.leg.minutes,
            )
            for person in note.people:
                events.append(
                    {
                        "id": f"travel-{meeting.key}-{person.id}",
                        "title": title,
                        "start": wall(leaves, zone_name),
                        "end": wall(arrives, zone_name),
                        "resourceIds": [f"person-{person.id}"],
                        "classNames": ["travel"] + (["too-short"] if note.too_short else []),
                        "editable": False,
                        "extendedProps": {"kind": "travel", "estimated": note.leg.estimated},
                    }
                )
    return events
