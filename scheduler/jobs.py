"""Background work: RQ on Redis when ``REDIS_URL`` is set, in this process otherwise.

Work is asked for with ``enqueue("scheduler.module:function", *args, job_id=...)`` inside the
transaction that makes it necessary, and leaves only once that transaction has committed: a
worker never sees a release, a notice or a programme version that was rolled back, and a
rolled-back request enqueues nothing.

- With ``REDIS_URL``: the job goes to the RQ queue named by ``JOBS_QUEUE`` once the session
  commits; ``flask --app scheduler worker`` runs it in an app context. ``job_id`` makes a
  second enqueue of the same work while the first is waiting a no-op.
- Without it: the job runs in this process once the request (or command) ends, after the
  response is built and after the commit, in its own app context and session.

Jobs must be safe to run twice (the work they do is recorded, and done only if not yet done):
a worker that dies mid-job has its job run again by the next worker.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

PENDING = "scheduler.jobs.pending"  # in session.info: asked for, not committed yet
READY = "scheduler.jobs.ready"  # in app context g-like storage: committed, to run in-process


@dataclass
class Job:
    target: str  # "package.module:function"
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    job_id: str | None = None
    retries: int = 3  # RQ retries (with back-off) after a failure
    threaded: bool = False  # in-process: run in a thread, so the request is not kept waiting


def resolve(target: str) -> Callable:
    module_name, _, name = target.partition(":")
    return getattr(importlib.import_module(module_name), name)


def enqueue(
    target: str,
    *args,
    job_id: str | None = None,
    retries: int = 3,
    threaded: bool = False,
    **kwargs,
) -> None:
    """Ask for TARGET(*args, **kwargs) to run once the current transaction has committed.

    ``threaded``: without Redis, run it in a thread of this process instead of at the end of
    the request (for work that takes seconds, such as a suggestion's search).
    """
    from scheduler.extensions import db

    job = Job(target, args, kwargs, job_id, retries, threaded)
    session = db.session()
    if not session.in_transaction():
        session.begin()  # so that a rollback (which ends it) forgets the job
    pending: list[Job] = session.info.setdefault(PENDING, [])
    if job_id is not None and any(j.job_id == job_id for j in pending):
        return
    pending.append(job)


def enqueue_now(job: Job) -> None:
    """Hand a committed job to its runner: the RQ queue, or this process's list."""
    app = current_app._get_current_object()
    if app.config.get("REDIS_URL"):
        _rq_enqueue(app, job)
    else:
        ready = app.extensions.setdefault(READY, [])
        if job.job_id is None or all(j.job_id != job.job_id for j in ready):
            ready.append(job)


def queue(app: Flask | None = None):
    from redis import Redis
    from rq import Queue

    app = app or current_app
    connection = Redis.from_url(app.config["REDIS_URL"])
    return Queue(app.config.get("JOBS_QUEUE", "scheduler"), connection=connection)


def _rq_enqueue(app: Flask, job: Job) -> None:
    from rq import Retry

    q = queue(app)
    if job.job_id is not None:
        existing = q.fetch_job(job.job_id)
        if existing is not None and existing.get_status(refresh=True) in (
            "queued",
            "deferred",
            "scheduled",
        ):
            return
    q.enqueue(
        "scheduler.jobs.run_in_app",
        job.target,
        list(job.args),
        job.kwargs,
        job_id=job.job_id,
        retry=Retry(max=job.retries, interval=[5, 30, 120][: max(job.retries, 1)])
        if job.retries
        else None,
        job_timeout=app.config.get("JOB_TIMEOUT", 600),
        result_ttl=3600,
        failure_ttl=7 * 24 * 3600,
    )


def enqueue_later(target: str, *args, delay, **kwargs) -> None:
    """With Redis: run TARGET once DELAY (a timedelta) has passed (RQ's scheduler, which
    ``flask worker`` runs). Not transactional: for jobs that retry work already committed."""
    app = current_app._get_current_object()
    if not app.config.get("REDIS_URL"):
        return
    queue(app).enqueue_in(
        delay, "scheduler.jobs.run_in_app", target, list(args), kwargs, result_ttl=3600
    )


# Run when a worker starts, before it takes jobs: sweeps that re-queue work a dead worker left.
WORKER_STARTUP = ["scheduler.operations.notices:sweep_notices"]


def run_ready(app: Flask) -> None:
    """Run the in-process jobs committed so far, each in its own app context and session."""
    ready: list[Job] = app.extensions.get(READY) or []
    while ready:
        job = ready.pop(0)
        if job.threaded:
            import threading

            threading.Thread(target=_run_in_thread, args=(app, job), daemon=True).start()
            continue
        with app.app_context():
            _run(job.target, job.args, job.kwargs)


def _run_in_thread(app: Flask, job: Job) -> None:
    with app.app_context():
        _run(job.target, job.args, job.kwargs)


def _run(target: str, args, kwargs) -> None:
    from scheduler.extensions import db

    try:
        resolve(target)(*args, **kwargs)
        db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("background job %s failed", target)
        if current_app.config.get("JOBS_RAISE"):  # tests: a failing job fails the test
            raise
    finally:
        db.session.remove()


_worker_app: Flask | None = None


def run_in_app(target: str, args: list, kwargs: dict):
    """What an RQ worker runs: TARGET inside an app made once per worker process."""
    global _worker_app
    if has_app_context():
        _worker_app = current_app._get_current_object()
    elif _worker_app is None:
        from scheduler import create_app

        _worker_app = create_app()
    from scheduler.extensions import db

    with _worker_app.app_context():
        try:
            result = resolve(target)(*args, **kwargs)
            db.session.commit()
            return result
        except Exception:
            db.session.rollback()
            raise
        finally:
            db.session.remove()


def init_app(app: Flask) -> None:
    app.config.setdefault("JOBS_QUEUE", "scheduler")

    @app.teardown_appcontext
    def _run_committed_jobs(_exc):
        if app.extensions.get(READY) and not app.config.get("REDIS_URL"):
            # Nested app contexts (run_ready's own) end here too; run_ready empties the list
            # from the front, so each job runs once.
            run_ready(app)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    jobs = session.info.pop(PENDING, None)
    if not jobs or not has_app_context():
        return
    for job in jobs:
        enqueue_now(job)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:  # the outermost transaction: its jobs are gone
        session.info.pop(PENDING, None)


def worker_command_factory():
    import click
    from flask.cli import with_appcontext

    @click.command("worker")
    @click.option("--burst", is_flag=True, help="Stop once the queue is empty.")
    @with_appcontext
    def worker_command(burst: bool) -> None:
        """Run background jobs from Redis (REDIS_URL) until stopped."""
        from rq import Worker

        from scheduler.extensions import db

        if not current_app.config.get("REDIS_URL"):
            raise click.ClickException("REDIS_URL is not set: jobs run in the app process")
        global _worker_app
        _worker_app = current_app._get_current_object()
        for target in WORKER_STARTUP:
            try:
                resolve(target)()
                db.session.commit()
            except Exception:
                db.session.rollback()
                log.exception("worker start-up sweep %s failed", target)
        q = queue()
        Worker([q], connection=q.connection).work(burst=burst, with_scheduler=True)

    return worker_command
