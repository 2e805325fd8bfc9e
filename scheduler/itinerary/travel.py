"""Travel time between two venues: the conflict engine, programme page and agenda all ask here.

An entry for the direction asked wins, else the entry for the other direction. Where neither
exists and both venues have coordinates, an estimate may stand in (``estimate=True``):

    minutes = great-circle distance / 45 km/h + 20 min margin, rounded up to 5 minutes

45 km/h is door-to-door road speed in and between Japanese and Korean cities (the reference
visit's Shonan -> Tsukuba, 100 km as the crow flies, is 150 minutes by car; the rule gives 155).
An estimate is always marked as one, and never used where an entry exists.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

ESTIMATE_SPEED_KMH = 45.0
ESTIMATE_MARGIN_MINUTES = 20
EARTH_RADIUS_KM = 6371.0


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

    def leg(self, from_venue_id: int | None, to_venue_id: int | None) -> TravelLeg | None:
        """The leg between two different venues, or None where no rule gives one."""
        if from_venue_id is None or to_venue_id is None or from_venue_id == to_venue_id:
            return None
        leg = self._legs.get((from_venue_id, to_venue_id)) or self._legs.get(
            (to_venue_id, from_venue_id)
        )
        if leg is not None or not self.estimate:
            return leg
        a, b = self._coordinates.get(from_venue_id), self._coordinates.get(to_venue_id)
        if a is None or b is None:
            return None
        return TravelLeg(estimated_minutes(great_circle_km(*a, *b)), "estimate", estimated=True)
