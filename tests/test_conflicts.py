"""The conflict rules of the spec, kind by kind and at their boundaries, through the database."""

import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from conftest import count_queries, minimal_document
from sqlalchemy import delete, select
from sqlalchemy.orm import selectinload

from scheduler.extensions import db
from scheduler.itinerary.conflict_data import (
    DelegationSnapshot,
    MeetingInfo,
    PersonInfo,
    load_snapshot,
)
from scheduler.itinerary.conflicts import (
    Conflict,
    ProposedMeeting,
    check_delegation,
    check_proposed_meeting,
    conflicts_by_meeting,
    find_conflicts,
    short_title,
)
from scheduler.itinerary.travel import estimated_minutes, great_circle_km
from scheduler.models import (
    Attendance,
    Delegation,
    HistoryEntry,
    Meeting,
    Person,
    Room,
    TravelTime,
    Venue,
)


def person(key, *, languages=("en",), role="delegation", **extra) -> dict:
    return {"key": key, "name": key.upper(), "role": role, "languages": list(languages), **extra}


def venue(key, *, timezone="Asia/Tokyo", rooms=(), **extra) -> dict:
    document = {"key": key, "name": f"{key.title()} venue", "timezone": timezone, **extra}
    if rooms:
        document["rooms"] = [
            {"key": r, "name": f"Room {r}"} if isinstance(r, str) else r for r in rooms
        ]
    return document


def meeting(
    key, start, end, *people, venue=None, room=None, status="confirmed", title=None, roles=None
):
    document = {
        "key": key,
        "title": title or f"Meeting {key}",
        "status": status,
        "start": start,
        "end": end,
        "attendees": [
            {"person": p, **({"role": roles[p]} if roles and p in roles else {})} for p in people
        ],
    }
    if venue:
        document["venue"] = venue
    if room:
        document["room"] = room
    return document


def itinerary(*, people=(), venues=(), meetings=(), travel=(), **delegation) -> dict:
    document = minimal_document(**delegation)
    document["people"] = list(people)
    document["venues"] = list(venues)
    document["meetings"] = list(meetings)
    document["travel_times"] = [
        {"from": a, "to": b, "minutes": minutes} for a, b, minutes in travel
    ]
    return document


KEY = "test-visit"
REFERENCE_KEY = "mss-japan-2024-09"


@pytest.fixture
def check(app, load_document):
    """Import a document, then check the delegation through the database."""

    def run(document: dict, *, estimate: bool = True) -> list[Conflict]:
        load_document(document)
        with app.app_context():
            key = document["delegation"]["key"]
            delegation = db.session.scalar(select(Delegation).where(Delegation.key == key))
            return check_delegation(db.session, delegation, estimate_travel=estimate)

    return run


def summary(conflicts) -> list[tuple]:
    return [(c.kind, c.meetings, c.person, c.room, c.venue) for c in conflicts]


def two_people_meetings(first: tuple[str, str], second: tuple[str, str], **extra) -> dict:
    return itinerary(
        people=[person("ana"), person("ben")],
        venues=[venue("hq", rooms=["a"])],
        meetings=[
            meeting("m1", *first, "ana", "ben", venue="hq"),
            meeting("m2", *second, "ana", venue="hq", **extra),
        ],
    )


# --------------------------------------------------------------------------- the reference visit


@pytest.mark.parametrize("estimate", [True, False])
def test_reference_visit_reports_the_two_travel_conflicts(check, reference_document, estimate):
    conflicts = check(reference_document, estimate=estimate)
    assert summary(conflicts) == [
        ("travel_time", ("astellas", "cmic"), "interp-kim", None, None),
        ("travel_time", ("astellas", "cmic"), "lim", None, None),
    ]
    assert all(c.severity == "error" and not c.estimated for c in conflicts)
    assert conflicts[1].message == (
        "LIM Jeong-wook needs 80 min from Astellas Tsukuba Research Center to CMIC head office "
        "but has 60 min between 'Industry-academia-research collaboration and regenerative "
        "medicine exchange' (ends 11:30) and 'Decentralized clinical trials and AI healthcare' "
        "(starts 12:30)"
    )


def test_moving_the_cmic_meeting_to_1400_clears_the_reference_visit(check, reference_document):
    cmic = next(m for m in reference_document["meetings"] if m["key"] == "cmic")
    cmic["start"], cmic["end"] = "2024-09-27T14:00", "2024-09-27T15:00"
    assert check(reference_document) == []


# --------------------------------------------------------------------------- person_double_booked


def test_overlapping_meetings_double_book_their_common_people_only(check):
    conflicts = check(
        two_people_meetings(
            ("2024-09-25T10:00", "2024-09-25T11:00"), ("2024-09-25T10:30", "2024-09-25T11:30")
        )
    )
    assert summary(conflicts) == [("person_double_booked", ("m1", "m2"), "ana", None, None)]
    assert conflicts[0].severity == "error"
    assert conflicts[0].message == (
        "ANA is booked for 'Meeting m1' (25 Sep 10:00-11:00) and 'Meeting m2' "
        "(25 Sep 10:30-11:30) at the same time"
    )


