"""The conflict rules of the spec: what a coordinator must fix (errors) or look at (warnings).

One engine serves the whole delegation (``check_delegation``), the edit form's "what if I save
this?" (``check_proposed_meeting``) and tests or benchmarks on in-memory data
(``find_conflicts`` on a ``DelegationSnapshot``). It sorts the meetings once, then reads them
in that order in a single pass, keeping for each person and each room only the meetings not
yet settled, so it costs O(n log n) in the attendances (plus the conflicts found), never all
pairs.

Conventions the spec leaves open, kept here and in the brute-force twin in tests/:
- "Earlier" means ordered by (start, end, key); a pair lists the earlier meeting first and the
  list is ordered by its meetings, then by kind in the spec's order, then person, room, venue.
- ``person`` names the person for person_double_booked, travel_time and outside_availability;
  ``room`` and ``venue`` name the room for room_double_booked and over_capacity; ``venue``
  alone names the venue for outside_opening_hours. Every other field is None.
- Empty ``opening_hours`` ({}) counts as none (always open), as the export drops it.
- A meeting without attendees has no language gap.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from scheduler.itinerary.conflict_data import (
    DelegationSnapshot,
    MeetingInfo,
    load_neighbourhood,
    load_snapshot,
)
from scheduler.itinerary.memory import cycle_collection_paused
from scheduler.itinerary.times import day_start, to_local
from scheduler.itinerary.travel import TravelLeg, TravelTable
from scheduler.models import WEEKDAYS, Delegation

SEVERITY = {
    "person_double_booked": "error",
    "room_double_booked": "error",
    "travel_time": "error",
    "outside_availability": "error",
    "outside_opening_hours": "warning",
    "outside_visit_dates": "warning",
    "over_capacity": "warning",
    "language_gap": "warning",
}
KINDS = tuple(SEVERITY)
_KIND_ORDER = {kind: n for n, kind in enumerate(KINDS)}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_MINUTE_US = 60_000_000
TITLE_LIMIT = 30


@dataclass(frozen=True)
class Conflict:
    kind: str
    severity: str
    meetings: tuple[str, ...]  # meeting keys, earlier meeting first
    person: str | None
    room: str | None
    venue: str | None
    message: str
    estimated: bool = False  # a travel_time computed from an estimate, not an entry

    def as_json(self) -> dict:
        """The spec's JSON object for ``check KEY --json``."""
        return {
            "kind": self.kind,
            "severity": self.severity,
            "meetings": list(self.meetings),
            "person": self.person,
            "room": self.room,
            "venue": self.venue,
            "message": self.message,
        }


@dataclass(frozen=True)
class ProposedMeeting:
    """A meeting as the edit form would save it (nothing written yet)."""

    delegation_id: int
    meeting_id: int | None  # None for a new meeting
    key: str
    title: str
    status: str
    start: datetime  # aware, UTC
    end: datetime
    venue_id: int | None
    room_id: int | None
    attendees: tuple[tuple[int, str], ...]  # (person_id, attendee role)


# --------------------------------------------------------------------------- public API


def check_delegation(
    session: Session, delegation: Delegation, *, estimate_travel: bool = True
) -> list[Conflict]:
    """Every conflict of the delegation, earlier meetings first; six queries whatever its size."""
    return find_conflicts(load_snapshot(session, delegation), estimate_travel=estimate_travel)


def check_proposed_meeting(
    session: Session, proposal: ProposedMeeting, *, estimate_travel: bool = True
) -> list[Conflict]:
    """The conflicts this meeting would be in if saved like this.

    Reads only the proposal's people, room and venue and their neighbouring meetings, so the
    number of queries does not grow with the delegation.
    """
    for name in ("start", "end"):
        value = getattr(proposal, name)
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{name}: {value!r} has no time zone")
    if proposal.status == "cancelled":
        return []
    delegation = session.get(Delegation, proposal.delegation_id)
    if delegation is None:
        raise ValueError(f"delegation_id: no delegation with id {proposal.delegation_id}")
    seen: set[int] = set()
    attendees = []
    for person_id, role in proposal.attendees:
        if person_id not in seen:
            seen.add(person_id)
            attendees.append((person_id, role))
    info = MeetingInfo(
        proposal.meeting_id,
        proposal.key,
        proposal.title,
        proposal.status,
        proposal.start,
        proposal.end,
        proposal.venue_id,
        proposal.room_id,
        tuple(attendees),
    )
    snapshot = load_neighbourhood(session, delegation, info)
    # People of another delegation (or deleted meanwhile) are no one's business here.
    focus = replace(info, attendees=tuple(a for a in info.attendees if a[0] in snapshot.people))
    snapshot = replace(snapshot, meetings=(focus, *snapshot.meetings[1:]))
    return find_conflicts(snapshot, estimate_travel=estimate_travel, focus=focus)


