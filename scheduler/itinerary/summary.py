"""Open conflict counts of many delegations at once, for the delegations list.

Counting means running the conflict engine, a handful of queries per delegation. So counts are
stored (``ConflictSummary``) under the state they were counted for: the delegation's revision
(raised by every change to its programme), its number of acknowledgements (acknowledging adds
one and changes no revision) and the travel-estimate setting. A reader takes the stored counts
that still hold and counts again only the delegations whose state moved on: once per revision,
so a list of 50 unchanged delegations costs the same few queries as a list of one.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from scheduler.itinerary.conflicts import Conflict, check_delegation
from scheduler.itinerary.review import (
    current_acknowledgements,
    review_conflicts,
)
from scheduler.itinerary.times import utcnow
from scheduler.models import ConflictAcknowledgement, ConflictSummary, Delegation, Meeting

# The delegation's conflicts once per revision: every change to its programme (meetings,
# attendances, people, venues, rooms, travel times, the delegation's dates) raises
# ``Delegation.revision`` in the flush hook (scheduler/models/changes.py), and the import
# touches the delegation itself, so a check made at one revision holds until the next. Kept per
# database engine (a test's fresh database never sees another's), the latest few per process.
CACHED_CHECKS = 64
_checks: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_checks_lock = threading.Lock()


def delegation_conflicts(
    session: Session, delegation: Delegation, *, estimate_travel: bool
) -> tuple[Conflict, ...]:
    """``check_delegation``, computed once per (delegation, revision, travel setting)."""
    engine = session.get_bind()
    # The creation time too: a row id can be used again after a delete (SQLite reuses the highest).
    state = (delegation.id, delegation.created_at, delegation.revision, bool(estimate_travel))
    with _checks_lock:
        cache = _checks.setdefault(engine, OrderedDict())
        found = cache.get(state)
        if found is not None:
            cache.move_to_end(state)
            return found
    conflicts = tuple(check_delegation(session, delegation, estimate_travel=estimate_travel))
    with _checks_lock:
        cache[state] = conflicts
        while len(cache) > CACHED_CHECKS:
            cache.popitem(last=False)
    return conflicts


def current_versions(session: Session, delegation_id: int) -> dict[str, int]:
    """Meeting key -> version, read as two columns (what acknowledgements are checked against)."""
    return dict(
        session.execute(
            select(Meeting.key, Meeting.version).where(Meeting.delegation_id == delegation_id)
        ).all()
    )


def reviewed_conflicts(
    session: Session, delegation: Delegation, *, estimate_travel: bool, cached: bool = False
):
    """Every conflict of the delegation with the acknowledgements that still hold.

    ``cached``: reuse the check made at this revision (for reads that write nothing first: a
    transaction that flushed changes may hold a revision it will roll back).
    """
    if cached:
        conflicts = delegation_conflicts(session, delegation, estimate_travel=estimate_travel)
    else:
        conflicts = check_delegation(session, delegation, estimate_travel=estimate_travel)
    versions = current_versions(session, delegation.id)
    return review_conflicts(conflicts, current_acknowledgements(session, delegation.id, versions))


def open_counts(reviewed) -> tuple[int, int]:
    """(open errors, open warnings) of reviewed conflicts."""
    errors = sum(1 for r in reviewed if r.is_open and r.conflict.severity == "error")
    warnings = sum(1 for r in reviewed if r.is_open and r.conflict.severity == "warning")
    return errors, warnings


def open_conflict_counts(
    session: Session, delegations: Sequence[Delegation], *, estimate_travel: bool
) -> dict[int, tuple[int, int]]:
    """Delegation id -> (open errors, open warnings); stored counts where they still hold."""
    ids = [d.id for d in delegations]
    if not ids:
        return {}
    acks = dict(
        session.execute(
            select(ConflictAcknowledgement.delegation_id, func.count())
            .where(ConflictAcknowledgement.delegation_id.in_(ids))
            .group_by(ConflictAcknowledgement.delegation_id)
        ).all()
    )
    stored = {
        s.delegation_id: s
        for s in session.scalars(
            select(ConflictSummary).where(ConflictSummary.delegation_id.in_(ids))
        )
    }
    counts: dict[int, tuple[int, int]] = {}
    recounted = False
    for delegation in delegations:
        state = (delegation.revision, acks.get(delegation.id, 0), estimate_travel)
        summary = stored.get(delegation.id)
        if summary is not None and (
            (summary.revision, summary.acknowledgements, summary.estimate_travel) == state
        ):
            counts[delegation.id] = (summary.open_errors, summary.open_warnings)
            continue
        counts[delegation.id] = open_counts(
            reviewed_conflicts(session, delegation, estimate_travel=estimate_travel)
        )
        if summary is None:
            summary = ConflictSummary(delegation_id=delegation.id)
            session.add(summary)
        summary.revision, summary.acknowledgements, summary.estimate_travel = state
        summary.open_errors, summary.open_warnings = counts[delegation.id]
        summary.counted_at = utcnow()
        recounted = True
    if recounted:
        try:
            session.commit()
        except IntegrityError:  # another request stored the same counts first
            session.rollback()
    return counts
