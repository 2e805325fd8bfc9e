"""The history of a delegation: who changed which entity, when, and each field before and after.

Operations call ``record`` (or ``record_rows`` for an import's bulk) in the transaction that
makes the change, so a change and its history are committed or rolled back together.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from decimal import Decimal
from functools import lru_cache

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session, selectinload

from scheduler.itinerary.times import utcnow
from scheduler.models import HistoryEntry
from scheduler.models.bulk import insert_rows

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


_PLAIN = frozenset({str, int, float, bool})  # already as JSON has them


@lru_cache(maxsize=8192)
def _instant(value: datetime) -> str:
    # Cached: an import's thousands of meetings share a few hundred start and end times.
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def jsonable(value):
    """A value as history stores it: instants in UTC with Z, dates ISO, the rest as JSON has it."""
    if isinstance(value, datetime):
        return _instant(value)
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
    batch = list(rows)  # fresh dicts of the caller's: completed in place, not copied
    for row in batch:
        row.setdefault("at", now)
        row.setdefault("changes", {})
    if not batch:
        return 0
    # Core's executemany, or COPY on PostgreSQL for an import's thousands (models/bulk.py).
    insert_rows(session.connection(), HistoryEntry.__table__, batch)
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


def history_query(
    delegation_id: int,
    *,
    meeting: str | None = None,
    person: str | None = None,
    user_id: int | None = None,
    meetings_only: Iterable[str] | None = None,
):
    """The select behind the history page, newest first (paginate it).

    ``person`` gives the person's own entries and those of meetings whose attendees changed
    to or from them; ``meetings_only`` limits the history to those meetings' entries (a host's).
    """
    from sqlalchemy import String, and_, cast, or_

    query = (
        select(HistoryEntry)
        .where(HistoryEntry.delegation_id == delegation_id)
        .options(selectinload(HistoryEntry.user))
        .order_by(HistoryEntry.at.desc(), HistoryEntry.id.desc())
    )
    if meetings_only is not None:
        query = query.where(
            HistoryEntry.entity == "meeting", HistoryEntry.key.in_(list(meetings_only))
        )
    if meeting is not None:
        query = query.where(HistoryEntry.entity == "meeting", HistoryEntry.key == meeting)
    if person is not None:
        # The JSON as written, on SQLite and PostgreSQL alike: json.dumps' spacing from the
        # ORM and Core, orjson's compact form from an import's bulk writer (models/bulk.py).
        written = cast(HistoryEntry.changes, String)
        mention = or_(
            written.contains(f'"person": "{person}"', autoescape=True),
            written.contains(f'"person":"{person}"', autoescape=True),
        )
        query = query.where(
            or_(
                and_(HistoryEntry.entity == "person", HistoryEntry.key == person),
                and_(HistoryEntry.entity == "meeting", mention),
            )
        )
    if user_id is not None:
        query = query.where(HistoryEntry.user_id == user_id)
    return query


def accounts_in_history(
    session: Session, delegation_id: int, *, meetings_only: Iterable[str] | None = None
) -> list:
    """The accounts that changed something in the delegation (or in those meetings), by email."""
    from scheduler.models import User

    acting = select(HistoryEntry.user_id).where(HistoryEntry.delegation_id == delegation_id)
    if meetings_only is not None:
        acting = acting.where(
            HistoryEntry.entity == "meeting", HistoryEntry.key.in_(list(meetings_only))
        )
    return list(session.scalars(select(User).where(User.id.in_(acting)).order_by(User.email)))


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


# --------------------------------------------------------------------------- what a flush changed
#
# Every ORM write of the programme passes one flush hook (models/changes.py), which asks this
# module what the flush changes and writes it in the same transaction: a form, a command or a
# future API cannot forget the history. The import's bulk statements bypass the ORM and write
# theirs with ``record_rows``.

# Foreign keys shown by the key of what they point to, not a database id.
_REFERENCES = {
    "organization_id": ("organization", "Organization"),
    "venue_id": ("venue", "Venue"),
    "room_id": ("room", "Room"),
    "from_venue_id": ("from", "Venue"),
    "to_venue_id": ("to", "Venue"),
}
_NOT_FIELDS = frozenset({"id", "delegation_id", "position"})
_SKIPPED_ON_CREATE = _NOT_FIELDS | NOT_RECORDED


def actor_of(session: Session) -> int | None:
    """The account acting in this session: ``session.info["actor"]``, an id or a callable."""
    actor = session.info.get("actor")
    return actor() if callable(actor) else actor


def _models():
    from scheduler import models

    return models


def _reference_key(session: Session, model_name: str, object_id):
    if object_id is None:
        return None
    obj = session.get(getattr(_models(), model_name), object_id)
    return obj.key if obj is not None else None


def _readable(session: Session, name: str, value):
    if name in _REFERENCES:
        label, model_name = _REFERENCES[name]
        return label, _reference_key(session, model_name, value)
    return name, value


def _entity_of(session: Session, obj) -> tuple[str, str, int] | None:
    """(entity, key, delegation id) of a programme row, or None for rows that are not one."""
    m = _models()
    if isinstance(obj, m.Delegation):
        return "delegation", obj.key, obj.id
    if isinstance(obj, m.Organization | m.Person | m.Venue | m.Meeting):
        return type(obj).__name__.lower(), obj.key, obj.delegation_id
    if isinstance(obj, m.MeetingRequest):
        return "meeting_request", obj.key, obj.delegation_id
    if isinstance(obj, m.Room):
        venue = obj.venue or session.get(m.Venue, obj.venue_id)
        return "room", f"{venue.key}/{obj.key}", venue.delegation_id
    if isinstance(obj, m.TravelTime):
        ends = [
            _reference_key(session, "Venue", obj.from_venue_id),
            _reference_key(session, "Venue", obj.to_venue_id),
        ]
        return "travel_time", "->".join(str(e) for e in ends), obj.delegation_id
    return None


def _column_changes(session: Session, obj, *, new: bool, deleted: bool) -> dict:
    state = inspect(obj)
    before, after = {}, {}
    for attr in state.mapper.column_attrs:
        if attr.key in _NOT_FIELDS:
            continue
        if new or deleted:
            value = getattr(obj, attr.key)
            if value is None or value == [] or value == {}:
                continue
            old, now = (value, None) if deleted else (None, value)
        else:
            history_ = state.attrs[attr.key].history
            if not history_.has_changes():
                continue
            old = history_.deleted[0] if history_.deleted else None
            now = history_.added[0] if history_.added else None
        name, old = _readable(session, attr.key, old)
        _, now = _readable(session, attr.key, now)
        before[name], after[name] = old, now
    return diff(before, after)


def _link_lists(session: Session, meeting, attribute: str, describe) -> tuple[list, list] | None:
    """A meeting's attendees (or organisations) before and after the flush, if they changed."""
    history_ = inspect(meeting).attrs[attribute].history
    rows_now = list(getattr(meeting, attribute))
    changed = bool(history_.added or history_.deleted)
    before_rows = []
    for row in [*history_.unchanged, *history_.deleted]:
        if row in history_.added:
            continue
        row_state = inspect(row)
        old = {}
        for attr in row_state.mapper.column_attrs:
            h = row_state.attrs[attr.key].history
            if h.deleted:
                old[attr.key] = h.deleted[0]
                changed = changed or attr.key != "position"
        before_rows.append((row, old))
    if not changed:
        return None
    before_rows.sort(key=lambda pair: pair[1].get("position", pair[0].position) or 0)
    before = [describe(row, old) for row, old in before_rows]
    after = [describe(row, {}) for row in rows_now]
    return before, after


