"""Releases of a delegation's programme and the change notices they send.

A release is immutable once written: its number, its snapshot of the meetings as attendees
see them (``scheduler.itinerary.releases.snapshot``), who made it and when, and the errors
that were open. A notice is one email to one person for one release: the row is written with
the release, and sending it changes only its state, so no release mails anyone twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.extensions import db
from scheduler.itinerary.times import utcnow
from scheduler.models.delegation import Delegation, Person
from scheduler.models.types import UTCDateTime
from scheduler.models.user import User

NOTICE_STATES = ("pending", "sending", "sent", "failed")


class Release(db.Model):
    __tablename__ = "programme_release"
    __table_args__ = (UniqueConstraint("delegation_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delegation_id: Mapped[int] = mapped_column(ForeignKey("delegation.id"), index=True)
    version: Mapped[int] = mapped_column()
    note: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The delegation's revision that was released: the draft has changes when it moved on.
    revision: Mapped[int] = mapped_column()
    # {"meetings": {key: {...}}}: what attendees see, with each meeting's published SEQUENCE.
    snapshot: Mapped[dict] = mapped_column(JSON)
    # The open error-severity conflicts at release time (the spec's JSON objects).
    open_errors: Mapped[list[dict]] = mapped_column(JSON, default=list)
    open_warnings: Mapped[list[dict]] = mapped_column(JSON, default=list)
    # Why it was released with errors open (asked for by the web page; None from the CLI).
    reason: Mapped[str | None] = mapped_column(Text)
    notify: Mapped[bool] = mapped_column(default=False)

    delegation: Mapped[Delegation] = relationship()
    created_by: Mapped[User | None] = relationship()
    notices: Mapped[list[Notice]] = relationship(
        back_populates="release", order_by="Notice.id", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        return f"<Release {self.delegation_id} v{self.version}>"


class Notice(db.Model):
    """One email to one person about one release: pending, sending, sent or failed (retried)."""

    __tablename__ = "release_notice"
    __table_args__ = (UniqueConstraint("release_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("programme_release.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    state: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    # The Message-ID sent: a retry after a lost answer from the server reuses it.
    message_id: Mapped[str | None] = mapped_column(String(200))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    release: Mapped[Release] = relationship(back_populates="notices")
    person: Mapped[Person] = relationship()
