"""iCalendar feeds of a delegation's meetings, or of one person's, that every client reads right.

The same data gives the same bytes in every process: no generated UIDs, no timestamps of
"now", events and zones in a fixed order. That is what makes a strong ETag over the bytes
honest. The feed is a plain snapshot without METHOD, because it lists ATTENDEEs, which
RFC 5546 PUBLISH forbids. Cancelled meetings stay in it, with STATUS:CANCELLED and a
raised SEQUENCE, so that subscribed calendars drop them instead of keeping stale copies.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from flask_babel import gettext as _
from icalendar import Calendar, Conference, Event, Timezone, vCalAddress, vDuration, vText
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from scheduler.i18n import display_name
from scheduler.itinerary.share_links import share_paths
from scheduler.itinerary.times import is_ambiguous, to_local
from scheduler.models import (
    Attendance,
    Delegation,
    Meeting,
    MeetingOrganization,
    Person,
)
from scheduler.wording import attendee_role_label

# Raise when the layout of the bytes changes: stored ETags of the old layout then stop matching.
FEED_FORMAT_VERSION = 1
PRODID = "-//Delegation scheduler//Calendar feed//EN"
REFRESH_INTERVAL = timedelta(hours=1)
# The right-hand side of every UID unless the CALENDAR_UID_DOMAIN setting names another.
DEFAULT_UID_DOMAIN = "delegation-scheduler.invalid"

EVENT_STATUS = {"confirmed": "CONFIRMED", "tentative": "TENTATIVE", "cancelled": "CANCELLED"}
ATTENDEE_ROLE = {
    "chair": "CHAIR",
    "required": "REQ-PARTICIPANT",
    "optional": "OPT-PARTICIPANT",
    "interpreter": "REQ-PARTICIPANT",
}


class Text(vText):
    """TEXT escaped exactly as RFC 5545 says.

    icalendar's own escaping first turns a literal backslash-N into a line break, so a
    name like ``C:\\New`` would come out changed; here the backslash is escaped first.
    """

    def to_ical(self) -> bytes:
        return escape_text(str(self)).encode(self.encoding)


def escape_text(text: str) -> str:
    """A TEXT value escaped as RFC 5545 says (backslash first)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    for char, escaped in (("\\", "\\\\"), (";", "\\;"), (",", "\\,"), ("\n", "\\n")):
        text = text.replace(char, escaped)
    return text


@dataclass(frozen=True)
class FeedSettings:
    """What the bytes depend on besides the data: where the share pages live, the UID domain."""

    base_url: str  # e.g. "https://scheduler.example.org", no trailing slash
    uid_domain: str = DEFAULT_UID_DOMAIN


def meeting_uid(delegation: Delegation, meeting: Meeting, uid_domain: str) -> str:
    """The meeting's UID, the same in every feed and across every edit.

    Built from the delegation and meeting keys: the identity of the interchange format,
    unique across delegations ('.' never occurs in a key, so the pair cannot be misread)
    and kept when a programme moves to a new database by export and import, where row ids
    would change. Title, time and share token play no part.
    """
    return f"{delegation.key}.{meeting.key}@{uid_domain}"


def feed_meetings(session: Session, delegation: Delegation, person: Person | None = None):
    """The meetings of the feed, in feed order, with what the events show loaded up front."""
    query = (
        select(Meeting)
        .where(Meeting.delegation_id == delegation.id)
        .options(
            selectinload(Meeting.venue),
            selectinload(Meeting.room),
            selectinload(Meeting.attendances).selectinload(Attendance.person),
            selectinload(Meeting.organization_links).selectinload(MeetingOrganization.organization),
        )
        .order_by(Meeting.start, Meeting.end, Meeting.key)
    )
    if person is not None:
        attended = select(Attendance.meeting_id).where(Attendance.person_id == person.id)
        query = query.where(Meeting.id.in_(attended))
    return list(session.scalars(query))