def _attendee(session: Session):
    def describe(row, old):
        person = _reference_key(session, "Person", old.get("person_id", row.person_id))
        return {"person": person, "role": old.get("role", row.role)}

    return describe


def _organization(session: Session):
    def describe(row, old):
        return _reference_key(
            session, "Organization", old.get("organization_id", row.organization_id)
        )

    return describe


def _action(entity: str, changes: dict, *, new: bool, deleted: bool) -> str:
    if new:
        return "create"
    if deleted:
        return "delete"
    if entity == "meeting" and "status" in changes:
        before, after = changes["status"]
        if after == "cancelled":
            return "cancel"
        if before == "cancelled":
            return "restore"
    return "update"


def flush_history_rows(session: Session) -> list[dict]:
    """What the pending flush changes in the programme, as history rows (``record_rows``)."""
    if session.info.get("history_paused"):
        return []
    m = _models()
    rows: list[dict] = []
    meetings_with_links = {
        obj.meeting
        for obj in (*session.new, *session.dirty, *session.deleted)
        if isinstance(obj, m.Attendance | m.MeetingOrganization) and obj.meeting is not None
    }
    candidates = [(obj, True, False) for obj in session.new]
    candidates += [(obj, False, False) for obj in session.dirty]
    candidates += [(obj, False, True) for obj in session.deleted]
    seen = set()
    for obj, new, deleted in candidates:
        described = _entity_of(session, obj)
        if described is None:
            rows.extend(_decision_rows(session, obj, new))
            continue
        seen.add(obj)
        entity, key, delegation_id = described
        changes = _column_changes(session, obj, new=new, deleted=deleted)
        if isinstance(obj, m.Meeting):
            changes.update(_meeting_link_changes(session, obj))
        if not changes and not new and not deleted:
            if entity in ("delegation", "person") and _share_link_rotated(obj):
                rows.append(_row(delegation_id, "rotate-share-link", entity, key, {}))
            continue
        action = _action(entity, changes, new=new, deleted=deleted)
        rows.append(_row(delegation_id, action, entity, key, changes))
    for meeting in meetings_with_links - seen:
        changes = _meeting_link_changes(session, meeting)
        if changes:
            rows.append(_row(meeting.delegation_id, "update", "meeting", meeting.key, changes))
    if rows:
        user_id = actor_of(session)  # only when something changed: it may load the account
        for row in rows:
            row.setdefault("user_id", user_id)
    return rows


