"""The conflict rules of the spec: what a coordinator must fix (errors) or look at (warnings).

One engine serves the whole delegation (``check_delegation``), the edit form's "what if I save
this?" (``check_proposed_meeting``) and tests or benchmarks on in-memory data
(``find_conflicts`` on a ``DelegationSnapshot``). It reads the meetings once, applying each
meeting's own rules and putting them in rank order (sorting only what the loader did not), then
sweeps them in that order keeping for each person and each room only the meetings not yet
settled, so it costs O(n log n) in the attendances (plus the conflicts found), never all pairs.

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
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from scheduler.itinerary.conflict_data import (
    DelegationSnapshot,
    MeetingInfo,
    load_neighbourhood,
    load_snapshot,
)
from scheduler.itinerary.memory import cycle_collection_paused
from scheduler.itinerary.times import day_start, meeting_zone_name, to_local, zone
from scheduler.itinerary.travel import TravelLeg, TravelTable, travel_legs
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
_DAY_US = 24 * 60 * _MINUTE_US
TITLE_LIMIT = 80  # room for a whole title as coordinators write them


@dataclass(frozen=True, slots=True)
class Conflict:
    kind: str
    severity: str
    meetings: tuple[str, ...]  # meeting keys, earlier meeting first
    person: str | None
    room: str | None
    venue: str | None
    message: str
    estimated: bool = False  # a travel_time computed from an estimate, not an entry
    # What the message says, as data (names, local times, minutes), for words in another
    # language at the edge (scheduler/wording.py); ``message`` is the contract's English.
    details: dict | None = field(default=None, compare=False, hash=False)

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
    if focus is not None and focus.status == "cancelled":
        return []  # a cancelled meeting takes part in no rule
    with cycle_collection_paused():
        return _Engine(snapshot, estimate_travel, focus).run()


# --------------------------------------------------------------------------- the engine


def _us(instant: datetime) -> int:
    return (instant - _EPOCH) // _MICROSECOND


def _hhmm_us(text: str) -> int:
    """Microseconds from midnight to an "HH:MM" time ("24:00" ends the day)."""
    hours, minutes = text.split(":")
    return (int(hours) * 60 + int(minutes)) * _MINUTE_US


def _wall_us(local: datetime) -> int:
    """Microseconds after midnight on the wall clock (not elapsed time on a change day)."""
    return ((local.hour * 60 + local.minute) * 60 + local.second) * 1_000_000 + local.microsecond


def short_title(title: str, limit: int = TITLE_LIMIT) -> str:
    """A title cut at a space (never inside a hyphenated word) to keep a message readable."""
    if len(title) <= limit:
        return title
    head = title[: limit + 1]
    cut = head.rfind(" ")
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
    """One check of a snapshot, in two passes.

    The first reads each meeting once, in the order given: it applies the meeting's own rules
    while the meeting is at hand and copies what the second pass needs into flat columns (start,
    end, room numbers, the numbers of the people attending), with people, venues and
    rooms numbered 0, 1, 2... The second sweeps those columns in rank order for the rules over
    pairs. So a large programme's scattered objects are read once, in the order they were made,
    and the sweep stays in a few hundred kilobytes that the processor's caches hold at 20,000
    meetings as at 2,000 (docs/benchmarks.md); objects are read again only to word a conflict.
    """

    def __init__(
        self, snapshot: DelegationSnapshot, estimate_travel: bool, focus: MeetingInfo | None
    ):
        self.snap = snapshot
        self.travel = TravelTable(
            snapshot.travel_times, snapshot.venues.values(), estimate=estimate_travel
        )
        self.people = list(snapshot.people.values())
        self.venues = list(snapshot.venues.values())
        self.rooms = list(snapshot.rooms.values())
        self.found: list[tuple[tuple, Conflict]] = []
        self.prepare_lookups()
        self.read_meetings(snapshot.meetings, focus)

    def read_meetings(self, meetings: Iterable[MeetingInfo], focus: MeetingInfo | None) -> None:
        """The first pass: columns of the meetings not cancelled, and each meeting's own rules.

        The columns end up in rank order, (start, end, key). The loader reads meetings in that
        order, so the pass only checks it; other input is sorted afterwards.
        """
        person_number, venue_number = self.person_number, self.venue_number
        room_number, spoken = self.room_number, self.spoken
        self.meetings = ranked = []
        self.starts, self.ends = starts, ends = array("q"), array("q")
        self.room_of = room_of = array("i")
        # The people at meeting r are attendee_people[first_attendee[r]:first_attendee[r + 1]].
        self.attendee_people = attendee_people = array("i")
        self.first_attendee = first_attendee = array("i", [0])
        self.focus: int | None = None
        in_order = True
        last = (0, 0, "")
        for meeting in meetings:
            if meeting.status == "cancelled":
                continue
            rank = len(ranked)
            start, end = _us(meeting.start), _us(meeting.end)
            if in_order and rank and (start, end, meeting.key) <= last:
                in_order = False
            last = (start, end, meeting.key)
            venue = venue_number.get(meeting.venue_id, -1)
            room = room_number.get(meeting.room_id, -1)
            ranked.append(meeting)
            starts.append(start)
            ends.append(end)
            room_of.append(room)
            present: list[int] = []  # person numbers, each once, known people only
            shared = -1  # languages all of them speak, as bits
            interpreted = False  # someone present bridges languages, or lists none
            for person_id, role in meeting.attendees:
                person = person_number.get(person_id)
                if person is None or person in present:
                    continue  # first role listed wins
                present.append(person)
                languages = spoken[person]
                if languages == 0 or role == "interpreter":
                    interpreted = True
                else:
                    shared &= languages
            attendee_people.extend(present)
            first_attendee.append(len(attendee_people))
            if focus is None or meeting is focus:
                if meeting is focus:
                    self.focus = rank
                understood = interpreted or shared != 0
                self.meeting_rules(rank, meeting, start, end, venue, room, present, understood)
        if focus is not None and self.focus is None:
            raise ValueError(f"focus: {focus.key!r} is not a meeting of the snapshot")
        if not in_order:
            self.put_in_rank_order()

    def put_in_rank_order(self) -> None:
        """Sort the columns read in another order, and renumber what the first pass found."""
        meetings, starts, ends = self.meetings, self.starts, self.ends
        # The position settles ties (a key given twice) without comparing meetings.
        order = sorted(range(len(meetings)), key=lambda n: (starts[n], ends[n], meetings[n].key, n))
        rank_of = array("i", [0]) * len(order)
        for rank, n in enumerate(order):
            rank_of[n] = rank
        self.meetings = [meetings[n] for n in order]
        self.starts = array("q", [starts[n] for n in order])
        self.ends = array("q", [ends[n] for n in order])
        self.room_of = array("i", [self.room_of[n] for n in order])
        people, first = self.attendee_people, self.first_attendee
        self.attendee_people = array("i")
        self.first_attendee = array("i", [0])
        for n in order:
            self.attendee_people.extend(people[first[n] : first[n + 1]])
            self.first_attendee.append(len(self.attendee_people))
        # So far only single meetings' conflicts: (rank, -1, ...) sort keys.
        self.found = [((rank_of[key[0]], *key[1:]), conflict) for key, conflict in self.found]
        if self.focus is not None:
            self.focus = rank_of[self.focus]

    # -- helpers

    def zone_of(self, meeting: MeetingInfo) -> str:
        """The meeting's zone: its venue's, else the delegation's."""
        return meeting_zone_name(self.snap.venues.get(meeting.venue_id), self.snap.timezone)

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

    def at(self, meeting: MeetingInfo) -> tuple[str, datetime, datetime]:
        """A meeting as the words need it: title and local start and end."""
        return (
            short_title(meeting.title),
            self.local(meeting.start, meeting),
            self.local(meeting.end, meeting),
        )

    def emit(
        self,
        kind,
        ranks,
        message,
        *,
        person=None,
        room=None,
        venue=None,
        estimated=False,
        details=None,
    ):
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
            details,
        )
        # Ordered by meetings (a meeting alone before its pairs), kind, person, room, venue.
        second = ranks[1] if len(ranks) > 1 else -1
        self.found.append(
            ((ranks[0], second, _KIND_ORDER[kind], person or "", room or "", venue or ""), conflict)
        )

    def run(self) -> list[Conflict]:
        """The second pass: the rules over pairs, sweeping the columns in rank order.

        For each person and each room it keeps only the meetings still running (a later meeting
        that starts before one ends overlaps it); they hold only what overlaps (each entry
        beyond the first is a conflict found), so the work per meeting does not grow with the
        programme. The sweep also lists each person's meetings in rank order, which the travel
        rule then pairs with ``travel_legs``, the pairing the programme and agenda use too.
        """
        starts, ends, people = self.starts, self.ends, self.people
        room_of = self.room_of
        attendee_people, first_attendee = self.attendee_people, self.first_attendee
        own: list[list[int]] = [[] for _ in people]  # each person's meetings, by rank
        self.venue_ids = [m.venue_id for m in self.meetings]
        unsettled: list[list[int] | None] = [None] * len(people)  # by person number
        running_in: list[list[int] | None] = [None] * len(self.rooms)  # by room number
        for rank in range(len(self.meetings)):
            start = starts[rank]
            for person in attendee_people[first_attendee[rank] : first_attendee[rank + 1]]:
                own[person].append(rank)
                earlier = unsettled[person]
                if earlier is None:
                    unsettled[person] = [rank]
                    continue
                running = []
                for before in earlier:
                    if ends[before] > start:
                        running.append(before)
                        self.person_double_booked(people[person], before, rank)
                running.append(rank)
                unsettled[person] = running
            room = room_of[rank]
            if room >= 0:
                earlier = running_in[room]
                running = [] if earlier is None else [r for r in earlier if ends[r] > start]
                for before in running:
                    self.room_double_booked(self.rooms[room], before, rank)
                running.append(rank)
                running_in[room] = running
        for person, ranks in enumerate(own):
            self.travel_rule(people[person], ranks)
        self.found.sort(key=lambda item: item[0])
        return [conflict for _, conflict in self.found]

    def prepare_lookups(self) -> None:
        """Entity numbers, and what the rules look up by them, worked out once per check."""
        snap = self.snap
        self.person_number = {person.id: n for n, person in enumerate(self.people)}
        self.venue_number = {venue.id: n for n, venue in enumerate(self.venues)}
        self.room_number = {room.id: n for n, room in enumerate(self.rooms)}
        self.first_instant = _us(day_start(snap.start_date, snap.timezone))
        self.after_last = _us(day_start(snap.end_date + timedelta(days=1), snap.timezone))
        # Weekday -> [(opens, closes)] in microseconds after local midnight, None: always open.
        self.hours = [
            {
                day: [(_hhmm_us(pair[0]), _hhmm_us(pair[1])) for pair in pairs]
                for day, pairs in venue.opening_hours.items()
            }
            if venue.opening_hours
            else None
            for venue in self.venues
        ]
        self.zones = [zone(venue.timezone) for venue in self.venues]
        self.capacity = [room.capacity for room in self.rooms]
        self.limited = {
            n for n, p in enumerate(self.people) if p.available_from or p.available_until
        }
        # The primary subtags a person speaks, one bit each; 0 for an interpreter or someone
        # who lists no languages, as either rules out a gap.
        bits: dict[str, int] = {}
        self.spoken = []
        for person in self.people:
            mask = 0
            if person.languages and person.role != "interpreter":
                for tag in person.languages:
                    mask |= 1 << bits.setdefault(_primary(tag), len(bits))
            self.spoken.append(mask)

    def meeting_rules(self, rank, meeting, start, end, venue, room, present, understood) -> None:
        """Availability, opening hours, visit dates, capacity and language of one meeting."""
        if self.limited:
            for person in present:
                if person in self.limited:
                    self.availability(rank, meeting, self.people[person])
        if venue >= 0 and self.hours[venue] is not None:
            self.opening_hours(rank, meeting, venue)
        if start < self.first_instant or end > self.after_last:
            self.outside_visit_dates(rank, meeting)
        if room >= 0:
            capacity = self.capacity[room]
            if capacity is not None and len(present) > capacity:
                self.over_capacity(rank, meeting, self.rooms[room], len(present))
        if present and not understood:
            self.language_gap(rank, meeting, [self.people[p] for p in present])

    # -- rules over pairs

    def travel_rule(self, person, ranks: list[int]) -> None:
        """Each of the person's meetings and their next one: is there time to travel?"""
        if len(ranks) < 2:
            return
        starts, ends, venue_ids = self.starts, self.ends, self.venue_ids
        own_starts = [starts[r] for r in ranks]
        own_ends = [ends[r] for r in ranks]
        own_venues = [venue_ids[r] for r in ranks]
        for i, j, leg in travel_legs(own_starts, own_ends, own_venues, self.travel):
            before, after = ranks[i], ranks[j]
            gap = own_starts[j] - own_ends[i]
            if gap < leg.minutes * _MINUTE_US:
                self.travel_time(person, before, after, leg, gap)

    def person_double_booked(self, person, first: int, second: int) -> None:
        a, b = self.meetings[first], self.meetings[second]
        self.emit(
            "person_double_booked",
            (first, second),
            f"{person.name} is booked for {_quoted(a)} ({self.span(a)}) and "
            f"{_quoted(b)} ({self.span(b)}) at the same time",
            person=person.key,
            details={"person": person.name, "first": self.at(a), "second": self.at(b)},
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
            details={
                "person": person.name,
                "minutes": leg.minutes,
                "estimated": leg.estimated,
                "from": venues[a.venue_id].name,
                "to": venues[b.venue_id].name,
                "gap": gap_us // _MINUTE_US,
                "first": self.at(a),
                "second": self.at(b),
            },
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
            details={
                "room": room.name,
                "venue": venue.name if venue else None,
                "first": self.at(a),
                "second": self.at(b),
            },
        )

    # -- rules over one meeting

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
            details={
                "person": person.name,
                "from": self.local(person.available_from, meeting) if early else None,
                "until": self.local(person.available_until, meeting) if late else None,
                "zone": None
                if self.zone_of(meeting) == self.snap.timezone
                else self.zone_of(meeting),
                "meeting": self.at(meeting),
            },
        )

    def opening_hours(self, rank: int, meeting: MeetingInfo, venue_number: int) -> None:
        """Open hours are wall-clock times: compare the meeting's wall clock at the venue."""
        venue = self.venues[venue_number]
        venue_zone = self.zones[venue_number]
        start, end = meeting.start.astimezone(venue_zone), meeting.end.astimezone(venue_zone)
        weekday = start.weekday()
        since = _wall_us(start)
        until = _wall_us(end) + (end.toordinal() - start.toordinal()) * _DAY_US
        for opens, closes in self.hours[venue_number].get(WEEKDAYS[weekday], ()):
            if opens <= since and until <= closes:
                return
        listed = venue.opening_hours.get(WEEKDAYS[weekday]) or []
        open_text = ", ".join(f"{a}-{b}" for a, b in listed) if listed else "closed"
        self.emit(
            "outside_opening_hours",
            (rank,),
            f"{_quoted(meeting)} ({self.span(meeting)}) is outside the opening hours of "
            f"{venue.name} ({_WEEKDAY_NAMES[weekday]}: {open_text})",
            venue=venue.key,
            details={
                "meeting": self.at(meeting),
                "venue": venue.name,
                "weekday": weekday,
                "hours": [f"{a}-{b}" for a, b in listed],
            },
        )

    def outside_visit_dates(self, rank: int, meeting: MeetingInfo) -> None:
        snap = self.snap
        self.emit(
            "outside_visit_dates",
            (rank,),
            f"{_quoted(meeting)} ({self.span(meeting)}{self.zone_note(meeting)}) "
            f"is outside the visit dates, {_visit_dates(snap.start_date, snap.end_date)}",
            details={
                "meeting": self.at(meeting),
                "zone": None if self.zone_of(meeting) == snap.timezone else self.zone_of(meeting),
                "start": snap.start_date,
                "end": snap.end_date,
            },
        )

    def over_capacity(self, rank: int, meeting: MeetingInfo, room, attendees: int) -> None:
        venue = self.snap.venues.get(room.venue_id)
        self.emit(
            "over_capacity",
            (rank,),
            f"{_quoted(meeting)} has {attendees} attendees but {room.name}"
            f"{' at ' + venue.name if venue else ''} holds {room.capacity}",
            room=room.key,
            venue=venue.key if venue else None,
            details={
                "meeting": self.at(meeting),
                "attendees": attendees,
                "room": room.name,
                "venue": venue.name if venue else None,
                "capacity": room.capacity,
            },
        )

    def language_gap(self, rank: int, meeting: MeetingInfo, people: list) -> None:
        who = "; ".join(f"{p.name}: {', '.join(p.languages)}" for p in people[:6])
        if len(people) > 6:
            who += "; ..."
        self.emit(
            "language_gap",
            (rank,),
            f"No language is shared by all {len(people)} attendees of {_quoted(meeting)} "
            f"({self.span(meeting)}) and no interpreter attends ({who})",
            details={
                "meeting": self.at(meeting),
                "count": len(people),
                "who": [(p.name, tuple(p.languages)) for p in people[:6]],
                "more": len(people) > 6,
            },
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
