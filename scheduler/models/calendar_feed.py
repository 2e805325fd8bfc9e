"""Stored validators of the calendar feeds, shared by every worker process.

A feed's ETag is a hash of its bytes; answering a conditional GET must not build those
bytes. So the first build stores its ETag and Last-Modified here, under a fingerprint of
everything the bytes depend on (see scheduler.calendar.validators), and later requests
compare fingerprints instead of building. The bytes are kept too, so a client without
If-None-Match is answered from here as well.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from scheduler.extensions import db
from scheduler.models.types import UTCDateTime


class CalendarFeedValidator(db.Model):
    __tablename__ = "calendar_feed_validator"
    __table_args__ = (UniqueConstraint("feed_kind", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # "delegation" or "person": whose share link the feed is behind.
    feed_kind: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[int]
    fingerprint: Mapped[str] = mapped_column(String(64))
    etag: Mapped[str] = mapped_column(String(64))
    last_modified: Mapped[datetime] = mapped_column(UTCDateTime())
    # The feed's bytes as built under this fingerprint: served again without building.
    body: Mapped[bytes | None] = mapped_column(LargeBinary())

    def __repr__(self) -> str:
        return f"<CalendarFeedValidator {self.feed_kind} {self.entity_id}>"
