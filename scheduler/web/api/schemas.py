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


# --------------------------------------------------------------------------- releases

VERSION_OR_DRAFT = {
    "oneOf": [{"type": "integer", "minimum": 1}, {"type": "string", "enum": ["draft"]}]
}
PLACE_EXAMPLE = {
    "start": "2024-09-25T10:00+09:00",
    "end": "2024-09-25T11:30+09:00",
    "venue": "cmic-tokyo",
    "room": None,
}
CHANGES_EXAMPLE = {
    "from": 1,
    "to": "draft",
    "added": ["reception"],
    "cancelled": [],
    "moved": [
        {
            "meeting": "cmic",
            "before": PLACE_EXAMPLE,
            "after": {**PLACE_EXAMPLE, "start": "2024-09-25T10:30+09:00"},
        }
    ],
    "changed": [{"meeting": "cmic", "fields": ["title"]}],
    "people": {
        "nakamura": {
            "added": [],
            "lost": [],
            "moved": [
                {
                    "meeting": "cmic",
                    "before": PLACE_EXAMPLE,
                    "after": {**PLACE_EXAMPLE, "start": "2024-09-25T10:30+09:00"},
                }
            ],
            "changed": [{"meeting": "cmic", "fields": ["title"]}],
        }
    },
}


class Place(Schema):
    start = fields.String(required=True)
    end = fields.String(required=True)
    venue = fields.String(required=True, allow_none=True)
    room = fields.String(required=True, allow_none=True)


class Moved(Schema):
    meeting = fields.String(required=True)
    before = fields.Nested(Place, required=True)
    after = fields.Nested(Place, required=True)


class Changed(Schema):
    meeting = fields.String(required=True)
    fields_ = fields.List(fields.String(), required=True, attribute="fields", data_key="fields")


class PersonChanges(Schema):
    added = fields.List(fields.String(), required=True)
    lost = fields.List(fields.String(), required=True)
    moved = fields.List(fields.Nested(Moved), required=True)
    changed = fields.List(fields.Nested(Changed), required=True)


class Changes(Schema):
    """The spec's CHANGES object, as `changes KEY --json` prints it."""

    class Meta:
        ordered = True

    from_ = fields.Integer(
        required=True,
        allow_none=True,
        attribute="from",
        data_key="from",
        metadata={"description": "The release compared from; null before the first"},
    )
    to = fields.Raw(
        required=True, metadata={**VERSION_OR_DRAFT, "description": 'A release or "draft"'}
    )
    added = fields.List(fields.String(), required=True)
    cancelled = fields.List(fields.String(), required=True)
    moved = fields.List(fields.Nested(Moved), required=True)
    changed = fields.List(fields.Nested(Changed), required=True)
    people = fields.Dict(keys=fields.String(), values=fields.Nested(PersonChanges), required=True)


class ChangesArgs(Schema):
    class Meta:
        unknown = EXCLUDE

    since = fields.Integer(
        validate=validate.Range(min=1, max=1_000_000),
        metadata={"description": "From release N (default: the latest)"},
    )
    until = fields.Integer(
        validate=validate.Range(min=1, max=1_000_000),
        metadata={"description": "To release M (default: the draft)"},
    )


class ReleaseSummary(Schema):
    version = fields.Integer(required=True, metadata={"example": 2})
    note = fields.String(required=True, allow_none=True, metadata={"example": "Final times"})
    created_at = fields.String(required=True, metadata={"example": "2024-09-20T08:00:00Z"})
    created_by = fields.String(
        required=True, allow_none=True, metadata={"description": "An email; null: the CLI"}
    )
    reason = fields.String(
        required=True, allow_none=True, metadata={"description": "Why, with errors open"}
    )
    notify = fields.Boolean(required=True)
    open_errors = fields.List(fields.Nested(Conflict), required=True)
    open_warnings = fields.List(fields.Nested(Conflict), required=True)


class ReleaseDetail(ReleaseSummary):
    changes = fields.Nested(
        Changes,
        required=True,
        metadata={"description": "What changed in this version (from the one before)"},
    )


class ReleasePage(PageMeta):
    items = fields.List(fields.Nested(ReleaseSummary), required=True)


class ReleaseCreate(Schema):
    class Meta:
        unknown = RAISE

    note = fields.String(allow_none=True, validate=validate.Length(max=2000))
    notify = fields.Boolean(load_default=False)
    reason = fields.String(
        allow_none=True,
        validate=validate.Length(max=2000),
        metadata={"description": "Required while error-severity conflicts are open"},
    )


# --------------------------------------------------------------------------- suggestions


class SuggestionCreate(Schema):
    class Meta:
        unknown = RAISE

    replan = fields.Boolean(
        load_default=False,
        metadata={"description": "Also move tentative meetings of earlier suggestions"},
    )
    time_limit = fields.Float(
        load_default=10.0,
        validate=validate.Range(min=0.1, max=600),
        metadata={"description": "Seconds the search may take", "example": 5},
    )


class Placed(Schema):
    request = fields.String(required=True)
    start = fields.String(required=True)
    end = fields.String(required=True)
    venue = fields.String(required=True)
    room = fields.String(required=True, allow_none=True)
    attendees = fields.List(fields.String(), required=True)


class Unplaced(Schema):
    request = fields.String(required=True)
    reason = fields.String(required=True)


class Proposal(Schema):
    """The spec's `suggest KEY --json` object."""

    status = fields.String(
        required=True, validate=validate.OneOf(["optimal", "feasible", "infeasible", "unknown"])
    )
    placed = fields.List(fields.Nested(Placed), required=True)
    unplaced = fields.List(fields.Nested(Unplaced), required=True)
    seconds = fields.Float(required=True)


SUGGESTION_STATES = ["queued", "running", "done", "failed", "applied", "discarded"]


class Suggestion(Schema):
    id = fields.Integer(required=True, metadata={"example": 1})
    state = fields.String(required=True, validate=validate.OneOf(SUGGESTION_STATES))
    progress = fields.String(required=True, allow_none=True)
    replan = fields.Boolean(required=True)
    time_limit = fields.Float(required=True)
    created_at = fields.String(required=True)
    finished_at = fields.String(required=True, allow_none=True)
    result = fields.Nested(
        Proposal,
        required=True,
        allow_none=True,
        metadata={"description": "The proposal once the run is done (null before)"},
    )


class Applied(Schema):
    suggestion = fields.Nested(Suggestion, required=True)
    meetings = fields.List(
        fields.String(), required=True, metadata={"description": "Keys of the saved meetings"}
    )


class RequestPage(PeoplePage):
    pass
