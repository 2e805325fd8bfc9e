"""Resolve a share token in a view: the delegation or person it names, or 404; note its use."""

from flask import abort, request
from sqlalchemy.exc import IntegrityError

from scheduler import i18n
from scheduler.extensions import db
from scheduler.itinerary.share_links import find_by_share_token, record_share_link_use
from scheduler.models import Delegation, Person


def shared_entity_or_404(token: str, used_for: str | None = None) -> Delegation | Person:
    """The link's delegation or person; with ``used_for``, its use is recorded for coordinators."""
    entity = find_by_share_token(db.session, token)
    if entity is None:
        abort(404)
    # Behind a share link: ?lang=, then the person's language, then the browser's.
    i18n.use_share_language(entity if isinstance(entity, Person) else None)
    if used_for is not None:
        _note_use(entity, used_for)
    return entity


def _note_use(entity: Delegation | Person, used_for: str) -> None:
    if not record_share_link_use(db.session, entity, used_for, request.user_agent.string):
        return
    try:
        db.session.commit()
    except IntegrityError:  # a parallel first use of the same link was recorded first
        db.session.rollback()
