"""Operations on a delegation's access list: grant and revoke roles, with history."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.itinerary import access, history
from scheduler.models import Delegation, DelegationRole, Organization, User


def _actor_id(actor: User | None) -> int | None:
    return actor.id if actor is not None else None


def grant(
    session: Session,
    delegation: Delegation,
    user: User,
    role: str,
    *,
    organization_key: str | None = None,
    actor: User | None,
):
    """Give USER the ROLE, replacing an earlier one; ValueError naming the field if invalid."""
    organization_id = None
    if organization_key is not None:
        if role != "host":
            raise ValueError("organization: only a host is tied to an organisation")
        organization_id = session.scalar(
            select(Organization.id).where(
                Organization.delegation_id == delegation.id, Organization.key == organization_key
            )
        )
        if organization_id is None:
            raise ValueError(f"organization: no organisation with key '{organization_key}'")
    before = _described(session, access.grant_of(session, delegation.id, user.id))
    grant_row = access.grant_role(session, delegation, user, role, organization_id=organization_id)
    changes = history.diff(before, {"role": role, "organization": organization_key})
    if changes:
        history.record(
            session,
            delegation_id=delegation.id,
            user_id=_actor_id(actor),
            action="grant",
            entity="role",
            key=user.email,
            changes=changes,
        )
    return grant_row


def _described(session: Session, grant_row) -> dict:
    if grant_row is None:
        return {"role": None, "organization": None}
    organization = grant_row.organization_id and session.get(
        Organization, grant_row.organization_id
    )
    return {"role": grant_row.role, "organization": organization.key if organization else None}


def revoke(session: Session, delegation: Delegation, user: User, *, actor: User | None) -> bool:
    """Remove USER's role; whether there was one."""
    before = _described(session, access.grant_of(session, delegation.id, user.id))
    if not access.revoke_role(session, delegation, user):
        return False
    history.record(
        session,
        delegation_id=delegation.id,
        user_id=_actor_id(actor),
        action="revoke",
        entity="role",
        key=user.email,
        changes=history.diff(before, {"role": None, "organization": None}),
    )
    return True


def check_keeps_an_owner(
    session: Session, delegation: Delegation, user: User, new_role: str | None
) -> None:
    """ValueError if USER is the delegation's last owner and would stop being one.

    The access list's pages ask this first, so a delegation is never left without someone
    who may manage it (administrators aside).
    """
    if new_role == "owner":
        return
    owners = session.scalars(
        select(DelegationRole.user_id).where(
            DelegationRole.delegation_id == delegation.id, DelegationRole.role == "owner"
        )
    ).all()
    if owners == [user.id]:
        raise ValueError("role: the delegation needs an owner; make someone else owner first")
