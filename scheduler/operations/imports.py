"""Importing a document from the web pages: the access check, the import, the owner."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from scheduler.itinerary import access
from scheduler.itinerary.document import ImportResult, import_itinerary
from scheduler.models import Delegation, User
from scheduler.operations.access import grant

# Two imports of one new delegation at once: one commits, the other hits the unique keys.
CONCURRENT_IMPORT = (
    "another import of this delegation was saved at the same time; nothing was imported "
    "from this one: import it again to apply it over the other"
)


def is_concurrent_write(error: Exception) -> bool:
    """A write that lost a race with another transaction: a unique key, a deadlock, a
    serialization failure. Nothing of it was written; repeating it is safe."""
    if isinstance(error, IntegrityError):
        return True
    code = getattr(getattr(error, "orig", None), "sqlstate", None)
    return isinstance(error, OperationalError) and code in ("40P01", "40001")


def import_as(session: Session, actor: User, document, *, prune: bool = False) -> ImportResult:
    """Import for ACTOR: over an existing delegation only with the right to edit it (else
    NoSuchDelegation or NotAllowed, nothing written); a new one makes ACTOR its owner."""
    inner = document.get("delegation") if isinstance(document, dict) else None
    key = inner.get("key") if isinstance(inner, dict) else None  # else validation words it
    if isinstance(key, str):
        existing = session.scalar(select(Delegation.id).where(Delegation.key == key))
        if existing is not None:
            access.check_access(session, actor, existing, "edit")
    result = import_itinerary(session, document, prune=prune)
    if result.created and not actor.is_admin:
        delegation = session.scalar(select(Delegation).where(Delegation.key == key))
        grant(session, delegation, actor, "owner", actor=actor)
    return result


def create_delegation(session: Session, actor: User, delegation: Delegation) -> Delegation:
    """A delegation made in the web pages; whoever makes it becomes its owner."""
    session.add(delegation)
    session.flush()
    grant(session, delegation, actor, "owner", actor=actor)
    return delegation
