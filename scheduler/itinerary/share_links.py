"""Secret share links for a delegation and for each person: usable without signing in.

A token is a 16-character selector (indexed, to find the row) followed by a secret of
192 random bits compared in constant time, so a lookup leaks nothing through timing.
Rotating replaces both: the old link stops working at once.
"""

from __future__ import annotations

import hmac
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.models import Delegation, Person

SELECTOR_LENGTH = 16


def new_share_credentials() -> dict[str, str]:
    return {"share_selector": secrets.token_hex(8), "share_secret": secrets.token_urlsafe(24)}


def rotate_share_link(entity: Delegation | Person) -> None:
    for name, value in new_share_credentials().items():
        setattr(entity, name, value)


def find_by_share_token(session: Session, token: str) -> Delegation | Person | None:
    """The delegation or person whose share link this is, or None."""
    if not token or len(token) <= SELECTOR_LENGTH or len(token) > 128:
        return None
    selector, secret = token[:SELECTOR_LENGTH], token[SELECTOR_LENGTH:]
    for model in (Delegation, Person):
        entity = session.scalar(select(model).where(model.share_selector == selector))
        if entity is not None:
            if hmac.compare_digest(entity.share_secret.encode(), secret.encode()):
                return entity
            return None
    return None


def share_paths(entity: Delegation | Person) -> dict[str, str]:
    """Paths from the site root of the calendar feed, the agenda page and its PDF."""
    base = f"/share/{entity.share_token}"
    return {"ics": f"{base}/calendar.ics", "agenda": f"{base}/agenda", "pdf": f"{base}/agenda.pdf"}


def share_links_document(delegation: Delegation) -> dict:
    """The ``share-links KEY --json`` document of the spec."""
    return {
        "delegation": share_paths(delegation),
        "people": {person.key: share_paths(person) for person in delegation.people},
    }
