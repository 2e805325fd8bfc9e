"""The timetable: one day of the programme as a grid by room or by person, where a coordinator
drags meetings. A drop is checked first (``move/check``), then saved (``move``) by the meeting
form's rules; both answer JSON. Everything here can also be done through the meeting form."""

from __future__ import annotations

from datetime import date, datetime

from flask import abort, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from scheduler import wording
from scheduler.extensions import db
from scheduler.itinerary.document import load_meeting
from scheduler.itinerary.editing import local_to_utc
from scheduler.itinerary.finding import FilterError, default_day, parse_day, parse_filter
from scheduler.itinerary.moving import Move, check_move, move_meeting
from scheduler.itinerary.review import errors_signature
from scheduler.itinerary.times import WallClockError
from scheduler.itinerary.timetable import (
    MODES,
    grid_day,
    parse_room_resource,
    programme_days,
    room_resource,
    wall,
)
from scheduler.models import Delegation, Meeting, Room, Venue
from scheduler.web.common import (
    conflict_kind_label,
    current_access,
    delegation_or_404,
    estimate_travel,
    loaded_delegation_or_404,
    needs,
    reviewed_conflicts,
    user_id,
)
from scheduler.web.timetable import bp
from scheduler.wording import conflict_message


class BadInput(Exception):
    def __init__(self, field: str, message: str, status: int = 400):
        self.field, self.message, self.status = field, message, status


@bp.errorhandler(BadInput)
def _bad_input(error: BadInput):
    return jsonify({"error": {"field": error.field, "message": error.message}}), error.status


@bp.errorhandler(FilterError)
def _bad_filter(error: FilterError):
    if request.path.endswith(".json"):
        return jsonify({"error": {"field": error.field, "message": error.message}}), 400
    abort(400, description=wording.filter_problem(error))


def _labels() -> dict[str, str]:
    return {
        "no_room": _("No room"),
        "whole_venue": _("Whole venue"),
        "no_venue": _("No venue"),
        "travel": _("Travel {origin} → {destination}: {minutes} min"),
    }


def _mode() -> str:
    mode = request.args.get("mode", "room")
    if mode not in MODES:
        raise FilterError("mode", "room or person")
    return mode


def _day(delegation: Delegation, days) -> date | None:
    return parse_day(request.args.get("day")) or default_day(days, date.today())


@bp.get("/delegations/<key>/timetable")
@login_required
@needs()
def page(key: str):
    delegation = loaded_delegation_or_404(key)
    found = parse_filter(request.args)
    days = programme_days(delegation, found.apply(delegation.meetings))
    granted = current_access()
    return render_template(
        "timetable/grid.html",
        delegation=delegation,
        days=days,
        day=_day(delegation, days),
        mode=_mode(),
        found=found,
        show_cancelled=request.args.get("cancelled") == "1",
        editable=granted is not None and granted.allows("edit"),
        organizations=sorted(delegation.organizations, key=lambda o: o.name),
        people=sorted(delegation.people, key=lambda p: p.name),
        venues=sorted(delegation.venues, key=lambda v: v.name),
    )


@bp.get("/delegations/<key>/timetable.json")
@login_required
@needs()
def data(key: str):
    delegation = loaded_delegation_or_404(key)
    found = parse_filter(request.args)
    day = _day(delegation, programme_days(delegation, delegation.meetings))
    if day is None:
        return jsonify({"day": None, "mode": _mode(), "resources": [], "events": []})
    home = url_for("delegations.programme", key=key)
    return jsonify(
        grid_day(
            delegation,
            reviewed_conflicts(delegation),
            day,
            mode=_mode(),
            found=found,
            show_cancelled=request.args.get("cancelled") == "1",
            estimate_travel=estimate_travel(),
            labels=_labels(),
            meeting_url=lambda meeting_key: f"{home}/meetings/{meeting_key}",
            kind_label=conflict_kind_label,
            message_of=conflict_message,
        )
    )


# --------------------------------------------------------------------------- moving a meeting


def _meeting_or_404(delegation: Delegation, meeting_key: str) -> Meeting:
    meeting = load_meeting(db.session, delegation.id, meeting_key)
    if meeting is None:
        abort(404)
    return meeting


def _posted() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadInput("body", _("Send the move as a JSON object."))
    return body


def _wall_time(body: dict, name: str, zone_name: str) -> datetime:
    text = body.get(name)
    try:
        wall_clock = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise BadInput(name, _("A local time like 2024-09-02T14:30.")) from None
    try:
        return local_to_utc(wall_clock.replace(tzinfo=None), zone_name)
    except WallClockError as exc:
        raise BadInput(name, str(exc), 422) from None


