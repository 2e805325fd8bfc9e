"""The resources of /api/v1. Reads go through auth.delegation_for_request (scheduler.itinerary
.access); writes through the same domain operations as the web pages (imports.import_as,
editing.create_meeting / update_meeting / set_meeting_status), so history is the same."""

from __future__ import annotations

from flask import current_app, g, request
from flask_smorest import abort
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError

from scheduler.extensions import db
from scheduler.itinerary import access
from scheduler.itinerary.conflicts import check_delegation
from scheduler.itinerary.document import (
    DocumentError,
    export_delegation,
    load_delegation,
    load_meeting,
)
from scheduler.itinerary.editing import (
    StaleMeetingError,
    TooManyMeetings,
    create_meeting,
    set_meeting_status,
    slugify,
    unused_meeting_key,
    update_meeting,
)
from scheduler.itinerary.json_input import Limits, read_document
from scheduler.itinerary.meeting_input import changes_from_document, meeting_document
from scheduler.itinerary.times import to_local
from scheduler.models import Delegation
from scheduler.operations import imports
from scheduler.web.api import bp, schemas
from scheduler.web.api.auth import (
    api_needs,
    api_user,
    delegation_for_request,
    load_references,
)
from scheduler.web.common import ACCOUNT, estimate_travel, visible_conflicts

ERRORS = {
    code: {"description": text, "content": {"application/json": {"schema": schemas.Errors}}}
    for code, text in (
        (401, "No valid token"),
        (403, "The role or the token does not allow it"),
        (404, "No such delegation for this token"),
        (422, "Invalid input: every problem with its path"),
        (429, "Too many requests (Retry-After says when to retry)"),
    )
}
PRECONDITIONS = {
    code: {"description": text, "content": {"application/json": {"schema": schemas.Errors}}}
    for code, text in (
        (412, "If-Match does not match the meeting's current ETag"),
        (428, "If-Match is missing"),
    )
}
IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "required": True,
    "schema": {"type": "string"},
    "description": "The meeting's ETag, as GET returned it",
    "example": '"1"',
}
_SAME_MEETING = {"key": "$request.path.key", "meeting": "$response.body#/key"}
_WITH_ETAG = {**_SAME_MEETING, "header.If-Match": "$response.header.ETag"}
MEETING_LINKS = {
    "GetMeeting": {"operationId": "get_meeting", "parameters": _SAME_MEETING},
    "UpdateMeeting": {"operationId": "update_meeting", "parameters": _WITH_ETAG},
    "CancelMeeting": {"operationId": "cancel_meeting", "parameters": _WITH_ETAG},
}


def _page(items: list, args: dict) -> dict:
    page, per_page = args["page"], args["per_page"]
    start = (page - 1) * per_page
    return {
        "items": items[start : start + per_page],
        "page": page,
        "per_page": per_page,
        "total": len(items),
    }


# --------------------------------------------------------------------------- delegations


@bp.route("/delegations", methods=["GET"])
@bp.arguments(schemas.PageArgs, location="query")
@bp.response(200, schemas.DelegationPage)
@bp.doc(responses=ERRORS, operationId="list_delegations")
@api_needs(read=ACCOUNT, write=None)
def list_delegations(args):
    """The delegations this token's account has a role in (all of them for an administrator)."""
    user = api_user()
    rows = db.session.scalars(
        select(Delegation)
        .where(Delegation.id.in_(access.visible_delegation_ids(db.session, user)))
        .order_by(Delegation.start_date, Delegation.key)
    )
    items = []
    for delegation in rows:
        granted = access.access_to(db.session, user, delegation.id)
        items.append(
            {
                "key": delegation.key,
                "name": delegation.name,
                "timezone": delegation.timezone,
                "start_date": delegation.start_date,
                "end_date": delegation.end_date,
                "revision": delegation.revision,
                "role": granted.role if granted else "none",
            }
        )
    return _page(items, args)


@bp.route("/delegations/<key>", methods=["GET"])
@bp.response(200, schemas.Document)
@bp.doc(responses=ERRORS, operationId="get_delegation")
@api_needs()
def get_delegation(key):
    """The delegation as the interchange document (delegation-itinerary/1)."""
    return export_delegation(delegation_for_request(key))


