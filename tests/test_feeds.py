"""Calendar feeds: what every client reads from them, on a visit across daylight-saving changes.

Each feed is read by three independent parsers (icalendar, the strict ``ical`` package and
``vobject`` with validation) and every event's start and end instants are compared with
the stored ones. The visit has venues in Berlin, New York and Tokyo around the end of
daylight saving in Europe (27 Oct 2024) and in the United States (3 Nov 2024), with
meetings that start or end in the repeated hour.
"""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime, timedelta

import pytest
import vobject
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from ical.calendar_stream import IcsCalendarStream
from icalendar import Calendar
from sqlalchemy import select

from scheduler.calendar.feeds import (
    FeedSettings,
    build_feed,
    feed_meetings,
    meeting_uid,
)
from scheduler.models import Attendance, Delegation, Meeting, Person, Venue

SETTINGS = FeedSettings(base_url="https://scheduler.test", uid_domain="feeds.test")
SECRETS = ("INTERNAL-NOTE-SECRET", "PERSON-NOTE-SECRET")

DST_VISIT = {
    "format": "delegation-itinerary/1",
    "delegation": {
        "key": "dst-visit",
        "name": 'Autumn "DST" visit; Berlin, New York, Tokyo',
        "native_name": "가을 방문단",
        "timezone": "Europe/Berlin",
        "start_date": "2024-10-25",
        "end_date": "2024-11-05",
    },
    "organizations": [
        {"key": "mss", "name": "Ministry of SMEs and Startups", "native_name": "중소벤처기업부"},
        {"key": "meti", "name": "METI", "native_name": "経済産業省"},
    ],
    "people": [
        {
            "key": "lim",
            "name": 'LIM, "Jeong-wook"; Deputy\nMinister',
            "native_name": "임정욱",
            "title": "Deputy Minister",
            "email": "lim@example.org",
            "organization": "mss",
        },
        {
            "key": "nakamura",
            "name": "Kazuo Nakamura",
            "native_name": "中村 和男",
            "email": "nakamura@example.jp",
        },
        {"key": "kim", "name": "KIM Soo-jin", "role": "interpreter", "notes": SECRETS[1]},
    ],
    "venues": [
        {
            "key": "berlin",
            "name": "Berlin office",
            "timezone": "Europe/Berlin",
            "address": "Unter den Linden 1, Berlin",
            "latitude": 52.517,
            "longitude": 13.3889,
            "rooms": [{"key": "r1", "name": "Room 1"}],
        },
        {"key": "nyc", "name": "New York office", "timezone": "America/New_York"},
        {
            "key": "tokyo",
            "name": "Tokyo office",
            "native_name": "東京事務所",
            "timezone": "Asia/Tokyo",
        },
    ],
    "travel_times": [],
    "meetings": [
        {
            "key": "berlin-before",
            "title": "Before the change",
            "start": "2024-10-26T10:00",
            "end": "2024-10-26T11:00",
            "venue": "berlin",
            "room": "r1",
            "attendees": [{"person": "lim", "role": "chair"}, {"person": "kim"}],
            "internal_notes": SECRETS[0],
        },
        {
            # Ends at the second 02:30 of the night (CET): the wall clock alone names two instants.
            "key": "berlin-ends-repeated",
            "title": "Ends in the repeated hour",
            "start": "2024-10-27T01:00",
            "end": "2024-10-27T02:30+01:00",
            "venue": "berlin",
            "attendees": [{"person": "lim"}, {"person": "nakamura", "role": "optional"}],
        },
        {
            "key": "berlin-starts-repeated",
            "title": "Starts in the first repeated hour",
            "start": "2024-10-27T02:15+02:00",
            "end": "2024-10-27T03:30",
            "venue": "berlin",
            "attendees": [{"person": "nakamura"}],
        },
        {
            "key": "tokyo",
            "title": '회의 会議, "quoted"; semi\nnewline \\ backslash',
            "native_title": "東京での会議",
            "start": "2024-10-28T10:00",
            "end": "2024-10-28T11:00",
            "venue": "tokyo",
            "organizations": ["mss", "meti"],
            "attendees": [{"person": "lim"}, {"person": "nakamura"}],
            "agenda": "Line 1\nLine 2, with comma; and semicolon",
        },
        {
            "key": "online",
            "title": "Online call",
            "start": "2024-10-29T09:00",
            "end": "2024-10-29T09:30",
            "online_url": "https://meet.example.org/abc?x=1&y=2",
            "attendees": [{"person": "lim"}],
        },
        {
            "key": "dropped",
            "title": "Dropped dinner",
            "kind": "meal",
            "status": "cancelled",
            "start": "2024-10-30T19:00",
            "end": "2024-10-30T21:00",
            "venue": "berlin",
            "attendees": [{"person": "lim"}],
        },
        {
            # Ends at the second 01:30 in New York (EST).
            "key": "nyc-ends-repeated",
            "title": "New York ends in the repeated hour",
            "start": "2024-11-03T00:30",
            "end": "2024-11-03T01:30-05:00",
            "venue": "nyc",
            "attendees": [{"person": "lim"}],
        },
        {
            "key": "nyc-after",
            "title": "New York after the change",
            "status": "tentative",
            "start": "2024-11-04T09:00",
            "end": "2024-11-04T10:00",
            "venue": "nyc",
            "attendees": [{"person": "kim"}],
        },
        {
            "key": "berlin-overnight",
            "title": "Overnight across the change",
            "start": "2024-10-26T23:00",
            "end": "2024-10-27T04:00",
            "venue": "berlin",
            "attendees": [{"person": "nakamura"}],
        },
    ],
}


