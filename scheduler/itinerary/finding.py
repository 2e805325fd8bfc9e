"""Finding meetings: the filters the programme and the timetable share (day, person,
organisation, venue, status) and a search over titles, people and organisations."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from scheduler.models import MEETING_STATUSES, Meeting

FILTER_FIELDS = ("person", "organization", "venue", "status", "q")


class FilterError(ValueError):
    """A filter value that cannot be understood; ``field`` names the query parameter."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class MeetingFilter:
    """Keys of a person, organisation and venue, a status, and words to search for."""

    person: str | None = None
    organization: str | None = None
    venue: str | None = None
    status: str | None = None
    q: str = ""

    @property
    def active(self) -> bool:
        return any((self.person, self.organization, self.venue, self.status, self.q))

    def as_args(self) -> dict[str, str]:
        """The filter as query parameters (only those set), to keep it across links."""
        return {name: getattr(self, name) for name in FILTER_FIELDS if getattr(self, name)}

    def matches(self, meeting: Meeting) -> bool:
        if self.status and meeting.status != self.status:
            return False
        if self.venue and (meeting.venue is None or meeting.venue.key != self.venue):
            return False
        if self.person and all(a.person.key != self.person for a in meeting.attendances):
            return False
        if self.organization and self.organization not in _organization_keys(meeting):
            return False
        if self.q:
            haystack = _searchable_text(meeting)
            return all(word in haystack for word in self.q.casefold().split())
        return True

    def apply(self, meetings: Iterable[Meeting]) -> list[Meeting]:
        return [m for m in meetings if self.matches(m)] if self.active else list(meetings)


def _organization_keys(meeting: Meeting) -> set[str]:
    keys = {link.organization.key for link in meeting.organization_links}
    keys.update(a.person.organization.key for a in meeting.attendances if a.person.organization)
    return keys


def _searchable_text(meeting: Meeting) -> str:
    parts = [meeting.title, meeting.native_title or "", meeting.key]
    for a in meeting.attendances:
        parts += [a.person.name, a.person.native_name or ""]
        if a.person.organization:
            parts.append(a.person.organization.name)
    parts += [link.organization.name for link in meeting.organization_links]
    if meeting.venue:
        parts.append(meeting.venue.name)
    return " ".join(parts).casefold()


def parse_filter(args: Mapping[str, str]) -> MeetingFilter:
    """The filter a page's query string asks for; FilterError names a bad parameter."""
    values = {name: (args.get(name) or "").strip() for name in FILTER_FIELDS}
    if values["status"] and values["status"] not in MEETING_STATUSES:
        raise FilterError("status", f"must be one of {', '.join(MEETING_STATUSES)}")
    if len(values["q"]) > 200:
        raise FilterError("q", "search for at most 200 characters")
    return MeetingFilter(
        person=values["person"] or None,
        organization=values["organization"] or None,
        venue=values["venue"] or None,
        status=values["status"] or None,
        q=values["q"],
    )


def parse_day(text: str | None) -> date | None:
    """A ``day=YYYY-MM-DD`` parameter; FilterError when it is not a date."""
    if not text:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise FilterError("day", "a date like 2024-09-02") from None


def default_day(days: Iterable[tuple[date, int]], today: date) -> date | None:
    """Today when it has meetings, else the first day with meetings, else the first day."""
    days = list(days)
    if any(day == today and count for day, count in days):
        return today
    return next((day for day, count in days if count), days[0][0] if days else None)
