"""Moving a meeting on the timetable: a new time and place, checked and saved by the same rules
as the meeting form (errors need a confirmation with a reason, stale versions are refused)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from scheduler.itinerary.conflicts import Conflict, check_proposed_meeting
from scheduler.itinerary.editing import (
    MeetingChanges,
    StaleMeetingError,
    check_version,
    update_meeting,
)
from scheduler.itinerary.review import errors_signature, proposal_for, record_override
from scheduler.models import Meeting


def changes_of(meeting: Meeting) -> MeetingChanges:
    """Everything the meeting is now, as the form would save it unchanged."""
    return MeetingChanges(
        title=meeting.title,
        native_title=meeting.native_title,
        kind=meeting.kind,
        status=meeting.status,
        start=meeting.start,
        end=meeting.end,
        venue_id=meeting.venue_id,
        room_id=meeting.room_id,
        online_url=meeting.online_url,
        agenda=meeting.agenda,
        internal_notes=meeting.internal_notes,
        attendees=[(a.person_id, a.role) for a in meeting.attendances],
        organization_ids=[link.organization_id for link in meeting.organization_links],
    )


@dataclass(frozen=True)
class Move:
    start: datetime  # aware
    end: datetime
    place: tuple[int | None, int | None] | None = None  # (venue id, room id); None: keep it


def moved(meeting: Meeting, move: Move) -> MeetingChanges:
    changes = replace(changes_of(meeting), start=move.start, end=move.end)
    if move.place is not None:
        changes.venue_id, changes.room_id = move.place
    return changes


def check_move(
    session: Session, meeting: Meeting, move: Move, *, estimate_travel: bool = True
) -> list[Conflict]:
    """The conflicts the meeting would be in once moved (nothing written)."""
    proposal = proposal_for(meeting.delegation_id, meeting.id, meeting.key, moved(meeting, move))
    return check_proposed_meeting(session, proposal, estimate_travel=estimate_travel)


@dataclass
class MoveResult:
    outcome: str  # "saved", "needs_confirmation", "stale"
    conflicts: list[Conflict] = field(default_factory=list)
    signature: str = ""  # of the errors that need confirming

    @property
    def errors(self) -> list[Conflict]:
        return [c for c in self.conflicts if c.severity == "error"]


def move_meeting(
    session: Session,
    meeting: Meeting,
    move: Move,
    *,
    expected_version: int | None,
    confirmed: str | None = None,
    reason: str | None = None,
    user_id: int | None = None,
    estimate_travel: bool = True,
) -> MoveResult:
    """Save the move unless it is stale or causes errors not confirmed (same signature, reason).

    The caller commits on "saved" (and rolls back otherwise).
    """
    try:
        check_version(meeting, expected_version)
    except StaleMeetingError:
        return MoveResult("stale")
    conflicts = check_move(session, meeting, move, estimate_travel=estimate_travel)
    errors = [c for c in conflicts if c.severity == "error"]
    signature = errors_signature(errors) if errors else ""
    if errors and (confirmed != signature or not reason):
        return MoveResult("needs_confirmation", conflicts, signature)
    try:
        update_meeting(
            session,
            meeting,
            moved(meeting, move),
            expected_version=expected_version,
            user_id=user_id,
        )
        if errors:
            record_override(session, meeting, errors, user_id=user_id, reason=reason)
    except (StaleMeetingError, StaleDataError):
        return MoveResult("stale")
    return MoveResult("saved", conflicts, signature)
