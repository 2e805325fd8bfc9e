"""The history of a delegation: who changed which entity, when, and each field before and after.

Operations call ``record`` (or ``record_rows`` for an import's bulk) in the transaction that
makes the change, so a change and its history are committed or rolled back together.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from decimal import Decimal

from sqlalchemy import insert, inspect, select
from sqlalchemy.orm import Session, selectinload

from scheduler.itinerary.times import utcnow
from scheduler.models import HistoryEntry

# Never written to history: secrets, and bookkeeping that every change moves.
NOT_RECORDED = frozenset(
    {
        "share_selector",
        "share_secret",
        "password_hash",
        "revision",
        "updated_at",
        "created_at",
        "version",
        "sequence",
    }
)


def jsonable(value):
    """A value as history stores it: instants in UTC with Z, dates ISO, the rest as JSON has it."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    return value


def diff(before: dict, after: dict) -> dict[str, list]:
    """``{field: [before, after]}`` for each field whose JSON value differs."""
    changes = {}
    for name in sorted(set(before) | set(after)):
        if name in NOT_RECORDED:
            continue
        old, new = jsonable(before.get(name)), jsonable(after.get(name))
        if old != new:
            changes[name] = [old, new]
    return changes


def pending_changes(obj) -> dict[str, list]:
    """The changes an ORM object holds and has not flushed, as ``{field: [before, after]}``.

    Column attributes only; relationships (attendees, organisations) are recorded by the
    operation that changes them, as key lists.
    """
    state = inspect(obj)
    before, after = {}, {}
    for attr in state.mapper.column_attrs:
        history = state.attrs[attr.key].history
        if not history.has_changes():
            continue
        before[attr.key] = history.deleted[0] if history.deleted else None
        after[attr.key] = history.added[0] if history.added else None
    return diff(before, after)


def column_values(obj) -> dict:
    """Every column of an ORM object, for a 'create' entry."""
    state = inspect(obj)
    return {attr.key: getattr(obj, attr.key) for attr in state.mapper.column_attrs}


def record(
    session: Session,
    *,
    delegation_id: int,
    user_id: int | None,
    action: str,
    entity: str,
    key: str,
    changes: dict | None = None,
) -> HistoryEntry:
    entry = HistoryEntry(
        delegation_id=delegation_id,
        at=utcnow(),
        user_id=user_id,
        action=action,
        entity=entity,
        key=key,
        changes=changes or {},
    )
    session.add(entry)
    return entry


def record_rows(session: Session, rows: Iterable[dict]) -> int:
    """Many entries in one statement (an import); each row as ``record``'s keywords."""
    now = utcnow()
    batch = [{"at": now, "changes": {}, **row} for row in rows]
    if batch:
        session.execute(insert(HistoryEntry), batch)
    return len(batch)


def history_of(
    session: Session,
    delegation_id: int,
    *,
    limit: int | None = None,
    entity: str | None = None,
    key: str | None = None,
    user_id: int | None = None,
) -> list[HistoryEntry]:
    """Newest first; optionally only one entity (and key) or one account."""
    query = (
        select(HistoryEntry)
        .where(HistoryEntry.delegation_id == delegation_id)
        .options(selectinload(HistoryEntry.user))
        .order_by(HistoryEntry.at.desc(), HistoryEntry.id.desc())
    )
    if entity is not None:
        query = query.where(HistoryEntry.entity == entity)
    if key is not None:
        query = query.where(HistoryEntry.key == key)
    if user_id is not None:
        query = query.where(HistoryEntry.user_id == user_id)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def entry_json(entry: HistoryEntry) -> dict:
    """The spec's object: ``{"at", "user", "action", "entity", "key", "changes"}``."""
    return {
        "at": jsonable(entry.at),
        "user": entry.user.email if entry.user is not None else None,
        "action": entry.action,
        "entity": entry.entity,
        "key": entry.key,
        "changes": entry.changes or {},
    }
