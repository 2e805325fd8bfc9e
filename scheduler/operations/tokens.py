"""API tokens: make one (the secret returned this once), find the one a request carries, revoke."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.itinerary.times import utcnow
from scheduler.models import ApiToken, User

SECRET_PREFIX = "dvs_"  # says what the string is when it turns up in a log or a repository
PREFIX_LENGTH = 12  # of the secret, kept in clear to tell tokens apart
NAME_MAX = 100
# Writing last_used_at on every request would make every read a write; once a minute is enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_token(
    session: Session, user: User, name: str, *, read_only: bool = False
) -> tuple[ApiToken, str]:
    """A new token for the account and its secret (ValueError naming the field if invalid)."""
    name = (name or "").strip()
    if not name:
        raise ValueError("name: give the token a name, say what uses it")
    if len(name) > NAME_MAX:
        raise ValueError(f"name: at most {NAME_MAX} characters")
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name,
        prefix=secret[:PREFIX_LENGTH],
        token_hash=digest(secret),
        read_only=read_only,
        created_at=utcnow(),
    )
    session.add(token)
    session.flush()
    return token, secret


def authenticate(session: Session, secret: str) -> ApiToken | None:
    """The live token with this secret, its last use noted; None if unknown or revoked."""
    if not secret or len(secret) > 200:
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(secret)))
    if token is None or token.is_revoked or not token.user.is_active:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = now
    return token


def tokens_of(session: Session, user: User) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at)
        )
    )


def revoke_token(session: Session, user: User, token_id: int) -> bool:
    """Revoke one of the account's own tokens; whether there was such a live token."""
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id or token.is_revoked:
        return False
    token.revoked_at = utcnow()
    return True
