"""Resolve a share token in a view: the delegation or person it names, or 404."""

from flask import abort

from scheduler.extensions import db
from scheduler.itinerary.share_links import find_by_share_token
from scheduler.models import Delegation, Person


def shared_entity_or_404(token: str) -> Delegation | Person:
    entity = find_by_share_token(db.session, token)
    if entity is None:
        abort(404)
    return entity
