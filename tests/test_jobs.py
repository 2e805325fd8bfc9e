"""Background work: a job asked for in a transaction runs once it commits, and never after a
rollback; in-process without REDIS_URL, through a real RQ worker with it."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
from sqlalchemy import select

from scheduler import jobs
from scheduler.extensions import db
from scheduler.models import User
from tests.conftest import require


def make_account(email: str) -> None:
    """The job under test: an account, so that its effect is visible in the database."""
    if db.session.scalar(select(User).where(User.email == email)) is None:
        db.session.add(User(email=email, password_hash="x"))


def test_a_job_runs_after_the_commit_in_process(app):
    with app.app_context():
        jobs.enqueue("tests.test_jobs:make_account", "after@example.org")
        assert db.session.scalar(select(User).where(User.email == "after@example.org")) is None
        db.session.commit()
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "after@example.org"))


def test_a_rolled_back_job_never_runs(app):
    with app.app_context():
        jobs.enqueue("tests.test_jobs:make_account", "never@example.org")
        db.session.rollback()
        db.session.commit()
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "never@example.org")) is None


def test_the_same_job_id_runs_once(app):
    with app.app_context():
        for _ in range(3):
            jobs.enqueue("tests.test_jobs:make_account", "once@example.org", job_id="once")
        assert len(db.session.info[jobs.PENDING]) == 1
        db.session.commit()


def _redis_url() -> str | None:
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    try:
        from redis import Redis

        Redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception:
        return None
    return url


@pytest.mark.slow
def test_a_real_worker_runs_the_job(app, database_url):
    url = _redis_url()
    require(url is not None, "Redis is not running at 127.0.0.1:6379")
    queue_name = f"test-{uuid.uuid4().hex[:8]}"
    app.config.update(REDIS_URL=url, JOBS_QUEUE=queue_name)
    with app.app_context():
        jobs.enqueue("tests.test_jobs:make_account", "worker@example.org")
        db.session.commit()
        assert jobs.queue().count == 1
    env = dict(os.environ, REDIS_URL=url, DATABASE_URL=database_url, JOBS_QUEUE=queue_name)
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "scheduler", "worker", "--burst"],
        env=env,
        check=True,
        timeout=120,
        capture_output=True,
    )
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "worker@example.org"))