def conflicts_by_meeting(conflicts: Iterable[Conflict]) -> dict[str, list[Conflict]]:
    """Meeting key -> the conflicts it is in (for badges beside each meeting)."""
    by_meeting: dict[str, list[Conflict]] = {}
    for conflict in conflicts:
        for key in conflict.meetings:
            by_meeting.setdefault(key, []).append(conflict)
    return by_meeting


def has_errors(conflicts: Iterable[Conflict]) -> bool:
    return any(c.severity == "error" for c in conflicts)


def find_conflicts(
    snapshot: DelegationSnapshot,
    *,
    estimate_travel: bool = True,
    focus: MeetingInfo | None = None,
) -> list[Conflict]:
    """The conflicts of a snapshot (only those involving ``focus`` when it is given)."""
    with cycle_collection_paused():
        return _Engine(snapshot, estimate_travel, focus).run()


# --------------------------------------------------------------------------- the engine


def _us(instant: datetime) -> int:
    return (instant - _EPOCH) // _MICROSECOND


def _hhmm_delta(text: str) -> timedelta:
    hours, minutes = text.split(":")
    return timedelta(hours=int(hours), minutes=int(minutes))


def short_title(title: str, limit: int = TITLE_LIMIT) -> str:
    """A title cut at a word boundary to fit a one-line message."""
    if len(title) <= limit:
        return title
    head = title[: limit + 1]
    cut = max(head.rfind(" "), head.rfind("-"))
    if cut <= 0:
        cut = limit
    return title[:cut].rstrip(" -,;:") + "..."


def _quoted(meeting: MeetingInfo) -> str:
    return f"'{short_title(meeting.title)}'"


def _day(local: datetime) -> str:
    return f"{local.day} {_MONTHS[local.month - 1]}"


def _clock(local: datetime) -> str:
    """HH:MM, with the zone's abbreviation where a daylight-saving change repeats that time."""
    text = f"{local.hour:02d}:{local.minute:02d}"
    if local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset():
        text += f" {local.tzname()}"
    return text


def _moment(local: datetime) -> str:
    return f"{_day(local)} {_clock(local)}"


