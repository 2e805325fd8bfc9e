"""The day-by-day programme a coordinator works from: meetings in local time, travel, conflicts.

Built from a delegation loaded with ``load_delegation`` (everything eager) and the
conflicts the engine found, so a page costs a fixed number of queries however long
the visit. Travel legs follow the spec's ``travel_time`` pairing: for each person, the
next meeting of theirs to start at or after one ends; the leg is shown on the later one.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from scheduler.itinerary.review import ReviewedConflict
from scheduler.itinerary.times import to_local
from scheduler.itinerary.travel import TravelLeg, TravelTable
from scheduler.models import Delegation, Meeting, Person, Venue


@dataclass(frozen=True)
class TravelNote:
    """Arriving at a meeting from another venue: the leg, the time there is, and who travels."""

    from_venue: Venue
    to_venue: Venue
    leg: TravelLeg
    gap_minutes: int
    people: tuple[Person, ...]

    @property
    def too_short(self) -> bool:
        return self.gap_minutes < self.leg.minutes


@dataclass(frozen=True)
class ConflictBadge:
    kind: str
    severity: str
    acknowledged: bool
    messages: tuple[str, ...]


@dataclass
class ProgrammeItem:
    meeting: Meeting
    start: datetime  # aware, in the meeting's zone
    end: datetime
    zone_name: str
    conflicts: list[ReviewedConflict] = field(default_factory=list)
    arrivals: list[TravelNote] = field(default_factory=list)

    @property
    def open_conflicts(self) -> list[ReviewedConflict]:
        return [c for c in self.conflicts if c.is_open]

    @property
    def badges(self) -> list[ConflictBadge]:
        """One badge per kind of conflict (errors first), with every message it stands for."""
        grouped: dict[tuple, list[ReviewedConflict]] = {}
        for reviewed in self.conflicts:
            c = reviewed.conflict
            grouped.setdefault((c.severity != "error", c.kind, not reviewed.is_open), []).append(
                reviewed
            )
        return [
            ConflictBadge(
                kind,
                "warning" if not_error else "error",
                acknowledged,
                tuple(r.conflict.message for r in items),
            )
            for (not_error, kind, acknowledged), items in sorted(grouped.items())
        ]

    @property
    def has_open_error(self) -> bool:
        return any(c.is_open and c.conflict.severity == "error" for c in self.conflicts)


@dataclass
class ProgrammeDay:
    day: date
    items: list[ProgrammeItem]
    within_visit: bool


@dataclass
class Programme:
    delegation: Delegation
    days: list[ProgrammeDay]
    person: Person | None = None

    @property
    def meeting_count(self) -> int:
        return sum(len(d.items) for d in self.days)


def _meeting_order(meeting: Meeting):
    return (meeting.start, meeting.end, meeting.key)


def _arrivals(
    meetings: list[Meeting], table: TravelTable, only_person: Person | None
) -> dict[int, list[TravelNote]]:
    """For each meeting id, the legs its attendees travel to reach it from their previous venue."""
    by_person: dict[int, list[Meeting]] = defaultdict(list)
    people: dict[int, Person] = {}
    for meeting in meetings:
        if meeting.is_cancelled or meeting.venue is None:
            continue
        for attendance in meeting.attendances:
            if only_person is None or attendance.person_id == only_person.id:
                by_person[attendance.person_id].append(meeting)
                people[attendance.person_id] = attendance.person
    legs: dict[tuple[int, int], dict] = {}
    for person_id, own in by_person.items():
        own.sort(key=_meeting_order)
        starts = [m.start for m in own]
        for before in own:
            i = bisect.bisect_left(starts, before.end)
            if i >= len(own):
                continue
            after = own[i]
            leg = table.leg(before.venue_id, after.venue_id)
            if leg is None:
                continue
            note = legs.setdefault(
                (before.id, after.id),
                {"before": before, "after": after, "leg": leg, "people": []},
            )
            note["people"].append(people[person_id])
    result: dict[int, list[TravelNote]] = defaultdict(list)
    for entry in sorted(legs.values(), key=lambda e: _meeting_order(e["before"])):
        before, after = entry["before"], entry["after"]
        gap = int((after.start - before.end).total_seconds() // 60)
        result[after.id].append(
            TravelNote(
                before.venue,
                after.venue,
                entry["leg"],
                gap,
                tuple(sorted(entry["people"], key=lambda p: p.name)),
            )
        )
    return result


def build_programme(
    delegation: Delegation,
    reviewed: Iterable[ReviewedConflict] = (),
    *,
    person: Person | None = None,
    estimate_travel: bool = True,
) -> Programme:
    """The programme by local day; with ``person``, only the meetings that person attends."""
    meetings = sorted(delegation.meetings, key=_meeting_order)
    if person is not None:
        meetings = [m for m in meetings if any(a.person_id == person.id for a in m.attendances)]
    by_meeting: dict[str, list[ReviewedConflict]] = defaultdict(list)
    for item in reviewed:
        if person is not None and item.conflict.person not in (None, person.key):
            continue
        for key in item.conflict.meetings:
            by_meeting[key].append(item)
    table = TravelTable(delegation.travel_times, delegation.venues, estimate=estimate_travel)
    arrivals = _arrivals(meetings, table, person)

    days: dict[date, list[ProgrammeItem]] = defaultdict(list)
    home = delegation.timezone
    for meeting in meetings:
        zone_name = meeting.venue.timezone if meeting.venue is not None else home
        start = to_local(meeting.start, zone_name)
        days[start.date()].append(
            ProgrammeItem(
                meeting=meeting,
                start=start,
                end=to_local(meeting.end, zone_name),
                zone_name=zone_name,
                conflicts=by_meeting.get(meeting.key, []),
                arrivals=arrivals.get(meeting.id, []),
            )
        )
    visit_days = {
        delegation.start_date + timedelta(days=n)
        for n in range((delegation.end_date - delegation.start_date).days + 1)
    }
    all_days = sorted(visit_days | set(days)) if person is None else sorted(days)
    return Programme(
        delegation,
        [ProgrammeDay(d, days.get(d, []), d in visit_days) for d in all_days],
        person,
    )