# --------------------------------------------------------------------------- helpers


def feed_bytes(session, key: str = "dst-visit", person_key: str | None = None) -> bytes:
    delegation = session.scalar(select(Delegation).where(Delegation.key == key))
    person = None
    if person_key is not None:
        person = session.scalar(
            select(Person).where(Person.delegation_id == delegation.id, Person.key == person_key)
        )
    meetings = feed_meetings(session, delegation, person)
    return build_feed(delegation, meetings, share_entity=person or delegation, settings=SETTINGS)


def stored_instants(session, person_key: str | None = None) -> dict[str, tuple[datetime, datetime]]:
    """UID -> (start, end) as stored, for the meetings the feed should list."""
    delegation = session.scalar(select(Delegation).where(Delegation.key == "dst-visit"))
    query = select(Meeting).where(Meeting.delegation_id == delegation.id)
    if person_key is not None:
        query = query.join(Attendance).join(Person).where(Person.key == person_key)
    return {
        meeting_uid(delegation, m, SETTINGS.uid_domain): (m.start, m.end)
        for m in session.scalars(query)
    }


def _utc(value: datetime) -> datetime:
    assert value.tzinfo is not None and value.utcoffset() is not None, value
    return value.astimezone(UTC)


def read_with_icalendar(body: bytes) -> dict[str, dict]:
    calendar = Calendar.from_ical(body)
    return {
        str(e["UID"]): {
            "start": _utc(e.decoded("DTSTART")),
            "end": _utc(e.decoded("DTEND")),
            "summary": str(e["SUMMARY"]),
            "description": str(e["DESCRIPTION"]),
            "sequence": int(e["SEQUENCE"]),
            "status": str(e["STATUS"]),
            "cns": [a.params["CN"] for a in _as_list(e.get("ATTENDEE"))],
        }
        for e in calendar.walk("VEVENT")
    }


def read_with_ical(body: bytes) -> dict[str, dict]:
    calendar = IcsCalendarStream.calendar_from_ics(body.decode("utf-8"))
    return {
        e.uid: {
            "start": _utc(e.dtstart),
            "end": _utc(e.dtend),
            "summary": e.summary,
            "description": e.description,
            "sequence": e.sequence,
            "status": str(e.status.value),
            "cns": [a.common_name for a in e.attendees],
        }
        for e in calendar.events
    }


def _rfc6868_decode(value: str) -> str:
    """vobject leaves RFC 6868 parameter escapes (^n, ^', ^^) as they are; decode them here."""
    return re.sub(r"\^(.)", lambda m: {"n": "\n", "'": '"', "^": "^"}.get(m[1], m[0]), value)


