"""ETag and Last-Modified of a feed, stored so that any worker answers 304 without building it.

The ETag is a strong hash of the bytes. The first build of a feed stores it with a
fingerprint of everything those bytes depend on: whose feed it is and its share token, the
delegation's ``revision`` (the flush hook, scheduler.models.changes, raises it on every change
to the delegation's own fields and to its people, venues, rooms, organisations, meetings and
attendance), the delegation's own fields that the feed shows (which the revision covers too;
kept as a cheap second guard), the settings, and the code and zone data that write the bytes.
A request whose fingerprint matches the stored one gets the stored validators; any other
builds the feed and stores new ones.

Why this never hands out a stale ETag: a request reads the delegation (and its revision)
before the meetings, and every change to the meetings raises the revision in the same
transaction. So bytes stored under revision R are those of R or of something newer; a
newer state has a higher revision, and its requests do not match R's fingerprint.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from importlib import metadata

import icalendar
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.calendar.feeds import FEED_FORMAT_VERSION, FeedSettings
from scheduler.models import CalendarFeedValidator, Delegation, Person


@dataclass(frozen=True)
class FeedValidators:
    etag: str  # unquoted
    last_modified: datetime


def feed_kind(entity: Delegation | Person) -> str:
    return "delegation" if isinstance(entity, Delegation) else "person"


def etag_of(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


@lru_cache(maxsize=1)
def _writer_versions() -> tuple[str, str]:
    """The library and zone data that write the bytes: an upgrade must not reuse old ETags."""
    try:
        tzdata = metadata.version("tzdata")
    except metadata.PackageNotFoundError:
        tzdata = ""
    return icalendar.__version__, tzdata


def feed_fingerprint(
    entity: Delegation | Person, delegation: Delegation, settings: FeedSettings
) -> str:
    parts = [
        FEED_FORMAT_VERSION,
        *_writer_versions(),
        feed_kind(entity),
        entity.id,
        entity.share_token,
        delegation.id,
        delegation.revision,
        delegation.key,
        delegation.name,
        delegation.native_name,
        delegation.timezone,
        settings.base_url,
        settings.uid_domain,
    ]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()


def _stored_row(session: Session, entity: Delegation | Person):
    return session.execute(
        select(
            CalendarFeedValidator.fingerprint,
            CalendarFeedValidator.etag,
            CalendarFeedValidator.last_modified,
        ).where(
            CalendarFeedValidator.feed_kind == feed_kind(entity),
            CalendarFeedValidator.entity_id == entity.id,
        )
    ).first()


def stored_validators(
    session: Session, entity: Delegation | Person, fingerprint: str
) -> FeedValidators | None:
    """The validators stored for exactly this state of the feed, or None (then build it)."""
    row = _stored_row(session, entity)
    if row is None or row.fingerprint != fingerprint:
        return None
    return FeedValidators(row.etag, row.last_modified)


def store_validators(
    session: Session,
    entity: Delegation | Person,
    fingerprint: str,
    body: bytes,
    data_changed_at: datetime,
) -> FeedValidators:
    """Store the validators of freshly built bytes; the caller commits.

    Last-Modified is when the data last changed, except that new bytes never get a date at
    or before the previous bytes' (a change to the delegation's own fields moves no
    timestamp), so If-Modified-Since stays honest too. No clock is read: every worker
    derives the same date from the same rows.
    """
    etag = etag_of(body)
    last_modified = data_changed_at
    previous = _stored_row(session, entity)
    if previous is not None:
        if previous.etag == etag:
            last_modified = previous.last_modified
        elif last_modified <= previous.last_modified:
            last_modified = previous.last_modified + timedelta(seconds=1)
    values = {
        "feed_kind": feed_kind(entity),
        "entity_id": entity.id,
        "fingerprint": fingerprint,
        "etag": etag,
        "last_modified": last_modified,
    }
    _upsert(session, values)
    return FeedValidators(etag, last_modified)


def _upsert(session: Session, values: dict) -> None:
    """One statement, so two workers building the same feed at once do not collide."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - we ship for SQLite and PostgreSQL
        raise RuntimeError(f"no upsert for database {dialect!r}")
    statement = insert(CalendarFeedValidator).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=["feed_kind", "entity_id"],
        set_={name: statement.excluded[name] for name in ("fingerprint", "etag", "last_modified")},
    )
    session.execute(statement)
