"""Placing meeting requests: OR-Tools CP-SAT, a first-come greedy, and the engine's last word.

Pure functions on plain data (a ``DelegationSnapshot`` and ``RequestInfo``), so the command,
the background job, the tests and ``bench/suggest.py`` run the same code.

The model (docs/benchmarks.md has its numbers):
- Everything already in the programme is pinned. It never becomes a variable: each pinned
  meeting of an attendee (with the travel time to and from it), each pinned booking of a room
  and each attendee's availability is cut out of the *domain* of a placement's start, together
  with the opening hours, the visit dates and the request's window. So what stays variable is
  only the interaction of the new placements with each other.
- A venue without opening hours is used 08:00-20:00 local time (WORKING_DAY).
- A request has one optional alternative per (venue, opening period): a start variable whose
  domain is the allowed starts on the 5-minute grid, and a presence literal. At most one
  alternative is present; a request is placed when one is. The room is a literal per fitting
  room, exactly one when the alternative is present, with a no-overlap per room.
- Per person, a no-overlap over their alternatives; between two of their alternatives at
  different venues whose start ranges come within the travel time of each other (in practice
  the same day), an ordering literal with the travel gap. Pairs are only made where they can
  matter, so the model grows with the requests per person and day, not quadratically overall.
- Interpreters: a request whose attendees share no language (and which allows it) needs one;
  a literal per interpreter says who, and the interpreter's own pinned meetings (with their
  travel) restrict the start when chosen. An interpreter works at one venue per day in the
  model (a literal per interpreter, day and venue), so their travel between placements never
  needs pairs; their travel to and from pinned meetings is in the domains.
- Objective: every ``must`` first (its weight exceeds all others together), then the spec's
  weights 100/10/1, then less travel and earlier days, lexicographically.
- The greedy result (requests in order, each at its earliest feasible start) is the solver's
  hint, and is returned instead whenever the solver finds nothing better: never fewer placed.

Times are in seconds from an origin on the UTC 5-minute grid; every zone in use has an offset
in whole multiples of 5 minutes, so that grid is the 5-minute grid of each venue's wall clock
(a start that is not is never proposed).
"""

from __future__ import annotations

import logging
import time as timer
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from scheduler.itinerary.conflict_data import DelegationSnapshot, MeetingInfo
from scheduler.itinerary.conflicts import SEVERITY, find_conflicts
from scheduler.itinerary.times import day_start, zone
from scheduler.itinerary.travel import TravelTable

log = logging.getLogger(__name__)

STEP = 300  # seconds: starts are multiples of 5 minutes
WEIGHTS = {"must": 100, "should": 10, "could": 1}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
NEW_WARNINGS = ("outside_opening_hours", "over_capacity")  # a proposal may not add these
# Where a venue gives no opening hours (always open to the conflict rules), placements keep to
# a working day, local time: a stricter rule than the check, so never a new conflict.
WORKING_DAY = ("08:00", "20:00")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class RequestInfo:
    key: str
    title: str
    attendees: tuple[tuple[int, str], ...]  # (person id, role)
    duration_minutes: int
    venue_ids: tuple[int, ...]
    not_before: datetime | None = None
    not_after: datetime | None = None
    priority: str = "should"
    interpreter: str = "if_needed"


@dataclass(frozen=True)
class Placement:
    request: str
    start: datetime
    end: datetime
    venue_id: int
    room_id: int | None
    attendees: tuple[tuple[int, str], ...]  # the request's, plus an interpreter if one is added


@dataclass
class Outcome:
    status: str  # optimal, feasible, infeasible, unknown
    placed: list[Placement] = field(default_factory=list)
    unplaced: list[tuple[str, str]] = field(default_factory=list)  # (request key, reason)
    seconds: float = 0.0
    method: str = "cp-sat"


# --------------------------------------------------------------------------- interval sets