def read_with_vobject(body: bytes) -> dict[str, dict]:
    calendar = vobject.readOne(body.decode("utf-8"), validate=True)
    events = {}
    for e in calendar.contents.get("vevent", []):
        attendees = e.contents.get("attendee", [])
        events[e.uid.value] = {
            "start": _utc(e.dtstart.value),
            "end": _utc(e.dtend.value),
            "summary": e.summary.value,
            "description": e.description.value,
            "sequence": int(e.sequence.value),
            "status": e.status.value,
            "cns": [_rfc6868_decode(a.params["CN"][0]) for a in attendees],
        }
    return events


PARSERS = {"icalendar": read_with_icalendar, "ical": read_with_ical, "vobject": read_with_vobject}


def _as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def content_lines(body: bytes) -> list[str]:
    """Unfolded content lines."""
    return body.decode("utf-8").replace("\r\n ", "").split("\r\n")


@pytest.fixture
def dst_visit(load_document):
    load_document(DST_VISIT)


# --------------------------------------------------------------------------- instants


@pytest.mark.parametrize("person_key", [None, "lim", "nakamura", "kim"])
def test_three_parsers_read_every_stored_instant(session, dst_visit, person_key):
    body = feed_bytes(session, person_key=person_key)
    expected = stored_instants(session, person_key)
    assert expected
    for name, read in PARSERS.items():
        events = read(body)
        assert set(events) == set(expected), name
        for uid, (start, end) in expected.items():
            assert (events[uid]["start"], events[uid]["end"]) == (start, end), (name, uid)


def test_a_meeting_ending_in_the_repeated_hour_comes_out_exact(session, dst_visit):
    body = feed_bytes(session)
    lines = content_lines(body)
    # The second 02:30 in Berlin is 01:30 UTC; the second 01:30 in New York is 06:30 UTC;
    # the first 02:15 in Berlin is 00:15 UTC. Such meetings are written wholly in UTC.
    assert meeting_line(lines, "berlin-ends-repeated", "DTEND") == "DTEND:20241027T013000Z"
    assert meeting_line(lines, "berlin-ends-repeated", "DTSTART") == "DTSTART:20241026T230000Z"
    assert meeting_line(lines, "nyc-ends-repeated", "DTEND") == "DTEND:20241103T063000Z"
    assert meeting_line(lines, "nyc-ends-repeated", "DTSTART") == "DTSTART:20241103T043000Z"
    assert meeting_line(lines, "berlin-starts-repeated", "DTSTART") == "DTSTART:20241027T001500Z"
    # Meetings that stay within one offset keep their zone.
    assert meeting_line(lines, "berlin-before", "DTSTART") == (
        "DTSTART;TZID=Europe/Berlin:20241026T100000"
    )
    nyc_after = meeting_line(lines, "nyc-after", "DTEND")
    assert nyc_after == "DTEND;TZID=America/New_York:20241104T100000"
    # Across the change, with no ambiguous end: UTC as well, so that no client can add a
    # real-time length to a wall-clock start.
    assert meeting_line(lines, "berlin-overnight", "DTSTART") == "DTSTART:20241026T210000Z"
    assert meeting_line(lines, "berlin-overnight", "DTEND") == "DTEND:20241027T030000Z"
    for read in PARSERS.values():
        event = read(body)[f"dst-visit.berlin-ends-repeated@{SETTINGS.uid_domain}"]
        assert event["end"] - event["start"] == timedelta(hours=2, minutes=30)


def meeting_line(lines: list[str], meeting_key: str, name: str) -> str:
    uid = f"UID:dst-visit.{meeting_key}@{SETTINGS.uid_domain}"
    start = lines.index(uid)
    begin = max(i for i in range(start) if lines[i] == "BEGIN:VEVENT")
    end = lines.index("END:VEVENT", start)
    found = [line for line in lines[begin:end] if line.split(":")[0].split(";")[0] == name]
    assert len(found) == 1, found
    return found[0]


