from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.extensions import db
from scheduler.itinerary.times import meeting_zone_name, utcnow
from scheduler.models.types import UTCDateTime

if TYPE_CHECKING:
    from scheduler.models.delegation import Delegation, Organization, Person
    from scheduler.models.user import User
    from scheduler.models.venue import Room, Venue

MEETING_KINDS = ("meeting", "visit", "briefing", "ceremony", "meal", "transfer", "press", "other")
MEETING_STATUSES = ("confirmed", "tentative", "cancelled")
ATTENDEE_ROLES = ("required", "optional", "chair", "interpreter")
# A change to any of these moves the meeting in someone's calendar: SEQUENCE goes up.
SCHEDULING_FIELDS = ("start", "end", "venue_id", "room_id", "status")


class Meeting(db.Model):
    """A meeting of the programme. Cancelled, never deleted: calendars must learn it is off."""

    __tablename__ = "meeting"
    __table_args__ = (
        # Also the index of delegation_id (its leading column): a second one only slowed imports.
        UniqueConstraint("delegation_id", "key"),
        CheckConstraint('"end" > start', name="ends_after_start"),
        # The room must be one of the meeting's venue.
        ForeignKeyConstraint(
            ["room_id", "venue_id"], ["room.id", "room.venue_id"], name="fk_meeting_room_of_venue"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    delegation_id: Mapped[int] = mapped_column(ForeignKey("delegation.id"))
    key: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    native_title: Mapped[str | None] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20), default="meeting")
    status: Mapped[str] = mapped_column(String(20), default="confirmed")
    start: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    end: Mapped[datetime] = mapped_column(UTCDateTime())
    venue_id: Mapped[int | None] = mapped_column(ForeignKey("venue.id"), index=True)
    room_id: Mapped[int | None] = mapped_column(index=True)
    online_url: Mapped[str | None] = mapped_column(String(2000))
    agenda: Mapped[str | None] = mapped_column(Text)
    internal_notes: Mapped[str | None] = mapped_column(Text)
    # Optimistic locking: an UPDATE from a stale copy matches no row and is refused.
    version: Mapped[int] = mapped_column(default=1)
    # iCalendar SEQUENCE: raised only when time, place or status changes.
    sequence: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Who saved the last change from the web pages (None: the command line or an import).
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    __mapper_args__ = {"version_id_col": version}

    delegation: Mapped[Delegation] = relationship(back_populates="meetings")
    venue: Mapped[Venue | None] = relationship(foreign_keys=[venue_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    room: Mapped[Room | None] = relationship(
        primaryjoin="Meeting.room_id == Room.id", foreign_keys=[room_id], viewonly=True
    )
    attendances: Mapped[list[Attendance]] = relationship(
        back_populates="meeting", order_by="Attendance.position", cascade="all, delete-orphan"
    )
    organization_links: Mapped[list[MeetingOrganization]] = relationship(
        back_populates="meeting",
        order_by="MeetingOrganization.position",
        cascade="all, delete-orphan",
    )

    @property
    def zone_name(self) -> str:
        """The meeting's zone: its venue's, else the delegation's."""
        return meeting_zone_name(self.venue, self.delegation.timezone)

    @property
    def is_cancelled(self) -> bool:
        return self.status == "cancelled"

    @property
    def organizations(self) -> list[Organization]:
        return [link.organization for link in self.organization_links]

    def __repr__(self) -> str:
        return f"<Meeting {self.key}>"


class Attendance(db.Model):
    __tablename__ = "attendance"
    # Also the index of meeting_id (its leading column).
    __table_args__ = (UniqueConstraint("meeting_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id"), index=True)
    role: Mapped[str] = mapped_column(String(20), default="required")
    position: Mapped[int] = mapped_column(default=0)

    meeting: Mapped[Meeting] = relationship(back_populates="attendances")
    person: Mapped[Person] = relationship()


class MeetingOrganization(db.Model):
    __tablename__ = "meeting_organization"

    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), primary_key=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(default=0)

    meeting: Mapped[Meeting] = relationship(back_populates="organization_links")
    organization: Mapped[Organization] = relationship()
