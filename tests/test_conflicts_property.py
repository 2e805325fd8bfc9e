"""On random itineraries the engine answers exactly what the brute-force twin gives."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bruteforce_conflicts import brute_force_conflicts
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler.itinerary.conflict_data import (
    DelegationSnapshot,
    MeetingInfo,
    PersonInfo,
    RoomInfo,
    TravelEntry,
    VenueInfo,
)
from scheduler.itinerary.conflicts import find_conflicts

# Berlin falls back at 01:00Z on 27 Oct 2024; the programme runs across it.
ZONES = ("Europe/Berlin", "Asia/Tokyo", "America/New_York", "Asia/Kolkata")
ORIGIN = datetime(2024, 10, 26, 18, tzinfo=UTC)  # the change is 28 steps later
STEP = timedelta(minutes=15)
LANGUAGES = ("ko", "ja", "EN", "en-GB", "de-DE", "DE", "fr")
COORDINATES = ((36.08, 140.11), (35.66, 139.76), (35.67, 139.75), (52.52, 13.40))
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def instant(steps: int) -> datetime:
    return ORIGIN + steps * STEP


@st.composite
def opening_hours(draw, boundaries: set[int]):
    """Hours often opening or closing right where a meeting starts or ends (minutes of the day)."""
    if draw(st.booleans()):
        return None
    choices = sorted(boundaries | {0, 9 * 60, 17 * 60, 24 * 60})
    hours = {}
    for day in draw(st.lists(st.sampled_from(WEEKDAYS), unique=True, max_size=7)):
        pairs = []
        for _ in range(draw(st.integers(1, 2))):
            opens = draw(st.sampled_from(choices[:-1]))
            closes = draw(st.sampled_from([t for t in choices if t > opens]))
            pairs.append([f"{t // 60:02d}:{t % 60:02d}" for t in (opens, closes)])
        hours[day] = pairs
    return hours


def minutes_of_day(instant_: datetime, zone_name: str) -> set[int]:
    local = instant_.astimezone(ZoneInfo(zone_name))
    minutes = local.hour * 60 + local.minute
    return {minutes, 24 * 60} if minutes == 0 else {minutes}


@st.composite
def snapshots(draw):
    people = {}
    for n in range(draw(st.integers(1, 4))):
        start = draw(st.none() | st.integers(0, 40))
        until = draw(st.none() | st.integers(1 if start is None else start + 1, 52))
        people[n + 1] = PersonInfo(
            id=n + 1,
            key=f"p{n}",
            name=f"Person {n}",
            role=draw(st.sampled_from(("delegation", "host", "staff", "interpreter"))),
            languages=tuple(
                draw(st.lists(st.sampled_from(LANGUAGES), unique=True, min_size=n % 2, max_size=2))
            ),
            available_from=None if start is None else instant(start),
            available_until=None if until is None else instant(until),
        )
    venues, rooms = {}, {}
    for n in range(draw(st.integers(0, 3))):
        place = draw(st.sampled_from([None, *COORDINATES]))
        venues[10 + n] = VenueInfo(
            id=10 + n,
            key=f"v{n}",
            name=f"Venue {n}",
            timezone=draw(st.sampled_from(ZONES)),
            latitude=place and place[0],
            longitude=place and place[1],
        )
        for r in range(draw(st.integers(0, 2))):
            room_id = 100 + 10 * n + r
            rooms[room_id] = RoomInfo(
                room_id, f"r{r}", f"Room {r}", 10 + n, draw(st.none() | st.integers(1, 3))
            )
    pairs = [(a, b) for a in venues for b in venues if a != b]
    travel = []
    for a, b in pairs:
        minutes = draw(st.sampled_from((None, None, 0, 15, 30, 45, 60, 120)))
        if minutes is not None:
            travel.append(TravelEntry(a, b, minutes))
    meetings = []
    keys = draw(st.permutations([f"m{n}" for n in range(draw(st.integers(0, 9)))]))
    cursor = draw(st.integers(0, 30))  # meetings follow each other closely, across the change
    for key in keys:
        cursor += draw(st.integers(0, 4))
        start = cursor
        venue_id = draw(st.sampled_from([None, *sorted(venues), *sorted(venues)]))
        venue_rooms = [r for r in rooms if rooms[r].venue_id == venue_id]
        room_id = draw(st.sampled_from([None, *venue_rooms]))
        who = draw(st.permutations(sorted(people)))[: draw(st.integers(0, len(people)))]
        meetings.append(
            MeetingInfo(
                id=len(meetings) + 1,
                key=key,
                title=f"Meeting {key}",
                status=draw(st.sampled_from(("confirmed", "tentative", "cancelled"))),
                start=instant(start),
                end=instant(start + draw(st.integers(1, 6))),
                venue_id=venue_id,
                room_id=room_id,
                attendees=tuple(
                    (
                        pid,
                        draw(
                            st.sampled_from(
                                ("required", "optional", "chair", "required", "interpreter")
                            )
                        ),
                    )
                    for pid in who
                ),
            )
        )
    for venue_id, venue in venues.items():
        boundaries = set()
        for m in meetings:
            if m.venue_id == venue_id:
                boundaries |= minutes_of_day(m.start, venue.timezone)
                boundaries |= minutes_of_day(m.end, venue.timezone)
        venues[venue_id] = replace(venue, opening_hours=draw(opening_hours(boundaries)))
    return DelegationSnapshot(
        key="random",
        timezone=draw(st.sampled_from(ZONES)),
        start_date=date(2024, 10, 26),
        end_date=draw(st.sampled_from((date(2024, 10, 26), date(2024, 10, 27)))),
        people=people,
        venues=venues,
        rooms=rooms,
        travel_times=tuple(travel),
        meetings=tuple(meetings),
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(snapshot=snapshots(), estimate=st.booleans())
def test_engine_gives_exactly_the_brute_force_answer(snapshot, estimate):
    found = find_conflicts(snapshot, estimate_travel=estimate)
    as_tuples = [(c.kind, c.meetings, c.person, c.room, c.venue) for c in found]
    # Same conflicts, each once, in the same order.
    assert as_tuples == brute_force_conflicts(snapshot, estimate_travel=estimate)
    assert all(c.message for c in found)
    assert all(c.estimated == ("(estimated)" in c.message) for c in found)


@settings(max_examples=100, deadline=None)
@given(snapshot=snapshots())
def test_the_focus_check_is_the_whole_check_restricted_to_one_meeting(snapshot):
    everything = find_conflicts(snapshot)
    for meeting in snapshot.meetings:
        if meeting.status == "cancelled":
            continue
        involved = [c for c in everything if meeting.key in c.meetings]
        assert find_conflicts(snapshot, focus=meeting) == involved