def test_a_short_vtimezone_for_every_zone_used_in_a_fixed_order(session, dst_visit):
    body = feed_bytes(session)
    calendar = Calendar.from_ical(body)
    zones = [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")]
    assert zones == ["America/New_York", "Asia/Tokyo", "Europe/Berlin"]
    assert calendar.get_used_tzids() == set(zones)
    for tz in calendar.walk("VTIMEZONE"):
        # A recent range: a handful of observances, no list of decades of RDATEs.
        assert len(tz.subcomponents) <= 4, tz["TZID"]
        assert "RDATE" not in tz.to_ical().decode()
    # VTIMEZONEs come before the events that use them.
    text = body.decode()
    assert text.rindex("END:VTIMEZONE") < text.index("BEGIN:VEVENT")


# --------------------------------------------------------------------------- calendar


def test_feed_properties_for_subscribers(session, dst_visit):
    lines = content_lines(feed_bytes(session, person_key="lim"))
    head = lines[: lines.index("BEGIN:VTIMEZONE")]
    assert head[0] == "BEGIN:VCALENDAR"
    assert "VERSION:2.0" in head
    assert "CALSCALE:GREGORIAN" in head
    assert any(line.startswith("PRODID:-//") for line in head)
    # TEXT escaping, and on one line: it labels the calendar in the client's list.
    name = 'Autumn "DST" visit\\; Berlin\\, New York\\, Tokyo (가을 방문단) – '
    name += 'LIM\\, "Jeong-wook"\\; Deputy Minister (임정욱)'
    assert f"NAME:{name}" in head
    assert f"X-WR-CALNAME:{name}" in head
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H" in head
    assert "X-PUBLISHED-TTL:PT1H" in head
    assert not any(line.startswith("METHOD") for line in lines)


def test_event_shows_place_people_agenda_and_online_link(session, dst_visit):
    lines = content_lines(feed_bytes(session))
    assert meeting_line(lines, "berlin-before", "LOCATION") == (
        "LOCATION:Berlin office\\, Room 1\\, Unter den Linden 1\\, Berlin"
    )
    assert meeting_line(lines, "berlin-before", "GEO") == "GEO:52.517;13.3889"
    assert meeting_line(lines, "berlin-before", "ORGANIZER").endswith(":mailto:lim@example.org")
    assert meeting_line(lines, "tokyo", "LOCATION") == "LOCATION:Tokyo office (東京事務所)"
    assert meeting_line(lines, "online", "CONFERENCE") == (
        "CONFERENCE;FEATURE=VIDEO;LABEL=Join online;VALUE=URI:https://meet.example.org/abc?x=1&y=2"
    )
    assert meeting_line(lines, "nyc-after", "STATUS") == "STATUS:TENTATIVE"
    events = read_with_icalendar(feed_bytes(session))
    tokyo = events[f"dst-visit.tokyo@{SETTINGS.uid_domain}"]["description"]
    for text in (
        "東京での会議",
        "Line 2, with comma; and semicolon",
        "Ministry of SMEs and Startups (중소벤처기업부)",
        "METI (経済産業省)",
        'LIM, "Jeong-wook"; Deputy\nMinister (임정욱)',
        "Kazuo Nakamura (中村 和男)",
    ):
        assert text in tokyo
    online = events[f"dst-visit.online@{SETTINGS.uid_domain}"]["description"]
    assert "https://meet.example.org/abc?x=1&y=2" in online
    berlin = [line for line in lines if line.startswith("URL:")]
    assert berlin and all(line.endswith("/agenda") for line in berlin)
    # Only attendees with an email are ATTENDEEs; the interpreter has none.
    before = read_with_ical(feed_bytes(session))[f"dst-visit.berlin-before@{SETTINGS.uid_domain}"]
    assert before["cns"] == ['LIM, "Jeong-wook"; Deputy\nMinister (임정욱)']
    roles = [line.split(";ROLE=")[1].split(":")[0] for line in lines if line.startswith("ATTENDEE")]
    assert set(roles) == {"CHAIR", "REQ-PARTICIPANT", "OPT-PARTICIPANT"}


def test_korean_japanese_quotes_commas_semicolons_newlines_survive(session, dst_visit):
    body = feed_bytes(session)
    title = DST_VISIT["meetings"][3]["title"]
    lim = 'LIM, "Jeong-wook"; Deputy\nMinister (임정욱)'
    for name, read in PARSERS.items():
        events = read(body)
        tokyo = events[f"dst-visit.tokyo@{SETTINGS.uid_domain}"]
        assert tokyo["summary"] == title, name
        assert lim in tokyo["description"], name
        assert tokyo["cns"] == [lim, "Kazuo Nakamura (中村 和男)"], name


def test_lines_folded_at_75_octets_each_valid_utf8_with_crlf(session, dst_visit):
    for person_key in (None, "lim"):
        body = feed_bytes(session, person_key=person_key)
        assert_well_formed_lines(body)


def assert_well_formed_lines(body: bytes) -> None:
    assert body.endswith(b"\r\n")
    assert b"\n" not in body.replace(b"\r\n", b"")
    assert b"\r" not in body.replace(b"\r\n", b"")
    for line in body.split(b"\r\n")[:-1]:
        assert len(line) <= 75, line
        line.decode("utf-8")  # no character split across two lines


def test_no_internal_notes_anywhere(session, dst_visit):
    for person_key in (None, "lim", "kim"):
        text = feed_bytes(session, person_key=person_key).decode()
        for secret in SECRETS:
            assert secret not in text


# --------------------------------------------------------------------------- identity and changes


def test_identical_bytes_from_two_builds(session, dst_visit):
    first = feed_bytes(session)
    session.expunge_all()
    assert feed_bytes(session) == first


def _meeting(session, key: str) -> Meeting:
    return session.scalar(select(Meeting).where(Meeting.key == key))


def _event(session, key: str, person_key: str | None = None) -> dict:
    uid = f"dst-visit.{key}@{SETTINGS.uid_domain}"
    return read_with_icalendar(feed_bytes(session, person_key=person_key))[uid]


def test_same_uid_across_edits_and_feeds(session, dst_visit):
    uid = f"dst-visit.tokyo@{SETTINGS.uid_domain}"
    assert uid in read_with_icalendar(feed_bytes(session))
    assert uid in read_with_icalendar(feed_bytes(session, person_key="lim"))
    assert uid in read_with_icalendar(feed_bytes(session, person_key="nakamura"))
    meeting = _meeting(session, "tokyo")
    meeting.title = "Renamed"
    meeting.start += timedelta(hours=1)
    meeting.end += timedelta(hours=1)
    session.commit()
    delegation = session.scalar(select(Delegation).where(Delegation.key == "dst-visit"))
    from scheduler.itinerary.share_links import rotate_share_link

    rotate_share_link(delegation)
    session.commit()
    events = read_with_icalendar(feed_bytes(session))
    assert events[uid]["summary"] == "Renamed"
    assert uid in read_with_icalendar(feed_bytes(session, person_key="lim"))
    uids = [line for line in content_lines(feed_bytes(session)) if line.startswith("UID:")]
    assert len(uids) == len(set(uids)) == len(DST_VISIT["meetings"])


def test_uids_differ_between_delegations_with_the_same_meeting_keys(session, load_document):
    load_document(DST_VISIT)
    other = copy.deepcopy(DST_VISIT)
    other["delegation"]["key"] = "dst-visit-2"
    load_document(other)
    first = set(read_with_icalendar(feed_bytes(session)))
    second = set(read_with_icalendar(feed_bytes(session, key="dst-visit-2")))
    assert len(first) == len(second) == len(DST_VISIT["meetings"])
    assert not first & second


def test_sequence_rises_on_time_place_or_status_change_only(session, dst_visit):
    assert _event(session, "tokyo")["sequence"] == 0
    meeting = _meeting(session, "tokyo")
    meeting.title = "New title"
    meeting.agenda = "New agenda"
    meeting.internal_notes = "still internal"
    session.commit()
    assert _event(session, "tokyo")["sequence"] == 0
    meeting.end += timedelta(minutes=30)
    session.commit()
    assert _event(session, "tokyo")["sequence"] == 1
    assert _event(session, "tokyo", "nakamura")["sequence"] == 1
    meeting.venue = session.scalar(select(Venue).where(Venue.key == "berlin"))
    session.commit()
    assert _event(session, "tokyo")["sequence"] == 2
    meeting.native_title = "東京での会議 (改)"
    session.commit()
    assert _event(session, "tokyo")["sequence"] == 2


def test_cancelled_meeting_stays_with_raised_sequence(session, dst_visit, load_document):
    before = _event(session, "tokyo")
    assert before["status"] == "CONFIRMED"
    # Cancel through the import, as a coordinator dropping it from the spreadsheet would.
    pruned = copy.deepcopy(DST_VISIT)
    pruned["meetings"] = [m for m in pruned["meetings"] if m["key"] != "tokyo"]
    load_document(pruned, prune=True)
    session.expire_all()
    for name, read in PARSERS.items():
        for person_key in (None, "lim"):
            event = read(feed_bytes(session, person_key=person_key))[
                f"dst-visit.tokyo@{SETTINGS.uid_domain}"
            ]
            assert event["status"].upper() == "CANCELLED", name
            assert event["sequence"] == before["sequence"] + 1, name
            assert event["summary"].startswith("Cancelled: "), name


def test_dtstamp_and_last_modified_are_the_meetings_last_change(session, dst_visit):
    meeting = _meeting(session, "tokyo")
    stamp = meeting.updated_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    lines = content_lines(feed_bytes(session))
    assert meeting_line(lines, "tokyo", "DTSTAMP") == f"DTSTAMP:{stamp}"
    assert meeting_line(lines, "tokyo", "LAST-MODIFIED") == f"LAST-MODIFIED:{stamp}"


def test_person_feed_lists_only_their_meetings(session, dst_visit):
    events = read_with_icalendar(feed_bytes(session, person_key="kim"))
    assert sorted(uid.split("@")[0] for uid in events) == [
        "dst-visit.berlin-before",
        "dst-visit.nyc-after",
    ]


def test_empty_feed_is_a_valid_calendar(session, load_document):
    empty = copy.deepcopy(DST_VISIT)
    empty["meetings"] = []
    load_document(empty)
    body = feed_bytes(session)
    for read in PARSERS.values():
        assert read(body) == {}
    assert b"VTIMEZONE" not in body


# --------------------------------------------------------------------------- any text survives

# Printable text of any script, with the characters iCalendar must escape or fold around.
TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(list(",;:\"\\\n^'") + ["한", "국", "日", "本", "語", "é", "😀"]),
        st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")),
    ),
    min_size=1,
    max_size=120,
).filter(lambda s: s.strip() == s and s.strip())


