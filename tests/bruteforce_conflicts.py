"""The spec's conflict rules read literally: every pair, every person, no cleverness.

The twin of scheduler/itinerary/conflicts.py for the property test and the benchmark. It
shares only the input (a DelegationSnapshot) and the documented estimate formula of
travel.py; zones, days, overlaps and lookups are worked out again here, the plain way.
Returns (kind, meeting keys earlier first, person key, room key, venue key) tuples.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from scheduler.itinerary.travel import estimated_minutes, great_circle_km

KINDS = (
    "person_double_booked",
    "room_double_booked",
    "travel_time",
    "outside_availability",
    "outside_opening_hours",
    "outside_visit_dates",
    "over_capacity",
    "language_gap",
)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def meeting_order(meeting):
    return (meeting.start, meeting.end, meeting.key)


def travel_minutes(snapshot, from_id, to_id, estimate):
    for entry in snapshot.travel_times:
        if entry.from_venue_id == from_id and entry.to_venue_id == to_id:
            return entry.minutes
    for entry in snapshot.travel_times:
        if entry.from_venue_id == to_id and entry.to_venue_id == from_id:
            return entry.minutes
    a, b = snapshot.venues[from_id], snapshot.venues[to_id]
    coordinates = (a.latitude, a.longitude, b.latitude, b.longitude)
    if estimate and None not in coordinates:
        return estimated_minutes(great_circle_km(*coordinates))
    return None


def hhmm(day, text):
    hours, minutes = (int(part) for part in text.split(":"))
    return datetime.combine(day, time()) + timedelta(hours=hours, minutes=minutes)


def brute_force_conflicts(snapshot, *, estimate_travel=True):
    """Every conflict as a tuple, in the engine's documented order."""
    people, venues, rooms = snapshot.people, snapshot.venues, snapshot.rooms
    meetings = [m for m in snapshot.meetings if m.status != "cancelled"]

    def attendees(meeting):
        return {pid for pid, _ in meeting.attendees if pid in people}

    def ordered(a, b):
        return (a.key, b.key) if meeting_order(a) < meeting_order(b) else (b.key, a.key)

    found = set()
    for i, a in enumerate(meetings):
        for b in meetings[i + 1 :]:
            if not (a.start < b.end and b.start < a.end):
                continue
            for pid in attendees(a) & attendees(b):
                found.add(("person_double_booked", ordered(a, b), people[pid].key, None, None))
            if a.room_id is not None and a.room_id == b.room_id and a.room_id in rooms:
                room = rooms[a.room_id]
                venue = venues.get(room.venue_id)
                found.add(
                    ("room_double_booked", ordered(a, b), None, room.key, venue and venue.key)
                )

    for pid, person in people.items():
        mine = [m for m in meetings if pid in attendees(m)]
        for a in mine:
            later = [b for b in mine if b.start >= a.end]
            if not later:
                continue
            b = min(later, key=meeting_order)
            if a.venue_id is None or b.venue_id is None or a.venue_id == b.venue_id:
                continue
            minutes = travel_minutes(snapshot, a.venue_id, b.venue_id, estimate_travel)
            if minutes is not None and b.start - a.end < timedelta(minutes=minutes):
                found.add(("travel_time", (a.key, b.key), person.key, None, None))

    home = ZoneInfo(snapshot.timezone)
    visit_from = datetime.combine(snapshot.start_date, time(), tzinfo=home).astimezone(UTC)
    visit_until = datetime.combine(
        snapshot.end_date + timedelta(days=1), time(), tzinfo=home
    ).astimezone(UTC)
    for m in meetings:
        for pid in attendees(m):
            p = people[pid]
            if (p.available_from is not None and m.start < p.available_from) or (
                p.available_until is not None and m.end > p.available_until
            ):
                found.add(("outside_availability", (m.key,), p.key, None, None))

        venue = venues.get(m.venue_id)
        if venue is not None and venue.opening_hours:
            zone = ZoneInfo(venue.timezone)
            start = m.start.astimezone(zone).replace(tzinfo=None)
            end = m.end.astimezone(zone).replace(tzinfo=None)
            pairs = venue.opening_hours.get(WEEKDAYS[start.weekday()], [])
            if not any(
                hhmm(start.date(), o) <= start and end <= hhmm(start.date(), c) for o, c in pairs
            ):
                found.add(("outside_opening_hours", (m.key,), None, None, venue.key))

        if m.start < visit_from or m.end > visit_until:
            found.add(("outside_visit_dates", (m.key,), None, None, None))

        room = rooms.get(m.room_id)
        if room is not None and room.capacity is not None and len(attendees(m)) > room.capacity:
            venue_of_room = venues.get(room.venue_id)
            found.add(
                ("over_capacity", (m.key,), None, room.key, venue_of_room and venue_of_room.key)
            )

        present = {pid: role for pid, role in reversed(m.attendees) if pid in people}
        if not present or any(not people[pid].languages for pid in present):
            continue
        if any(
            people[pid].role == "interpreter" or role == "interpreter"
            for pid, role in present.items()
        ):
            continue
        spoken = [{tag.split("-")[0].lower() for tag in people[pid].languages} for pid in present]
        if not any(all(lang in langs for langs in spoken) for lang in spoken[0]):
            found.add(("language_gap", (m.key,), None, None, None))

    by_key = {m.key: m for m in meetings}
    return sorted(
        found,
        key=lambda c: (
            tuple(meeting_order(by_key[k]) for k in c[1]),
            KINDS.index(c[0]),
            c[2] or "",
            c[3] or "",
            c[4] or "",
        ),
    )
