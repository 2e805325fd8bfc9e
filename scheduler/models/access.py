"""Who may do what in a delegation, and what everyone did: roles and the history of changes.

Neither is part of the programme: granting a role or writing history raises no revision.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.extensions import db
from scheduler.itinerary.times import utcnow
from scheduler.models.types import UTCDateTime
from scheduler.models.user import User

# The spec's roles, most powerful first.
DELEGATION_ROLES = ("owner", "editor", "viewer", "host")


class DelegationRole(db.Model):
    """An account's one role in one delegation; a host's is tied to one organisation."""

    __tablename__ = "delegation_role"
    __table_args__ = (UniqueConstraint("delegation_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delegation_id: Mapped[int] = mapped_column(ForeignKey("delegation.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship()


class HistoryEntry(db.Model):
    """One change to one entity of a delegation: who (None from the command line), when, what.

    ``changes`` maps each changed field to ``[before, after]`` in JSON values; share tokens are
    never written here.
    """

    __tablename__ = "history_entry"
    __table_args__ = (Index("ix_history_entry_delegation_at", "delegation_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delegation_id: Mapped[int] = mapped_column(ForeignKey("delegation.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    entity: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(200))
    changes: Mapped[dict] = mapped_column(JSON, default=dict)

    user: Mapped[User | None] = relationship()
