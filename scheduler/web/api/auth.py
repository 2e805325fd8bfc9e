"""Who calls the API: the account of the bearer token, never a cookie session.

Every view declares what it needs per method (``@api_needs``), like the web pages' ``@needs``;
``delegation_for_request`` then loads the delegation through scheduler.itinerary.access,
404 without a role, 403 when the role (or a read-only token) does not allow it.
"""

from __future__ import annotations

import hashlib

from flask import abort, current_app, g, request

from scheduler.extensions import db
from scheduler.itinerary import access
from scheduler.itinerary.document import load_delegation
from scheduler.models import Delegation, User
from scheduler.operations.tokens import authenticate
from scheduler.web.common import ACCOUNT

WRITES = ("POST", "PUT", "PATCH", "DELETE")


def api_needs(read: str | None = "read", write: str | None = "edit"):
    """Declare what a view needs for reads (GET) and for writes (POST, PUT, PATCH, DELETE)."""

    def declare(view):
        view.needs = {"GET": read, "HEAD": read, **{m: write for m in WRITES}}
        return view

    return declare


def bearer_secret() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    return secret.strip()


def rate_limit_key() -> str:
    """Per token (by a digest of what the request sends), else per address."""
    secret = bearer_secret()
    if secret:
        return "api-token:" + hashlib.sha256(secret.encode()).hexdigest()[:32]
    return "api-address:" + (request.remote_addr or "unknown")


def authenticate_request() -> None:
    """Before every /api view: the token's account, or 401. The session cookie is ignored."""
    if request.endpoint is None or request.method == "OPTIONS":
        return
    token = authenticate(db.session, bearer_secret() or "")
    if token is None:
        db.session.rollback()
        abort(401)
    g.api_token = token
    g.api_user = token.user
    account_id = token.user_id
    db.session.info["actor"] = account_id  # history names the token's account
    need = _need_of_this_request()
    if request.method in WRITES and need is not None and token.read_only:
        abort(403, description="this token is read-only")
    if token in db.session.dirty:  # last_used_at moved on: keep it even if the view fails
        db.session.commit()
    key = (request.view_args or {}).get("key")
    if key is not None and need not in (None, ACCOUNT):
        # 404 / 403 before the body is even read: no role, no word about what is wrong in it.
        _check(key, need, creating=request.method == "PUT")


def _check(key: str, need: str, *, creating: bool) -> None:
    from sqlalchemy import select

    delegation_id = db.session.scalar(select(Delegation.id).where(Delegation.key == key))
    if delegation_id is None and creating:
        return  # a PUT of a new delegation: any account may import one (and owns it)
    try:
        if delegation_id is None:
            raise access.NoSuchDelegation(key)
        access.check_access(db.session, api_user(), delegation_id, need)
    except access.NoSuchDelegation:
        abort(404, description=f"no delegation '{key}' that this token may see")
    except access.NotAllowed as exc:
        abort(403, description=str(exc))


def _need_of_this_request() -> str | None:
    view = current_app.view_functions.get(request.endpoint)
    return (getattr(view, "needs", None) or {}).get(request.method)


def api_user() -> User:
    return g.api_user


def load_references(session, key: str) -> Delegation | None:
    """The delegation with what a meeting refers to (people, venues and rooms, organisations)
    but not its meetings: enough to check and save one meeting of a programme of any size."""
    from sqlalchemy import select
    from sqlalchemy.orm import selectinload

    from scheduler.models import Venue

    return session.scalar(
        select(Delegation)
        .where(Delegation.key == key)
        .options(
            selectinload(Delegation.organizations),
            selectinload(Delegation.people),
            selectinload(Delegation.venues).selectinload(Venue.rooms),
        )
    )


def delegation_for_request(key: str, *, loaded: bool = True, loader=None) -> Delegation:
    """The delegation KEY as this token's account may use it for this view's need.

    ``loaded``: with everything (load_delegation); else the row, or what ``loader`` loads.
    A host's is always the whole one, restricted to its part.
    """
    need = _need_of_this_request()
    if need is None or need == ACCOUNT:
        abort(403)
    if loaded:
        loader = load_delegation
    try:
        delegation, granted = access.delegation_for(
            db.session, api_user(), key, need, loader=loader
        )
    except access.NoSuchDelegation:
        abort(404, description=f"no delegation '{key}' that this token may see")
    except access.NotAllowed as exc:
        abort(403, description=str(exc))
    g.access = granted
    if granted.is_host:
        if loader is not load_delegation:
            delegation = load_delegation(db.session, key)
        access.restrict_to_host(db.session, delegation, granted.host_organization_id)
    return delegation
