"""The suggestion as background work: a ``SuggestionRun`` row holds its progress and result."""

from __future__ import annotations

import logging

from flask import current_app

from scheduler.extensions import db
from scheduler.itinerary.times import utcnow
from scheduler.itinerary.travel import estimates_travel
from scheduler.models import SuggestionRun

log = logging.getLogger(__name__)


def start_run(delegation, *, replan: bool, time_limit: float, user_id: int | None) -> SuggestionRun:
    """A queued run and its job (which starts once the caller commits)."""
    from scheduler import jobs

    run = SuggestionRun(
        delegation_id=delegation.id,
        state="queued",
        replan=replan,
        time_limit=time_limit,
        progress="waiting for a worker",
        created_by_id=user_id,
    )
    db.session.add(run)
    db.session.flush()
    jobs.enqueue(
        "scheduler.suggest.jobs:run_suggestion", run.id, job_id=f"suggest-{run.id}", threaded=True
    )
    return run


def run_suggestion(run_id: int) -> None:
    """Search and store the proposal; idempotent (a run already finished is left alone)."""
    from scheduler.suggest import propose

    run = db.session.get(SuggestionRun, run_id)
    if run is None or run.state not in ("queued", "running"):
        return
    run.state = "running"
    run.progress = f"searching (at most {run.time_limit:g} s)"
    db.session.commit()
    try:
        proposal = propose(
            db.session,
            run.delegation,
            replan=run.replan,
            time_limit=run.time_limit,
            estimate_travel=estimates_travel(current_app.config),
        )
    except Exception:
        db.session.rollback()
        log.exception("suggestion run %s failed", run_id)
        run = db.session.get(SuggestionRun, run_id)
        run.state, run.progress, run.finished_at = "failed", "the search failed", utcnow()
        db.session.commit()
        return
    run.result = proposal
    run.state = "done"
    run.progress = f"{len(proposal['placed'])} placed, {len(proposal['unplaced'])} unplaced"
    run.finished_at = utcnow()
    db.session.commit()
