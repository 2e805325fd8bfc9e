"""A web worker's start: build the feeds most likely polled, before the first request.

A worker's first feed pays, once per process, for SQLAlchemy compiling the feed's
statements and for icalendar's VTIMEZONE of each zone and year range (a zone without
daylight saving is searched hour by hour); the event bytes it writes are kept for later
builds too. Building the feeds of the current and next visits at start moves that cost
out of the first poller's request. Nothing is written: the builds are rolled back.
"""

from __future__ import annotations

import logging
import time

from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from scheduler.calendar.feeds import DEFAULT_UID_DOMAIN, FeedSettings
from scheduler.calendar.shared import SharedFeed
from scheduler.extensions import db
from scheduler.models import Delegation

log = logging.getLogger(__name__)

# A worker's start is not held longer than this (gunicorn's boot is inside its timeout).
BUDGET_SECONDS = 2.0


def warm_feeds(app: Flask, budget: float = BUDGET_SECONDS) -> int:
    """Build the delegation feeds of the visits that end latest (coming and current ones
    first) until BUDGET seconds have passed; the number built. A database that cannot be
    reached is logged and skipped: the worker starts anyway and answers 503 until it can.
    """
    started = time.perf_counter()
    built = 0
    base = (app.config.get("PUBLIC_BASE_URL") or "http://localhost").rstrip("/")
    settings = FeedSettings(
        base_url=base, uid_domain=app.config.get("CALENDAR_UID_DOMAIN") or DEFAULT_UID_DOMAIN
    )
    with app.app_context():
        try:
            keys = db.session.scalars(
                select(Delegation.key).order_by(Delegation.end_date.desc(), Delegation.id).limit(50)
            ).all()
            for key in keys:
                if time.perf_counter() - started > budget:
                    break
                delegation = db.session.scalar(select(Delegation).where(Delegation.key == key))
                if delegation is not None:
                    SharedFeed(db.session, delegation, settings).build()
                    built += 1
                db.session.rollback()
                db.session.expunge_all()
        except SQLAlchemyError as error:
            log.warning("feeds not warmed at start: %s", error.__class__.__name__)
        finally:
            db.session.rollback()
            db.session.remove()
    return built
