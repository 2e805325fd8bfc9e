"""On random pairs of programmes, the changes are those of the brute-force diff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.itinerary.releases import compare, release_snapshot
from tests.bruteforce_changes import brute_force_changes

KEYS = ["m1", "m2", "m3", "m4", "m5"]
PEOPLE = ["ann", "bo", "cy"]
BASE = datetime(2024, 9, 25, tzinfo=UTC)


@st.composite
def meeting(draw):
    start = BASE + timedelta(minutes=30 * draw(st.integers(0, 3)))
    end = start + timedelta(minutes=30 * draw(st.integers(1, 2)))
    venue = draw(st.sampled_from([None, "hall", "lab"]))
    attendees = draw(st.lists(st.sampled_from(PEOPLE), unique=True, max_size=3))
    return {
        "id": 1,
        "title": draw(st.sampled_from(["Talk", "Lunch"])),
        "native_title": draw(st.sampled_from([None, "講演"])),
        "kind": draw(st.sampled_from(["meeting", "meal"])),
        "status": draw(st.sampled_from(["confirmed", "tentative", "cancelled"])),
        "start": start.isoformat(),
        "end": end.isoformat(),
        "zone": "Asia/Tokyo",
        "venue": venue,
        "room": draw(st.sampled_from([None, "a"])) if venue else None,
        "agenda": draw(st.sampled_from([None, "Plans"])),
        "online_url": draw(st.sampled_from([None, "https://meet.example/x"])),
        "attendees": [[p, draw(st.sampled_from(["required", "chair"]))] for p in attendees],
        "organizations": draw(st.lists(st.sampled_from(["o1", "o2"]), unique=True)),
        "sequence": draw(st.integers(0, 3)),
        "created_at": BASE.isoformat(),
        "updated_at": BASE.isoformat(),
    }


programmes = st.dictionaries(st.sampled_from(KEYS), meeting()).map(lambda m: {"meetings": m})


def normalised(changes) -> dict:
    as_json = changes.as_json()
    return {
        "added": set(as_json["added"]),
        "cancelled": set(as_json["cancelled"]),
        "moved": {m["meeting"] for m in as_json["moved"]},
        "changed": {c["meeting"]: c["fields"] for c in as_json["changed"]},
        "people": {
            person: {
                "added": set(theirs["added"]),
                "lost": set(theirs["lost"]),
                "moved": {m["meeting"] for m in theirs["moved"]},
                "changed": {c["meeting"]: c["fields"] for c in theirs["changed"]},
            }
            for person, theirs in as_json["people"].items()
        },
    }


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.none(), programmes), programmes)
def test_changes_equal_the_brute_force_diff(before, after):
    assert normalised(compare(before, after)) == brute_force_changes(before, after)


@settings(max_examples=200, deadline=None)
@given(programmes, programmes, programmes)
def test_published_sequence_only_goes_up_and_cancelled_meetings_stay(first, second, third):
    one = release_snapshot(first, None)
    two = release_snapshot(second, one)
    three = release_snapshot(third, two)
    for earlier, later in ((one, two), (two, three)):
        for key, meeting in earlier["meetings"].items():
            assert key in later["meetings"]  # never dropped from the feed
            assert later["meetings"][key]["sequence"] >= meeting["sequence"]
            if (
                brute_force_changes(earlier, later)["changed"].get(key)
                or key in (brute_force_changes(earlier, later)["moved"])
            ):
                assert later["meetings"][key]["sequence"] > meeting["sequence"]
    # The changes between releases are those between what they published.
    assert normalised(compare(one, two)) == brute_force_changes(one, two)