class _Engine:
    def __init__(
        self, snapshot: DelegationSnapshot, estimate_travel: bool, focus: MeetingInfo | None
    ):
        self.snap = snapshot
        self.travel = TravelTable(
            snapshot.travel_times, snapshot.venues.values(), estimate=estimate_travel
        )
        self._legs: dict[tuple[int, int], TravelLeg | None] = {}
        meetings = snapshot.meetings
        # (start, end, key, position): the position settles ties without comparing meetings.
        keyed = sorted(
            (_us(m.start), _us(m.end), m.key, n)
            for n, m in enumerate(meetings)
            if m.status != "cancelled"
        )
        self.meetings = [meetings[row[3]] for row in keyed]
        self.starts = [row[0] for row in keyed]
        self.ends = [row[1] for row in keyed]
        self.focus: int | None = None
        if focus is not None:
            self.focus = next(i for i, m in enumerate(self.meetings) if m is focus)
        self.found: list[tuple[tuple, Conflict]] = []
        self.prepare_meeting_rules()

    # -- helpers

    def zone_of(self, meeting: MeetingInfo) -> str:
        """The meeting's zone: its venue's, else the delegation's."""
        venue = self.snap.venues.get(meeting.venue_id)
        return venue.timezone if venue is not None else self.snap.timezone

    def local(self, instant: datetime, meeting: MeetingInfo) -> datetime:
        return to_local(instant, self.zone_of(meeting))

    def span(self, meeting: MeetingInfo) -> str:
        start, end = self.local(meeting.start, meeting), self.local(meeting.end, meeting)
        if start.date() == end.date():
            return f"{_moment(start)}-{_clock(end)}"
        return f"{_moment(start)}-{_moment(end)}"

    def zone_note(self, meeting: MeetingInfo) -> str:
        """Say which clock a time is on when the meeting is not in the delegation's zone."""
        zone = self.zone_of(meeting)
        return "" if zone == self.snap.timezone else f" ({zone} time)"

    def leg(self, from_venue: int, to_venue: int) -> TravelLeg | None:
        pair = (from_venue, to_venue)
        if pair not in self._legs:
            self._legs[pair] = self.travel.leg(from_venue, to_venue)
        return self._legs[pair]

    def emit(self, kind, ranks, message, *, person=None, room=None, venue=None, estimated=False):
        if self.focus is not None and self.focus not in ranks:
            return
        conflict = Conflict(
            kind,
            SEVERITY[kind],
            tuple(self.meetings[i].key for i in ranks),
            person,
            room,
            venue,
            message,
            estimated,
        )
        self.found.append(
            ((ranks, _KIND_ORDER[kind], person or "", room or "", venue or ""), conflict)
        )

    def run(self) -> list[Conflict]:
        """One pass over the meetings in rank order, every rule of a meeting while it is at hand.

        For each person and each room it keeps only the meetings not yet settled: those still
        running (a later meeting that starts before one ends overlaps it) and, for a person,
        those whose next meeting has not come yet (the first later one to start at or after it
        ends is its next). A meeting leaves the list at its next meeting, and no later meeting
        can overlap it then, since later meetings start later. The lists hold only what overlaps
        (each entry beyond the first is a conflict found) and the programme is read once, so the
        work per meeting does not grow with the programme.
        """
        people, rooms = self.snap.people, self.snap.rooms
        meetings, starts, ends = self.meetings, self.starts, self.ends
        unsettled: dict[int, list[int]] = {}  # person id -> ranks of theirs not yet settled
        running_in: dict[int, list[int]] = {}  # room id -> ranks still running there
        focus = self.focus
        for rank, meeting in enumerate(meetings):
            start = starts[rank]
            # Each meeting's attendees once, known people only, first role listed wins.
            present: dict[int, str] = {}
            for person_id, role in meeting.attendees:
                if person_id in present or person_id not in people:
                    continue
                present[person_id] = role
                earlier = unsettled.get(person_id)
                if earlier is None:
                    unsettled[person_id] = [rank]
                    continue
                running = []
                for before in earlier:
                    if ends[before] > start:
                        running.append(before)
                        self.person_double_booked(people[person_id], before, rank)
                    else:
                        self.travel_rule(people[person_id], before, rank)
                running.append(rank)
                unsettled[person_id] = running
            room_id = meeting.room_id
            if room_id is not None and room_id in rooms:
                earlier = running_in.get(room_id)
                running = [] if earlier is None else [r for r in earlier if ends[r] > start]
                for before in running:
                    self.room_double_booked(rooms[room_id], before, rank)
                running.append(rank)
                running_in[room_id] = running
            if focus is None or rank == focus:
                self.meeting_rules(rank, meeting, present)
        self.found.sort(key=lambda item: item[0])
        return [conflict for _, conflict in self.found]

    # -- rules over pairs

    def travel_rule(self, person, first: int, second: int) -> None:
        """``second`` is the person's next meeting after ``first``: is there time to travel?"""
        from_venue = self.meetings[first].venue_id
        to_venue = self.meetings[second].venue_id
        if from_venue is None or to_venue is None or to_venue == from_venue:
            return
        leg = self.leg(from_venue, to_venue)
        gap = self.starts[second] - self.ends[first]
        if leg is not None and gap < leg.minutes * _MINUTE_US:
            self.travel_time(person, first, second, leg, gap)

    def person_double_booked(self, person, first: int, second: int) -> None:
        a, b = self.meetings[first], self.meetings[second]
        self.emit(
            "person_double_booked",
            (first, second),
            f"{person.name} is booked for {_quoted(a)} ({self.span(a)}) and "
            f"{_quoted(b)} ({self.span(b)}) at the same time",
            person=person.key,
        )

    def travel_time(self, person, first: int, second: int, leg: TravelLeg, gap_us: int) -> None:
        a, b = self.meetings[first], self.meetings[second]
        venues = self.snap.venues
        ends, starts = self.local(a.end, a), self.local(b.start, b)
        if ends.date() == starts.date():
            ends_text, starts_text = _clock(ends), _clock(starts)
        else:
            ends_text, starts_text = _moment(ends), _moment(starts)
        needs = f"{leg.minutes} min (estimated)" if leg.estimated else f"{leg.minutes} min"
        self.emit(
            "travel_time",
            (first, second),
            f"{person.name} needs {needs} from {venues[a.venue_id].name} to "
            f"{venues[b.venue_id].name} but has {gap_us // _MINUTE_US} min between "
            f"{_quoted(a)} (ends {ends_text}) and {_quoted(b)} (starts {starts_text})",
            person=person.key,
            estimated=leg.estimated,
        )

    def room_double_booked(self, room, first: int, second: int) -> None:
        a, b = self.meetings[first], self.meetings[second]
        venue = self.snap.venues.get(room.venue_id)
        where = f"{room.name} at {venue.name}" if venue else room.name
        self.emit(
            "room_double_booked",
            (first, second),
            f"{where} is booked for {_quoted(a)} ({self.span(a)}) and "
            f"{_quoted(b)} ({self.span(b)}) at the same time",
            room=room.key,
            venue=venue.key if venue else None,
        )

    # -- rules over one meeting

    def prepare_meeting_rules(self) -> None:
        """What the rules of one meeting look up, worked out once per check."""
        snap = self.snap
        people = snap.people
        self.first_instant = _us(day_start(snap.start_date, snap.timezone))
        self.after_last = _us(day_start(snap.end_date + timedelta(days=1), snap.timezone))
        self.hours = {
            venue.id: {
                day: [(_hhmm_delta(pair[0]), _hhmm_delta(pair[1])) for pair in pairs]
                for day, pairs in venue.opening_hours.items()
            }
            for venue in snap.venues.values()
            if venue.opening_hours
        }
        self.limited = {p.id for p in people.values() if p.available_from or p.available_until}
        # Per person once: primary language subtags (None: lists none) and interpreter role.
        self.spoken = {
            p.id: frozenset(_primary(tag) for tag in p.languages) if p.languages else None
            for p in people.values()
        }
        self.interpreters = {p.id for p in people.values() if p.role == "interpreter"}

    def meeting_rules(self, rank: int, meeting: MeetingInfo, present: dict[int, str]) -> None:
        """Availability, opening hours, visit dates, capacity and language of one meeting."""
        snap = self.snap
        if self.limited:
            for person_id in self.limited.intersection(present):
                self.availability(rank, meeting, snap.people[person_id])
        hours = self.hours.get(meeting.venue_id)
        if hours is not None:
            self.opening_hours(rank, meeting, hours)
        if self.starts[rank] < self.first_instant or self.ends[rank] > self.after_last:
            self.emit(
                "outside_visit_dates",
                (rank,),
                f"{_quoted(meeting)} ({self.span(meeting)}{self.zone_note(meeting)}) "
                f"is outside the visit dates, {_visit_dates(snap.start_date, snap.end_date)}",
            )
        room = snap.rooms.get(meeting.room_id) if meeting.room_id is not None else None
        if room is not None and room.capacity is not None and len(present) > room.capacity:
            venue = snap.venues.get(room.venue_id)
            self.emit(
                "over_capacity",
                (rank,),
                f"{_quoted(meeting)} has {len(present)} attendees but {room.name}"
                f"{' at ' + venue.name if venue else ''} holds {room.capacity}",
                room=room.key,
                venue=venue.key if venue else None,
            )
        if present:
            self.language_gap(rank, meeting, present, self.spoken, self.interpreters)

    def availability(self, rank: int, meeting: MeetingInfo, person) -> None:
        early = person.available_from is not None and meeting.start < person.available_from
        late = person.available_until is not None and meeting.end > person.available_until
        if not (early or late):
            return
        if early and late:
            window = (
                f"only from {_moment(self.local(person.available_from, meeting))} "
                f"until {_moment(self.local(person.available_until, meeting))}"
            )
        elif early:
            window = f"only from {_moment(self.local(person.available_from, meeting))}"
        else:
            window = f"only until {_moment(self.local(person.available_until, meeting))}"
        self.emit(
            "outside_availability",
            (rank,),
            f"{person.name} is available {window}{self.zone_note(meeting)} but attends "
            f"{_quoted(meeting)} ({self.span(meeting)})",
            person=person.key,
        )

    def opening_hours(self, rank: int, meeting: MeetingInfo, hours: dict) -> None:
        venue = self.snap.venues[meeting.venue_id]
        start = to_local(meeting.start, venue.timezone).replace(tzinfo=None)
        end = to_local(meeting.end, venue.timezone).replace(tzinfo=None)
        midnight = datetime.combine(start.date(), datetime.min.time())
        weekday = start.weekday()
        pairs = hours.get(WEEKDAYS[weekday], [])
        if any(midnight + opens <= start and end <= midnight + closes for opens, closes in pairs):
            return
        listed = venue.opening_hours.get(WEEKDAYS[weekday]) or []
        open_text = ", ".join(f"{a}-{b}" for a, b in listed) if listed else "closed"
        self.emit(
            "outside_opening_hours",
            (rank,),
            f"{_quoted(meeting)} ({self.span(meeting)}) is outside the opening hours of "
            f"{venue.name} ({_WEEKDAY_NAMES[weekday]}: {open_text})",
            venue=venue.key,
        )

    def language_gap(self, rank, meeting, present: dict[int, str], spoken, interpreters) -> None:
        shared = None
        for person_id, role in present.items():
            languages = spoken[person_id]
            if languages is None or role == "interpreter" or person_id in interpreters:
                return
            shared = languages if shared is None else shared & languages
        if shared:
            return
        people = [self.snap.people[person_id] for person_id in present]
        who = "; ".join(f"{p.name}: {', '.join(p.languages)}" for p in people[:6])
        if len(people) > 6:
            who += "; ..."
        self.emit(
            "language_gap",
            (rank,),
            f"No language is shared by all {len(people)} attendees of {_quoted(meeting)} "
            f"({self.span(meeting)}) and no interpreter attends ({who})",
        )