@bp.route("/delegations/<key>", methods=["PUT"])
@bp.response(200, schemas.Document, description="Imported over the existing delegation")
@bp.alt_response(201, schema=schemas.Document, description="A new delegation")
@bp.doc(
    responses=ERRORS,
    operationId="put_delegation",
    requestBody={
        "required": True,
        "description": "A delegation-itinerary/1 document whose delegation.key is KEY; "
        "validated exactly as `import-itinerary` validates it.",
        "content": {"application/json": {"schema": schemas.Document}},
    },
)
@api_needs()
def put_delegation(key):
    """Import the document over the delegation KEY (or create it), in one transaction."""
    if db.session.scalar(select(Delegation.id).where(Delegation.key == key)) is not None:
        delegation_for_request(key, loaded=False)  # 404 / 403 before reading the body
    try:
        document = read_document(request.get_data(), Limits.from_config(current_app.config))
        if isinstance(document, dict):
            inner = document.get("delegation")
            if isinstance(inner, dict) and inner.get("key") != key:
                raise DocumentError(
                    [_problem("delegation.key", f"must be '{key}', the key in the URL")]
                )
        result = imports.import_as(db.session, api_user(), document, prune=False)
        db.session.commit()
    except DocumentError as exc:
        db.session.rollback()
        abort(422, problems=[(p.path, p.message) for p in exc.problems])
    except (IntegrityError, OperationalError) as exc:
        db.session.rollback()  # another import of this delegation won the race
        if not imports.is_concurrent_write(exc):
            raise
        abort(409, problems=[("$", imports.CONCURRENT_IMPORT)])
    except access.NoSuchDelegation:
        db.session.rollback()
        abort(404)
    except access.NotAllowed:
        db.session.rollback()
        abort(403)
    body = export_delegation(load_delegation(db.session, key))
    return body, 201 if result.created else 200


def _problem(path, message):
    from scheduler.itinerary.document import Problem

    return Problem(path, message)


@bp.route("/delegations/<key>/conflicts", methods=["GET"])
@bp.response(200, schemas.ConflictList)
@bp.doc(responses=ERRORS, operationId="list_conflicts")
@api_needs()
def list_conflicts(key):
    """The conflicts as `check KEY --json` prints them."""
    delegation = delegation_for_request(key)
    found = check_delegation(db.session, delegation, estimate_travel=estimate_travel())
    return {"items": [c.as_json() for c in visible_conflicts(delegation, found)]}


@bp.route("/delegations/<key>/people", methods=["GET"])
@bp.arguments(schemas.PageArgs, location="query")
@bp.response(200, schemas.PeoplePage)
@bp.doc(responses=ERRORS, operationId="list_people")
@api_needs()
def list_people(args, key):
    """The delegation's people, as the document writes them."""
    return _page(export_delegation(delegation_for_request(key)).get("people", []), args)


@bp.route("/delegations/<key>/venues", methods=["GET"])
@bp.arguments(schemas.PageArgs, location="query")
@bp.response(200, schemas.VenuePage)
@bp.doc(responses=ERRORS, operationId="list_venues")
@api_needs()
def list_venues(args, key):
    """The delegation's venues with their rooms, as the document writes them."""
    return _page(export_delegation(delegation_for_request(key)).get("venues", []), args)


# --------------------------------------------------------------------------- meetings


def _etag(meeting) -> str:
    return f'"{meeting.version}"'


def _meeting_body(meeting) -> dict:
    return {**meeting_document(meeting), "version": meeting.version}


def _meeting_response(meeting, status=200):
    return _meeting_body(meeting), status, {"ETag": _etag(meeting)}


def _one_meeting(key, meeting_key):
    """The delegation (with what meetings refer to) and its meeting MEETING_KEY, or 404."""
    delegation = delegation_for_request(key, loaded=False, loader=load_references)
    return delegation, _meeting_or_404(delegation, meeting_key)


def _meeting_or_404(delegation, meeting_key):
    granted = g.get("access")
    if granted is not None and granted.is_host:  # only the meetings of its part
        meeting = next((m for m in delegation.meetings if m.key == meeting_key), None)
    else:
        meeting = load_meeting(db.session, delegation.id, meeting_key)
    if meeting is None:
        abort(404, description=f"no meeting '{meeting_key}' in '{delegation.key}'")
    return meeting


def _lock(meeting) -> None:
    """Read the meeting's row again, locked (FOR UPDATE on PostgreSQL) so that two changes of
    it take turns; only its columns, since FOR UPDATE cannot lock an outer join's far side."""
    columns = [attr.key for attr in meeting.__mapper__.column_attrs]
    db.session.refresh(meeting, attribute_names=columns, with_for_update=True)


def _expected_version(meeting) -> int:
    """The version the client changes: 428 without If-Match, 412 if it is not the current one."""
    if not request.headers.get("If-Match"):
        abort(428)
    if not request.if_match.contains(_etag(meeting).strip('"')) and not request.if_match.star_tag:
        abort(412)
    return meeting.version


@bp.route("/delegations/<key>/meetings", methods=["GET"])
@bp.arguments(schemas.MeetingFilters, location="query")
@bp.response(200, schemas.MeetingPage)
@bp.doc(responses=ERRORS, operationId="list_meetings")
@api_needs()
def list_meetings(args, key):
    """The meetings, earliest first; filtered by local day, attending person and status."""
    delegation = delegation_for_request(key)
    meetings = sorted(delegation.meetings, key=lambda m: (m.start, m.end, m.key))
    if "day" in args:
        meetings = [m for m in meetings if to_local(m.start, m.zone_name).date() == args["day"]]
    if "person" in args:
        meetings = [
            m for m in meetings if any(a.person.key == args["person"] for a in m.attendances)
        ]
    if "status" in args:
        meetings = [m for m in meetings if m.status == args["status"]]
    return _page([_meeting_body(m) for m in meetings], args)