def test_touching_meetings_do_not_overlap(check):
    document = two_people_meetings(
        ("2024-09-25T10:00", "2024-09-25T11:00"), ("2024-09-25T11:00", "2024-09-25T12:00")
    )
    assert check(document) == []


def test_cancelled_meetings_are_ignored_and_tentative_ones_counted(check):
    times = (("2024-09-25T10:00", "2024-09-25T11:00"), ("2024-09-25T10:30", "2024-09-25T11:30"))
    assert check(two_people_meetings(*times, status="cancelled")) == []
    assert summary(check(two_people_meetings(*times, status="tentative"))) == [
        ("person_double_booked", ("m1", "m2"), "ana", None, None)
    ]


def test_each_pair_is_reported_once_per_person_earlier_meeting_first(check):
    document = itinerary(
        people=[person("ana"), person("ben")],
        meetings=[
            meeting("late", "2024-09-25T10:30", "2024-09-25T12:00", "ana", "ben"),
            meeting("early", "2024-09-25T10:00", "2024-09-25T11:00", "ana", "ben"),
            meeting("inside", "2024-09-25T10:15", "2024-09-25T10:45", "ben"),
        ],
    )
    assert summary(check(document)) == [
        ("person_double_booked", ("early", "inside"), "ben", None, None),
        ("person_double_booked", ("early", "late"), "ana", None, None),
        ("person_double_booked", ("early", "late"), "ben", None, None),
        ("person_double_booked", ("inside", "late"), "ben", None, None),
    ]


def test_same_start_pairs_are_ordered_by_end_then_key(check):
    document = itinerary(
        people=[person("ana")],
        meetings=[
            meeting("b", "2024-09-25T10:00", "2024-09-25T11:00", "ana"),
            meeting("a", "2024-09-25T10:00", "2024-09-25T11:00", "ana"),
            meeting("c", "2024-09-25T10:00", "2024-09-25T10:30", "ana"),
        ],
    )
    assert [c.meetings for c in check(document)] == [("c", "a"), ("c", "b"), ("a", "b")]


def test_meetings_across_a_daylight_saving_change_compare_as_instants(check):
    # Berlin falls back on 27 Oct 2024 at 03:00 CEST -> 02:00 CET.
    document = itinerary(
        people=[person("ana")],
        venues=[
            venue("bonn", timezone="Europe/Berlin"),
            venue("cologne", timezone="Europe/Berlin"),
        ],
        travel=[("bonn", "cologne", 40)],
        meetings=[
            # Ends at 02:30 CEST = 00:30Z.
            meeting("night", "2024-10-27T00:30", "2024-10-27T02:30+02:00", "ana", venue="bonn"),
            # 02:10 CET = 01:10Z: on the wall it starts before the first ends, yet it does not
            # overlap, and the 40 real minutes between them cover a 40-minute drive.
            meeting("after", "2024-10-27T02:10+01:00", "2024-10-27T03:00", "ana", venue="cologne"),
        ],
        start_date="2024-10-26",
        end_date="2024-10-27",
        timezone="Europe/Berlin",
    )
    assert check(document) == []
    document["travel_times"][0]["minutes"] = 41
    conflicts = check(document)
    assert summary(conflicts) == [("travel_time", ("night", "after"), "ana", None, None)]
    assert "has 40 min" in conflicts[0].message
    # Both wall times happen twice that night: the zone's abbreviation says which.
    assert "(ends 02:30 CEST)" in conflicts[0].message
    assert "(starts 02:10 CET)" in conflicts[0].message


def test_a_meeting_spanning_the_daylight_saving_gap_overlaps_by_instant(check):
    # Seoul has no DST, New York springs forward on 10 Mar 2024 02:00 -> 03:00.
    document = itinerary(
        people=[person("ana")],
        venues=[venue("nyc", timezone="America/New_York")],
        meetings=[
            meeting("gala", "2024-03-10T01:00", "2024-03-10T03:30", "ana", venue="nyc"),
            # 06:20Z: inside the gala (06:00Z-07:30Z) though only 20 wall minutes after 01:00.
            meeting("toast", "2024-03-10T01:20", "2024-03-10T01:40", "ana", venue="nyc"),
            # 03:30 EDT = 07:30Z: touches the gala's end.
            meeting("after", "2024-03-10T03:30", "2024-03-10T04:00", "ana", venue="nyc"),
        ],
        start_date="2024-03-09",
        end_date="2024-03-11",
        timezone="America/New_York",
    )
    assert summary(check(document)) == [
        ("person_double_booked", ("gala", "toast"), "ana", None, None)
    ]


# --------------------------------------------------------------------------- room_double_booked