def _primary(tag: str) -> str:
    """The primary language subtag, lower-case: "de-DE" and "DE" are both "de"."""
    return tag.split("-", 1)[0].lower()


def _visit_dates(start: date, end: date) -> str:
    if start == end:
        return f"{start.day} {start:%b %Y}"
    return f"{start.day} {start:%b}-{end.day} {end:%b %Y}"


def conflict_table(conflicts: list[Conflict], delegation_key: str, *, width: int = 100) -> str:
    """The conflicts as a plain-text table for a terminal: one row each, the message below it."""
    errors = sum(c.severity == "error" for c in conflicts)
    warnings = len(conflicts) - errors
    if not conflicts:
        return f"No conflicts in {delegation_key}."
    rows = [
        (
            c.severity,
            c.kind,
            " -> ".join(c.meetings),
            c.person or (f"{c.venue}/{c.room}" if c.room else c.venue) or "",
        )
        for c in conflicts
    ]
    header = ("SEVERITY", "KIND", "MEETINGS", "PERSON / PLACE")
    widths = [max(len(row[n]) for row in [header, *rows]) for n in range(len(header))]

    def line(cells) -> str:
        return "  ".join(cell.ljust(w) for cell, w in zip(cells, widths, strict=True)).rstrip()

    out = [
        f"{len(conflicts)} conflict(s) in {delegation_key}: "
        f"{errors} error(s), {warnings} warning(s)",
        "",
        line(header),
    ]
    for row, conflict in zip(rows, conflicts, strict=True):
        out.append(line(row))
        out += textwrap.wrap(
            conflict.message, width=width, initial_indent="    ", subsequent_indent="    "
        )
    return "\n".join(out)