@bp.route("/delegations/<key>/meetings", methods=["POST"])
@bp.arguments(
    schemas.MeetingCreate,
    example={k: v for k, v in schemas.MEETING_EXAMPLE.items() if k not in ("version", "key")}
    | {"key": "new-talk"},
)
@bp.response(201, schemas.Meeting, headers={"ETag": {"schema": {"type": "string"}}})
@bp.doc(responses=ERRORS | {201: {"links": MEETING_LINKS}}, operationId="create_meeting")
@api_needs()
def create_meeting_view(data, key):
    """A new meeting; its key from the title when none is given (409 if the key is taken)."""
    delegation = delegation_for_request(key, loaded=False, loader=load_references)
    if data.get("key") and load_meeting(db.session, delegation.id, data["key"]) is not None:
        abort(409, problems=[("key", f"'{key}' already has a meeting '{data['key']}'")])
    data = {k: v for k, v in data.items() if v is not None}
    data.setdefault("key", unused_meeting_key(db.session, delegation.id, slugify(data["title"])))
    changes = _changes(delegation, data)
    try:
        meeting = create_meeting(
            db.session, delegation, changes, data["key"], user_id=api_user().id
        )
    except TooManyMeetings as exc:
        db.session.rollback()
        abort(422, problems=[("$", str(exc))])
    db.session.commit()
    return _meeting_response(_reloaded(delegation.key, meeting.key), 201)


def _changes(delegation, data):
    try:
        return changes_from_document(delegation, data)
    except DocumentError as exc:
        db.session.rollback()
        abort(422, problems=[(p.path, p.message) for p in exc.problems])


def _reloaded(key, meeting_key):
    db.session.expire_all()
    return _one_meeting(key, meeting_key)[1]


@bp.route("/delegations/<key>/meetings/<meeting>", methods=["GET"])
@bp.response(200, schemas.Meeting, headers={"ETag": {"schema": {"type": "string"}}})
@bp.doc(responses=ERRORS | {200: {"links": MEETING_LINKS}}, operationId="get_meeting")
@api_needs()
def get_meeting(key, meeting):
    """One meeting, with its version as the ETag to send back in If-Match."""
    return _meeting_response(_one_meeting(key, meeting)[1])


@bp.route("/delegations/<key>/meetings/<meeting>", methods=["PATCH"])
@bp.arguments(
    schemas.MeetingFields, example={"start": "2024-09-25T10:30", "end": "2024-09-25T12:00"}
)
@bp.response(200, schemas.Meeting, headers={"ETag": {"schema": {"type": "string"}}})
@bp.doc(responses=ERRORS | PRECONDITIONS, parameters=[IF_MATCH], operationId="update_meeting")
@api_needs()
def update_meeting_view(data, key, meeting):
    """Change the fields given (null clears an optional one); If-Match is required."""
    delegation, row = _one_meeting(key, meeting)
    _lock(row)
    version = _expected_version(row)
    current = meeting_document(row)
    merged = {**current, **data}
    merged = {k: v for k, v in merged.items() if v is not None}
    if "venue" in data and data["venue"] != current.get("venue") and "room" not in data:
        merged.pop("room", None)  # a new venue: the old one's room no longer applies
    changes = _changes(delegation, merged)
    try:
        update_meeting(db.session, row, changes, expected_version=version, user_id=api_user().id)
        db.session.commit()
    except StaleMeetingError:
        db.session.rollback()
        abort(412)
    return _meeting_response(_reloaded(key, meeting))


def _set_status(key, meeting, status):
    delegation, row = _one_meeting(key, meeting)
    _lock(row)
    version = _expected_version(row)
    try:
        set_meeting_status(db.session, row, status, expected_version=version, user_id=api_user().id)
        db.session.commit()
    except StaleMeetingError:
        db.session.rollback()
        abort(412)
    return _meeting_response(_reloaded(key, meeting))


@bp.route("/delegations/<key>/meetings/<meeting>/cancel", methods=["POST"])
@bp.response(200, schemas.Meeting, headers={"ETag": {"schema": {"type": "string"}}})
@bp.doc(responses=ERRORS | PRECONDITIONS, parameters=[IF_MATCH], operationId="cancel_meeting")
@api_needs()
def cancel_meeting(key, meeting):
    """Call the meeting off (it stays in the programme as cancelled); If-Match is required."""
    return _set_status(key, meeting, "cancelled")


@bp.route("/delegations/<key>/meetings/<meeting>/restore", methods=["POST"])
@bp.response(200, schemas.Meeting, headers={"ETag": {"schema": {"type": "string"}}})
@bp.doc(responses=ERRORS | PRECONDITIONS, parameters=[IF_MATCH], operationId="restore_meeting")
@api_needs()
def restore_meeting(key, meeting):
    """Bring a cancelled meeting back as tentative, to be confirmed again; If-Match required."""
    return _set_status(key, meeting, "tentative")