def calendar_name(delegation: Delegation, person: Person | None = None) -> str:
    name = display_name(delegation)  # native first in Korean and Japanese
    if person is not None:
        name += f" \N{EN DASH} {display_name(person)}"
    return name


def build_feed(
    delegation: Delegation,
    meetings: Iterable[Meeting],
    *,
    share_entity: Delegation | Person,
    settings: FeedSettings,
    name: str | None = None,
) -> bytes:
    """The iCalendar bytes of these meetings, as seen through ``share_entity``'s share link."""
    agenda_url = settings.base_url + share_paths(share_entity)["agenda"]
    calendar = Calendar()
    calendar.add("VERSION", "2.0")
    calendar.add("PRODID", PRODID)
    calendar.add("CALSCALE", "GREGORIAN")
    person = share_entity if isinstance(share_entity, Person) else None
    # One line in a client's list of calendars; TEXT, so commas and semicolons get escaped.
    title = Text(" ".join((name or calendar_name(delegation, person)).split()))
    calendar.add("NAME", title)
    calendar.add("X-WR-CALNAME", title)
    calendar.add("REFRESH-INTERVAL", REFRESH_INTERVAL, parameters={"VALUE": "DURATION"})
    calendar.add("X-PUBLISHED-TTL", vDuration(REFRESH_INTERVAL))

    from scheduler.calendar.event_text import event_bytes
    from scheduler.i18n import current_language

    context = (current_language(), delegation.key, agenda_url, settings.uid_domain)
    words = feed_words()
    events, zones_used, years = [], set(), set()
    for meeting in meetings:
        key = (context, _shown_by_event(meeting))
        with _event_lock:
            found = _event_cache.get(key)
            if found is not None:
                _event_cache.move_to_end(key)
        if found is None:
            found = event_bytes(delegation, meeting, agenda_url, settings.uid_domain, words)
            with _event_lock:
                _event_cache[key] = found
                if len(_event_cache) > _EVENT_CACHE_SIZE:
                    _event_cache.popitem(last=False)
        events.append(found[0])
        zones_used |= found[1]
        years.add(meeting.start.year)
        years.add(meeting.end.year)
    timezones = b""
    if zones_used:
        first, last = date(min(years) - 1, 12, 1), date(max(years) + 1, 2, 1)
        timezones = b"".join(vtimezone_bytes(tzid, first, last) for tzid in sorted(zones_used))
    # The same bytes as adding the zones and events to the calendar: a component's bytes are
    # its lines, then its subcomponents', then its END line.
    head = calendar.to_ical()
    assert head.endswith(_CALENDAR_END)
    return head[: -len(_CALENDAR_END)] + timezones + b"".join(events) + _CALENDAR_END


_CALENDAR_END = b"END:VCALENDAR\r\n"
_EVENT_CACHE_SIZE = 20_000
_event_cache: OrderedDict = OrderedDict()
_event_lock = threading.Lock()


def _shown_by_event(meeting) -> tuple:
    """Everything a meeting's VEVENT shows, as plain values: the key of its bytes in this
    process (with the language, delegation key, link and UID domain beside it), so a feed
    rebuilt after an edit writes only the meetings that changed."""
    venue, room = meeting.venue, meeting.room
    return (
        meeting.key,
        meeting.title,
        meeting.native_title,
        meeting.status,
        meeting.start,
        meeting.end,
        meeting.zone_name,
        meeting.online_url,
        meeting.agenda,
        meeting.sequence,
        meeting.created_at,
        meeting.updated_at,
        None
        if venue is None
        else (venue.name, venue.native_name, venue.address, venue.latitude, venue.longitude),
        None if room is None else room.name,
        tuple(
            (a.role, a.person.name, a.person.native_name, a.person.title, a.person.email)
            for a in meeting.attendances
        ),
        tuple((o.name, o.native_name) for o in meeting.organizations),
    )


