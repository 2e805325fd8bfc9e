"""Open conflict counts of many delegations at once, for the delegations list.

Counting means running the conflict engine, a handful of queries per delegation. So counts are
stored (``ConflictSummary``) under the state they were counted for: the delegation's revision
(raised by every change to its programme), its number of acknowledgements (acknowledging adds
one and changes no revision) and the travel-estimate setting. A reader takes the stored counts
that still hold and counts again only the delegations whose state moved on: once per revision,
so a list of 50 unchanged delegations costs the same few queries as a list of one.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from scheduler.itinerary.conflicts import check_delegation
from scheduler.itinerary.review import (
    current_acknowledgements,
    meeting_versions,
    review_conflicts,
)
from scheduler.itinerary.times import utcnow
from scheduler.models import ConflictAcknowledgement, ConflictSummary, Delegation


def reviewed_conflicts(session: Session, delegation: Delegation, *, estimate_travel: bool):
    """Every conflict of the delegation with the acknowledgements that still hold."""
    conflicts = check_delegation(session, delegation, estimate_travel=estimate_travel)
    versions = meeting_versions(delegation.meetings)
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
