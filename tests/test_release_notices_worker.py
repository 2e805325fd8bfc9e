"""Notices delivered by a real RQ worker process; a worker killed mid-way loses none, sends
none twice."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import Meeting, Notice
from tests.test_jobs import _redis_url
from tests.test_release_notices import KEY, Inbox, document_with_emails, free_port

pytestmark = pytest.mark.slow


class SlowInbox(Inbox):
    """Takes its time over each message, so that a worker can be killed between two."""

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(0.4)
        return await super().handle_DATA(server, session, envelope)


def _setup(app, runner, load_document, reference_document, inbox):
    from tests.conftest import require

    url = _redis_url()
    require(url is not None, "Redis is not running at 127.0.0.1:6379")
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    queue_name = f"releases-test-{uuid.uuid4().hex[:8]}"
    load_document(document_with_emails(reference_document))
    assert runner.invoke(args=["release", KEY]).exit_code == 0
    with app.app_context():
        for meeting in db.session.scalars(select(Meeting)):
            meeting.title += " (new title)"
        db.session.commit()
    app.config.update(REDIS_URL=url, JOBS_QUEUE=queue_name)
    result = runner.invoke(args=["release", KEY, "--notify"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        expected = sorted(db.session.scalars(select(Notice.email)))
    assert len(expected) >= 8
    return controller, expected, port, url, queue_name


def _env(database_url, url, queue_name, port):
    return dict(
        os.environ,
        REDIS_URL=url,
        DATABASE_URL=database_url,
        JOBS_QUEUE=queue_name,
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(port),
        NOTICE_LEASE_SECONDS="2",
        PUBLIC_BASE_URL="https://scheduler.example.org",
    )


def _worker(env, burst=False):
    command = [sys.executable, "-m", "flask", "--app", "scheduler", "worker"]
    return subprocess.Popen(
        command + (["--burst"] if burst else []),
        env=env,
        start_new_session=True,  # its own process group: the work horse dies with it
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _recipients(inbox) -> Counter:
    with inbox.lock:
        return Counter(r for rcpts, _ in inbox.messages for r in rcpts)


def _wait_for(condition, timeout=90.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def _clear_queue(url, queue_name):
    from redis import Redis

    redis = Redis.from_url(url)
    for key in redis.scan_iter(f"rq:*{queue_name}*"):
        redis.delete(key)


def test_a_worker_delivers_the_notices(
    app, runner, load_document, reference_document, database_url
):
    inbox = Inbox()
    controller, expected, port, url, queue_name = _setup(
        app, runner, load_document, reference_document, inbox
    )
    try:
        assert inbox.messages == []  # nothing in-process: it went to Redis
        worker = _worker(_env(database_url, url, queue_name, port), burst=True)
        assert worker.wait(timeout=120) == 0
        assert sorted(_recipients(inbox).elements()) == expected
    finally:
        controller.stop()
        _clear_queue(url, queue_name)


def test_killing_the_worker_mid_way_loses_no_notice_and_sends_none_twice(
    app, runner, load_document, reference_document, database_url
):
    inbox = SlowInbox()
    controller, expected, port, url, queue_name = _setup(
        app, runner, load_document, reference_document, inbox
    )
    env = _env(database_url, url, queue_name, port)
    first = second = None
    try:
        first = _worker(env)
        assert _wait_for(lambda: sum(_recipients(inbox).values()) >= 3)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        partial = sum(_recipients(inbox).values())
        assert 3 <= partial < len(expected)  # killed mid-way
        time.sleep(2.5)  # the lease of the notice it was sending runs out
        second = _worker(env)
        assert _wait_for(lambda: sum(_recipients(inbox).values()) >= len(expected))
        time.sleep(1.5)  # anything sent twice would arrive now
        received = _recipients(inbox)
        assert sorted(received) == expected
        assert set(received.values()) == {1}
        with app.app_context():
            assert set(db.session.scalars(select(Notice.state))) == {"sent"}
    finally:
        for worker in (first, second):
            if worker is not None and worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
                worker.wait(timeout=30)
        controller.stop()
        _clear_queue(url, queue_name)
