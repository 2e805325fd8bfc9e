"""Coordinators' decisions about conflicts: saving despite errors, acknowledging warnings.

Neither changes the programme, so neither raises the delegation's revision: the flush hook
(scheduler.models.changes) looks only at the programme's own models, and these are not among them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.extensions import db
from scheduler.itinerary.times import utcnow
from scheduler.models.meeting import Meeting
from scheduler.models.types import UTCDateTime
from scheduler.models.user import User


class ConflictOverride(db.Model):
    """A meeting saved although the check found errors: who decided, when and why."""

    __tablename__ = "conflict_override"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reason: Mapped[str] = mapped_column(Text)
    # The error-severity conflicts as the spec's JSON objects, as they were when saved.
    conflicts: Mapped[list[dict]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    meeting: Mapped[Meeting] = relationship()
    user: Mapped[User | None] = relationship()


class ConflictAcknowledgement(db.Model):
    """A warning a coordinator has seen and accepted; it lapses when a meeting it covers changes.

    A conflict is identified by (kind, meetings, person, room, venue); ``meeting_versions``
    holds each covered meeting's ``version`` when acknowledged, in the order of ``meeting_keys``.
    """

    __tablename__ = "conflict_acknowledgement"

    id: Mapped[int] = mapped_column(primary_key=True)
    delegation_id: Mapped[int] = mapped_column(ForeignKey("delegation.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    meeting_keys: Mapped[list[str]] = mapped_column(JSON)
    meeting_versions: Mapped[list[int]] = mapped_column(JSON)
    person_key: Mapped[str | None] = mapped_column(String(64))
    room_key: Mapped[str | None] = mapped_column(String(64))
    venue_key: Mapped[str | None] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User | None] = relationship()

    @property
    def identity(self) -> tuple:
        return (self.kind, tuple(self.meeting_keys), self.person_key, self.room_key, self.venue_key)


class ConflictSummary(db.Model):
    """How many open errors and warnings a delegation has, as of one state of its programme.

    The delegations list shows these counts for every delegation; running the conflict
    engine per row would cost queries per delegation. A row holds for the ``revision`` it was
    counted at, the number of acknowledgements then, and the travel-estimate setting; when any
    differs, the next reader counts again (scheduler.itinerary.summary).
    """

    __tablename__ = "conflict_summary"

    delegation_id: Mapped[int] = mapped_column(ForeignKey("delegation.id"), primary_key=True)
    revision: Mapped[int]
    acknowledgements: Mapped[int]
    estimate_travel: Mapped[bool]
    open_errors: Mapped[int]
    open_warnings: Mapped[int]
    counted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
