"""A web worker builds the likely feeds at start: nothing written, the same bytes served."""

from __future__ import annotations

import logging

from sqlalchemy import func, select

from scheduler import create_app
from scheduler.calendar import feeds
from scheduler.calendar.warming import warm_feeds
from scheduler.extensions import db
from scheduler.models import CalendarFeedValidator, HistoryEntry
from tests.test_feeds_http import feed_url, token_of, visit  # noqa: F401  (the fixture)


def _forget_everything(app) -> None:
    """As in a new worker: no event bytes, no VTIMEZONE, no stored validators."""
    feeds._event_cache.clear()
    feeds.vtimezone.cache_clear()
    feeds.vtimezone_bytes.cache_clear()
    with app.app_context():
        db.session.execute(CalendarFeedValidator.__table__.delete())
        db.session.commit()


def _rows(app) -> tuple[int, int]:
    with app.app_context():
        return (
            db.session.scalar(select(func.count()).select_from(CalendarFeedValidator)),
            db.session.scalar(select(func.count()).select_from(HistoryEntry)),
        )


def test_warming_builds_the_feeds_writes_nothing_and_changes_no_byte(app, client, visit):  # noqa: F811
    app.config["PUBLIC_BASE_URL"] = "http://localhost"
    url = feed_url(token_of(app))
    _forget_everything(app)
    cold = client.get(url)
    assert cold.status_code == 200

    _forget_everything(app)
    before = _rows(app)
    assert warm_feeds(app) == 1
    assert _rows(app) == before  # rolled back: no validators stored, no history
    assert feeds._event_cache and feeds.vtimezone_bytes.cache_info().currsize >= 1
    kept = len(feeds._event_cache)

    warm = client.get(url)
    assert warm.status_code == 200 and warm.data == cold.data
    assert len(feeds._event_cache) == kept  # every event's bytes came from the warm-up


def test_warming_stops_at_its_budget(app, visit):  # noqa: F811
    feeds._event_cache.clear()
    assert warm_feeds(app, budget=0.0) == 0
    assert not feeds._event_cache


def test_a_database_that_cannot_be_reached_is_logged_and_the_worker_starts(caplog):
    unreachable = create_app(
        {"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://postgres@127.0.0.1:1/nothing"}
    )
    with caplog.at_level(logging.WARNING, logger="scheduler.calendar.warming"):
        assert warm_feeds(unreachable) == 0
    assert "feeds not warmed at start: OperationalError" in caplog.text
