"""The shapes of /api/v1, for validation of parameters and for the OpenAPI description."""

from __future__ import annotations

from marshmallow import EXCLUDE, RAISE, Schema, fields, validate

from scheduler.itinerary.document import DATETIME_PATTERN, FORMAT, KEY_PATTERN
from scheduler.models import ATTENDEE_ROLES, MEETING_KINDS, MEETING_STATUSES

KEY = validate.Regexp(KEY_PATTERN, error="not a valid key: lowercase letters, digits, single '-'")
DATETIME = validate.Regexp(DATETIME_PATTERN, error="not a date and time like 2024-09-25T14:00")
MEETING_EXAMPLE = {
    "key": "cmic",
    "title": "Meeting with CMIC",
    "kind": "meeting",
    "status": "confirmed",
    "start": "2024-09-25T10:00+09:00",
    "end": "2024-09-25T11:30+09:00",
    "venue": "cmic-tokyo",
    "attendees": [{"person": "nakamura", "role": "required"}],
    "organizations": ["cmic"],
    "version": 1,
}


class Problem(Schema):
    path = fields.String(required=True, metadata={"example": "start"})
    message = fields.String(
        required=True, metadata={"example": "'25/09' is not a date and time like 2024-09-25T14:00"}
    )


class Errors(Schema):
    errors = fields.List(fields.Nested(Problem), required=True)


class PageArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class MeetingFilters(PageArgs):
    day = fields.Date(metadata={"description": "Meetings starting on this local date"})
    person = fields.String(validate=KEY, metadata={"description": "Meetings this person attends"})
    status = fields.String(validate=validate.OneOf(MEETING_STATUSES))


class PageMeta(Schema):
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    total = fields.Integer(required=True)


class DelegationSummary(Schema):
    key = fields.String(required=True, metadata={"example": "mss-japan-2024-09"})
    name = fields.String(required=True)
    timezone = fields.String(required=True)
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True)
    revision = fields.Integer(required=True)
    role = fields.String(required=True, metadata={"example": "owner"})


class DelegationPage(PageMeta):
    items = fields.List(fields.Nested(DelegationSummary), required=True)


class Document(Schema):
    """The interchange document, validated as import-itinerary validates it."""

    class Meta:
        unknown = RAISE

    format = fields.String(required=True, metadata={"example": FORMAT})
    delegation = fields.Dict(required=True)
    organizations = fields.List(fields.Dict())
    people = fields.List(fields.Dict())
    venues = fields.List(fields.Dict())
    travel_times = fields.List(fields.Dict())
    meetings = fields.List(fields.Dict())
    meeting_requests = fields.List(fields.Dict())


class Conflict(Schema):
    kind = fields.String(required=True, metadata={"example": "person_double_booked"})
    severity = fields.String(required=True, metadata={"example": "error"})
    meetings = fields.List(fields.String(), required=True)
    person = fields.String(required=True, allow_none=True)
    room = fields.String(required=True, allow_none=True)
    venue = fields.String(required=True, allow_none=True)
    message = fields.String(required=True)
    estimated = fields.Boolean()


class ConflictList(Schema):
    items = fields.List(fields.Nested(Conflict), required=True)


class Attendee(Schema):
    class Meta:
        unknown = RAISE

    person = fields.String(required=True, validate=KEY)
    role = fields.String(validate=validate.OneOf(ATTENDEE_ROLES))


class MeetingFields(Schema):
    """A meeting as the document writes it: keys for venue, room, people, organisations."""

    class Meta:
        unknown = RAISE

    title = fields.String(validate=validate.Length(min=1, max=500))
    native_title = fields.String(validate=validate.Length(min=1, max=500))
    kind = fields.String(validate=validate.OneOf(MEETING_KINDS))
    status = fields.String(validate=validate.OneOf(MEETING_STATUSES))
    start = fields.String(validate=DATETIME, metadata={"example": "2024-09-25T10:00"})
    end = fields.String(validate=DATETIME, metadata={"example": "2024-09-25T11:30"})
    venue = fields.String(validate=KEY, allow_none=True)
    room = fields.String(validate=KEY, allow_none=True)
    organizations = fields.List(fields.String(validate=KEY))
    attendees = fields.List(fields.Nested(Attendee))
    online_url = fields.String(allow_none=True)
    agenda = fields.String(allow_none=True)
    internal_notes = fields.String(allow_none=True)


class MeetingCreate(MeetingFields):
    key = fields.String(validate=[KEY, validate.Length(max=64)])
    title = fields.String(required=True, validate=validate.Length(min=1, max=500))
    start = fields.String(
        required=True, validate=DATETIME, metadata={"example": "2024-09-25T10:00"}
    )
    end = fields.String(required=True, validate=DATETIME, metadata={"example": "2024-09-25T11:30"})


class Meeting(Schema):
    key = fields.String(required=True)
    title = fields.String(required=True)
    native_title = fields.String()
    kind = fields.String(required=True)
    status = fields.String(required=True)
    start = fields.String(required=True)
    end = fields.String(required=True)
    venue = fields.String()
    room = fields.String()
    organizations = fields.List(fields.String())
    attendees = fields.List(fields.Nested(Attendee))
    online_url = fields.String()
    agenda = fields.String()
    internal_notes = fields.String()
    version = fields.Integer(required=True, metadata={"description": "Also the ETag"})


class MeetingPage(PageMeta):
    items = fields.List(fields.Nested(Meeting), required=True)


class ItemList(Schema):
    items = fields.List(fields.Dict(), required=True)


class PeoplePage(PageMeta):
    items = fields.List(fields.Dict(), required=True)


class VenuePage(PeoplePage):
    pass
