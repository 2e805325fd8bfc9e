from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.extensions import db

if TYPE_CHECKING:
    from scheduler.models.delegation import Delegation

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Venue(db.Model):
    __tablename__ = "venue"
    __table_args__ = (UniqueConstraint("delegation_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delegation_id: Mapped[int] = mapped_column(ForeignKey("delegation.id"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(300))
    native_name: Mapped[str | None] = mapped_column(String(300))
    address: Mapped[str | None] = mapped_column(String(1000))
    timezone: Mapped[str] = mapped_column(String(64))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    # Weekday ("mon".."sun") to a list of ["HH:MM", "HH:MM"] pairs; None means always open.
    opening_hours: Mapped[dict[str, list[list[str]]] | None] = mapped_column(JSON)

    delegation: Mapped[Delegation] = relationship(back_populates="venues")
    rooms: Mapped[list[Room]] = relationship(
        back_populates="venue", order_by="Room.key", cascade="save-update, merge"
    )

    def __repr__(self) -> str:
        return f"<Venue {self.key}>"


class Room(db.Model):
    __tablename__ = "room"
    __table_args__ = (
        UniqueConstraint("venue_id", "key"),
        # Target of the meeting's (room, venue) foreign key: a room of another venue is refused.
        UniqueConstraint("id", "venue_id"),
        CheckConstraint("capacity IS NULL OR capacity >= 1", name="capacity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venue.id"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(300))
    capacity: Mapped[int | None]

    venue: Mapped[Venue] = relationship(back_populates="rooms")

    def __repr__(self) -> str:
        return f"<Room {self.key}>"


class TravelTime(db.Model):
    """Door-to-door minutes between venues; one direction serves both unless both are given."""

    __tablename__ = "travel_time"
    __table_args__ = (
        UniqueConstraint("from_venue_id", "to_venue_id"),
        CheckConstraint("minutes >= 0", name="minutes_not_negative"),
        CheckConstraint("from_venue_id <> to_venue_id", name="between_two_venues"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    delegation_id: Mapped[int] = mapped_column(ForeignKey("delegation.id"), index=True)
    from_venue_id: Mapped[int] = mapped_column(ForeignKey("venue.id"))
    to_venue_id: Mapped[int] = mapped_column(ForeignKey("venue.id"), index=True)
    minutes: Mapped[int]
    mode: Mapped[str | None] = mapped_column(String(300))

    delegation: Mapped[Delegation] = relationship(back_populates="travel_times")
    from_venue: Mapped[Venue] = relationship(foreign_keys=[from_venue_id])
    to_venue: Mapped[Venue] = relationship(foreign_keys=[to_venue_id])
