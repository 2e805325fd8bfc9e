"""Secret share links for a delegation and for each person: usable without signing in.

A token is a 16-character selector (indexed, to find the row) followed by a secret of
192 random bits compared in constant time, so a lookup leaks nothing through timing.
Rotating replaces both: the old link stops working at once. Each link's last use (when, by
which client, for what) is recorded so that coordinators see whether a link is still in use.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.itinerary.times import utcnow
from scheduler.models import Delegation, Person, ShareLinkUse
from scheduler.models.share_link import USER_AGENT_LENGTH

SELECTOR_LENGTH = 16


def new_share_credentials() -> dict[str, str]:
    return {"share_selector": secrets.token_hex(8), "share_secret": secrets.token_urlsafe(24)}


def rotate_share_link(entity: Delegation | Person) -> None:
    """A new link; the old one stops working (and its recorded uses are no longer shown)."""
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


# --------------------------------------------------------------------------- when links are used

# A calendar app polls its feed every few minutes: within this interval, and from the same
# client, a use is not written again (so a poll costs one read, not a write).
USE_RECORD_INTERVAL = timedelta(minutes=1)


def record_share_link_use(
    session: Session,
    entity: Delegation | Person,
    used_for: str,
    user_agent: str | None,
    *,
    now: datetime | None = None,
) -> bool:
    """Remember that the link was used just now, by this client; whether anything was written.

    Nothing is written when the same client used it less than ``USE_RECORD_INTERVAL`` ago.
    Uses are kept by the link's selector, so a replaced link starts with none.
    """
    now = now or utcnow()
    user_agent = (user_agent or "").strip()[:USER_AGENT_LENGTH] or None
    selector = entity.share_selector
    use = session.scalar(select(ShareLinkUse).where(ShareLinkUse.share_selector == selector))
    if use is None:
        use = ShareLinkUse(share_selector=selector)
        session.add(use)
    elif use.user_agent == user_agent and now - use.last_used_at < USE_RECORD_INTERVAL:
        return False
    use.used_for, use.last_used_at, use.user_agent = used_for, now, user_agent
    return True


def share_link_uses(session: Session, entities) -> dict[str, ShareLinkUse]:
    """Share selector -> the last use of that link, for these delegations and people."""
    selectors = [e.share_selector for e in entities]
    rows = session.scalars(select(ShareLinkUse).where(ShareLinkUse.share_selector.in_(selectors)))
    return {use.share_selector: use for use in rows}