def _transient_feed(title: str, name: str) -> bytes:
    now = datetime(2024, 10, 1, tzinfo=UTC)
    delegation = Delegation(
        id=1,
        key="any-text",
        name=name,
        timezone="Europe/Berlin",
        revision=1,
        updated_at=now,
        share_selector="0" * 16,
        share_secret="s" * 32,
    )
    person = Person(key="p", name=name, email="p@example.org", delegation=delegation)
    meeting = Meeting(
        key="m",
        title=title,
        native_title=title,
        status="confirmed",
        start=datetime(2024, 10, 27, 0, 30, tzinfo=UTC),
        end=datetime(2024, 10, 27, 1, 30, tzinfo=UTC),
        sequence=0,
        created_at=now,
        updated_at=now,
        delegation=delegation,
    )
    meeting.attendances = [Attendance(person=person, role="chair")]
    return build_feed(delegation, [meeting], share_entity=delegation, settings=SETTINGS)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=TEXT, name=TEXT)
@example(title='C:\\New\\n, "x"; y', name="\\N")  # icalendar's own escaping breaks these
def test_any_title_and_name_survive_every_parser(title, name):
    body = _transient_feed(title, name)
    assert_well_formed_lines(body)
    for parser, read in PARSERS.items():
        (event,) = read(body).values()
        assert event["summary"] == title, parser
        assert event["description"].startswith(title + "\n\n"), parser
        assert name in event["description"], parser
        # In a parameter a backslash becomes a look-alike (see feeds._PARAMETER_LOOKALIKES).
        assert event["cns"] == [name.replace("\\", "\N{REVERSE SOLIDUS OPERATOR}")], parser
        assert event["end"] == datetime(2024, 10, 27, 1, 30, tzinfo=UTC), parser