def _place(delegation: Delegation, body: dict) -> tuple[int | None, int | None] | None:
    """The column the meeting was dropped on, as (venue id, room id); None keeps its place."""
    resource = body.get("resource")
    if resource in (None, "") or (isinstance(resource, str) and resource.startswith("person-")):
        return None
    place = parse_room_resource(resource) if isinstance(resource, str) else None
    if place is None:
        raise BadInput("resource", _("Not a column of this timetable."))
    venue_id, room_id = place
    if room_id is not None:
        venue_id = db.session.scalar(
            select(Room.venue_id)
            .join(Venue, Venue.id == Room.venue_id)
            .where(Room.id == room_id, Venue.delegation_id == delegation.id)
        )
    elif venue_id is not None:
        venue_id = db.session.scalar(
            select(Venue.id).where(Venue.id == venue_id, Venue.delegation_id == delegation.id)
        )
    else:
        return None, None
    if venue_id is None:
        raise BadInput("resource", _("Not a column of this timetable."))
    return venue_id, room_id


def _move(delegation: Delegation, body: dict) -> Move:
    zone_name = delegation.timezone
    start, end = _wall_time(body, "start", zone_name), _wall_time(body, "end", zone_name)
    if end <= start:
        raise BadInput("end", _("Must be after the start."), 422)
    return Move(start, end, _place(delegation, body))


def _conflicts_json(conflicts) -> list[dict]:
    return [
        {**c.as_json(), "label": conflict_kind_label(c.kind), "message": conflict_message(c)}
        for c in sorted(conflicts, key=lambda c: c.severity != "error")
    ]


def _current(delegation: Delegation, meeting: Meeting) -> dict:
    zone_name = delegation.timezone
    return {
        "key": meeting.key,
        "version": meeting.version,
        "start": wall(meeting.start, zone_name),
        "end": wall(meeting.end, zone_name),
        "resource": room_resource(meeting),
        "status": meeting.status,
    }


@bp.post("/delegations/<key>/meetings/<meeting_key>/move/check")
@login_required
@needs(get=None, post="edit")
def check(key: str, meeting_key: str):
    """The conflicts the meeting would be in at the proposed time and place (nothing saved)."""
    delegation = delegation_or_404(key)
    meeting = _meeting_or_404(delegation, meeting_key)
    conflicts = check_move(
        db.session, meeting, _move(delegation, _posted()), estimate_travel=estimate_travel()
    )
    errors = [c for c in conflicts if c.severity == "error"]
    return jsonify(
        {
            "conflicts": _conflicts_json(conflicts),
            "errors": len(errors),
            "signature": errors_signature(errors) if errors else "",
            "version": meeting.version,
        }
    )


@bp.post("/delegations/<key>/meetings/<meeting_key>/move")
@login_required
@needs(get=None, post="edit")
def save(key: str, meeting_key: str):
    """Save the move by the form's rules: 409 when stale, 422 until errors are confirmed."""
    delegation = delegation_or_404(key)
    meeting = _meeting_or_404(delegation, meeting_key)
    body = _posted()
    move = _move(delegation, body)
    version = body.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise BadInput("version", _("The meeting's version, a whole number."))
    reason = body.get("reason")
    reason = reason.strip()[:2000] if isinstance(reason, str) else ""
    before = _current(delegation, meeting)
    result = move_meeting(
        db.session,
        meeting,
        move,
        expected_version=version,
        confirmed=body.get("confirmed") if isinstance(body.get("confirmed"), str) else None,
        reason=reason,
        user_id=user_id(),
        estimate_travel=estimate_travel(),
    )
    if result.outcome == "stale":
        db.session.rollback()
        now = _meeting_or_404(delegation, meeting_key)
        message = _("Not saved: someone changed this meeting after the timetable was loaded.")
        return jsonify(
            {"stale": True, "message": message, "current": _current(delegation, now)}
        ), 409
    if result.outcome == "needs_confirmation":
        db.session.rollback()
        message = _("This move causes errors: confirm with a reason to save it anyway.")
        if body.get("confirmed") and not reason:
            message = _("Say why the meeting is saved despite the errors.")
        return jsonify(
            {
                "needs_confirmation": True,
                "message": message,
                "conflicts": _conflicts_json(result.conflicts),
                "signature": result.signature,
                "version": meeting.version,
            }
        ), 422
    db.session.commit()
    return jsonify(
        {
            "saved": True,
            "before": before,
            "meeting": _current(delegation, meeting),
            "conflicts": _conflicts_json(result.conflicts),
            "overridden": len(result.errors),
        }
    )