def test_two_meetings_in_one_room_overlap(check):
    document = itinerary(
        people=[person("ana"), person("ben")],
        venues=[venue("hq", rooms=["a", "b"])],
        meetings=[
            meeting("m1", "2024-09-25T10:00", "2024-09-25T11:00", "ana", venue="hq", room="a"),
            meeting("m2", "2024-09-25T10:59", "2024-09-25T12:00", "ben", venue="hq", room="a"),
            meeting("m3", "2024-09-25T10:00", "2024-09-25T12:00", venue="hq", room="b"),
            meeting("m4", "2024-09-25T10:00", "2024-09-25T12:00", venue="hq"),
            meeting("m5", "2024-09-25T12:00", "2024-09-25T13:00", venue="hq", room="a"),
        ],
    )
    conflicts = check(document)
    assert summary(conflicts) == [("room_double_booked", ("m1", "m2"), None, "a", "hq")]
    assert conflicts[0].severity == "error"
    assert conflicts[0].message.startswith("Room a at Hq venue is booked for 'Meeting m1'")


def test_same_room_key_at_two_venues_is_two_rooms(check):
    document = itinerary(
        venues=[venue("hq", rooms=["a"]), venue("annex", rooms=["a"])],
        meetings=[
            meeting("m1", "2024-09-25T10:00", "2024-09-25T11:00", venue="hq", room="a"),
            meeting("m2", "2024-09-25T10:00", "2024-09-25T11:00", venue="annex", room="a"),
        ],
    )
    assert check(document) == []


def test_cancelled_meeting_frees_its_room(check):
    document = itinerary(
        venues=[venue("hq", rooms=["a"])],
        meetings=[
            meeting("m1", "2024-09-25T10:00", "2024-09-25T11:00", venue="hq", room="a"),
            meeting(
                "m2",
                "2024-09-25T10:00",
                "2024-09-25T11:00",
                venue="hq",
                room="a",
                status="cancelled",
            ),
        ],
    )
    assert check(document) == []


# --------------------------------------------------------------------------- travel_time


def travel_document(gap_end: str, next_start: str, legs, **venue_extra) -> dict:
    return itinerary(
        people=[person("ana")],
        venues=[
            venue("north", **venue_extra.get("north", {})),
            venue("south", **venue_extra.get("south", {})),
        ],
        travel=legs,
        meetings=[
            meeting("first", "2024-09-25T09:00", gap_end, "ana", venue="north"),
            meeting("second", next_start, "2024-09-25T15:00", "ana", venue="south"),
        ],
    )


def test_a_gap_shorter_than_the_travel_time_is_a_conflict(check):
    document = travel_document("2024-09-25T10:00", "2024-09-25T10:59", [("north", "south", 60)])
    conflicts = check(document)
    assert summary(conflicts) == [("travel_time", ("first", "second"), "ana", None, None)]
    assert conflicts[0].message == (
        "ANA needs 60 min from North venue to South venue but has 59 min between "
        "'Meeting first' (ends 10:00) and 'Meeting second' (starts 10:59)"
    )


def test_a_gap_exactly_the_travel_time_is_enough(check):
    document = travel_document("2024-09-25T10:00", "2024-09-25T11:00", [("north", "south", 60)])
    assert check(document) == []


def test_a_travel_time_given_in_one_direction_serves_both(check):
    document = travel_document("2024-09-25T10:00", "2024-09-25T10:30", [("south", "north", 45)])
    assert [c.kind for c in check(document)] == ["travel_time"]


def test_a_travel_time_given_both_ways_uses_each(check):
    # north -> south takes 20, south -> north 90: a 30-minute gap is fine this way only.
    legs = [("north", "south", 20), ("south", "north", 90)]
    assert check(travel_document("2024-09-25T10:00", "2024-09-25T10:30", legs)) == []
    legs = [("north", "south", 90), ("south", "north", 20)]
    assert [
        c.kind for c in check(travel_document("2024-09-25T10:00", "2024-09-25T10:30", legs))
    ] == ["travel_time"]


def test_only_the_next_meeting_is_checked(check):
    document = itinerary(
        people=[person("ana")],
        venues=[venue("north"), venue("south")],
        travel=[("north", "south", 120)],
        meetings=[
            meeting("first", "2024-09-25T09:00", "2024-09-25T10:00", "ana", venue="north"),
            meeting("lunch", "2024-09-25T10:30", "2024-09-25T11:00", "ana", venue="north"),
            meeting("far", "2024-09-25T11:30", "2024-09-25T12:00", "ana", venue="south"),
        ],
    )
    # first -> lunch at the same venue; lunch -> far is the only leg that counts.
    assert summary(check(document)) == [("travel_time", ("lunch", "far"), "ana", None, None)]


