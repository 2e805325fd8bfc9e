"""A meeting's VEVENT written straight to bytes: the very bytes icalendar writes, 20x sooner.

Why not icalendar here: building an ``Event`` and serialising it costs about a millisecond an
event (most of it folding lines one character at a time), so the first build of a 500-meeting
feed took most of a second. This writes the few properties a feed event has, with the values
``feeds.meeting_event`` gives them, as text. icalendar stays the reference: ``meeting_event``
still builds the invitations of release notices, its own helpers quote parameter values and
name zones here (``param_value``, ``tzid_from_tzinfo``), and a Hypothesis property test
(tests/test_feed_event_text.py) checks that random meetings give byte-identical events both
ways; bench/feeds.py checks a whole 5,000-event feed against bare icalendar too. An upgrade of
icalendar that changes its output fails that test before it reaches a calendar.

What is copied from icalendar 7 (and pinned by the test): the property order (SUMMARY, DTSTART,
DTEND, DTSTAMP, UID, SEQUENCE, then the others alphabetically), parameters sorted by name and
quoted as ``Parameters.to_ical`` does (CN also when it holds a space or an apostrophe), TEXT
escaping, UTC times with ``Z`` and no TZID, and folding after at most 74 octets without
splitting a character or an escape (``\\`` or ``^`` starts the next line instead).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache

from icalendar.parser import param_value
from icalendar.timezone import tzid_from_tzinfo

from scheduler.calendar.feeds import (
    ATTENDEE_ROLE,
    EVENT_STATUS,
    FeedWords,
    escape_text,
    event_summary,
    event_times,
    meeting_description,
    meeting_location,
    meeting_uid,
    person_common_name,
)

_FOLD_AT = 74  # octets of a line before a fold: icalendar folds when the 75th would be added
_FOLD = b"\r\n "
_CONTINUATION = 0xC0  # mask of a UTF-8 continuation byte (10xxxxxx)
_ESCAPE_STARTS = (ord("\\"), ord("^"))


def fold(line: str) -> bytes:
    """The line as UTF-8, folded exactly as icalendar's ``_foldline`` folds it."""
    data = line.encode()
    if len(data) <= _FOLD_AT:
        return data
    pieces, start, size = [], 0, len(data)
    while size - start > _FOLD_AT:
        cut = start + _FOLD_AT
        while data[cut] & _CONTINUATION == 0x80:  # never inside a character
            cut -= 1
        # A line ending in a backslash or caret (an escape's first half) hands it to the next,
        # unless it is the line's only character.
        if data[cut - 1] in _ESCAPE_STARTS and _characters_more_than_one(data, start, cut):
            cut -= 1
        pieces.append(data[start:cut])
        start = cut
    pieces.append(data[start:])
    return _FOLD.join(pieces)


def _characters_more_than_one(data: bytes, start: int, end: int) -> bool:
    return any(data[i] & _CONTINUATION != 0x80 for i in range(start + 1, end))


def _text(value: str) -> str:
    """vText's escaping (``icalendar.parser.string._escape_char``), for UID and the like."""
    return (
        value.replace(r"\N", "\n")
        .replace("\\", "\\\\")
        .replace(";", r"\;")
        .replace(",", r"\,")
        .replace("\r\n", r"\n")
        .replace("\n", r"\n")
        .replace("\r", r"\n")
    )


@lru_cache(maxsize=4096)
def _parameter(value: str, quote_also: str = "") -> str:
    """A parameter value as ``Parameters.to_ical`` writes it (``quote_also``: CN's ``" '"``)."""
    return param_value(value, always_quote=any(c in value for c in quote_also))


_tzids: dict = {}


def _tzid(moment: datetime) -> str | None:
    """The TZID icalendar gives a datetime: one lookup per zone object, then remembered."""
    zone = moment.tzinfo
    try:
        return _tzids[zone]
    except KeyError:
        tzid = tzid_from_tzinfo(zone)
    if tzid is None:
        return moment.tzname()
    _tzids[zone] = tzid
    return tzid


def _stamp(moment: datetime) -> str:
    return (
        f"{moment.year:04}{moment.month:02}{moment.day:02}"
        f"T{moment.hour:02}{moment.minute:02}{moment.second:02}"
    )


def _utc(moment: datetime) -> str:
    """DTSTAMP, CREATED, LAST-MODIFIED: in UTC, as the RFC asks and icalendar converts them."""
    moment = moment.astimezone(UTC) if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return _stamp(moment) + "Z"


def _date_time(name: str, moment: datetime) -> tuple[str, str | None]:
    tzid = _tzid(moment)
    if tzid == "UTC":
        return f"{name}:{_stamp(moment)}Z", None
    return f"{name};TZID={_parameter(tzid)}:{_stamp(moment)}", tzid


def _address(name: str, person, role: str | None = None) -> str:
    line = f"{name};CN={_parameter(person_common_name(person), ' ' + chr(39))}"
    if role is not None:
        line += f";ROLE={_parameter(role)}"
    return f"{line}:mailto:{person.email}"


def event_bytes(
    delegation, meeting, agenda_url: str, uid_domain: str, words: FeedWords
) -> tuple[bytes, frozenset[str]]:
    """The bytes of ``meeting_event(...).to_ical()`` and the TZIDs they use (``words``: the
    feed's phrases, ``feeds.feed_words()``)."""
    start, end = event_times(meeting.start, meeting.end, meeting.zone_name)
    dtstart, start_zone = _date_time("DTSTART", start)
    dtend, end_zone = _date_time("DTEND", end)
    cancelled = meeting.is_cancelled
    summary = event_summary(meeting, words)
    updated = _utc(meeting.updated_at)
    lines = [
        "BEGIN:VEVENT",
        "SUMMARY:" + escape_text(summary),
        dtstart,
        dtend,
        "DTSTAMP:" + updated,
        "UID:" + _text(meeting_uid(delegation, meeting, uid_domain)),
        f"SEQUENCE:{int(meeting.sequence)}",
    ]
    attendances = meeting.attendances
    for attendance in attendances:
        if attendance.person.email:
            lines.append(_address("ATTENDEE", attendance.person, ATTENDEE_ROLE[attendance.role]))
    if meeting.online_url:
        label = _parameter(words.join_online)
        lines.append(f"CONFERENCE;FEATURE=VIDEO;LABEL={label};VALUE=URI:{meeting.online_url}")
    lines.append("CREATED:" + _utc(meeting.created_at))
    lines.append("DESCRIPTION:" + escape_text(meeting_description(meeting, agenda_url, words)))
    venue = meeting.venue
    if venue is not None and venue.latitude is not None and venue.longitude is not None:
        lines.append(f"GEO:{float(venue.latitude)};{float(venue.longitude)}")
    lines.append("LAST-MODIFIED:" + updated)
    location = meeting_location(meeting)
    if location:
        lines.append("LOCATION:" + escape_text(location))
    organizer = next((a.person for a in attendances if a.role == "chair" and a.person.email), None)
    if organizer is not None:
        lines.append(_address("ORGANIZER", organizer))
    lines.append("STATUS:" + _text(EVENT_STATUS[meeting.status]))
    lines.append("TRANSP:" + ("TRANSPARENT" if cancelled else "OPAQUE"))
    lines.append("URL:" + agenda_url)
    lines.append("END:VEVENT")
    zones = frozenset(z for z in (start_zone, end_zone) if z is not None)
    return b"\r\n".join(map(fold, lines)) + b"\r\n", zones
