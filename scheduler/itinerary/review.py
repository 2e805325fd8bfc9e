"""What coordinators decided about conflicts: errors saved anyway, warnings acknowledged.

The conflicts themselves come from ``scheduler.itinerary.conflicts``; this module only
remembers decisions. A conflict is identified by (kind, meetings, person, room, venue).
An acknowledgement holds the version of every meeting it covers and lapses as soon as one
of them changes, so a warning accepted for Tuesday's plan comes back when the plan moves.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from scheduler.itinerary.conflicts import ProposedMeeting
from scheduler.itinerary.editing import MeetingChanges
from scheduler.models import ConflictAcknowledgement, ConflictOverride, Delegation, Meeting


def conflict_identity(conflict) -> tuple:
    return (
        conflict.kind,
        tuple(conflict.meetings),
        conflict.person,
        conflict.room,
        conflict.venue,
    )


def conflict_token(conflict) -> str:
    """The conflict's identity as text, for a hidden form field."""
    kind, meetings, person, room, venue = conflict_identity(conflict)
    return json.dumps([kind, list(meetings), person, room, venue], separators=(",", ":"))


def parse_conflict_token(text: str) -> tuple | None:
    try:
        kind, meetings, person, room, venue = json.loads(text)
    except (ValueError, TypeError):
        return None
    if not isinstance(kind, str) or not isinstance(meetings, list):
        return None
    return (kind, tuple(meetings), person, room, venue)


@dataclass(frozen=True)
class ReviewedConflict:
    """A conflict and, for a warning, the acknowledgement that still holds for it."""

    conflict: object
    acknowledgement: ConflictAcknowledgement | None = None
    # For an error: the latest "save despite errors" that covered it, with its reason.
    override: ConflictOverride | None = None

    @property
    def is_open(self) -> bool:
        return self.acknowledgement is None

    @property
    def token(self) -> str:
        return conflict_token(self.conflict)


def current_acknowledgements(
    session: Session, delegation_id: int, versions: Mapping[str, int]
) -> dict[tuple, ConflictAcknowledgement]:
    """Acknowledgements whose covered meetings are unchanged, by conflict identity (two queries)."""
    rows = session.scalars(
        select(ConflictAcknowledgement)
        .where(ConflictAcknowledgement.delegation_id == delegation_id)
        .options(selectinload(ConflictAcknowledgement.user))
        .order_by(ConflictAcknowledgement.created_at)
    )
    holding = {}
    for ack in rows:
        if all(
            versions.get(key) == version
            for key, version in zip(ack.meeting_keys, ack.meeting_versions, strict=True)
        ):
            holding[ack.identity] = ack
    return holding


def review_conflicts(
    conflicts: Iterable, acknowledgements: Mapping[tuple, ConflictAcknowledgement]
) -> list[ReviewedConflict]:
    """Errors are always open; a warning is open unless a current acknowledgement covers it."""
    reviewed = []
    for conflict in conflicts:
        ack = None
        if conflict.severity == "warning":
            ack = acknowledgements.get(conflict_identity(conflict))
        reviewed.append(ReviewedConflict(conflict, ack))
    return reviewed


def meeting_versions(meetings: Iterable[Meeting]) -> dict[str, int]:
    return {m.key: m.version for m in meetings}


def acknowledge_warning(
    session: Session,
    delegation: Delegation,
    conflict,
    *,
    user_id: int | None,
    reason: str,
    versions: Mapping[str, int],
) -> ConflictAcknowledgement:
    """Record that a coordinator accepts this warning as the covered meetings stand now."""
    if conflict.severity != "warning":
        raise ValueError("only warnings can be acknowledged; errors are fixed or saved anyway")
    ack = ConflictAcknowledgement(
        delegation_id=delegation.id,
        kind=conflict.kind,
        meeting_keys=list(conflict.meetings),
        meeting_versions=[versions[key] for key in conflict.meetings],
        person_key=conflict.person,
        room_key=conflict.room,
        venue_key=conflict.venue,
        user_id=user_id,
        reason=reason,
    )
    session.add(ack)
    session.flush()
    return ack


def record_override(
    session: Session, meeting: Meeting, errors: Iterable, *, user_id: int | None, reason: str
) -> ConflictOverride:
    """Record that a coordinator saved the meeting although the check found these errors."""
    override = ConflictOverride(
        meeting_id=meeting.id,
        user_id=user_id,
        reason=reason,
        conflicts=[c.as_json() for c in errors],
    )
    session.add(override)
    session.flush()
    return override


def identity_of_recorded(recorded: Mapping) -> tuple:
    """The identity of a conflict as an override recorded it (the spec's JSON object)."""
    return (
        recorded.get("kind"),
        tuple(recorded.get("meetings") or ()),
        recorded.get("person"),
        recorded.get("room"),
        recorded.get("venue"),
    )


def overrides_by_conflict(session: Session, delegation_id: int) -> dict[tuple, ConflictOverride]:
    """For each error a coordinator saved despite, the latest override that covered it.

    Keyed by conflict identity, so the reason shows wherever that conflict shows, for as long
    as it exists (two queries, however many meetings).
    """
    rows = session.scalars(
        select(ConflictOverride)
        .join(Meeting, Meeting.id == ConflictOverride.meeting_id)
        .where(Meeting.delegation_id == delegation_id)
        .options(selectinload(ConflictOverride.user))
        .order_by(ConflictOverride.created_at, ConflictOverride.id)
    )
    latest: dict[tuple, ConflictOverride] = {}
    for override in rows:
        for recorded in override.conflicts or ():
            latest[identity_of_recorded(recorded)] = override
    return latest


def latest_override_id(session: Session, delegation_id: int) -> int | None:
    """The newest override of the delegation's meetings (a cached coordinators' PDF shows it)."""
    return session.scalar(
        select(func.max(ConflictOverride.id))
        .join(Meeting, Meeting.id == ConflictOverride.meeting_id)
        .where(Meeting.delegation_id == delegation_id)
    )


def with_overrides(
    reviewed: Iterable[ReviewedConflict], overrides: Mapping[tuple, ConflictOverride]
) -> list[ReviewedConflict]:
    """The reviewed conflicts, each error with the override that covered it, if any."""
    return [
        replace(r, override=overrides.get(conflict_identity(r.conflict)))
        if r.conflict.severity == "error"
        else r
        for r in reviewed
    ]


def overrides_of(session: Session, meeting_id: int) -> list[ConflictOverride]:
    return list(
        session.scalars(
            select(ConflictOverride)
            .where(ConflictOverride.meeting_id == meeting_id)
            .options(selectinload(ConflictOverride.user))
            .order_by(ConflictOverride.created_at.desc())
        )
    )


def errors_signature(errors: Iterable) -> str:
    """The identities of a set of errors as text: confirming them covers exactly these."""
    return json.dumps(sorted(conflict_token(c) for c in errors))


def proposal_for(delegation_id: int, meeting_id: int | None, key: str, changes: MeetingChanges):
    """The meeting as the form would save it, for ``check_proposed_meeting``."""
    return ProposedMeeting(
        delegation_id=delegation_id,
        meeting_id=meeting_id,
        key=key,
        title=changes.title,
        status=changes.status,
        start=changes.start,
        end=changes.end,
        venue_id=changes.venue_id,
        room_id=changes.room_id,
        attendees=tuple(changes.attendees),
    )