def test_the_next_meeting_is_chosen_by_start_then_end_then_key(check):
    document = itinerary(
        people=[person("ana")],
        venues=[venue("north"), venue("south")],
        travel=[("north", "south", 120)],
        meetings=[
            meeting("first", "2024-09-25T09:00", "2024-09-25T10:00", "ana", venue="north"),
            # Both start at 10:30: "b-here" ends first, so it is next despite its key.
            meeting("a-there", "2024-09-25T10:30", "2024-09-25T11:30", "ana", venue="south"),
            meeting("b-here", "2024-09-25T10:30", "2024-09-25T11:00", "ana", venue="north"),
        ],
    )
    kinds = summary(check(document))
    assert ("travel_time", ("first", "a-there"), "ana", None, None) not in kinds
    assert kinds == [("person_double_booked", ("b-here", "a-there"), "ana", None, None)]
    document["meetings"][2]["end"] = "2024-09-25T11:30"  # same end: key decides, a-there is next
    assert ("travel_time", ("first", "a-there"), "ana", None, None) in summary(check(document))


def test_meetings_without_a_venue_need_no_travel(check):
    document = itinerary(
        people=[person("ana")],
        venues=[venue("north")],
        meetings=[
            meeting("call", "2024-09-25T09:00", "2024-09-25T10:00", "ana"),
            meeting("visit", "2024-09-25T10:00", "2024-09-25T11:00", "ana", venue="north"),
        ],
    )
    assert check(document) == []


TSUKUBA = {"latitude": 36.0835, "longitude": 140.1133}
CMIC = {"latitude": 35.6553, "longitude": 139.7571}


def test_an_estimate_stands_in_where_no_entry_exists_and_says_so(check):
    document = travel_document(
        "2024-09-25T10:00", "2024-09-25T11:00", [], north=TSUKUBA, south=CMIC
    )
    conflicts = check(document)
    minutes = estimated_minutes(great_circle_km(*TSUKUBA.values(), *CMIC.values()))
    assert minutes > 60
    assert summary(conflicts) == [("travel_time", ("first", "second"), "ana", None, None)]
    assert conflicts[0].estimated
    assert f"needs {minutes} min (estimated) from North venue" in conflicts[0].message
    assert check(document, estimate=False) == []


def test_an_estimate_never_replaces_an_entry(check):
    # The entry says 30 minutes; the estimate from coordinates would say far more.
    document = travel_document(
        "2024-09-25T10:00", "2024-09-25T10:45", [("south", "north", 30)], north=TSUKUBA, south=CMIC
    )
    assert check(document) == []
    assert check(document, estimate=False) == []


def test_no_travel_conflict_without_entry_or_coordinates(check):
    document = travel_document("2024-09-25T10:00", "2024-09-25T10:01", [], north=TSUKUBA)
    assert check(document) == []


# --------------------------------------------------------------------------- outside_availability


def availability_document(start: str, end: str) -> dict:
    return itinerary(
        people=[
            person("ana", available_from="2024-09-25T09:00", available_until="2024-09-27T18:00")
        ],
        meetings=[meeting("m", start, end, "ana")],
    )


def test_meetings_within_availability_boundaries_are_fine(check):
    assert check(availability_document("2024-09-25T09:00", "2024-09-25T10:00")) == []
    assert check(availability_document("2024-09-27T17:00", "2024-09-27T18:00")) == []


def test_a_meeting_before_arrival_or_after_departure_is_a_conflict(check):
    early = check(availability_document("2024-09-25T08:59", "2024-09-25T10:00"))
    assert summary(early) == [("outside_availability", ("m",), "ana", None, None)]
    assert early[0].severity == "error"
    assert early[0].message == (
        "ANA is available only from 25 Sep 09:00 but attends 'Meeting m' (25 Sep 08:59-10:00)"
    )
    late = check(availability_document("2024-09-27T17:00", "2024-09-27T18:01"))
    assert summary(late) == [("outside_availability", ("m",), "ana", None, None)]
    assert "only until 27 Sep 18:00" in late[0].message


def test_availability_is_shown_on_the_meeting_clock_in_another_zone(check):
    document = itinerary(
        people=[person("ana", available_from="2024-09-25T09:00")],
        venues=[venue("seoul", timezone="Asia/Seoul"), venue("manila", timezone="Asia/Manila")],
        meetings=[meeting("m", "2024-09-25T07:30", "2024-09-25T08:30", "ana", venue="manila")],
    )
    # 09:00 in Tokyo is 08:00 in Manila: the 07:30 Manila meeting starts before it.
    conflicts = check(document)
    assert summary(conflicts) == [("outside_availability", ("m",), "ana", None, None)]
    assert "only from 25 Sep 08:00 (Asia/Manila time)" in conflicts[0].message


# --------------------------------------------------------------------------- outside_opening_hours