def _intersect(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def _subtract_open(ranges: list[tuple[int, int]], lo: int, hi: int) -> list[tuple[int, int]]:
    """Closed ranges minus the open interval (lo, hi)."""
    out = []
    for a, b in ranges:
        if b <= lo or a >= hi:
            out.append((a, b))
            continue
        if a <= lo:
            out.append((a, lo))
        if b >= hi:
            out.append((hi, b))
    return out


def _on_grid(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Ranges of seconds to ranges of 5-minute steps (starts that lie on the grid)."""
    out = []
    for a, b in ranges:
        lo, hi = -(-a // STEP), b // STEP
        if lo <= hi:
            out.append((lo, hi))
    return out


def _size(ranges) -> int:
    return sum(b - a + 1 for a, b in ranges)


# --------------------------------------------------------------------------- the problem


@dataclass
class _Alternative:
    request: int  # index into problem.requests
    venue_id: int
    day: int  # index of the day in the visit, in the delegation's zone
    steps: list[tuple[int, int]]  # allowed starts, in steps from the origin
    rooms: list[int | None]  # fitting rooms (None: the venue has none)
    # interpreter person id -> allowed starts with that interpreter
    interpreters: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    travel_cost: int = 0
    # room id -> allowed starts in that room, where its pinned bookings leave fewer than steps
    room_steps: dict[int, list[tuple[int, int]]] = field(default_factory=dict)


@dataclass
class _Request:
    info: RequestInfo
    people: list[int]
    needs_interpreter: bool
    alternatives: list[_Alternative] = field(default_factory=list)
    why_not: list[str] = field(default_factory=list)  # reasons found while building


class Problem:
    """A snapshot with requests, worked out into alternatives with their start domains."""

    def __init__(
        self,
        snapshot: DelegationSnapshot,
        requests: list[RequestInfo],
        *,
        estimate_travel: bool = True,
    ):
        self.snap = snapshot
        self.travel = TravelTable(
            snapshot.travel_times, snapshot.venues.values(), estimate=estimate_travel
        )
        self.estimate_travel = estimate_travel
        self.first = int(
            (day_start(snapshot.start_date, snapshot.timezone) - _EPOCH).total_seconds()
        )
        self.after_last = int(
            (
                day_start(snapshot.end_date + timedelta(days=1), snapshot.timezone) - _EPOCH
            ).total_seconds()
        )
        self.origin = self.first // STEP * STEP
        self.day_starts = []
        day = snapshot.start_date
        while day <= snapshot.end_date:
            self.day_starts.append(self._sec(day_start(day, snapshot.timezone)))
            day += timedelta(days=1)
        self.interpreters = [p.id for p in snapshot.people.values() if p.role == "interpreter"]
        self._index_pinned()
        self.requests: list[_Request] = []
        for info in requests:
            self.requests.append(self._request(len(self.requests), info))

    # -- helpers

    def _sec(self, instant: datetime) -> int:
        return int((instant - _EPOCH).total_seconds()) - self.origin

    def instant(self, step: int) -> datetime:
        return _EPOCH + timedelta(seconds=self.origin + step * STEP)

    def leg(self, a: int | None, b: int | None) -> int:
        leg = self.travel.leg(a, b)
        return 0 if leg is None else leg.minutes * 60

    def day_of(self, second: int) -> int:
        day = 0
        for n, start in enumerate(self.day_starts):
            if second >= start:
                day = n
        return day

    def _index_pinned(self) -> None:
        self.person_meetings: dict[int, list[MeetingInfo]] = defaultdict(list)
        self.room_meetings: dict[int, list[MeetingInfo]] = defaultdict(list)
        for m in self.snap.meetings:
            if m.status == "cancelled":
                continue
            for pid, _ in dict.fromkeys(m.attendees):
                if pid in self.snap.people:
                    self.person_meetings[pid].append(m)
            if m.room_id is not None:
                self.room_meetings[m.room_id].append(m)

    def understood(self, attendees) -> bool:
        """The conflict engine's language rule: someone bridges, or a language is shared."""
        shared = None
        for pid, role in attendees:
            person = self.snap.people.get(pid)
            if person is None:
                continue
            if role == "interpreter" or person.role == "interpreter" or not person.languages:
                return True
            spoken = {tag.split("-", 1)[0].lower() for tag in person.languages}
            shared = spoken if shared is None else shared & spoken
        return shared is None or bool(shared)

    def open_periods(self, venue) -> list[tuple[int, int]]:
        """The venue's opening periods (seconds, closed ranges) that touch the visit."""
        tz = zone(venue.timezone)
        periods = []
        day = (_EPOCH + timedelta(seconds=self.first)).astimezone(tz).date() - timedelta(days=1)
        last = (_EPOCH + timedelta(seconds=self.after_last)).astimezone(tz).date()
        while day <= last:
            if venue.opening_hours:
                pairs = venue.opening_hours.get(WEEKDAYS[day.weekday()], [])
            else:
                pairs = [list(WORKING_DAY)]  # no hours given: open, but nobody meets at 3 am
            for opens, closes in pairs:
                a = _wall(day, opens, tz)
                b = _wall(day, closes, tz)
                periods.append((self._sec(a), self._sec(b)))
            day += timedelta(days=1)
        visit = (self.first - self.origin, self.after_last - self.origin)
        return [
            (max(a, visit[0]), min(b, visit[1]))
            for a, b in periods
            if min(b, visit[1]) > max(a, visit[0])
        ]

    def person_free(self, pid: int, ranges, duration: int, venue_id: int) -> list[tuple[int, int]]:
        """Starts left once the person's availability and pinned meetings are respected."""
        person = self.snap.people.get(pid)
        if person is None:
            return ranges
        if person.available_from is not None:
            ranges = _intersect(ranges, [(self._sec(person.available_from), 10**12)])
        if person.available_until is not None:
            ranges = _intersect(ranges, [(-(10**12), self._sec(person.available_until) - duration)])
        for m in self.person_meetings.get(pid, ()):
            start, end = self._sec(m.start), self._sec(m.end)
            before = self.leg(venue_id, m.venue_id)  # from the placement to the meeting
            after = self.leg(m.venue_id, venue_id)
            ranges = _subtract_open(ranges, start - duration - before, end + after)
            if not ranges:
                break
        return ranges

    def room_free(self, room_id, ranges, duration: int) -> list[tuple[int, int]]:
        if room_id is None:
            return ranges
        for m in self.room_meetings.get(room_id, ()):
            ranges = _subtract_open(ranges, self._sec(m.start) - duration, self._sec(m.end))
        return ranges

    def _request(self, index: int, info: RequestInfo) -> _Request:
        people = list(dict.fromkeys(pid for pid, _ in info.attendees if pid in self.snap.people))
        needs = (
            info.interpreter == "if_needed"
            and not self.understood(info.attendees)
            and bool(self.interpreters)
        )
        request = _Request(info, people, needs)
        duration = info.duration_minutes * 60
        window = [(-(10**12), 10**12)]
        if info.not_before is not None:
            window = _intersect(window, [(self._sec(info.not_before), 10**12)])
        if info.not_after is not None:
            window = _intersect(window, [(-(10**12), self._sec(info.not_after) - duration)])
        headcount = len(people) + (1 if needs else 0)
        for venue_id in info.venue_ids:
            venue = self.snap.venues.get(venue_id)
            if venue is None:
                continue
            rooms = [r for r in self.snap.rooms.values() if r.venue_id == venue_id]
            if rooms:
                fitting = [r.id for r in rooms if r.capacity is None or r.capacity >= headcount]
                if not fitting:
                    largest = max(r.capacity or 0 for r in rooms)
                    request.why_not.append(
                        f"no room of {venue.name} holds {headcount} people "
                        f"(the largest holds {largest})"
                    )
                    continue
            else:
                fitting = [None]
            for lo, hi in self.open_periods(venue):
                base = _intersect([(lo, hi - duration)], window)
                if not base:
                    continue
                free = base
                for pid in people:
                    free = self.person_free(pid, free, duration, venue_id)
                if not free:
                    continue
                steps = _on_grid(free)
                if not steps:
                    continue
                room_steps = {r: _on_grid(self.room_free(r, free, duration)) for r in fitting}
                room_ok = [r for r in fitting if room_steps[r]]
                if not room_ok:
                    continue
                alt = _Alternative(index, venue_id, self.day_of(lo), steps, room_ok)
                alt.room_steps = {
                    r: own for r, own in room_steps.items() if r is not None and own != steps
                }
                if needs:
                    for interp in self.interpreters:
                        if interp in people:
                            continue
                        own = _on_grid(self.person_free(interp, free, duration, venue_id))
                        if own:
                            alt.interpreters[interp] = own
                    if not alt.interpreters:
                        continue
                alt.travel_cost = self._travel_cost(people, venue_id, alt.day)
                request.alternatives.append(alt)
        return request

    def _travel_cost(self, people, venue_id, day) -> int:
        """Minutes the attendees travel from their other meetings of that day, roughly."""
        lo = self.day_starts[day]
        hi = lo + 86400
        cost = 0
        for pid in people:
            legs = [
                self.leg(m.venue_id, venue_id)
                for m in self.person_meetings.get(pid, ())
                if lo <= self._sec(m.start) < hi and m.venue_id is not None
            ]
            if legs:
                cost += min(legs) // 60
        return cost


def _wall(day, hhmm: str, tz) -> datetime:
    hours, minutes = (int(x) for x in hhmm.split(":"))
    local = datetime.combine(day, datetime.min.time()) + timedelta(hours=hours, minutes=minutes)
    return local.replace(tzinfo=tz).astimezone(UTC)


# --------------------------------------------------------------------------- choices


@dataclass(frozen=True)
class _Choice:
    request: int
    alternative: int  # index into the request's alternatives
    step: int
    room: int | None
    interpreter: int | None


class _Bookings:
    """What the placements so far hold: each person's and room's (start, end, venue)."""

    def __init__(self, problem: Problem):
        self.problem = problem
        self.people: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
        self.rooms: dict[int, list[tuple[int, int]]] = defaultdict(list)

    def person_ok(self, pid: int, start: int, end: int, venue: int) -> bool:
        leg = self.problem.leg
        for a, b, v in self.people.get(pid, ()):
            if not (end + leg(venue, v) <= a or b + leg(v, venue) <= start):
                return False
        return True

    def room_ok(self, room: int | None, start: int, end: int) -> bool:
        if room is None:
            return True
        return all(end <= a or b <= start for a, b in self.rooms.get(room, ()))

    def add(self, people, room, start, end, venue) -> None:
        for pid in people:
            self.people[pid].append((start, end, venue))
        if room is not None:
            self.rooms[room].append((start, end))


def _contains(ranges, step: int) -> bool:
    return any(a <= step <= b for a, b in ranges)


def greedy(problem: Problem) -> list[_Choice]:
    """First come, first served: each request in order at its earliest feasible start."""
    book = _Bookings(problem)
    chosen = []
    for r, request in enumerate(problem.requests):
        duration = request.info.duration_minutes * 60
        best = None
        for n, alt in enumerate(request.alternatives):
            found = _earliest(problem, book, request, alt, duration, best)
            if found is not None and (best is None or found[0] < best[0]):
                best = (found[0], n, found[1], found[2])
        if best is None:
            continue
        step, n, room, interp = best
        alt = request.alternatives[n]
        start = step * STEP
        people = request.people + ([interp] if interp is not None else [])
        book.add(people, room, start, start + duration, alt.venue_id)
        chosen.append(_Choice(r, n, step, room, interp))
    return chosen


def _earliest(problem, book, request, alt, duration, best):
    for lo, hi in alt.steps:
        for step in range(lo, hi + 1):
            if best is not None and step >= best[0]:
                return None
            start, end = step * STEP, step * STEP + duration
            if not all(book.person_ok(p, start, end, alt.venue_id) for p in request.people):
                continue
            room = next(
                (
                    r
                    for r in alt.rooms
                    if (r not in alt.room_steps or _contains(alt.room_steps[r], step))
                    and book.room_ok(r, start, end)
                ),
                "none",
            )
            if room == "none":
                continue
            interp = None
            if request.needs_interpreter:
                interp = next(
                    (
                        i
                        for i, own in alt.interpreters.items()
                        if _contains(own, step) and book.person_ok(i, start, end, alt.venue_id)
                    ),
                    "none",
                )
                if interp == "none":
                    continue
            return step, room, interp
    return None


def _weights(problem: Problem) -> dict[str, int]:
    others = sum(WEIGHTS[r.info.priority] for r in problem.requests if r.info.priority != "must")
    return {"must": max(WEIGHTS["must"], others + 1), "should": 10, "could": 1}


def _secondary(alt: _Alternative) -> int:
    return alt.travel_cost + 5 * alt.day


def score(problem: Problem, choices: list[_Choice]) -> tuple[int, int]:
    """(weighted placements, minus the secondary cost): larger is better."""
    weights = _weights(problem)
    placed = sum(weights[problem.requests[c.request].info.priority] for c in choices)
    cost = sum(_secondary(problem.requests[c.request].alternatives[c.alternative]) for c in choices)
    return placed, -cost


def cp_sat(
    problem: Problem, time_limit: float, hint: list[_Choice], workers: int = 4
) -> tuple[str, list[_Choice] | None]:
    from ortools.sat.python import cp_model

    model = cp_model.CpModel()
    weights = _weights(problem)
    person_intervals: dict[int, list] = defaultdict(list)
    person_alts: dict[int, list] = defaultdict(list)  # (start var, presence, lo, hi, dur, venue)
    room_intervals: dict[int, list] = defaultdict(list)
    interp_intervals: dict[int, list] = defaultdict(list)
    interp_days: dict[tuple[int, int], dict[int, list]] = defaultdict(lambda: defaultdict(list))
    placed_terms, cost_terms = [], []
    variables = {}  # (r, n) -> (start, presence, {room: lit}, {interp: lit})
    max_secondary = 0
    for r, request in enumerate(problem.requests):
        if not request.alternatives:
            continue
        duration_steps = -(-request.info.duration_minutes * 60 // STEP)
        presences = []
        for n, alt in enumerate(request.alternatives):
            domain = cp_model.Domain.FromIntervals([list(x) for x in alt.steps])
            start = model.NewIntVarFromDomain(domain, f"s{r}_{n}")
            present = model.NewBoolVar(f"p{r}_{n}")
            presences.append(present)
            interval = model.NewOptionalFixedSizeIntervalVar(start, duration_steps, present, "")
            lo, hi = alt.steps[0][0], alt.steps[-1][1]
            for pid in request.people:
                person_intervals[pid].append(interval)
                person_alts[pid].append((start, present, lo, hi, duration_steps, alt.venue_id, r))
            room_lits = {}
            for room in alt.rooms:
                lit = model.NewBoolVar("") if len(alt.rooms) > 1 else present
                room_lits[room] = lit
                if room is not None:
                    room_intervals[room].append(
                        model.NewOptionalFixedSizeIntervalVar(start, duration_steps, lit, "")
                    )
                if room in alt.room_steps:  # the room's pinned bookings leave fewer starts
                    model.AddLinearExpressionInDomain(
                        start,
                        cp_model.Domain.FromIntervals([list(x) for x in alt.room_steps[room]]),
                    ).OnlyEnforceIf(lit)
            if len(alt.rooms) > 1:
                model.AddExactlyOne(list(room_lits.values())).OnlyEnforceIf(present)
                for lit in room_lits.values():
                    model.AddImplication(lit, present)
            interp_lits = {}
            if request.needs_interpreter:
                for interp, own in alt.interpreters.items():
                    lit = model.NewBoolVar("")
                    interp_lits[interp] = lit
                    model.AddImplication(lit, present)
                    if own != alt.steps:
                        model.AddLinearExpressionInDomain(
                            start, cp_model.Domain.FromIntervals([list(x) for x in own])
                        ).OnlyEnforceIf(lit)
                    interp_intervals[interp].append(
                        model.NewOptionalFixedSizeIntervalVar(start, duration_steps, lit, "")
                    )
                    interp_days[(interp, alt.day)][alt.venue_id].append(lit)
                model.AddExactlyOne(list(interp_lits.values())).OnlyEnforceIf(present)
            variables[(r, n)] = (start, present, room_lits, interp_lits)
            secondary = _secondary(alt)
            max_secondary = max(max_secondary, secondary)
            if secondary:
                cost_terms.append(secondary * present)
        placed = model.NewBoolVar(f"placed{r}")
        model.Add(sum(presences) == placed)
        placed_terms.append(weights[request.info.priority] * placed)
    _resources(model, person_intervals, room_intervals, interp_intervals, interp_days)
    _travel_pairs(model, problem, person_alts)
    scale = max_secondary * max(1, len(problem.requests)) + 1
    model.Maximize(scale * sum(placed_terms) - sum(cost_terms))
    _hints(model, variables, hint)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.05, time_limit)
    solver.parameters.num_workers = workers
    # Stop once no further request can be placed; travel and days only refine within that.
    solver.parameters.absolute_gap_limit = scale * 0.99
    status = solver.Solve(model)
    name = {
        cp_model.OPTIMAL: "optimal",
        cp_model.FEASIBLE: "feasible",
        cp_model.INFEASIBLE: "infeasible",
    }.get(status, "unknown")
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return name, None
    return name, _read_choices(solver, variables)


def _resources(model, person_intervals, room_intervals, interp_intervals, interp_days) -> None:
    """No overlap per person, room and interpreter; an interpreter at one venue a day."""
    for intervals in (*person_intervals.values(), *room_intervals.values()):
        if len(intervals) > 1:
            model.AddNoOverlap(intervals)
    for pid, intervals in interp_intervals.items():
        if len(intervals) > 1:
            model.AddNoOverlap(intervals + person_intervals.get(pid, []))
    # An interpreter works at one venue a day: no travel between their placements.
    for by_venue in interp_days.values():
        if len(by_venue) > 1:
            at = []
            for lits in by_venue.values():
                here = model.NewBoolVar("")
                for lit in lits:
                    model.AddImplication(lit, here)
                at.append(here)
            model.AddAtMostOne(at)


def _travel_pairs(model, problem: Problem, person_alts) -> None:
    """Travel between two placements of a person at different venues, where it can bite."""
    for alts in person_alts.values():
        for i, a in enumerate(alts):
            for b in alts[i + 1 :]:
                if a[6] == b[6] or a[5] == b[5]:
                    continue
                there, back = problem.leg(a[5], b[5]), problem.leg(b[5], a[5])
                if not there and not back:
                    continue
                t1, t2 = -(-there // STEP), -(-back // STEP)
                # Could they come closer than the travel time? Otherwise no pair is needed.
                if a[3] + a[4] + t1 <= b[2] or b[3] + b[4] + t2 <= a[2]:
                    continue
                first = model.NewBoolVar("")
                model.Add(a[0] + a[4] + t1 <= b[0]).OnlyEnforceIf([first, a[1], b[1]])
                model.Add(b[0] + b[4] + t2 <= a[0]).OnlyEnforceIf([first.Not(), a[1], b[1]])


def _hints(model, variables, hint: list[_Choice]) -> None:
    """The greedy proposal as the solver's starting point."""
    for choice in hint:
        model.AddHint(variables[(choice.request, choice.alternative)][0], choice.step)
    hinted = {(c.request, c.alternative): c for c in hint}
    for key, (_start, present, room_lits, interp_lits) in variables.items():
        choice = hinted.get(key)
        model.AddHint(present, choice is not None)
        if len(room_lits) > 1:
            for room, lit in room_lits.items():
                model.AddHint(lit, choice is not None and choice.room == room)
        for interp, lit in interp_lits.items():
            model.AddHint(lit, choice is not None and choice.interpreter == interp)


def _read_choices(solver, variables) -> list[_Choice]:
    choices = []
    for (r, n), (start, present, room_lits, interp_lits) in variables.items():
        if not solver.BooleanValue(present):
            continue
        room = next((rm for rm, lit in room_lits.items() if solver.BooleanValue(lit)), None)
        interp = next((i for i, lit in interp_lits.items() if solver.BooleanValue(lit)), None)
        choices.append(_Choice(r, n, solver.Value(start), room, interp))
    return choices


# --------------------------------------------------------------------------- the last word


def _placement(problem: Problem, choice: _Choice) -> Placement:
    request = problem.requests[choice.request]
    alt = request.alternatives[choice.alternative]
    start = problem.instant(choice.step)
    attendees = tuple(request.info.attendees)
    if choice.interpreter is not None:
        attendees += ((choice.interpreter, "interpreter"),)
    return Placement(
        request.info.key,
        start,
        start + timedelta(minutes=request.info.duration_minutes),
        alt.venue_id,
        choice.room,
        attendees,
    )


def _identity(conflict) -> tuple:
    return (conflict.kind, conflict.meetings, conflict.person, conflict.room, conflict.venue)


def with_placements(snapshot: DelegationSnapshot, placements: list[Placement]):
    extra = tuple(
        MeetingInfo(
            None,
            p.request,
            p.request,
            "tentative",
            p.start,
            p.end,
            p.venue_id,
            p.room_id,
            p.attendees,
        )
        for p in placements
    )
    return replace(snapshot, meetings=snapshot.meetings + extra)


def new_problems(snapshot, placements, *, estimate_travel=True) -> list:
    """Conflicts the placements add that a proposal may not: errors, hours, capacity."""
    before = {_identity(c) for c in find_conflicts(snapshot, estimate_travel=estimate_travel)}
    after = find_conflicts(with_placements(snapshot, placements), estimate_travel=estimate_travel)
    return [
        c
        for c in after
        if _identity(c) not in before and (SEVERITY[c.kind] == "error" or c.kind in NEW_WARNINGS)
    ]


def checked(snapshot, placements, *, estimate_travel=True) -> tuple[list[Placement], list[str]]:
    """The placements the conflict engine accepts; the keys of those it refused (a bug)."""
    placements = list(placements)
    refused: list[str] = []
    while placements:
        bad = new_problems(snapshot, placements, estimate_travel=estimate_travel)
        if not bad:
            break
        keys = {p.request for p in placements}
        drop = {k for c in bad for k in c.meetings if k in keys}
        for conflict in bad:
            log.error(
                "suggestion bug: the proposal would add %s: %s", conflict.kind, conflict.message
            )
        if not drop:
            break
        refused += sorted(drop)
        placements = [p for p in placements if p.request not in drop]
    return placements, refused


# --------------------------------------------------------------------------- reasons

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _day_text(problem: Problem, second: int, tz_name: str) -> str:
    local = (_EPOCH + timedelta(seconds=problem.origin + second)).astimezone(zone(tz_name))
    return f"{local.day} {_MONTHS[local.month - 1]}"


def _quoted_list(meetings) -> str:
    names = [f"'{m.title}'" for m in meetings[:3]]
    if len(meetings) > 3:
        names.append(f"{len(meetings) - 3} more")
    return ", ".join(names)


def _taken_by_others(request, placed: list[Placement], minutes: int) -> str:
    """Why a request that could have had a place has none: others took the time."""
    rivals = sorted(
        {
            p.request
            for p in placed
            if {pid for pid, _ in p.attendees} & set(request.people)
            or (request.needs_interpreter and any(role == "interpreter" for _, role in p.attendees))
            or any(p.room_id in alt.rooms for alt in request.alternatives if p.room_id)
        }
    )
    names = ", ".join(rivals[:4]) + (f" and {len(rivals) - 4} more" if len(rivals) > 4 else "")
    return (
        f"every free {minutes} minutes that suits its attendees"
        + (", an interpreter" if request.needs_interpreter else "")
        + " and a room is taken by other proposed meetings"
        + (f" ({names})" if names else "")
        + ": give it a higher priority, widen its window or add a venue"
    )


def reason(problem: Problem, r: int, placed: list[Placement]) -> str:
    """Why request r has no place, in words a coordinator can act on."""
    request = problem.requests[r]
    info = request.info
    snap = problem.snap
    minutes = info.duration_minutes
    duration = minutes * 60
    if not request.people:
        return "none of its attendees is a person of the delegation"
    if request.alternatives:
        return _taken_by_others(request, placed, minutes)
    reasons = list(request.why_not)
    window = [(-(10**12), 10**12)]
    if info.not_before is not None:
        window = _intersect(window, [(problem._sec(info.not_before), 10**12)])
    if info.not_after is not None:
        window = _intersect(window, [(-(10**12), problem._sec(info.not_after) - duration)])
    for venue_id in info.venue_ids:
        venue = snap.venues.get(venue_id)
        if venue is None:
            continue
        periods = [
            p for p in problem.open_periods(venue) if _intersect([(p[0], p[1] - duration)], window)
        ]
        if not periods:
            reasons.append(
                f"{venue.name} is not open for {minutes} minutes inside the request's window "
                "and the visit dates"
            )
            continue
        for lo, hi in periods:
            day = _day_text(problem, lo, venue.timezone)
            base = _intersect([(lo, hi - duration)], window)
            blockers = []
            for pid in request.people:
                alone = problem.person_free(pid, base, duration, venue_id)
                if _on_grid(alone):
                    continue
                person = snap.people[pid]
                meetings = [
                    m
                    for m in problem.person_meetings.get(pid, ())
                    if problem._sec(m.end) + 4 * 3600 > lo and problem._sec(m.start) - 4 * 3600 < hi
                ]
                if meetings:
                    blockers.append(f"{person.name} by {_quoted_list(meetings)}")
                else:
                    blockers.append(f"{person.name} is not available then")
            if blockers:
                reasons.append(
                    f"{venue.name} has no free {minutes} minutes for it inside its opening hours "
                    f"on {day}: blocked for " + "; ".join(blockers)
                )
                continue
            free = base
            for pid in request.people:
                free = problem.person_free(pid, free, duration, venue_id)
            if not _on_grid(free):
                names = ", ".join(snap.people[pid].name for pid in request.people)
                reasons.append(
                    f"{names} have no common free {minutes} minutes at {venue.name} on {day}"
                )
                continue
            rooms = [r for r in snap.rooms.values() if r.venue_id == venue_id]
            if rooms and not any(problem.room_free(r.id, free, duration) for r in rooms):
                reasons.append(f"every room of {venue.name} is booked when they are free on {day}")
                continue
            if request.needs_interpreter:
                reasons.append(
                    f"its attendees share no language and no interpreter is free at "
                    f"{venue.name} on {day} when they are"
                )
    if not reasons:
        reasons.append("no time inside its window and the visit dates suits it")
    return "; ".join(dict.fromkeys(reasons))


# --------------------------------------------------------------------------- entry point


def solve(
    snapshot: DelegationSnapshot,
    requests: list[RequestInfo],
    *,
    time_limit: float = 10.0,
    estimate_travel: bool = True,
    method: str = "cp-sat",
    workers: int = 4,
    engine_check: bool = True,
) -> Outcome:
    """A proposal for the requests, checked by the conflict engine; within ``time_limit``."""
    began = timer.monotonic()
    problem = Problem(snapshot, requests, estimate_travel=estimate_travel)
    first = greedy(problem)
    status, choices = "feasible", first
    used = "greedy"
    if method == "cp-sat" and any(r.alternatives for r in problem.requests):
        built = timer.monotonic() - began
        left = time_limit - built - 1.0 - 0.3 * built  # leave time for the check after it
        status, found = cp_sat(problem, max(0.1, left), first, workers)
        if found is not None and score(problem, found) >= score(problem, first):
            choices, used = found, "cp-sat"
        elif found is None and status == "unknown" and first:
            status = "feasible"
    elif not any(r.alternatives for r in problem.requests):
        status = "optimal"
    placements = [_placement(problem, c) for c in choices]
    refused: list[str] = []
    if engine_check:  # off only in tests that check the model itself against the twin
        placements, refused = checked(snapshot, placements, estimate_travel=estimate_travel)
    by_key = {p.request: p for p in placements}
    outcome = Outcome(status, method=used)
    for r, request in enumerate(problem.requests):
        placement = by_key.get(request.info.key)
        if placement is not None:
            outcome.placed.append(placement)
        elif request.info.key in refused:
            outcome.unplaced.append(
                (request.info.key, "the proposed time failed the conflict check (a bug, logged)")
            )
        else:
            outcome.unplaced.append((request.info.key, reason(problem, r, placements)))
    outcome.placed.sort(key=lambda p: (p.start, p.request))
    outcome.seconds = round(timer.monotonic() - began, 3)
    return outcome
