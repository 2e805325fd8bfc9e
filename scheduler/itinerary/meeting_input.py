"""One meeting given as the interchange document writes it (keys, local times), checked by the
document's own rules against the delegation as it stands, and turned into MeetingChanges.

The API's create and PATCH use it, so a meeting is refused for the same reasons, in the same
words, as the same meeting inside an imported document.
"""

from __future__ import annotations

from functools import lru_cache

from jsonschema import Draft202012Validator

from scheduler.itinerary import document as doc
from scheduler.itinerary.editing import MeetingChanges
from scheduler.models import Delegation, Meeting


@lru_cache(maxsize=1)
def _meeting_validator() -> Draft202012Validator:
    full = doc.schema()
    meeting = doc._inline_definitions(full["properties"]["meetings"]["items"], full["$defs"])
    return Draft202012Validator(meeting, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _known(delegation: Delegation) -> doc._Known:
    venues = {v.key: v for v in delegation.venues}
    return doc._Known(
        home_zone=delegation.timezone,
        organizations={o.key: o.id for o in delegation.organizations},
        people={p.key: p.id for p in delegation.people},
        venues={key: v.id for key, v in venues.items()},
        venue_zone={key: v.timezone or delegation.timezone for key, v in venues.items()},
        venue_rooms={key: {r.key for r in v.rooms} for key, v in venues.items()},
    )


def meeting_document(meeting: Meeting) -> dict:
    """The meeting as the document writes it (its venue's zone, else the delegation's)."""
    return doc._meeting_document(meeting, meeting.zone_name)


def changes_from_document(delegation: Delegation, data: dict) -> MeetingChanges:
    """The changes for a meeting written as in the document, or DocumentError with every
    problem (paths relative to the meeting: ``start``, ``attendees[1].person``).

    ``delegation`` must be loaded (``load_delegation``): its people, venues and organisations.
    """
    problems = [doc._schema_problem(e) for e in _meeting_validator().iter_errors(data)]
    problems += doc._nul_characters(data, [])
    if not isinstance(data, dict):
        raise doc.DocumentError(problems or [doc.Problem("$", "must be a JSON object")])
    start, end = doc._check_meeting(data, "", _known(delegation), problems)
    problems = [doc.Problem(p.path.removeprefix("."), p.message) for p in problems]
    if problems:
        raise doc.DocumentError(sorted(set(problems), key=doc._problem_order))
    venues = {v.key: v for v in delegation.venues}
    venue = venues.get(data.get("venue"))
    room = next((r for r in venue.rooms if r.key == data.get("room")), None) if venue else None
    people = {p.key: p.id for p in delegation.people}
    organizations = {o.key: o.id for o in delegation.organizations}
    return MeetingChanges(
        title=data["title"],
        native_title=data.get("native_title"),
        kind=data.get("kind", "meeting"),
        status=data.get("status", "confirmed"),
        start=start,
        end=end,
        venue_id=venue.id if venue else None,
        room_id=room.id if room else None,
        online_url=data.get("online_url"),
        agenda=data.get("agenda"),
        internal_notes=data.get("internal_notes"),
        attendees=[
            (people[a["person"]], a.get("role", "required")) for a in data.get("attendees", [])
        ],
        organization_ids=[organizations[o] for o in data.get("organizations", [])],
    )
