"""The interchange document (``delegation-itinerary/1``): validate, import, export.

Validation runs in full before anything is written and reports every problem with its
JSON path. The import then loads the delegation in one transaction, matching entities by
key; new rows are written in bulk so a 20,000-meeting programme costs a few statements per
table, not one per row. The export is canonical, so export -> import -> export is a fixed point.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from importlib import resources
from typing import Any

import jsonschema_rs
import orjson
from jsonschema import Draft202012Validator
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, joinedload, selectinload, subqueryload

from scheduler.itinerary.history import ImportHistory, actor_of
from scheduler.itinerary.memory import cycle_collection_paused
from scheduler.itinerary.share_links import new_share_credentials
from scheduler.itinerary.times import (
    WallClockError,
    format_document_datetime,
    is_valid_zone,
    parse_document_datetime,
    utcnow,
)
from scheduler.models import (
    Attendance,
    Delegation,
    Meeting,
    MeetingOrganization,
    MeetingRequest,
    Organization,
    Person,
    Room,
    TravelTime,
    Venue,
)
from scheduler.models.bulk import insert_rows

FORMAT = "delegation-itinerary/1"
KEY_PATTERN = "^[a-z0-9]+(-[a-z0-9]+)*$"
DATETIME_PATTERN = (
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2})?(Z|[+-][0-9]{2}:[0-9]{2})?$"
)
MAX_INTEGER = 2**31 - 1  # the largest value an INTEGER column holds on PostgreSQL


@dataclass(frozen=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class DocumentError(Exception):
    """A document that cannot be imported; ``problems`` lists every reason with its path."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class ImportResult:
    delegation_key: str
    created: bool
    added: Counter = field(default_factory=Counter)
    changed: Counter = field(default_factory=Counter)
    cancelled: int = 0

    @property
    def changed_anything(self) -> bool:
        return self.created or bool(+self.added) or bool(+self.changed) or bool(self.cancelled)


@dataclass
class ValidItinerary:
    """A document that passed every check, with its times already turned into UTC instants."""

    document: dict
    meeting_times: list[tuple[datetime, datetime]]
    availability: list[tuple[datetime | None, datetime | None]]
    # Each meeting request's (not_before, not_after) as instants, None where not given.
    request_windows: list[tuple[datetime | None, datetime | None]] = field(default_factory=list)


# --------------------------------------------------------------------------- validation


def json_path(parts) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "$"


@lru_cache(maxsize=1)
def schema() -> dict:
    return json.loads(
        resources.files("scheduler.itinerary").joinpath("itinerary.schema.json").read_text("utf-8")
    )


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    # Validated against the schema with its "#/$defs/..." references written out in place:
    # the same rules, but resolving a $ref for every key and time was half the validation time.
    inlined = _inline_definitions(schema(), schema()["$defs"])
    return Draft202012Validator(inlined, format_checker=Draft202012Validator.FORMAT_CHECKER)


FORMATS = ("date", "email", "uri")


@lru_cache(maxsize=1)
def _compiled_validator() -> jsonschema_rs.Draft202012Validator:
    """The same inlined schema compiled by jsonschema-rs: a hundred times faster than
    jsonschema (bench/validators.py). It only says whether a document is valid; it is given
    jsonschema's own format checkers, so both accept exactly the same formats, and an
    invalid document is reported by jsonschema, whose messages and paths the import shows."""
    checker = Draft202012Validator.FORMAT_CHECKER

    def conforms(name):
        return lambda value: checker.conforms(value, name)

    inlined = _inline_definitions(schema(), schema()["$defs"])
    return jsonschema_rs.Draft202012Validator(
        inlined, formats={name: conforms(name) for name in FORMATS}, validate_formats=True
    )


def schema_problems(document: Any) -> list[Problem]:
    """Every schema problem of the document, with its JSON path; [] for a valid one."""
    try:
        if _compiled_validator().is_valid(document):
            return []
    except (ValueError, OverflowError, TypeError):
        pass  # e.g. an integer past 64 bits: jsonschema decides
    return [_schema_problem(e) for e in _validator().iter_errors(document)]


def _inline_definitions(node, definitions: dict):
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            target = _inline_definitions(definitions[ref.removeprefix("#/$defs/")], definitions)
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            return {**target, **_inline_definitions(siblings, definitions)}
        return {k: _inline_definitions(v, definitions) for k, v in node.items() if k != "$defs"}
    if isinstance(node, list):
        return [_inline_definitions(v, definitions) for v in node]
    return node


def _schema_problem(error) -> Problem:
    path = list(error.absolute_path)
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else ""
        return Problem(json_path([*path, missing]), "is required")
    if error.validator == "pattern" and error.validator_value == KEY_PATTERN:
        return Problem(
            json_path(path),
            f"{error.instance!r} is not a valid key: use lowercase letters, digits and single '-'",
        )
    if error.validator == "pattern" and error.validator_value == DATETIME_PATTERN:
        # Worded as parse_document_datetime words it, so the two reports merge into one.
        return Problem(
            json_path(path), f"'{error.instance}' is not a date and time like 2024-09-25T14:00"
        )
    if error.validator == "const" and path == ["format"]:
        return Problem("format", f"{error.instance!r} is not supported; expected {FORMAT!r}")
    if error.validator == "format":
        return Problem(
            json_path(path), f"{error.instance!r} is not a valid {error.validator_value}"
        )
    return Problem(json_path(path), error.message)


_DIGITS_AS_ZERO = bytes(48 if 48 <= i <= 57 else 32 for i in range(256))  # digit -> "0"


