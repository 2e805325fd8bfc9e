"""Meeting requests (meetings that should happen but have no time yet) and suggestion runs."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.extensions import db
from scheduler.itinerary.times import utcnow
from scheduler.models.types import UTCDateTime

if TYPE_CHECKING:
    from scheduler.models.delegation import Delegation

REQUEST_PRIORITIES = ("must", "should", "could")
INTERPRETER_CHOICES = ("if_needed", "none")
SUGGESTION_STATES = ("queued", "running", "done", "failed", "applied", "discarded")


class MeetingRequest(db.Model):
    """A meeting to place: who, how long, where (any of the venues), within which window.

    People, venues and organisations are referred to by key, as the document writes them, so
    that export gives back exactly what was imported; the import checks every reference.
    """

    __tablename__ = "meeting_request"
    __table_args__ = (
        UniqueConstraint("delegation_id", "key"),
        CheckConstraint("duration_minutes >= 5 AND duration_minutes <= 1440", name="duration"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    delegation_id: Mapped[int] = mapped_column(ForeignKey("delegation.id"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    native_title: Mapped[str | None] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20), default="meeting")
    # [{"person": key, "role": role}, ...] in the order given
    attendees: Mapped[list[dict]] = mapped_column(JSON, default=list)
    organizations: Mapped[list[str]] = mapped_column(JSON, default=list)
    duration_minutes: Mapped[int]
    venues: Mapped[list[str]] = mapped_column(JSON, default=list)
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime())
    not_after: Mapped[datetime | None] = mapped_column(UTCDateTime())
    priority: Mapped[str] = mapped_column(String(10), default="should")
    interpreter: Mapped[str] = mapped_column(String(10), default="if_needed")

    delegation: Mapped[Delegation] = relationship()

    def __repr__(self) -> str:
        return f"<MeetingRequest {self.key}>"


class SuggestionRun(db.Model):
    """One run of the solver for a delegation: its progress, then its proposal (JSON)."""

    __tablename__ = "suggestion_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    delegation_id: Mapped[int] = mapped_column(ForeignKey("delegation.id"), index=True)
    state: Mapped[str] = mapped_column(String(12), default="queued")
    replan: Mapped[bool] = mapped_column(default=False)
    time_limit: Mapped[float] = mapped_column(default=10.0)
    progress: Mapped[str | None] = mapped_column(String(300))
    result: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    delegation: Mapped[Delegation] = relationship()
