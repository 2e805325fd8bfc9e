"""The programme as an agenda reads it: days in local time, meetings, travel legs, contacts.

Built from a delegation loaded with ``load_delegation`` (everything eager-loaded), so the
agenda of a 300-meeting visit costs the same few queries as that of a 6-meeting one. No Flask
request in here: the share page, the coordinator page, the PDF, the spreadsheet and the
benchmark all call ``build_agenda``.

Two audiences: ``shared`` (what a share link shows: never internal notes, person notes or
conflicts) and ``coordinator`` (adds them). Cancelled meetings are always left out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from scheduler.itinerary.conflicts import conflicts_by_meeting
from scheduler.itinerary.review import conflict_identity
from scheduler.itinerary.times import day_start, to_local
from scheduler.itinerary.travel import TravelNote, TravelTable, arrivals, rank_order
from scheduler.models import Delegation, Meeting, Person

SHARED = "shared"
COORDINATOR = "coordinator"
AUDIENCES = (SHARED, COORDINATOR)

# Who to call on the road: shown on every person's contact page, whoever they meet.
SUPPORT_ROLES = ("staff", "interpreter")
CONTACT_ORDER = ("delegation", "staff", "interpreter", "host", "guest")

_HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]")
_KANA = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_COUNTRY_LANGUAGE = {"KR": "ko", "KP": "ko", "JP": "ja", "CN": "zh-Hans", "TW": "zh-Hant"}


def native_language(text: str | None, country: str | None = None) -> str | None:
    """The language tag a native name is written in, so the right CJK glyphs are chosen.

    Hangul means Korean and kana Japanese; Han characters alone are read by the country
    of the organisation they belong to, where one is known.
    """
    if not text:
        return None
    if _HANGUL.search(text):
        return "ko"
    if _KANA.search(text):
        return "ja"
    if _HAN.search(text):
        return _COUNTRY_LANGUAGE.get((country or "").upper())
    return None


@dataclass(frozen=True)
class Name:
    """A Latin name with the native one beside it (and the native one's language)."""

    latin: str
    native: str | None = None
    lang: str | None = None

    def __str__(self) -> str:
        return f"{self.latin} ({self.native})" if self.native else self.latin


@dataclass(frozen=True)
class PersonLine:
    """A person as the agenda prints them: name, title, organisation, and how to reach them."""

    key: str
    name: Name
    role: str
    title: str | None
    organization: Name | None
    phone: str | None
    email: str | None
    notes: str | None  # coordinator audience only


@dataclass(frozen=True)
class Attendee:
    person: PersonLine
    role: str  # attendee role: required, optional, chair, interpreter


@dataclass(frozen=True)
class ConflictNote:
    kind: str
    severity: str
    message: str
    estimated: bool = False  # a travel_time conflict measured against an estimated leg
    override_reason: str | None = None  # why a coordinator saved despite this error
    details: dict | None = None  # the conflict's data, for its words in the reader's language


@dataclass
class AgendaItem:
    key: str
    title: str
    native_title: str | None
    native_title_lang: str | None
    kind: str
    status: str
    start: datetime  # aware, in the meeting's zone
    end: datetime
    zone_name: str
    zone_label: str | None  # the zone's abbreviation where it differs from the delegation's
    venue: Name | None
    room: str | None
    address: str | None
    online_url: str | None
    organizations: list[Name]
    attendees: list[Attendee]
    agenda: str | None
    internal_notes: str | None = None
    conflicts: list[ConflictNote] = field(default_factory=list)
    travel: list[TravelNote] = field(default_factory=list)  # arriving from other venues

    @property
    def ends_on_later_day(self) -> bool:
        return self.end.date() != self.start.date()

    @property
    def is_tentative(self) -> bool:
        return self.status == "tentative"


@dataclass
class AgendaDay:
    day: date
    items: list[AgendaItem]

    @property
    def first_start(self) -> datetime:
        return self.items[0].start

    @property
    def last_end(self) -> datetime:
        return max(item.end for item in self.items)

    @property
    def venue_names(self) -> list[str]:
        return list(dict.fromkeys(item.venue.latin for item in self.items if item.venue))


@dataclass
class Agenda:
    audience: str
    delegation_key: str
    name: Name
    host: str | None
    description: str | None
    start_date: date
    end_date: date
    zone_name: str
    zone_abbreviation: str | None  # as at the start of the visit: JST, KST, CEST
    revision: int
    as_of: datetime  # the last change of the programme, in the delegation's zone
    person: PersonLine | None  # whose agenda this is; None for the whole delegation
    days: list[AgendaDay]
    contacts: list[PersonLine]
    # Coordinator audience only: None when the conflicts were not checked, else (errors, warnings).
    conflict_counts: tuple[int, int] | None = None

    @property
    def items(self) -> list[AgendaItem]:
        return [item for day in self.days for item in day.items]

    @property
    def version_line(self) -> str:
        return f"Version {self.revision}, as of {self.as_of:%d %b %Y %H:%M} {self.as_of:%Z}"


def _organization_name(organization) -> Name | None:
    if organization is None:
        return None
    return Name(
        organization.name,
        organization.native_name,
        native_language(organization.native_name, organization.country),
    )


def person_line(person: Person, audience: str) -> PersonLine:
    country = person.organization.country if person.organization is not None else None
    return PersonLine(
        key=person.key,
        name=Name(person.name, person.native_name, native_language(person.native_name, country)),
        role=person.role,
        title=person.title,
        organization=_organization_name(person.organization),
        phone=person.phone,
        email=person.email,
        notes=person.notes if audience == COORDINATOR else None,
    )


def _zone_label(local: datetime, zone_name: str, home_zone: str) -> str | None:
    if zone_name == home_zone:
        return None
    return local.tzname() or zone_name


def _meeting_item(meeting: Meeting, audience: str, lines: dict[int, PersonLine]) -> AgendaItem:
    venue = meeting.venue
    zone_name, home_zone = meeting.zone_name, meeting.delegation.timezone
    start, end = to_local(meeting.start, zone_name), to_local(meeting.end, zone_name)
    # A venue carries no country: its native name is read as Korean or Japanese by script alone.
    venue_name = (
        Name(venue.name, venue.native_name, native_language(venue.native_name)) if venue else None
    )
    return AgendaItem(
        key=meeting.key,
        title=meeting.title,
        native_title=meeting.native_title,
        native_title_lang=native_language(meeting.native_title),
        kind=meeting.kind,
        status=meeting.status,
        start=start,
        end=end,
        zone_name=zone_name,
        zone_label=_zone_label(start, zone_name, home_zone),
        venue=venue_name,
        room=meeting.room.name if meeting.room is not None else None,
        address=venue.address if venue is not None else None,
        online_url=meeting.online_url,
        organizations=[_organization_name(o.organization) for o in meeting.organization_links],
        attendees=[Attendee(lines[a.person_id], a.role) for a in meeting.attendances],
        agenda=meeting.agenda,
        internal_notes=meeting.internal_notes if audience == COORDINATOR else None,
    )


def _conflict_notes(
    conflicts: Iterable | None, overrides: Mapping | None = None
) -> dict[str, list[ConflictNote]]:
    """Each conflict under every meeting it names (a double booking shows on both), an error
    with the reason it was saved despite (``overrides``: conflict identity -> override)."""
    overrides = overrides or {}

    def reason(c) -> str | None:
        override = overrides.get(conflict_identity(c)) if c.severity == "error" else None
        return override.reason if override is not None else None

    return {
        key: [
            ConflictNote(
                c.kind,
                c.severity,
                c.message,
                c.estimated,
                reason(c),
                getattr(c, "details", None),
            )
            for c in found
        ]
        for key, found in conflicts_by_meeting(conflicts or ()).items()
    }


def build_agenda(
    delegation: Delegation,
    *,
    person: Person | None = None,
    audience: str = SHARED,
    conflicts: Iterable | None = None,
    overrides: Mapping | None = None,
    estimate_travel: bool = True,
) -> Agenda:
    """The agenda of the delegation, or of one of its people (only the meetings they attend).

    ``delegation`` should come from ``load_delegation`` so nothing here queries row by row.
    ``conflicts`` (from the conflict engine) are shown only to the coordinator audience, with
    the reasons of ``overrides`` (``review.overrides_by_conflict``) under the errors saved despite.
    """
    if audience not in AUDIENCES:
        raise ValueError(f"audience must be one of {', '.join(AUDIENCES)}, not {audience!r}")
    if person is not None and person.delegation_id != delegation.id:
        raise ValueError(f"{person.key} is not a member of the delegation {delegation.key}")
    home_zone = delegation.timezone
    lines = {p.id: person_line(p, audience) for p in delegation.people}

    meetings = [m for m in delegation.meetings if not m.is_cancelled]
    if person is not None:
        meetings = [m for m in meetings if any(a.person_id == person.id for a in m.attendances)]
    meetings.sort(key=rank_order)

    travel = TravelTable(delegation.travel_times, delegation.venues, estimate=estimate_travel)
    if conflicts is not None:
        conflicts = list(conflicts)
    conflict_notes = _conflict_notes(conflicts, overrides) if audience == COORDINATOR else {}

    legs = arrivals(meetings, travel, person.id if person is not None else None)
    days: list[AgendaDay] = []
    for meeting in meetings:
        item = _meeting_item(meeting, audience, lines)
        item.conflicts = conflict_notes.get(meeting.key, [])
        # Overnight people set out from their hotel: a leg from the day before is not printed.
        item.travel = [
            note
            for note in legs.get(meeting.id, [])
            if (item.start - timedelta(minutes=note.gap_minutes)).date() == item.start.date()
        ]
        if not days or days[-1].day != item.start.date():
            days.append(AgendaDay(item.start.date(), []))
        days[-1].items.append(item)

    return Agenda(
        audience=audience,
        delegation_key=delegation.key,
        name=Name(delegation.name, delegation.native_name, native_language(delegation.native_name)),
        host=delegation.host,
        description=delegation.description,
        start_date=delegation.start_date,
        end_date=delegation.end_date,
        zone_name=home_zone,
        zone_abbreviation=to_local(day_start(delegation.start_date, home_zone), home_zone).tzname(),
        revision=delegation.revision,
        as_of=to_local(delegation.updated_at, home_zone),
        person=lines[person.id] if person is not None else None,
        days=days,
        contacts=_contacts(delegation, person, meetings, lines),
        conflict_counts=_conflict_counts(conflicts, {m.key for m in meetings})
        if audience == COORDINATOR and conflicts is not None
        else None,
    )


def _conflict_counts(conflicts: Iterable, shown_keys: set[str]) -> tuple[int, int]:
    """Errors and warnings that touch a meeting of this agenda, each counted once."""
    conflicts = [c for c in conflicts if shown_keys.intersection(c.meetings)]
    errors = sum(1 for c in conflicts if c.severity == "error")
    return errors, len(conflicts) - errors


def _contacts(
    delegation: Delegation,
    person: Person | None,
    meetings: list[Meeting],
    lines: dict[int, PersonLine],
) -> list[PersonLine]:
    """Everyone, for the delegation; for a person, whom they meet and who supports the visit."""
    if person is None:
        chosen = list(delegation.people)
    else:
        met = {a.person_id for m in meetings for a in m.attendances}
        chosen = [
            p
            for p in delegation.people
            if p.id in met or p.id == person.id or p.role in SUPPORT_ROLES
        ]
    order = {role: i for i, role in enumerate(CONTACT_ORDER)}
    chosen.sort(key=lambda p: (order.get(p.role, len(order)), p.name.casefold(), p.key))
    return [lines[p.id] for p in chosen]