def _row(delegation_id, action, entity, key, changes) -> dict:
    return {
        "delegation_id": delegation_id,
        "action": action,
        "entity": entity,
        "key": key,
        "changes": changes,
    }


def _meeting_link_changes(session: Session, meeting) -> dict:
    changes = {}
    for attribute, name, describe in (
        ("attendances", "attendees", _attendee(session)),
        ("organization_links", "organizations", _organization(session)),
    ):
        lists = _link_lists(session, meeting, attribute, describe)
        if lists is not None and lists[0] != lists[1]:
            changes[name] = list(lists)
    return changes


def _share_link_rotated(obj) -> bool:
    state = inspect(obj)
    return state.attrs["share_secret"].history.has_changes()


def _decision_rows(session: Session, obj, new: bool) -> list[dict]:
    """Saving despite errors and acknowledging a warning are part of the history too."""
    m = _models()
    if not new:
        return []
    if isinstance(obj, m.ConflictOverride):
        meeting = obj.meeting or session.get(m.Meeting, obj.meeting_id)
        changes = {
            "reason": [None, obj.reason],
            "errors": [None, [c.get("kind") for c in obj.conflicts or []]],
        }
        row = _row(meeting.delegation_id, "save-despite-errors", "meeting", meeting.key, changes)
        if obj.user_id is not None:
            row["user_id"] = obj.user_id
        return [row]
    if isinstance(obj, m.ConflictAcknowledgement):
        key = f"{obj.kind}:{'+'.join(obj.meeting_keys)}"
        changes = {"reason": [None, obj.reason]}
        row = _row(obj.delegation_id, "acknowledge", "conflict", key, changes)
        if obj.user_id is not None:
            row["user_id"] = obj.user_id
        return [row]
    return []