def _has_long_number(text: str | bytes) -> bool:
    """Whether the text has 19 digits in a row (a translate and a find in C: a tenth of what
    a regular expression takes over a 10 MB document)."""
    if isinstance(text, str):
        return re.search("[0-9]{19}", text) is not None
    return b"0" * 19 in bytes(text).translate(_DIGITS_AS_ZERO)


def parse_json(text: str | bytes) -> Any:
    """The document from its text: the one place an import parses (limits hook in here).

    orjson parses; what it refuses is parsed again by the standard library, which either
    accepts it as before (a UTF-8 byte order mark, UTF-16 text, NaN, integers past 64 bits)
    or words the error as the import always has. orjson reads an integer past 64 bits as a
    float, so a text with a run of 19 digits or more is left to the standard library too."""
    if not _has_long_number(text):
        try:
            # a 20,000-meeting document is a million objects: without the pause, their
            # allocation sets off full collections that walk the growing heap, again and again
            with cycle_collection_paused():
                return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    try:
        return json.loads(text)
    except UnicodeDecodeError as exc:
        raise DocumentError([Problem("$", f"not UTF-8 text: {exc.reason}")]) from None
    except json.JSONDecodeError as exc:
        raise DocumentError(
            [Problem("$", f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")]
        ) from None


def _list(value) -> list:
    """A list from the document, or [] where the schema has already reported something else."""
    return value if isinstance(value, list) else []


def _items(document: dict, name: str) -> list[tuple[int, dict]]:
    value = document.get(name)
    if not isinstance(value, list):
        return []
    return [(i, item) for i, item in enumerate(value) if isinstance(item, dict)]


def _unique_keys(items, base: str, problems: list[Problem]) -> dict[str, int]:
    seen: dict[str, int] = {}
    for i, item in items:
        key = item.get("key")
        if not isinstance(key, str):
            continue
        if key in seen:
            problems.append(
                Problem(f"{base}[{i}].key", f"duplicate key '{key}' (also {base}[{seen[key]}])")
            )
        else:
            seen[key] = i
    return seen


def _parse_time(value, zone_name, path, problems, seen=None) -> datetime | None:
    """The instant, or None with the problem noted. ``seen`` caches the instants of one
    document: meetings share their start and end times (a datetime is immutable; a time
    that raises is not cached and raises again, with its own path)."""
    if not isinstance(value, str) or zone_name is None:
        return None
    if seen is not None:
        instant = seen.get((value, zone_name))
        if instant is not None:
            return instant
    try:
        instant = parse_document_datetime(value, zone_name)
        if seen is not None:
            seen[(value, zone_name)] = instant
        return instant
    except WallClockError as exc:
        problems.append(Problem(path, str(exc)))
    except ValueError as exc:
        problems.append(Problem(path, str(exc)))
    return None


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def validate_document(document: Any) -> ValidItinerary:
    """Every problem of the document at once, or the document with its instants resolved."""
    problems = schema_problems(document)
    problems += _nul_problems(document)
    if not isinstance(document, dict):
        raise DocumentError(problems or [Problem("$", "must be a JSON object")])

    home_zone = _check_delegation(document, problems)
    organizations = _unique_keys(_items(document, "organizations"), "organizations", problems)
    people = _unique_keys(_items(document, "people"), "people", problems)
    venue_items = _items(document, "venues")
    venues = _unique_keys(venue_items, "venues", problems)
    _unique_keys(_items(document, "meetings"), "meetings", problems)
    _unique_keys(_items(document, "meeting_requests"), "meeting_requests", problems)
    venue_zone, venue_rooms = _check_venues(venue_items, problems)
    availability = _check_people(document, organizations, home_zone, problems)
    _check_travel_times(document, venues, problems)
    known = _Known(home_zone, organizations, people, venues, venue_zone, venue_rooms)
    meeting_times = [
        _check_meeting(meeting, f"meetings[{i}]", known, problems)
        for i, meeting in _items(document, "meetings")
    ]
    request_windows = [
        _check_request(request, f"meeting_requests[{i}]", known, problems)
        for i, request in _items(document, "meeting_requests")
    ]
    if problems:
        raise DocumentError(sorted(set(problems), key=_problem_order))
    return ValidItinerary(document, meeting_times, availability, request_windows)


@dataclass(frozen=True)
class _Known:
    """What the meetings may refer to: the keys and zones found earlier in the document."""

    home_zone: str | None
    organizations: dict[str, int]
    people: dict[str, int]
    venues: dict[str, int]
    venue_zone: dict[str, str | None]
    venue_rooms: dict[str, set[str]]
    instants: dict = field(default_factory=dict)  # (text, zone) -> instant, this document's


def _check_delegation(document: dict, problems: list[Problem]) -> str | None:
    """The delegation's zone (None where it is not a zone) and its dates in order."""
    delegation = document.get("delegation") if isinstance(document.get("delegation"), dict) else {}
    home_zone = delegation.get("timezone")
    if isinstance(home_zone, str) and not is_valid_zone(home_zone):
        problems.append(Problem("delegation.timezone", f"'{home_zone}' is not an IANA time zone"))
        home_zone = None
    elif not isinstance(home_zone, str):
        home_zone = None

    try:
        start_date = date.fromisoformat(delegation.get("start_date", ""))
        end_date = date.fromisoformat(delegation.get("end_date", ""))
    except (TypeError, ValueError):
        pass  # the schema's date format check has reported it
    else:
        if end_date < start_date:
            problems.append(
                Problem("delegation.end_date", f"{end_date} is before start_date {start_date}")
            )
    return home_zone


def _check_venues(venue_items, problems: list[Problem]):
    """Each venue's zone and room keys, and its capacities and opening hours checked."""
    venue_zone: dict[str, str | None] = {}
    venue_rooms: dict[str, set[str]] = {}
    for i, venue in venue_items:
        zone_name = venue.get("timezone")
        if isinstance(zone_name, str) and not is_valid_zone(zone_name):
            problems.append(
                Problem(f"venues[{i}].timezone", f"'{zone_name}' is not an IANA time zone")
            )
            zone_name = None
        if isinstance(venue.get("key"), str):
            venue_zone.setdefault(venue["key"], zone_name if isinstance(zone_name, str) else None)
            rooms = [(j, r) for j, r in enumerate(_list(venue.get("rooms"))) if isinstance(r, dict)]
            venue_rooms.setdefault(
                venue["key"], set(_unique_keys(rooms, f"venues[{i}].rooms", problems))
            )
        for j, room in enumerate(_list(venue.get("rooms"))):
            capacity = room.get("capacity") if isinstance(room, dict) else None
            if isinstance(capacity, int) and capacity > MAX_INTEGER:
                problems.append(
                    Problem(f"venues[{i}].rooms[{j}].capacity", f"must be at most {MAX_INTEGER}")
                )
        _check_opening_hours(venue.get("opening_hours"), f"venues[{i}]", problems)
    return venue_zone, venue_rooms


def _check_opening_hours(hours, base: str, problems: list[Problem]) -> None:
    """Each [open, close] pair closes after it opens (the schema checks the "HH:MM" form)."""
    if not isinstance(hours, dict):
        return
    for day, pairs in hours.items():
        for j, pair in enumerate(pairs if isinstance(pairs, list) else []):
            try:
                opens, closes = _minutes(pair[0]), _minutes(pair[1])
            except (TypeError, ValueError, LookupError, AttributeError):
                continue
            if closes <= opens:
                problems.append(
                    Problem(
                        f"{base}.opening_hours.{day}[{j}]",
                        f"closes at {pair[1]}, not after it opens at {pair[0]}",
                    )
                )


def _check_people(document: dict, organizations, home_zone, problems: list[Problem]) -> list:
    """Each person's (available_from, available_until) as instants, None where not given."""
    availability: list[tuple[datetime | None, datetime | None]] = []
    for i, person in _items(document, "people"):
        org = person.get("organization")
        if isinstance(org, str) and org not in organizations:
            problems.append(
                Problem(f"people[{i}].organization", f"no organization with key '{org}'")
            )
        start = _parse_time(
            person.get("available_from"), home_zone, f"people[{i}].available_from", problems
        )
        until = _parse_time(
            person.get("available_until"), home_zone, f"people[{i}].available_until", problems
        )
        if start and until and until <= start:
            problems.append(Problem(f"people[{i}].available_until", "must be after available_from"))
        availability.append((start, until))
    return availability


def _check_travel_times(document: dict, venues, problems: list[Problem]) -> None:
    """Legs between known, different venues, each direction given once."""
    pairs_seen: dict[tuple[str, str], int] = {}
    for i, leg in _items(document, "travel_times"):
        for end in ("from", "to"):
            ref = leg.get(end)
            if isinstance(ref, str) and ref not in venues:
                problems.append(Problem(f"travel_times[{i}].{end}", f"no venue with key '{ref}'"))
        pair = (leg.get("from"), leg.get("to"))
        if not all(isinstance(end, str) for end in pair):
            continue  # the schema has reported it
        if pair[0] == pair[1]:
            problems.append(Problem(f"travel_times[{i}].to", "must be another venue than from"))
        elif pair in pairs_seen:
            problems.append(
                Problem(
                    f"travel_times[{i}]",
                    f"duplicate travel time {pair[0]} -> {pair[1]} "
                    f"(also travel_times[{pairs_seen[pair]}])",
                )
            )
        else:
            pairs_seen[pair] = i


def _check_meeting(meeting: dict, base: str, known: _Known, problems: list[Problem]):
    """The meeting's (start, end) as instants; its references and times checked."""
    venue = meeting.get("venue")
    zone_name = known.home_zone
    if isinstance(venue, str):
        if venue not in known.venues:
            problems.append(Problem(f"{base}.venue", f"no venue with key '{venue}'"))
            zone_name = None
        else:
            zone_name = known.venue_zone.get(venue)
    room = meeting.get("room")
    if isinstance(room, str):
        if not isinstance(venue, str):
            problems.append(Problem(f"{base}.room", "a room needs the meeting's venue"))
        elif venue in known.venues and room not in known.venue_rooms.get(venue, set()):
            problems.append(Problem(f"{base}.room", f"venue '{venue}' has no room '{room}'"))
    _check_people_and_organizations(meeting, base, known, problems)
    seen = known.instants
    start = _parse_time(meeting.get("start"), zone_name, f"{base}.start", problems, seen)
    end = _parse_time(meeting.get("end"), zone_name, f"{base}.end", problems, seen)
    if start and end and end <= start:
        problems.append(
            Problem(f"{base}.end", f"{meeting['end']} is not after start {meeting['start']}")
        )
    return start, end


def _check_people_and_organizations(item: dict, base: str, known: _Known, problems) -> None:
    """A meeting's or request's attendees and organisations: known keys, each person once."""
    for j, org in enumerate(_list(item.get("organizations"))):
        if isinstance(org, str) and org not in known.organizations:
            problems.append(
                Problem(f"{base}.organizations[{j}]", f"no organization with key '{org}'")
            )
    attending: dict[str, int] = {}
    for j, attendee in enumerate(_list(item.get("attendees"))):
        person = attendee.get("person") if isinstance(attendee, dict) else None
        if not isinstance(person, str):
            continue
        if person not in known.people:
            problems.append(
                Problem(f"{base}.attendees[{j}].person", f"no person with key '{person}'")
            )
        elif person in attending:
            problems.append(
                Problem(
                    f"{base}.attendees[{j}].person",
                    f"'{person}' is listed twice (also attendees[{attending[person]}])",
                )
            )
        else:
            attending[person] = j


def _check_request(request: dict, base: str, known: _Known, problems: list[Problem]):
    """A meeting request's (not_before, not_after) as instants; its references checked."""
    _check_people_and_organizations(request, base, known, problems)
    for j, venue in enumerate(_list(request.get("venues"))):
        if isinstance(venue, str) and venue not in known.venues:
            problems.append(Problem(f"{base}.venues[{j}]", f"no venue with key '{venue}'"))
    zone_name = known.home_zone
    start = _parse_time(request.get("not_before"), zone_name, f"{base}.not_before", problems)
    until = _parse_time(request.get("not_after"), zone_name, f"{base}.not_after", problems)
    duration = request.get("duration_minutes")
    if start and until:
        if until <= start:
            problems.append(Problem(f"{base}.not_after", "must be after not_before"))
        elif isinstance(duration, int) and (until - start).total_seconds() < duration * 60:
            problems.append(
                Problem(
                    f"{base}.not_after",
                    f"the window from not_before is shorter than duration_minutes ({duration})",
                )
            )
    return start, until


def _nul_problems(document: Any) -> list[Problem]:
    """Text with a NUL character, found by its escape in the serialised document (one pass in
    C), then located by walking the document only when there is one."""
    try:
        if b"\\u0000" not in orjson.dumps(document):
            return []
    except (orjson.JSONEncodeError, TypeError):
        pass
    return _nul_characters(document, [])


def _nul_characters(node, path: list) -> list[Problem]:
    """Text with a NUL character, which PostgreSQL cannot store."""
    if isinstance(node, str):
        return [Problem(json_path(path), "contains a NUL character")] if "\x00" in node else []
    if isinstance(node, dict):
        return [p for key, value in node.items() for p in _nul_characters(value, [*path, key])]
    if isinstance(node, list):
        return [p for i, value in enumerate(node) for p in _nul_characters(value, [*path, i])]
    return []


SECTIONS = (
    "$",
    "format",
    "delegation",
    "organizations",
    "people",
    "venues",
    "travel_times",
    "meetings",
    "meeting_requests",
)


def _problem_order(problem: Problem):
    """Document order: sections as the format lists them, list positions numerically
    (meetings[10] follows meetings[9])."""
    parts = []
    for chunk in problem.path.replace("]", "").replace("[", ".").split("."):
        parts.append((0, int(chunk), "") if chunk.isdigit() else (1, 0, chunk))
    section = problem.path.split(".")[0].split("[")[0]
    rank = SECTIONS.index(section) if section in SECTIONS else len(SECTIONS)
    return rank, parts, problem.message


# --------------------------------------------------------------------------- import


def import_itinerary(
    session: Session, document: Any, *, prune: bool = False, _history: bool = True
) -> ImportResult:
    """Validate, then load or update the delegation; the caller commits.

    Raises DocumentError (nothing written) for an invalid document. ``_history=False`` is
    for bench/import.py alone, to measure what the history costs: the product always
    writes it.
    """
    with cycle_collection_paused():
        valid = validate_document(document)
        loader = _Loader(session, valid, prune)
        if not _history:
            loader.history = _NoHistory(session)
        with loader.history.paused():
            result = loader.load()
        loader.history.write(actor_of(session))
        # Freed while the collector is paused: once it is on again, its first collection
        # walks every object made in the pause that is still alive (the loader's, with a
        # history entry per row: a tenth of the import).
        del loader
        return result


class _NoHistory(ImportHistory):
    """Notes nothing and writes nothing (the benchmark's import without history)."""

    def know(self, column, ids_by_key):
        pass

    def created(self, entity, key, delegation_id, fields):
        pass

    def updated(self, obj, fields):
        pass

    def changed(self, entity, key, delegation_id, changes):
        pass

    def write(self, user_id):
        return 0


class _Loader:
    """One import: existing rows are read once per table, new rows inserted in bulk."""

    def __init__(self, session: Session, valid: ValidItinerary, prune: bool):
        self.session = session
        self.doc = valid.document
        self.valid = valid
        self.prune = prune
        self.existing_meetings: dict[str, Meeting] = {}
        self.kept: list[dict] = []
        self.history = ImportHistory(session)

    def load(self) -> ImportResult:
        session = self.session
        created = self._load_delegation()
        delegation, result = self.delegation, self.result
        revision_before = delegation.revision
        org_ids = self._upsert(Organization, self._organization_rows())
        self.history.know("organization_id", org_ids)
        person_ids = self._upsert(
            Person, self._person_rows(org_ids), new_row_extra=new_share_credentials
        )
        venue_ids = self._upsert(Venue, self._venue_rows())
        for column in ("venue_id", "from_venue_id", "to_venue_id"):
            self.history.know(column, venue_ids)
        room_ids = self._upsert_rooms(venue_ids)
        self.history.know("room_id", room_ids)
        self._upsert_travel_times(venue_ids)
        meeting_ids = self._upsert_meetings(venue_ids, room_ids)
        self._replace_links(meeting_ids, person_ids, org_ids)
        self._upsert_requests()
        if self.prune:
            self._cancel_unlisted()
        session.flush()
        if not created and result.changed_anything:
            # One import is one revision: the flush hook touched the delegation once per flush
            # (or not at all, where bulk statements bypassed it).
            delegation.touch()
            delegation.revision = revision_before + 1
            session.flush()
        return result

    # -- each table's rows as the document gives them

    def _load_delegation(self) -> bool:
        """The delegation found by key and updated, or created; whether it was created."""
        spec = self.doc["delegation"]
        delegation = self.session.scalar(select(Delegation).where(Delegation.key == spec["key"]))
        created = delegation is None
        self.result = ImportResult(spec["key"], created)
        fields = {
            "name": spec["name"],
            "native_name": spec.get("native_name"),
            "host": spec.get("host"),
            "timezone": spec["timezone"],
            "start_date": date.fromisoformat(spec["start_date"]),
            "end_date": date.fromisoformat(spec["end_date"]),
            "description": spec.get("description"),
        }
        if created:
            delegation = Delegation(key=spec["key"], **fields, **new_share_credentials())
            self.session.add(delegation)
            self.session.flush()
            self.history.created("delegation", delegation.key, delegation.id, fields)
        elif self._assign(delegation, fields):
            self.result.changed["delegation"] += 1
        self.delegation = delegation
        return created

    def _organization_rows(self) -> list[dict]:
        return [
            {
                "key": o["key"],
                "name": o["name"],
                "native_name": o.get("native_name"),
                "country": o.get("country"),
                "kind": o.get("kind"),
            }
            for o in self.doc.get("organizations", [])
        ]

    def _person_rows(self, org_ids: dict[str, int]) -> list[dict]:
        return [
            {
                "key": p["key"],
                "name": p["name"],
                "native_name": p.get("native_name"),
                "title": p.get("title"),
                "organization_id": org_ids.get(p.get("organization")),
                "email": p.get("email"),
                "phone": p.get("phone"),
                "role": p.get("role", "delegation"),
                "languages": list(p.get("languages", [])),
                "language": p.get("language"),
                "calendar": p.get("calendar"),
                "available_from": self.valid.availability[i][0],
                "available_until": self.valid.availability[i][1],
                "notes": p.get("notes"),
            }
            for i, p in enumerate(self.doc.get("people", []))
        ]

    def _venue_rows(self) -> list[dict]:
        return [
            {
                "key": v["key"],
                "name": v["name"],
                "native_name": v.get("native_name"),
                "address": v.get("address"),
                "timezone": v["timezone"],
                "latitude": v.get("latitude"),
                "longitude": v.get("longitude"),
                "opening_hours": v.get("opening_hours"),
            }
            for v in self.doc.get("venues", [])
        ]

    def _upsert_meetings(self, venue_ids: dict[str, int], room_ids: dict) -> dict[str, int]:
        """Meetings like every other table, remembering the existing ones for links and prune."""
        rows = [
            {
                "key": m["key"],
                "title": m["title"],
                "native_title": m.get("native_title"),
                "kind": m.get("kind", "meeting"),
                "status": m.get("status", "confirmed"),
                "start": self.valid.meeting_times[i][0],
                "end": self.valid.meeting_times[i][1],
                "venue_id": venue_ids.get(m.get("venue")),
                "room_id": room_ids.get((m.get("venue"), m.get("room"))),
                "online_url": m.get("online_url"),
                "agenda": m.get("agenda"),
                "internal_notes": m.get("internal_notes"),
            }
            for i, m in enumerate(self.doc.get("meetings", []))
        ]
        now = utcnow()
        self.existing_meetings = self._existing(Meeting)
        return self._upsert(
            Meeting,
            rows,
            existing=self.existing_meetings,
            # Bulk inserts bypass the ORM's defaults and the flush hook.
            new_row_extra=lambda: {
                "version": 1,
                "sequence": 0,
                "created_at": now,
                "updated_at": now,
            },
        )

    def _upsert_requests(self) -> None:
        """Meeting requests by key; with prune, those the document no longer lists are gone."""
        rows = [
            {
                "key": r["key"],
                "title": r["title"],
                "native_title": r.get("native_title"),
                "kind": r.get("kind", "meeting"),
                "attendees": [
                    {"person": a["person"], "role": a.get("role", "required")}
                    for a in r["attendees"]
                ],
                "organizations": list(r.get("organizations", [])),
                "duration_minutes": r["duration_minutes"],
                "venues": list(r["venues"]),
                "not_before": self.valid.request_windows[i][0],
                "not_after": self.valid.request_windows[i][1],
                "priority": r.get("priority", "should"),
                "interpreter": r.get("interpreter", "if_needed"),
            }
            for i, r in enumerate(self.doc.get("meeting_requests", []))
        ]
        existing = self._existing(MeetingRequest)
        self._upsert(MeetingRequest, rows, existing=existing)
        if self.prune:
            listed = {row["key"] for row in rows}
            for key, request in existing.items():
                if key not in listed:
                    self.history.changed(
                        "meeting_request", key, self.delegation.id, {"key": [key, None]}
                    )
                    self.history.entries[("meeting_request", key)]["action"] = "delete"
                    self.session.delete(request)
                    self.result.changed["meeting_request removed"] += 1

    # -- helpers

    def _assign(self, obj, fields: dict) -> bool:
        self.history.updated(obj, fields)
        changed = False
        for name, value in fields.items():
            if getattr(obj, name) != value:
                setattr(obj, name, value)
                changed = True
        return changed

    def _existing(self, model) -> dict[str, Any]:
        if self.result.created:
            return {}
        query = select(model).where(model.delegation_id == self.delegation.id)
        return {obj.key: obj for obj in self.session.scalars(query)}

    def _bulk_insert(self, model, rows: list[dict]) -> None:
        """Core's executemany (COPY on PostgreSQL, see models/bulk.py): no RETURNING in
        parameter order, which SQLite can only do a row at a time, and not the ORM's bulk
        path, which spent more time collecting each row's parameters than the database spent
        writing them."""
        insert_rows(self.session.connection(), model.__table__, rows)

    def _ids_by_key(self, model) -> dict[str, int]:
        query = select(model.key, model.id).where(model.delegation_id == self.delegation.id)
        return dict(self.session.execute(query).all())

    def _upsert(self, model, rows, *, new_row_extra=None, existing=None) -> dict[str, int]:
        """Rows matched by key are updated, the others inserted in bulk: key -> id of each."""
        if existing is None:
            existing = self._existing(model)
        # Held for the whole import: the session keeps its objects only weakly, and the
        # history of rooms and travel times reads their venues from the identity map
        # (dropped, that was a query per room and travel time on every re-import).
        self.kept.append(existing)
        ids: dict[str, int] = {}
        new_rows = []
        name = model.__tablename__
        for row in rows:
            obj = existing.get(row["key"])
            if obj is None:
                extra = new_row_extra() if new_row_extra else {}
                new_rows.append({**row, **extra, "delegation_id": self.delegation.id})
            else:
                if self._assign(obj, row):
                    self.result.changed[name] += 1
                ids[row["key"]] = obj.id
        if new_rows:
            for row in new_rows:
                self.history.created(name, row["key"], self.delegation.id, row)
            self.session.flush()
            self._bulk_insert(model, new_rows)
            ids = self._ids_by_key(model)
            self.result.added[name] += len(new_rows)
        return ids

    def _upsert_rooms(self, venue_ids: dict[str, int]) -> dict[tuple[str, str], int]:
        existing = {}
        if not self.result.created and venue_ids:
            query = (
                select(Room, Venue.key)
                .join(Venue, Room.venue_id == Venue.id)
                .where(Venue.delegation_id == self.delegation.id)
            )
            existing = {
                (venue_key, room.key): room for room, venue_key in self.session.execute(query)
            }
        ids, new_rows = {}, []
        for venue in self.doc.get("venues", []):
            for room in venue.get("rooms", []):
                key = (venue["key"], room["key"])
                fields = {"name": room["name"], "capacity": room.get("capacity")}
                if key in existing:
                    if self._assign(existing[key], fields):
                        self.result.changed["room"] += 1
                    ids[key] = existing[key].id
                else:
                    new_rows.append(
                        (key, {"key": room["key"], "venue_id": venue_ids[venue["key"]], **fields})
                    )
        if new_rows:
            for (venue_key, room_key), row in new_rows:
                self.history.created("room", f"{venue_key}/{room_key}", self.delegation.id, row)
            self.session.flush()
            self._bulk_insert(Room, [row for _, row in new_rows])
            venue_keys = {venue_id: key for key, venue_id in venue_ids.items()}
            query = (
                select(Room.venue_id, Room.key, Room.id)
                .join(Venue, Room.venue_id == Venue.id)
                .where(Venue.delegation_id == self.delegation.id)
            )
            ids = {
                (venue_keys[venue_id], key): room_id
                for venue_id, key, room_id in self.session.execute(query)
                if venue_id in venue_keys
            }
            self.result.added["room"] += len(new_rows)
        return ids

    def _upsert_travel_times(self, venue_ids: dict[str, int]) -> None:
        existing = {}
        if not self.result.created:
            query = select(TravelTime).where(TravelTime.delegation_id == self.delegation.id)
            existing = {(t.from_venue_id, t.to_venue_id): t for t in self.session.scalars(query)}
        new_rows = []
        for leg in self.doc.get("travel_times", []):
            pair = (venue_ids[leg["from"]], venue_ids[leg["to"]])
            fields = {"minutes": leg["minutes"], "mode": leg.get("mode")}
            if pair in existing:
                if self._assign(existing[pair], fields):
                    self.result.changed["travel_time"] += 1
            else:
                row = {"from_venue_id": pair[0], "to_venue_id": pair[1], **fields}
                key = f"{leg['from']}->{leg['to']}"
                self.history.created("travel_time", key, self.delegation.id, row)
                new_rows.append({"delegation_id": self.delegation.id, **row})
        if new_rows:
            self.session.flush()
            self._bulk_insert(TravelTime, new_rows)
            self.result.added["travel_time"] += len(new_rows)

    def _replace_links(self, meeting_ids, person_ids, org_ids) -> None:
        """Attendees and organisations of each listed meeting become exactly the document's."""
        attendance_rows, link_rows, stale_meetings = [], [], []
        now = utcnow()
        current_people, current_orgs = self._current_links()
        for m in self.doc.get("meetings", []):
            wanted_people = [
                (a["person"], a.get("role", "required")) for a in m.get("attendees", [])
            ]
            wanted_orgs = list(m.get("organizations", []))
            meeting = self.existing_meetings.get(m["key"])
            if meeting is None:
                self._note_links(m["key"], [], wanted_people, [], wanted_orgs, "create")
            else:
                have_people = current_people.get(meeting.id, [])
                have_orgs = current_orgs.get(meeting.id, [])
                if have_people == wanted_people and have_orgs == wanted_orgs:
                    continue
                self._note_links(m["key"], have_people, wanted_people, have_orgs, wanted_orgs)
                stale_meetings.append(meeting)
                meeting.updated_at = now
                self.result.changed["meeting attendees"] += 1
            meeting_id = meeting_ids[m["key"]]
            attendance_rows += [
                {
                    "meeting_id": meeting_id,
                    "person_id": person_ids[key],
                    "role": role,
                    "position": n,
                }
                for n, (key, role) in enumerate(wanted_people)
            ]
            link_rows += [
                {"meeting_id": meeting_id, "organization_id": org_ids[key], "position": n}
                for n, key in enumerate(wanted_orgs)
            ]
        self.session.flush()
        if stale_meetings:
            stale_ids = [m.id for m in stale_meetings]
            for meeting in stale_meetings:
                self.session.expire(meeting, ["attendances", "organization_links"])
            for start in range(0, len(stale_ids), 1000):  # bounded IN lists (SQLite's limit)
                chunk = stale_ids[start : start + 1000]
                self.session.execute(delete(Attendance).where(Attendance.meeting_id.in_(chunk)))
                self.session.execute(
                    delete(MeetingOrganization).where(MeetingOrganization.meeting_id.in_(chunk))
                )
        self._bulk_insert(Attendance, attendance_rows)
        self._bulk_insert(MeetingOrganization, link_rows)

    def _note_links(self, key, have_people, wanted_people, have_orgs, wanted_orgs, action=None):
        def people(pairs):
            return [{"person": person, "role": role} for person, role in pairs]

        changes = {}
        if have_people != wanted_people:
            changes["attendees"] = [people(have_people) or None, people(wanted_people)]
        if have_orgs != wanted_orgs:
            changes["organizations"] = [have_orgs or None, wanted_orgs]
        if action == "create":
            changes = {name: [None, after] for name, (_, after) in changes.items()}
        if changes:
            self.history.changed("meeting", key, self.delegation.id, changes)

    def _current_links(self) -> tuple[dict[int, list], dict[int, list]]:
        """Each existing meeting's (person key, role) and organisation keys, in order: two
        queries of plain rows, not a hundred thousand ORM objects."""
        people: dict[int, list] = defaultdict(list)
        orgs: dict[int, list] = defaultdict(list)
        if not self.existing_meetings:
            return people, orgs
        in_delegation = Meeting.delegation_id == self.delegation.id
        attendances = (
            select(Attendance.meeting_id, Person.key, Attendance.role)
            .join(Person, Attendance.person_id == Person.id)
            .join(Meeting, Attendance.meeting_id == Meeting.id)
            .where(in_delegation)
            .order_by(Attendance.meeting_id, Attendance.position, Attendance.id)
        )
        for meeting_id, key, role in self.session.execute(attendances):
            people[meeting_id].append((key, role))
        links = (
            select(MeetingOrganization.meeting_id, Organization.key)
            .join(Organization, MeetingOrganization.organization_id == Organization.id)
            .join(Meeting, MeetingOrganization.meeting_id == Meeting.id)
            .where(in_delegation)
            .order_by(MeetingOrganization.meeting_id, MeetingOrganization.position)
        )
        for meeting_id, key in self.session.execute(links):
            orgs[meeting_id].append(key)
        return people, orgs

    def _cancel_unlisted(self) -> None:
        listed = {m["key"] for m in self.doc.get("meetings", [])}
        for key, meeting in self.existing_meetings.items():
            if key not in listed and meeting.status != "cancelled":
                self.history.updated(meeting, {"status": "cancelled"})
                meeting.status = "cancelled"
                self.result.cancelled += 1


# --------------------------------------------------------------------------- export


def load_delegation(session: Session, key: str) -> Delegation | None:
    """The delegation with everything the pages, export, agenda and feeds read.

    The same number of queries for 50 meetings or 50,000: collections under the meetings load
    by subquery, not in batches of ids as ``selectinload`` does (one more query per 500).
    """
    return session.scalar(
        select(Delegation)
        .where(Delegation.key == key)
        .options(
            selectinload(Delegation.organizations),
            selectinload(Delegation.people).joinedload(Person.organization),
            selectinload(Delegation.venues).selectinload(Venue.rooms),
            selectinload(Delegation.travel_times).options(
                joinedload(TravelTime.from_venue), joinedload(TravelTime.to_venue)
            ),
            selectinload(Delegation.meetings).options(
                joinedload(Meeting.venue),
                joinedload(Meeting.room),
                subqueryload(Meeting.attendances).joinedload(Attendance.person),
                subqueryload(Meeting.organization_links).joinedload(
                    MeetingOrganization.organization
                ),
            ),
        )
    )


def load_meeting(session: Session, delegation_id: int, key: str) -> Meeting | None:
    """One meeting with its venue, room, attendees and organisations, for a page or a download."""
    return session.scalar(
        select(Meeting)
        .where(Meeting.delegation_id == delegation_id, Meeting.key == key)
        .options(
            selectinload(Meeting.venue),
            selectinload(Meeting.room),
            selectinload(Meeting.attendances).selectinload(Attendance.person),
            selectinload(Meeting.organization_links).selectinload(MeetingOrganization.organization),
        )
    )


def _compact(mapping: dict) -> dict:
    """Drop the optional fields that are not set, so the document says only what it knows."""
    return {k: v for k, v in mapping.items() if v is not None and v != [] and v != {}}


def export_itinerary(session: Session, key: str) -> dict | None:
    """The canonical document of the delegation, or None when there is no such key."""
    delegation = load_delegation(session, key)
    return None if delegation is None else export_delegation(delegation)


def export_delegation(delegation: Delegation) -> dict:
    """The canonical document of a loaded delegation (``load_delegation``), as it stands."""
    home = delegation.timezone
    venues = sorted(delegation.venues, key=lambda v: v.key)
    meetings = sorted(delegation.meetings, key=lambda m: (m.start, m.end, m.key))
    document = {
        "format": FORMAT,
        "delegation": _compact(
            {
                "key": delegation.key,
                "name": delegation.name,
                "native_name": delegation.native_name,
                "host": delegation.host,
                "timezone": home,
                "start_date": delegation.start_date.isoformat(),
                "end_date": delegation.end_date.isoformat(),
                "description": delegation.description,
            }
        ),
        "organizations": [
            _compact(
                {
                    "key": o.key,
                    "name": o.name,
                    "native_name": o.native_name,
                    "country": o.country,
                    "kind": o.kind,
                }
            )
            for o in sorted(delegation.organizations, key=lambda o: o.key)
        ],
        "people": [
            _compact(
                {
                    "key": p.key,
                    "name": p.name,
                    "native_name": p.native_name,
                    "title": p.title,
                    "organization": p.organization.key if p.organization else None,
                    "email": p.email,
                    "phone": p.phone,
                    "role": p.role,
                    "languages": list(p.languages or []),
                    "language": p.language,
                    "calendar": p.calendar,
                    "available_from": p.available_from
                    and format_document_datetime(p.available_from, home),
                    "available_until": p.available_until
                    and format_document_datetime(p.available_until, home),
                    "notes": p.notes,
                }
            )
            for p in sorted(delegation.people, key=lambda p: p.key)
        ],
        "venues": [
            _compact(
                {
                    "key": v.key,
                    "name": v.name,
                    "native_name": v.native_name,
                    "address": v.address,
                    "timezone": v.timezone,
                    "latitude": v.latitude,
                    "longitude": v.longitude,
                    "opening_hours": v.opening_hours,
                    "rooms": [
                        _compact({"key": r.key, "name": r.name, "capacity": r.capacity})
                        for r in sorted(v.rooms, key=lambda r: r.key)
                    ],
                }
            )
            for v in venues
        ],
        "travel_times": [
            _compact(
                {
                    "from": t.from_venue.key,
                    "to": t.to_venue.key,
                    "minutes": t.minutes,
                    "mode": t.mode,
                }
            )
            for t in sorted(
                delegation.travel_times, key=lambda t: (t.from_venue.key, t.to_venue.key)
            )
        ],
        "meetings": [_meeting_document(m, m.zone_name) for m in meetings],
    }
    return _with_requests(document, delegation, home)


def _with_requests(document: dict, delegation: Delegation, home: str) -> dict:
    """The document with ``meeting_requests`` where the delegation has any."""
    requests = sorted(delegation_requests(delegation), key=lambda r: r.key)
    if requests:
        document["meeting_requests"] = [_request_document(r, home) for r in requests]
    return document


def delegation_requests(delegation: Delegation) -> list[MeetingRequest]:
    """The delegation's meeting requests (one query; the export and the pages read them)."""
    from sqlalchemy.orm import object_session

    session = object_session(delegation)
    if session is None or delegation.id is None:
        return []
    return list(
        session.scalars(
            select(MeetingRequest)
            .where(MeetingRequest.delegation_id == delegation.id)
            .order_by(MeetingRequest.key)
        )
    )


def _request_document(r: MeetingRequest, home: str) -> dict:
    return _compact(
        {
            "key": r.key,
            "title": r.title,
            "native_title": r.native_title,
            "kind": r.kind,
            "attendees": [
                {"person": a["person"], "role": a.get("role", "required")} for a in r.attendees
            ],
            "organizations": list(r.organizations or []),
            "duration_minutes": r.duration_minutes,
            "venues": list(r.venues or []),
            "not_before": r.not_before and format_document_datetime(r.not_before, home),
            "not_after": r.not_after and format_document_datetime(r.not_after, home),
            "priority": r.priority,
            "interpreter": r.interpreter,
        }
    )


def _meeting_document(m: Meeting, zone_name: str) -> dict:
    return _compact(
        {
            "key": m.key,
            "title": m.title,
            "native_title": m.native_title,
            "kind": m.kind,
            "status": m.status,
            "start": format_document_datetime(m.start, zone_name),
            "end": format_document_datetime(m.end, zone_name),
            "venue": m.venue.key if m.venue else None,
            "room": m.room.key if m.room else None,
            "organizations": [link.organization.key for link in m.organization_links],
            "attendees": [{"person": a.person.key, "role": a.role} for a in m.attendances],
            "online_url": m.online_url,
            "agenda": m.agenda,
            "internal_notes": m.internal_notes,
        }
    )


def dump_document(document: dict) -> str:
    """The document as text: UTF-8 names kept readable, two-space indent, a final newline.

    Written by orjson: the same text as ``json.dumps(document, ensure_ascii=False, indent=2)``
    (tests/test_document_roundtrip.py compares them), ten times faster. The one difference
    is a float written with an exponent (1e-05 against orjson's 0.00001); an export's only
    floats are venue coordinates, and a document with such a coordinate is written by json."""
    if any(
        isinstance(value, float) and "e" in repr(value)
        for venue in document.get("venues", [])
        for value in (venue.get("latitude"), venue.get("longitude"))
    ):
        return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    return orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() + "\n"