WEEKDAYS_9_TO_5 = {
    d: [["09:00", "12:00"], ["13:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")
}


def hours_document(start: str, end: str, hours=None, timezone="Asia/Tokyo") -> dict:
    return itinerary(
        venues=[venue("lab", timezone=timezone, opening_hours=hours or WEEKDAYS_9_TO_5)],
        meetings=[meeting("m", start, end, venue="lab")],
        end_date="2024-09-30",  # a visit over the weekend
    )


@pytest.mark.parametrize(
    "start, end",
    [
        ("2024-09-25T09:00", "2024-09-25T12:00"),  # exactly one pair
        ("2024-09-25T13:00", "2024-09-25T17:00"),
        ("2024-09-26T10:00", "2024-09-26T11:00"),
    ],
)
def test_a_meeting_inside_one_pair_is_within_opening_hours(check, start, end):
    assert check(hours_document(start, end)) == []


@pytest.mark.parametrize(
    "start, end",
    [
        ("2024-09-25T08:59", "2024-09-25T10:00"),  # before opening
        ("2024-09-25T16:00", "2024-09-25T17:01"),  # after closing
        ("2024-09-25T11:00", "2024-09-25T14:00"),  # across the lunch break: in no single pair
        ("2024-09-28T10:00", "2024-09-28T11:00"),  # Saturday: absent weekday is closed
    ],
)
def test_a_meeting_outside_every_pair_is_a_warning(check, start, end):
    conflicts = check(hours_document(start, end))
    assert summary(conflicts) == [("outside_opening_hours", ("m",), None, None, "lab")]
    assert conflicts[0].severity == "warning"


def test_the_message_names_the_days_hours(check):
    conflicts = check(hours_document("2024-09-28T10:00", "2024-09-28T11:00"))
    assert conflicts[0].message == (
        "'Meeting m' (28 Sep 10:00-11:00) is outside the opening hours of Lab venue "
        "(Saturday: closed)"
    )


def test_closing_at_2400_means_the_end_of_the_day(check):
    hours = {"wed": [["18:00", "24:00"]], "thu": [["00:00", "24:00"]]}
    assert check(hours_document("2024-09-25T22:00", "2024-09-26T00:00", hours)) == []
    # Past midnight the meeting is not inside Wednesday's pair, though Thursday is open.
    kinds = [c.kind for c in check(hours_document("2024-09-25T23:00", "2024-09-26T00:30", hours))]
    assert kinds == ["outside_opening_hours"]


def test_opening_hours_use_the_venue_clock_and_its_weekday(check):
    # 2024-09-27 (Fri) 23:30 in Los Angeles is Saturday in Tokyo: the venue's Friday applies.
    hours = {"fri": [["08:00", "24:00"]]}
    document = hours_document("2024-09-27T23:00", "2024-09-27T23:30", hours, "America/Los_Angeles")
    assert check(document) == []


def test_opening_hours_on_a_daylight_saving_day_are_wall_clock(check):
    hours = {"sun": [["01:00", "03:30"]]}
    document = hours_document("2024-03-10T01:00", "2024-03-10T03:30", hours, "America/New_York")
    document["delegation"].update(
        start_date="2024-03-10", end_date="2024-03-10", timezone="America/New_York"
    )
    assert check(document) == []


def test_a_venue_without_opening_hours_is_always_open(check):
    document = itinerary(
        venues=[venue("lab")],
        meetings=[meeting("m", "2024-09-25T02:00", "2024-09-25T04:00", venue="lab")],
    )
    assert check(document) == []


# --------------------------------------------------------------------------- outside_visit_dates


@pytest.mark.parametrize(
    "start, end, outside",
    [
        ("2024-09-25T00:00", "2024-09-25T01:00", False),
        ("2024-09-27T23:00", "2024-09-28T00:00", False),
        ("2024-09-24T23:59", "2024-09-25T01:00", True),
        ("2024-09-27T23:00", "2024-09-28T00:01", True),
    ],
)
def test_visit_dates_run_from_the_first_midnight_to_the_one_after_the_last_day(
    check, start, end, outside
):
    conflicts = check(itinerary(meetings=[meeting("m", start, end)]))
    expected = [("outside_visit_dates", ("m",), None, None, None)] if outside else []
    assert summary(conflicts) == expected
    assert all(c.severity == "warning" for c in conflicts)


def test_visit_dates_are_days_in_the_delegation_zone(check):
    # 2024-09-24 18:00 in London is 25 Sep 02:00 in Tokyo: inside the visit.
    document = itinerary(
        venues=[venue("london", timezone="Europe/London")],
        meetings=[meeting("m", "2024-09-24T18:00", "2024-09-24T19:00", venue="london")],
    )
    assert check(document) == []
    document["meetings"][0].update(start="2024-09-24T15:30", end="2024-09-24T16:00")
    conflicts = check(document)
    assert summary(conflicts) == [("outside_visit_dates", ("m",), None, None, None)]
    assert conflicts[0].message == (
        "'Meeting m' (24 Sep 15:30-16:00 (Europe/London time)) is outside the visit dates, "
        "25 Sep-27 Sep 2024"
    )


# --------------------------------------------------------------------------- over_capacity


def capacity_document(attendees: int) -> dict:
    people = [person(f"p{n}") for n in range(attendees)]
    return itinerary(
        people=people,
        venues=[venue("hq", rooms=[{"key": "small", "name": "Small room", "capacity": 3}])],
        meetings=[
            meeting(
                "m",
                "2024-09-25T10:00",
                "2024-09-25T11:00",
                *(p["key"] for p in people),
                venue="hq",
                room="small",
            )
        ],
    )


def test_a_room_at_capacity_is_fine_one_more_is_a_warning(check):
    assert check(capacity_document(3)) == []
    conflicts = check(capacity_document(4))
    assert summary(conflicts) == [("over_capacity", ("m",), None, "small", "hq")]
    assert conflicts[0].severity == "warning"
    assert conflicts[0].message == "'Meeting m' has 4 attendees but Small room at Hq venue holds 3"


# --------------------------------------------------------------------------- language_gap


def language_document(*languages, roles=None, person_roles=None) -> dict:
    people = [
        person(f"p{n}", languages=langs, role=(person_roles or {}).get(f"p{n}", "delegation"))
        for n, langs in enumerate(languages)
    ]
    return itinerary(
        people=people,
        meetings=[
            meeting(
                "m",
                "2024-09-25T10:00",
                "2024-09-25T11:00",
                *(p["key"] for p in people),
                roles=roles,
            )
        ],
    )


def test_no_shared_language_and_no_interpreter_is_a_warning(check):
    conflicts = check(language_document(["ko"], ["ja", "en"]))
    assert summary(conflicts) == [("language_gap", ("m",), None, None, None)]
    assert conflicts[0].severity == "warning"
    assert conflicts[0].message == (
        "No language is shared by all 2 attendees of 'Meeting m' (25 Sep 10:00-11:00) and "
        "no interpreter attends (P0: ko; P1: ja, en)"
    )


def test_languages_compare_by_primary_subtag_case_insensitive(check):
    assert check(language_document(["de-DE"], ["DE"], ["de-AT", "fr"])) == []


def test_a_language_must_be_shared_by_all_not_just_pairwise(check):
    assert [c.kind for c in check(language_document(["ko", "en"], ["en", "ja"], ["ja", "ko"]))] == [
        "language_gap"
    ]


def test_an_interpreter_by_person_or_attendee_role_bridges_the_gap(check):
    assert (
        check(language_document(["ko"], ["ja"], ["ko", "ja"], person_roles={"p2": "interpreter"}))
        == []
    )
    assert check(language_document(["ko"], ["ja"], ["fr"], roles={"p2": "interpreter"})) == []


def test_an_attendee_without_languages_means_no_language_check(check):
    assert check(language_document(["ko"], ["ja"], [])) == []


# --------------------------------------------------------------------------- order and helpers


def test_conflicts_come_in_meeting_order_then_kind(check):
    document = itinerary(
        people=[person("ana", languages=["ko"]), person("ben", languages=["ja"])],
        venues=[venue("hq", rooms=[{"key": "a", "name": "A", "capacity": 1}])],
        meetings=[
            meeting(
                "late", "2024-09-26T10:00", "2024-09-26T11:00", "ana", "ben", venue="hq", room="a"
            ),
            meeting("early", "2024-09-24T10:00", "2024-09-24T11:00", "ana"),
            meeting("clash", "2024-09-26T10:30", "2024-09-26T11:30", "ana", venue="hq", room="a"),
        ],
    )
    assert summary(check(document)) == [
        ("outside_visit_dates", ("early",), None, None, None),
        ("over_capacity", ("late",), None, "a", "hq"),
        ("language_gap", ("late",), None, None, None),
        ("person_double_booked", ("late", "clash"), "ana", None, None),
        ("room_double_booked", ("late", "clash"), None, "a", "hq"),
    ]


def test_conflicts_by_meeting_and_json(check, reference_document):
    conflicts = check(reference_document)
    by_meeting = conflicts_by_meeting(conflicts)
    assert set(by_meeting) == {"astellas", "cmic"}
    assert by_meeting["cmic"] == conflicts
    assert conflicts[0].as_json() == {
        "kind": "travel_time",
        "severity": "error",
        "meetings": ["astellas", "cmic"],
        "person": "interp-kim",
        "room": None,
        "venue": None,
        "message": conflicts[0].message,
    }


def test_titles_are_cut_only_when_very_long_and_at_a_space():
    reference = "Industry-academia-research collaboration and regenerative medicine exchange"
    assert short_title(reference) == reference
    long = "Government support for Korean bio ventures in Japan: establishment, licensing and more"
    assert (
        short_title(long)
        == "Government support for Korean bio ventures in Japan: establishment, licensing..."
    )
    assert short_title("research-" * 12) == ("research-" * 12)[:80] + "..."


# --------------------------------------------------------------------------- query counts


def big_itinerary(meetings: int) -> dict:
    """A busy programme: every meeting has people, a room, and some travel."""
    people = [person(f"p{n}", languages=["en"]) for n in range(8)]
    venues = [
        venue(
            f"v{n}",
            rooms=["r1", "r2"],
            latitude=35 + n / 10,
            longitude=139.5,
            opening_hours=WEEKDAYS_9_TO_5,
        )
        for n in range(3)
    ]
    items = []
    for n in range(meetings):
        day, slot = divmod(n, 8)
        hour = 8 + slot
        items.append(
            meeting(
                f"m{n:04d}",
                f"2024-09-{25 + day % 3}T{hour:02d}:00",
                f"2024-09-{25 + day % 3}T{hour:02d}:50",
                f"p{n % 8}",
                f"p{(n + 3) % 8}",
                venue=f"v{n % 3}",
                room=f"r{1 + n % 2}",
            )
        )
    return itinerary(people=people, venues=venues, meetings=items, travel=[("v0", "v1", 30)])


def count_check_queries(app, load_document, document) -> tuple[int, list[Conflict]]:
    load_document(document)
    with app.app_context():
        delegation = db.session.scalar(select(Delegation).where(Delegation.key == KEY))
        with count_queries(db.engine) as statements:
            conflicts = check_delegation(db.session, delegation)
        return len(statements), conflicts


def test_checking_a_delegation_takes_a_fixed_number_of_queries(app, load_document):
    small, small_conflicts = count_check_queries(app, load_document, big_itinerary(4))
    with app.app_context():
        _empty_programme()
    large, large_conflicts = count_check_queries(app, load_document, big_itinerary(120))
    assert len(large_conflicts) > len(small_conflicts) > 0
    assert small == large == 6


def _empty_programme() -> None:
    for model in (HistoryEntry, Attendance, Meeting, TravelTime, Room, Venue, Person, Delegation):
        db.session.execute(delete(model))
    db.session.commit()


def proposal_for(meeting_row: Meeting) -> ProposedMeeting:
    return ProposedMeeting(
        delegation_id=meeting_row.delegation_id,
        meeting_id=meeting_row.id,
        key=meeting_row.key,
        title=meeting_row.title,
        status=meeting_row.status,
        start=meeting_row.start,
        end=meeting_row.end,
        venue_id=meeting_row.venue_id,
        room_id=meeting_row.room_id,
        attendees=tuple((a.person_id, a.role) for a in meeting_row.attendances),
    )


def proposal_queries(app, load_document, document, key) -> tuple[int, list[Conflict]]:
    load_document(document)
    with app.app_context():
        row = db.session.scalar(
            select(Meeting).where(Meeting.key == key).options(selectinload(Meeting.attendances))
        )
        proposal = proposal_for(row)
        db.session.expunge_all()
        with count_queries(db.engine) as statements:
            conflicts = check_proposed_meeting(db.session, proposal)
        return len(statements), conflicts


def test_checking_a_proposed_meeting_reads_a_fixed_number_of_queries(app, load_document):
    small, small_conflicts = proposal_queries(app, load_document, big_itinerary(10), "m0000")
    with app.app_context():
        _empty_programme()
    large, large_conflicts = proposal_queries(app, load_document, big_itinerary(300), "m0000")
    assert small_conflicts and large_conflicts
    assert small == large <= 10


def test_a_proposed_meeting_reports_what_saving_it_would_cause(
    app, load_document, reference_document
):
    load_document(reference_document)
    with app.app_context():
        cmic = db.session.scalar(
            select(Meeting).where(Meeting.key == "cmic").options(selectinload(Meeting.attendances))
        )
        proposal = proposal_for(cmic)
        assert summary(check_proposed_meeting(db.session, proposal)) == [
            ("travel_time", ("astellas", "cmic"), "interp-kim", None, None),
            ("travel_time", ("astellas", "cmic"), "lim", None, None),
        ]
        later = replace(
            proposal,
            start=proposal.start + timedelta(minutes=30),
            end=proposal.end + timedelta(minutes=30),
        )
        assert check_proposed_meeting(db.session, later) == []
        assert check_proposed_meeting(db.session, replace(proposal, status="cancelled")) == []
        # Nothing was written: the saved programme still has its conflicts.
        delegation = db.session.scalar(select(Delegation))
        assert len(check_delegation(db.session, delegation)) == 2


def test_a_new_meeting_is_checked_against_the_saved_programme(
    app, load_document, reference_document
):
    load_document(reference_document)
    with app.app_context():
        delegation = db.session.scalar(select(Delegation))
        ids = dict(db.session.execute(select(Person.key, Person.id)).all())
        venues = dict(db.session.execute(select(Venue.key, Venue.id)).all())
        room = db.session.scalar(select(Room.id).where(Room.key == "hall"))
        company_pitches = db.session.scalar(select(Meeting).where(Meeting.key == "company-pitches"))
        proposal = ProposedMeeting(
            delegation_id=delegation.id,
            meeting_id=None,
            key="press",
            title="Press briefing",
            status="tentative",
            start=company_pitches.start + timedelta(minutes=90),
            end=company_pitches.end + timedelta(minutes=30),
            venue_id=venues["shonan-ipark"],
            room_id=room,
            attendees=((ids["park"], "required"), (ids["nakamura"], "required")),
        )
        assert summary(check_proposed_meeting(db.session, proposal)) == [
            ("person_double_booked", ("company-pitches", "press"), "park", None, None),
            ("room_double_booked", ("company-pitches", "press"), None, "hall", "shonan-ipark"),
            ("language_gap", ("press",), None, None, None),
        ]


def random_itinerary(seed: int, meetings: int = 40) -> dict:
    """A dense random programme in two zones, for comparing the single-meeting check."""
    rng = random.Random(seed)
    people = [
        person(
            f"p{n}",
            languages=rng.sample(["ko", "ja", "en"], rng.randint(1, 2)),
            available_from="2024-09-25T08:00" if n == 0 else None,
        )
        for n in range(5)
    ]
    for p in people:
        if p["available_from"] is None:
            del p["available_from"]
    venues = [
        venue(
            "v0", rooms=[{"key": "r", "name": "R", "capacity": 2}], opening_hours=WEEKDAYS_9_TO_5
        ),
        venue("v1", rooms=["r"], timezone="Asia/Seoul", latitude=35.6, longitude=139.7),
        venue("v2", latitude=36.0, longitude=140.1),
    ]
    items = []
    for n in range(meetings):
        start = datetime(2024, 9, 25, 7) + timedelta(minutes=15 * rng.randint(0, 60 * 4))
        length = timedelta(minutes=15 * rng.randint(1, 8))
        place = rng.choice([None, "v0", "v1", "v2"])
        room = "r" if place in ("v0", "v1") and rng.random() < 0.5 else None
        who = rng.sample([p["key"] for p in people], rng.randint(0, 3))
        items.append(
            meeting(
                f"m{n}",
                start.isoformat(timespec="minutes"),
                (start + length).isoformat(timespec="minutes"),
                *who,
                venue=place,
                room=room,
                status=rng.choice(["confirmed", "confirmed", "tentative", "cancelled"]),
            )
        )
    return itinerary(
        people=people, venues=venues, meetings=items, travel=[("v0", "v1", 45), ("v1", "v0", 30)]
    )


@pytest.mark.parametrize("seed", range(4))
def test_single_meeting_check_agrees_with_the_whole_delegation(app, load_document, seed):
    load_document(random_itinerary(seed))
    with app.app_context():
        delegation = db.session.scalar(select(Delegation))
        everything = check_delegation(db.session, delegation)
        rows = db.session.scalars(select(Meeting).options(selectinload(Meeting.attendances))).all()
        assert any(len(c.meetings) == 2 for c in everything)
        for row in rows:
            expected = [c for c in everything if row.key in c.meetings]
            assert check_proposed_meeting(db.session, proposal_for(row)) == expected, row.key


def test_the_loader_reads_meetings_in_rank_order_and_any_order_gives_the_same_answer(
    app, load_document
):
    # Same start and end: rank order is by key, compared by code point ("a-c" < "a1" < "ab"),
    # which a locale's collation (ignoring the hyphen) would not give.
    document = itinerary(
        people=[person("ana"), person("ben")],
        venues=[venue("hq", rooms=["a"]), venue("lab")],
        meetings=[
            meeting("ab", "2024-09-25T10:00", "2024-09-25T11:00", "ana", venue="hq", room="a"),
            meeting("a1", "2024-09-25T10:00", "2024-09-25T11:00", "ben", venue="hq", room="a"),
            meeting("a-c", "2024-09-25T10:00", "2024-09-25T11:00", "ana", "ben", venue="lab"),
            meeting("early", "2024-09-25T09:00", "2024-09-25T09:50", "ana", "ben", venue="lab"),
        ],
        travel=[("hq", "lab", 30)],
    )
    load_document(document)
    with app.app_context():
        delegation = db.session.scalar(select(Delegation).where(Delegation.key == KEY))
        snapshot = load_snapshot(db.session, delegation)
    assert [m.key for m in snapshot.meetings] == ["early", "a-c", "a1", "ab"]
    found = find_conflicts(snapshot)
    assert {c.kind for c in found} == {"person_double_booked", "room_double_booked"}
    for order in (reversed(snapshot.meetings), random.Random(3).sample(snapshot.meetings, 4)):
        assert find_conflicts(replace(snapshot, meetings=tuple(order))) == found


def test_a_focus_outside_the_snapshot_is_refused_and_a_cancelled_one_is_in_no_conflict():
    at = datetime(2024, 9, 25, 1, 0, tzinfo=UTC)
    ana = PersonInfo(1, "ana", "ANA", languages=("en",))
    first = MeetingInfo(
        1, "m1", "First", "confirmed", at, at + timedelta(hours=1), attendees=((1, "required"),)
    )
    second = replace(first, id=2, key="m2", title="Second")  # the same hour: double booked
    day = date(2024, 9, 25)
    snapshot = DelegationSnapshot(
        KEY, "Asia/Tokyo", day, day, people={1: ana}, meetings=(first, second)
    )
    assert [c.kind for c in find_conflicts(snapshot, focus=second)] == ["person_double_booked"]
    with pytest.raises(ValueError, match="focus"):
        find_conflicts(snapshot, focus=replace(second, key="m3"))
    cancelled = replace(second, status="cancelled")
    assert find_conflicts(replace(snapshot, meetings=(first, cancelled)), focus=cancelled) == []