@lru_cache(maxsize=256)
def vtimezone(tzid: str, first: date, last: date) -> Timezone:
    """A VTIMEZONE for [first, last] only: a few transitions, no long RDATE lists for Outlook."""
    return Timezone.from_tzid(tzid, first_date=first, last_date=last)


@lru_cache(maxsize=256)
def vtimezone_bytes(tzid: str, first: date, last: date) -> bytes:
    return vtimezone(tzid, first, last).to_ical()


def event_times(start: datetime, end: datetime, zone_name: str) -> tuple[datetime, datetime]:
    """DTSTART and DTEND in the meeting's zone, or both in UTC where local times mislead.

    A local time in the hour repeated when daylight saving ends names two instants, and
    DTEND;TZID=... cannot say which, so it goes in UTC, and then DTSTART too: clients that
    take a meeting's length and add it to the start in wall-clock time (Radicale does)
    misread a local start with a UTC end by the hour of the change. A meeting across a
    change of offset goes in UTC for the same reason. UTC is exact everywhere; such
    meetings are rare.
    """
    local_start, local_end = to_local(start, zone_name), to_local(end, zone_name)
    if (
        local_start.utcoffset() != local_end.utcoffset()
        or is_ambiguous(local_start.replace(tzinfo=None), local_start.tzinfo)
        or is_ambiguous(local_end.replace(tzinfo=None), local_end.tzinfo)
    ):
        return start.astimezone(UTC), end.astimezone(UTC)
    return local_start, local_end


def meeting_event(
    delegation: Delegation, meeting: Meeting, agenda_url: str, uid_domain: str
) -> tuple[Event, set[str]]:
    """The VEVENT of a meeting and the TZIDs it uses. Internal notes never go in."""
    event = Event()
    event.add("UID", meeting_uid(delegation, meeting, uid_domain))
    event.add("DTSTAMP", meeting.updated_at)
    event.add("LAST-MODIFIED", meeting.updated_at)
    event.add("CREATED", meeting.created_at)
    event.add("SEQUENCE", meeting.sequence)
    start, end = event_times(meeting.start, meeting.end, meeting.zone_name)
    event.add("DTSTART", start)
    event.add("DTEND", end)
    event.add("STATUS", EVENT_STATUS[meeting.status])
    event.add("TRANSP", "TRANSPARENT" if meeting.is_cancelled else "OPAQUE")
    words = feed_words()
    event.add("SUMMARY", Text(event_summary(meeting, words)))
    location = meeting_location(meeting)
    if location:
        event.add("LOCATION", Text(location))
    venue = meeting.venue
    if venue is not None and venue.latitude is not None and venue.longitude is not None:
        event.add("GEO", (venue.latitude, venue.longitude))
    event.add("DESCRIPTION", Text(meeting_description(meeting, agenda_url, words)))
    event.add("URL", agenda_url)
    if meeting.online_url:
        event.conferences = [
            Conference(meeting.online_url, feature="VIDEO", label=words.join_online)
        ]
    organizer = next(
        (a.person for a in meeting.attendances if a.role == "chair" and a.person.email), None
    )
    if organizer is not None:
        event.add("ORGANIZER", _address(organizer))
    for attendance in meeting.attendances:
        if attendance.person.email:
            event.add("ATTENDEE", _address(attendance.person, ATTENDEE_ROLE[attendance.role]))
    zones = {event[name].params.get("TZID") for name in ("DTSTART", "DTEND")} - {None}
    return event, zones


# Parameter values have no escapes in RFC 5545, yet parsers (icalendar among them) read a
# backslash in one as an escape and lose it: the display name shows a look-alike instead.
# Quotes and newlines are written as RFC 6868 says (^' and ^n).
_PARAMETER_LOOKALIKES = str.maketrans({"\\": "\N{REVERSE SOLIDUS OPERATOR}"})


