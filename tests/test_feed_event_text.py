"""The feed's own VEVENT writer gives exactly icalendar's bytes, on random meetings.

icalendar is the oracle: ``feeds.meeting_event`` builds the event with it (as release notices
do), ``event_text.event_bytes`` writes it as text for the feeds. Any difference (an escape, a
quote, a fold, the order of lines, a TZID) fails here, in every language of the feed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from flask import g
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from scheduler.calendar.event_text import event_bytes, fold
from scheduler.calendar.feeds import feed_words, meeting_event
from scheduler.calendar.loading import (
    FeedAttendance,
    FeedMeeting,
    FeedOrganization,
    FeedPerson,
    FeedRoom,
    FeedVenue,
)
from scheduler.models.meeting import ATTENDEE_ROLES, MEETING_STATUSES

ZONES = (
    "Asia/Tokyo",
    "Asia/Seoul",
    "Europe/Berlin",
    "America/New_York",
    "US/Pacific",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "America/St_Johns",
    "Etc/GMT+5",
    "UTC",
    "Etc/UTC",
)
# What makes text hard to write: escapes, quotes, carets, line breaks, 2-, 3- and 4-byte
# characters, the apostrophes that force quoting, icalendar's \N.
SPECIAL = list(",;:\\\"'^\n\r\t ’N") + ["\\N", "\r\n", "é", "한", "日", "🎌", "\x0b"]
text = st.lists(
    st.one_of(st.sampled_from(SPECIAL), st.characters(blacklist_categories=("Cs",))),
    max_size=120,
).map("".join)
short = st.lists(st.sampled_from(SPECIAL + list("abcXYZ09 -")), min_size=1, max_size=40).map(
    "".join
)
no_breaks = text.map(lambda s: s.replace("\n", " ").replace("\r", " "))
maybe = lambda strategy: st.none() | strategy  # noqa: E731
moments = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2040, 12, 31), timezones=st.just(UTC)
)
stamps = moments | moments.map(lambda m: m.astimezone(timezone(timedelta(hours=9))))


@st.composite
def people(draw):
    return FeedPerson(
        draw(st.integers(1, 10**6)),
        "p",
        draw(short),
        draw(maybe(short)),
        draw(maybe(text)),
        draw(maybe(st.emails() | no_breaks.filter(bool))),
    )


@st.composite
def meetings(draw):
    start = draw(moments)
    end = start + draw(st.timedeltas(timedelta(minutes=1), timedelta(days=3)))
    venue = None
    if draw(st.booleans()):
        coordinate = st.floats(-90, 90, allow_nan=False) | st.integers(-90, 90)
        venue = FeedVenue(
            1,
            "v",
            draw(short),
            draw(maybe(short)),
            draw(maybe(text)),
            draw(st.sampled_from(ZONES)),
            draw(maybe(coordinate)),
            draw(maybe(coordinate)),
        )
    attendees = draw(st.lists(people(), max_size=5))
    return FeedMeeting(
        id=1,
        key=draw(short),
        title=draw(text),
        native_title=draw(maybe(text)),
        kind="meeting",
        status=draw(st.sampled_from(MEETING_STATUSES)),
        start=start,
        end=end,
        venue=venue,
        room=FeedRoom(1, "r", draw(short)) if venue is not None and draw(st.booleans()) else None,
        online_url=draw(maybe(no_breaks.filter(bool))),
        agenda=draw(maybe(text)),
        sequence=draw(st.integers(0, 10**6)),
        created_at=draw(stamps),
        updated_at=draw(stamps),
        zone_name=venue.timezone if venue is not None else draw(st.sampled_from(ZONES)),
        attendances=[
            FeedAttendance(p, p.id, draw(st.sampled_from(ATTENDEE_ROLES)), i)
            for i, p in enumerate(attendees)
        ],
        organizations=[
            FeedOrganization(i, "o", draw(short), draw(maybe(short)))
            for i in range(draw(st.integers(0, 3)))
        ],
    )


class Delegation:
    def __init__(self, key: str):
        self.key = key


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    meeting=meetings(),
    key=short,
    agenda_url=no_breaks.map(lambda s: "https://scheduler.test/share/" + s),
    uid_domain=short,
    language=st.sampled_from(["en", "ko", "ja"]),
)
@example(  # a backslash and a caret where a line folds; a 4-byte character across the fold
    meeting=FeedMeeting(
        1,
        "m",
        "x" * 64 + "\\" * 5 + "^" * 5 + "🎌" * 30,
        None,
        "meeting",
        "cancelled",
        datetime(2024, 10, 27, 0, 30, tzinfo=UTC),
        datetime(2024, 10, 27, 1, 30, tzinfo=UTC),
        None,
        None,
        "https://meet.example/" + "a" * 80,
        None,
        3,
        datetime(2024, 1, 1, tzinfo=UTC),
        datetime(2024, 1, 2, tzinfo=UTC),
        "Europe/Berlin",
        [FeedAttendance(FeedPerson(1, "p", "A^" * 40, "’", "t", "a@example.org"), 1, "chair", 0)],
        [],
    ),
    key="k",
    agenda_url="https://scheduler.test/share/x/agenda",
    uid_domain="d.test",
    language="ko",
)
def test_written_events_are_icalendars_bytes(app, meeting, key, agenda_url, uid_domain, language):
    delegation = Delegation(key)
    with app.app_context():
        g.language = language
        expected, expected_zones = meeting_event(delegation, meeting, agenda_url, uid_domain)
        written, zones = event_bytes(delegation, meeting, agenda_url, uid_domain, feed_words())
    assert written == expected.to_ical()
    assert zones == frozenset(expected_zones)


@given(st.lists(st.sampled_from(SPECIAL + ["a", "b"]), max_size=300).map("".join))
def test_folding_is_icalendars(line):
    from icalendar.parser import string

    line = line.replace("\n", "").replace("\r", "")
    assert fold(line) == string._foldline(line).encode()
