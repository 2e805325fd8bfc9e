"""The day-by-day programme a coordinator works from: meetings in local time, travel, conflicts.

Built from a delegation loaded with ``load_delegation`` (everything eager) and the
conflicts the engine found, so a page costs a fixed number of queries however long
the visit. Travel legs are those of ``travel.arrivals``, the pairing the conflict rules use;
each is shown on the later meeting.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from scheduler.itinerary.finding import MeetingFilter
from scheduler.itinerary.review import ReviewedConflict
from scheduler.itinerary.times import to_local
from scheduler.itinerary.travel import TravelNote, TravelTable, arrivals, rank_order
from scheduler.models import Delegation, Meeting, Person


@dataclass(frozen=True)
class ConflictBadge:
    kind: str
    severity: str
    acknowledged: bool
    messages: tuple[str, ...]
    # The reasons given for saving despite these errors (each once).
    override_reasons: tuple[str, ...] = ()
    conflicts: tuple = ()  # the Conflicts themselves, for words in the reader's language


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
                tuple(dict.fromkeys(r.override.reason for r in items if r.override is not None)),
                tuple(r.conflict for r in items),
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
    # (taking place, cancelled), counted in the database, for a day whose items were not loaded.
    counts: tuple[int, int] | None = None

    @property
    def meeting_count(self) -> int:
        """Meetings that will take place: cancelled ones are shown, not counted."""
        if self.counts is not None:
            return self.counts[0]
        return sum(1 for item in self.items if not item.meeting.is_cancelled)

    @property
    def cancelled_count(self) -> int:
        if self.counts is not None:
            return self.counts[1]
        return sum(1 for item in self.items if item.meeting.is_cancelled)


@dataclass
class Programme:
    delegation: Delegation
    days: list[ProgrammeDay]
    person: Person | None = None

    @property
    def meeting_count(self) -> int:
        """Meetings that will take place: cancelled ones are shown, not counted."""
        return sum(d.meeting_count for d in self.days)

    @property
    def cancelled_count(self) -> int:
        return sum(d.cancelled_count for d in self.days)


def conflicts_index(
    reviewed: Iterable[ReviewedConflict], person: Person | None = None
) -> dict[str, list[ReviewedConflict]]:
    """Meeting key -> its conflicts (with ``person``: those not about someone else)."""
    by_meeting: dict[str, list[ReviewedConflict]] = defaultdict(list)
    for item in reviewed:
        if person is not None and item.conflict.person not in (None, person.key):
            continue
        for key in item.conflict.meetings:
            by_meeting[key].append(item)
    return by_meeting


def programme_item(meeting: Meeting, by_meeting: dict, legs: dict) -> ProgrammeItem:
    """One meeting of the programme in its own zone, with its conflicts and arrivals."""
    zone_name = meeting.zone_name
    return ProgrammeItem(
        meeting=meeting,
        start=to_local(meeting.start, zone_name),
        end=to_local(meeting.end, zone_name),
        zone_name=zone_name,
        conflicts=by_meeting.get(meeting.key, []),
        arrivals=legs.get(meeting.id, []),
    )


def visit_dates(delegation: Delegation) -> set[date]:
    return {
        delegation.start_date + timedelta(days=n)
        for n in range((delegation.end_date - delegation.start_date).days + 1)
    }


def build_programme(
    delegation: Delegation,
    reviewed: Iterable[ReviewedConflict] = (),
    *,
    person: Person | None = None,
    estimate_travel: bool = True,
    found: MeetingFilter | None = None,
    meetings: Iterable[Meeting] | None = None,
) -> Programme:
    """The programme by local day; with ``person``, only the meetings that person attends;
    with ``found``, only the meetings it matches (travel still paired over all of them).

    ``meetings``: those to build from, when not the whole of ``delegation.meetings`` (see
    ``programme_loading``: travel is paired over the meetings given)."""
    meetings = sorted(delegation.meetings if meetings is None else meetings, key=rank_order)
    if person is not None:
        meetings = [m for m in meetings if any(a.person_id == person.id for a in m.attendances)]
    by_meeting = conflicts_index(reviewed, person)
    table = TravelTable(delegation.travel_times, delegation.venues, estimate=estimate_travel)
    legs = arrivals(meetings, table, person.id if person is not None else None)

    if found is not None and found.active:
        meetings = found.apply(meetings)
    days: dict[date, list[ProgrammeItem]] = defaultdict(list)
    for meeting in meetings:
        item = programme_item(meeting, by_meeting, legs)
        days[item.start.date()].append(item)
    visit_days = visit_dates(delegation)
    all_days = sorted(visit_days | set(days)) if person is None else sorted(days)
    return Programme(
        delegation,
        [ProgrammeDay(d, days.get(d, []), d in visit_days) for d in all_days],
        person,
    )