def person_common_name(person: Person) -> str:
    """The CN parameter of a person's ORGANIZER or ATTENDEE line."""
    return person.display_name.translate(_PARAMETER_LOOKALIKES)


def _address(person: Person, role: str | None = None) -> vCalAddress:
    address = vCalAddress(f"mailto:{person.email}")
    address.params["CN"] = person_common_name(person)
    if role is not None:
        address.params["ROLE"] = role
    return address


def meeting_location(meeting: Meeting) -> str:
    """Venue (both scripts), room, address: what a driver and a map need."""
    venue = meeting.venue
    if venue is None:
        return ""
    parts = [f"{venue.name} ({venue.native_name})" if venue.native_name else venue.name]
    if meeting.room is not None:
        parts.append(meeting.room.name)
    if venue.address:
        parts.append(venue.address)
    return ", ".join(parts)


@dataclass(frozen=True)
class FeedWords:
    """The phrases of a feed's events in the current language, looked up once a build:
    a gettext call costs tens of microseconds, and a feed has thousands of them."""

    cancelled_title: str  # "%(title)s" placeholders kept, filled with ``%``
    is_cancelled: str
    tentative: str
    agenda: str
    organisations: str
    attendees: str
    join_online: str
    join_online_url: str
    programme_url: str
    roles: dict[str, str]


def feed_words() -> FeedWords:
    from scheduler.models.meeting import ATTENDEE_ROLES

    # Filling a placeholder with itself gives the translation as gettext formats it.
    return FeedWords(
        cancelled_title=_("Cancelled: %(title)s", title="%(title)s"),
        is_cancelled=_("This meeting is cancelled."),
        tentative=_("Tentative: not yet confirmed."),
        agenda=_("Agenda:"),
        organisations=_("Organisations:"),
        attendees=_("Attendees:"),
        join_online=_("Join online"),
        join_online_url=_("Join online: %(url)s", url="%(url)s"),
        programme_url=_("Programme: %(url)s", url="%(url)s"),
        roles={role: attendee_role_label(role) for role in ATTENDEE_ROLES},
    )


def event_summary(meeting: Meeting, words: FeedWords) -> str:
    if meeting.is_cancelled:
        return words.cancelled_title % {"title": meeting.title}
    return meeting.title


def meeting_description(meeting: Meeting, agenda_url: str, words: FeedWords | None = None) -> str:
    """Agenda, organisations and attendees in both scripts, the online link and the agenda page."""
    words = words or feed_words()
    parts = []
    if meeting.native_title:
        parts.append(meeting.native_title)
    if meeting.is_cancelled:
        parts.append(words.is_cancelled)
    elif meeting.status == "tentative":
        parts.append(words.tentative)
    if meeting.agenda:
        parts.append(words.agenda + f"\n{meeting.agenda}")
    organizations = meeting.organizations
    if organizations:
        names = [f"{o.name} ({o.native_name})" if o.native_name else o.name for o in organizations]
        parts.append(words.organisations + "\n" + "\n".join(f"- {name}" for name in names))
    if meeting.attendances:
        lines = []
        for attendance in meeting.attendances:
            person = attendance.person
            line = f"- {person.display_name}"
            if person.title:
                line += f", {person.title}"
            if attendance.role != "required":
                line += f" ({words.roles[attendance.role]})"
            lines.append(line)
        parts.append(words.attendees + "\n" + "\n".join(lines))
    if meeting.online_url:
        parts.append(words.join_online_url % {"url": meeting.online_url})
    parts.append(words.programme_url % {"url": agenda_url})
    return "\n\n".join(parts)


def last_change(delegation: Delegation, meetings: Iterable[Meeting]) -> datetime:
    """When the feed's data last changed, to the second (HTTP dates have no fractions)."""
    latest = max([delegation.updated_at, *(m.updated_at for m in meetings)])
    return latest.astimezone(UTC).replace(microsecond=0)
