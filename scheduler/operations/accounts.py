"""Operations on accounts: create one, set its password (once, by a link), deactivate, make admin.

Accounts are not a delegation's data, so these write no delegation history. A new account
made in the pages has no usable password: an admin hands its owner a one-time link to set
one. The link is a signed, expiring token bound to the account's current password hash, so
it stops working as soon as it is used (or the password changes otherwise).
"""

from __future__ import annotations

import hashlib
import secrets

from email_validator import EmailNotValidError, validate_email
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.i18n import LANGUAGES
from scheduler.models import User

MIN_PASSWORD_LENGTH = 8
_SALT = "set-password"


class AccountError(ValueError):
    """What is wrong, as 'field: message'."""


def normalised_email(email: str) -> str:
    try:
        return validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise AccountError(f"email: {exc}") from None


def check_new_password(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password: use at least {MIN_PASSWORD_LENGTH} characters")


def account_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def create_account(
    session: Session, email: str, *, password: str | None = None, is_admin: bool = False
) -> User:
    """A new account; without ``password`` it cannot sign in until a link sets one."""
    email = normalised_email(email)
    if account_by_email(session, email) is not None:
        raise AccountError(f"email: an account for {email} exists already")
    if password is not None:
        check_new_password(password)
    user = User(email=email, is_admin=is_admin)
    # No password yet: a random one nobody knows, so the hash (and the link) is unique.
    user.set_password(password if password is not None else secrets.token_urlsafe(32))
    session.add(user)
    session.flush()
    return user


def change_password(user: User, password: str) -> None:
    """Set the password; every other session of the account is signed out (a new generation)."""
    check_new_password(password)
    user.set_password(password)


def set_language(user: User, language: str | None) -> None:
    if language not in (None, *LANGUAGES):
        raise AccountError(f"language: choose one of {', '.join(LANGUAGES)}")
    user.language = language


def set_active(user: User, active: bool, *, actor: User | None) -> None:
    """Deactivate (signing the account out everywhere) or reactivate an account."""
    if actor is not None and actor.id == user.id and not active:
        raise AccountError("account: you cannot deactivate your own account")
    if user.is_active_account and not active:
        user.session_generation = (user.session_generation or 0) + 1
    user.is_active_account = active


def set_admin(user: User, admin: bool, *, actor: User | None) -> None:
    if actor is not None and actor.id == user.id and not admin:
        raise AccountError("account: you cannot remove your own administrator rights")
    user.is_admin = admin


# --------------------------------------------------------------------------- one-time links


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=_SALT)


def _fingerprint(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def password_link_token(user: User, secret_key: str) -> str:
    """A token for setting the account's password once."""
    return _serializer(secret_key).dumps({"account": user.id, "hash": _fingerprint(user)})


def account_for_password_token(
    session: Session, token: str, secret_key: str, *, max_age: int
) -> User | None:
    """The account a token is for, unless it expired, was used, or is not ours."""
    try:
        data = _serializer(secret_key).loads(token, max_age=max_age)
    except (SignatureExpired, BadSignature):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("account"), int):
        return None
    user = session.get(User, data["account"])
    if user is None or not user.is_active or data.get("hash") != _fingerprint(user):
        return None
    return user
