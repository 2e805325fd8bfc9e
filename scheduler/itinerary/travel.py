"""Travel between venues: how long a leg takes, and which meetings a person travels between.

The conflict engine, the programme page and the agenda all ask here, so they agree.

An entry for the direction asked wins, else the entry for the other direction. Where neither
exists and both venues have coordinates, an estimate may stand in (``estimate=True``):

    minutes = great-circle distance / 45 km/h + 20 min margin, rounded up to 5 minutes

45 km/h is door-to-door road speed in and between Japanese and Korean cities (the reference
visit's Shonan -> Tsukuba, 100 km as the crow flies, is 150 minutes by car; the rule gives 155).
An estimate is always marked as one, and never used where an entry exists.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

ESTIMATE_SPEED_KMH = 45.0
ESTIMATE_SETTING = "TRAVEL_ESTIMATE_ENABLED"
ESTIMATE_MARGIN_MINUTES = 20
EARTH_RADIUS_KM = 6371.0


def estimates_travel(config: Mapping) -> bool:
    """Whether this instance lets estimates stand in for missing entries (on unless set off)."""
    return bool(config.get(ESTIMATE_SETTING, True))


@dataclass(frozen=True)
class TravelLeg:
    minutes: int
    mode: str | None = None
    estimated: bool = False


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlmb = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def estimated_minutes(distance_km: float) -> int:
    raw = distance_km / ESTIMATE_SPEED_KMH * 60 + ESTIMATE_MARGIN_MINUTES
    return int(math.ceil(raw / 5.0) * 5)


class TravelTable:
    """Travel legs between venues, keyed by venue id; build once per check, ask many times."""

    def __init__(self, entries: Iterable, venues: Iterable, *, estimate: bool = True):
        self._legs = {
            (e.from_venue_id, e.to_venue_id): TravelLeg(e.minutes, e.mode) for e in entries
        }
        self._coordinates = {
            v.id: (v.latitude, v.longitude)
            for v in venues
            if v.latitude is not None and v.longitude is not None
        }
        self.estimate = estimate
        self._estimates: dict[tuple[int, int], TravelLeg | None] = {}

    def leg(self, from_venue_id: int | None, to_venue_id: int | None) -> TravelLeg | None:
        """The leg between two different venues, or None where no rule gives one."""
        if from_venue_id is None or to_venue_id is None or from_venue_id == to_venue_id:
            return None
        leg = self._legs.get((from_venue_id, to_venue_id)) or self._legs.get(
            (to_venue_id, from_venue_id)
        )
        if leg is not None or not self.estimate:
            return leg
        pair = (from_venue_id, to_venue_id)
        if pair not in self._estimates:
            a, b = self._coordinates.get(from_venue_id), self._coordinates.get(to_venue_id)
            self._estimates[pair] = (
                None
                if a is None or b is None
                else TravelLeg(estimated_minutes(great_circle_km(*a, *b)), "estimate", True)
            )
        return self._estimates[pair]


# --------------------------------------------------------------------------- the pairing rule


@dataclass(frozen=True)
class TravelNote:
    """Arriving at a meeting from another venue: the leg, the time there is, and who travels."""

    from_venue: Any  # a Venue (anything with a name)
    to_venue: Any
    leg: TravelLeg
    gap_minutes: int  # from the earlier meeting's end to this one's start
    people: tuple = ()  # who makes the journey, by name

    @property
    def too_short(self) -> bool:
        return self.gap_minutes < self.leg.minutes


def next_meetings(starts: Sequence, ends: Sequence) -> Iterator[tuple[int, int]]:
    """The spec's travel pairing, for one person's meetings in rank order (start, end, key).

    ``starts`` and ``ends`` are those meetings' (comparable) start and end times. Yields
    ``(i, j)``: meeting ``j`` is the next of theirs to start at or after meeting ``i`` ends.
    Every meeting counts, online ones too (they just need no leg).
    """
    count = len(starts)
    for i, end in enumerate(ends):
        j = bisect.bisect_left(starts, end, i + 1)
        if j < count:
            yield i, j


def travel_legs(
    starts: Sequence, ends: Sequence, venue_ids: Sequence, table: TravelTable
) -> Iterator[tuple[int, int, TravelLeg]]:
    """One person's consecutive meetings (``next_meetings``) that need a leg, with the leg.

    The conflict rules, the coordinator's programme and the agenda all pair meetings here.
    """
    for i, j in next_meetings(starts, ends):
        came_from, going_to = venue_ids[i], venue_ids[j]
        if came_from is None or going_to is None or came_from == going_to:
            continue
        leg = table.leg(came_from, going_to)
        if leg is not None:
            yield i, j, leg


def rank_order(meeting) -> tuple:
    return (meeting.start, meeting.end, meeting.key)


def arrivals(meetings: Iterable, table: TravelTable, person_id: int | None = None) -> dict:
    """Meeting id -> the legs its attendees travel to reach it (``TravelNote``), earliest first.

    ``meetings`` are ORM meetings with their attendances, venues and people loaded; cancelled
    ones take no part. With ``person_id``, only that person's legs. Attendees who make the same
    journey between the same two meetings share one note.
    """
    own: dict[int, list] = defaultdict(list)
    people: dict[int, Any] = {}
    for meeting in sorted(meetings, key=rank_order):
        if meeting.is_cancelled:
            continue
        for attendance in meeting.attendances:
            if person_id is None or attendance.person_id == person_id:
                own[attendance.person_id].append(meeting)
                people[attendance.person_id] = attendance.person
    pairs: dict[tuple[int, int], tuple] = {}
    for pid, theirs in own.items():
        starts, ends = [m.start for m in theirs], [m.end for m in theirs]
        for i, j, leg in travel_legs(starts, ends, [m.venue_id for m in theirs], table):
            before, after = theirs[i], theirs[j]
            entry = pairs.setdefault((before.id, after.id), (before, after, leg, []))
            entry[3].append(people[pid])
    result: dict[int, list[TravelNote]] = defaultdict(list)
    for before, after, leg, travellers in sorted(pairs.values(), key=lambda e: rank_order(e[0])):
        result[after.id].append(
            TravelNote(
                before.venue,
                after.venue,
                leg,
                int((after.start - before.end).total_seconds() // 60),
                tuple(sorted(travellers, key=lambda p: p.name)),
            )
        )
    return result