def _creation_plan(names: tuple) -> list[tuple[str, str | None]]:
    """The recorded fields of a created row of these field names, in the order of their
    labels (a reference column is labelled by what it names: None here, its label below)."""
    recorded = [name for name in names if name not in _SKIPPED_ON_CREATE]
    labelled = [(_REFERENCES[n][0] if n in _REFERENCES else n, n) for n in recorded]
    return [(name, None if name in _REFERENCES else label) for label, name in sorted(labelled)]


class ImportHistory:
    """An import's history: one entry per entity it changes, written in one statement.

    The import's bulk statements bypass the ORM, so while it runs the flush hook is paused
    (``paused``) and the loader says what it changes here instead.
    """

    def __init__(self, session: Session):
        self.session = session
        self.entries: dict[tuple[str, str], dict] = {}
        self.keys_by_id: dict[str, dict] = {}  # column -> {id: key}, from the loader's own maps
        self._plans: dict[tuple, list] = {}  # a row's field names -> created()'s plan

    def know(self, column: str, ids_by_key: dict) -> None:
        """The loader's key -> id map for a reference column, so no lookup costs a query."""
        names = self.keys_by_id.setdefault(column, {})
        for key, object_id in ids_by_key.items():
            names[object_id] = key[1] if isinstance(key, tuple) else key

    def _readable(self, name: str, value):
        known = self.keys_by_id.get(name)
        if known is not None and value in known:
            return _REFERENCES[name][0], known[value]
        return _readable(self.session, name, value)

    @contextmanager
    def paused(self):
        self.session.info["history_paused"] = True
        try:
            yield
        finally:
            self.session.info.pop("history_paused", None)

    def _entry(self, entity: str, key: str, delegation_id: int, action: str) -> dict:
        entry = self.entries.get((entity, key))
        if entry is None:
            entry = {"delegation_id": delegation_id, "action": action, "changes": {}}
            self.entries[(entity, key)] = entry
        return entry

    def created(self, entity: str, key: str, delegation_id: int, fields: dict) -> None:
        # diff({}, values) written out: called for every row of an import (tens of
        # thousands), so the fields of a row's shape are sorted and sifted once per shape,
        # and the fields that are never recorded are skipped before their values are made
        # JSON, not after.
        shape = tuple(fields)
        plan = self._plans.get(shape)
        if plan is None:
            plan = self._plans[shape] = _creation_plan(shape)
        changes = {}
        for name, label in plan:
            value = fields[name]
            if value is None:
                continue
            if label is None:  # a reference: the key it names, and its label
                label, value = self._readable(name, value)
            kind = type(value)
            if kind not in _PLAIN:
                if (kind is list or kind is dict) and not value:
                    continue
                value = jsonable(value)
                if value is None:
                    continue
            changes[label] = [None, value]
        self._entry(entity, key, delegation_id, "create")["changes"].update(changes)

    def updated(self, obj, fields: dict) -> None:
        """Before ``fields`` are assigned to ``obj``: note those that differ."""
        entity, key, delegation_id = _entity_of(self.session, obj)
        before, after = {}, {}
        for name, value in fields.items():
            old = getattr(obj, name)
            if old != value:
                label, old = self._readable(name, old)
                _, value = self._readable(name, value)
                before[label], after[label] = old, value
        changes = diff(before, after)
        if changes:
            self.changed(entity, key, delegation_id, changes)

    def changed(self, entity: str, key: str, delegation_id: int, changes: dict) -> None:
        entry = self._entry(entity, key, delegation_id, "update")
        entry["changes"].update(changes)
        if entry["action"] == "update" and entity == "meeting" and "status" in changes:
            entry["action"] = _action(entity, changes, new=False, deleted=False)

    def write(self, user_id: int | None) -> int:
        return record_rows(
            self.session,
            (
                {"user_id": user_id, "entity": entity, "key": key, **entry}
                for (entity, key), entry in self.entries.items()
            ),
        )
