"""The feed's column-query loading gives the feed the ORM loading gives, draft and release."""

from __future__ import annotations

from sqlalchemy import select

from scheduler.calendar.feeds import build_feed
from scheduler.calendar.loading import feed_programme
from scheduler.extensions import db
from scheduler.itinerary.releases import shared_meetings
from scheduler.models import Delegation, Meeting, Person
from tests.test_feeds import DST_VISIT, SETTINGS


def _feeds(session, how) -> dict[str, bytes]:
    """Every share link's feed of the DST visit, its meetings loaded ``how``."""
    delegation = session.scalar(select(Delegation).where(Delegation.key == "dst-visit"))
    people = session.scalars(select(Person).where(Person.delegation_id == delegation.id))
    feeds = {}
    for entity in [delegation, *people]:
        person = entity if isinstance(entity, Person) else None
        meetings = how(session, delegation, person)
        feeds[person.key if person else ""] = build_feed(
            delegation, meetings, share_entity=entity, settings=SETTINGS
        )
    return feeds


def _same_both_ways(app) -> dict[str, bytes]:
    with app.app_context():
        ours = _feeds(db.session, feed_programme)
        db.session.expunge_all()
        orm = _feeds(db.session, shared_meetings)
    assert ours == orm
    assert len(ours) > 2
    return ours


def test_draft_feeds_are_the_same_as_from_orm_objects(app, load_document):
    load_document(DST_VISIT)
    _same_both_ways(app)


def test_released_feeds_are_the_same_and_ignore_later_draft_edits(app, runner, load_document):
    load_document(DST_VISIT)
    assert runner.invoke(args=["release", "dst-visit"]).exit_code == 0
    released = _same_both_ways(app)
    with app.app_context():
        meeting = db.session.scalars(select(Meeting).order_by(Meeting.key)).first()
        meeting.title = "Draft only"
        db.session.commit()
    assert _same_both_ways(app) == released
    assert runner.invoke(args=["release", "dst-visit"]).exit_code == 0
    after = _same_both_ways(app)
    assert after[""] != released[""] and b"Draft only" in after[""]
