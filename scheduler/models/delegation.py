from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.extensions import db
from scheduler.itinerary.times import utcnow
from scheduler.models.types import UTCDateTime

if TYPE_CHECKING:
    from scheduler.models.meeting import Meeting
    from scheduler.models.venue import TravelTime, Venue

PERSON_ROLES = ("delegation", "host", "interpreter", "staff", "guest")


class ShareLinkMixin:
    """A share link: an indexed selector finds the row, a secret compared in constant time."""

    share_selector: Mapped[str] = mapped_column(String(16), unique=True)
    share_secret: Mapped[str] = mapped_column(String(64))

    @property
    def share_token(self) -> str:
        return self.share_selector + self.share_secret


class Delegation(ShareLinkMixin, db.Model):
    __tablename__ = "delegation"
    __table_args__ = (CheckConstraint("end_date >= start_date", name="dates_in_order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    native_name: Mapped[str | None] = mapped_column(String(300))
    host: Mapped[str | None] = mapped_column(String(300))
    timezone: Mapped[str] = mapped_column(String(64))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    description: Mapped[str | None] = mapped_column(Text)
    # Raised on every change to the programme: the agenda's "version N" and the feeds' validators.
    revision: Mapped[int] = mapped_column(default=1)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    organizations: Mapped[list[Organization]] = relationship(
        back_populates="delegation", order_by="Organization.key"
    )
    people: Mapped[list[Person]] = relationship(back_populates="delegation", order_by="Person.key")
    venues: Mapped[list[Venue]] = relationship(back_populates="delegation", order_by="Venue.key")
    travel_times: Mapped[list[TravelTime]] = relationship(back_populates="delegation")
    meetings: Mapped[list[Meeting]] = relationship(back_populates="delegation")

    def touch(self) -> None:
        """Record that the programme changed."""
        self.revision = (self.revision or 0) + 1
        self.updated_at = utcnow()

    def __repr__(self) -> str:
        return f"<Delegation {self.key}>"


class Organization(db.Model):
    __tablename__ = "organization"
    __table_args__ = (UniqueConstraint("delegation_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delegation_id: Mapped[int] = mapped_column(ForeignKey("delegation.id"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(300))
    native_name: Mapped[str | None] = mapped_column(String(300))
    country: Mapped[str | None] = mapped_column(String(2))
    kind: Mapped[str | None] = mapped_column(String(300))

    delegation: Mapped[Delegation] = relationship(back_populates="organizations")

    def __repr__(self) -> str:
        return f"<Organization {self.key}>"


class Person(ShareLinkMixin, db.Model):
    __tablename__ = "person"
    __table_args__ = (
        UniqueConstraint("delegation_id", "key"),
        CheckConstraint(
            "available_from IS NULL OR available_until IS NULL OR available_until > available_from",
            name="availability_in_order",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    delegation_id: Mapped[int] = mapped_column(ForeignKey("delegation.id"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(300))
    native_name: Mapped[str | None] = mapped_column(String(300))
    title: Mapped[str | None] = mapped_column(String(300))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"), index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(50))
    role: Mapped[str] = mapped_column(String(20), default="delegation")
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The language of their agenda and notices (en, ko, ja); None: not said.
    language: Mapped[str | None] = mapped_column(String(2))
    # How changes reach them: "feed" (they subscribe) or "invitations" (by email); None: feed.
    calendar: Mapped[str | None] = mapped_column(String(16))
    available_from: Mapped[datetime | None] = mapped_column(UTCDateTime())
    available_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    notes: Mapped[str | None] = mapped_column(Text)

    delegation: Mapped[Delegation] = relationship(back_populates="people")
    organization: Mapped[Organization | None] = relationship()

    @property
    def display_name(self) -> str:
        """Latin name with the native one beside it, as on a name card."""
        return f"{self.name} ({self.native_name})" if self.native_name else self.name

    def __repr__(self) -> str:
        return f"<Person {self.key}>"
