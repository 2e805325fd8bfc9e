"""Who may see and change a delegation: the one door every view, command and API call goes through.

No role in a delegation: it does not exist for you (404). A role that does not allow the
need: 403. Admins see and manage everything. No Flask in here; the web layer turns the two
exceptions into responses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.models import Delegation, DelegationRole, User

Need = Literal["read", "edit", "manage"]

# What each role may do; host is read-only and sees only its organisation's meetings.
ALLOWED: dict[str, frozenset[str]] = {
    "owner": frozenset({"read", "edit", "manage"}),
    "editor": frozenset({"read", "edit"}),
    "viewer": frozenset({"read"}),
    "host": frozenset({"read"}),
}


class NoSuchDelegation(LookupError):
    """No delegation with that key that this account may see."""


class NotAllowed(PermissionError):
    """The account sees the delegation, but its role does not allow this."""


@dataclass(frozen=True, slots=True)
class Access:
    """What one account may do in one delegation."""

    role: str  # "admin" for administrators without a role of their own
    host_organization_id: int | None = None

    def allows(self, need: Need) -> bool:
        return self.role == "admin" or need in ALLOWED.get(self.role, frozenset())

    @property
    def is_host(self) -> bool:
        return self.role == "host"

    @property
    def sees_internal_notes(self) -> bool:
        return not self.is_host


def access_to(session: Session, user: User | None, delegation_id: int) -> Access | None:
    """The account's access to the delegation, or None where it has none."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    if user.is_admin:
        return Access("admin")
    grant = grant_of(session, delegation_id, user.id)
    if grant is None:
        return None
    return Access(grant.role, grant.organization_id if grant.role == "host" else None)


def grant_of(session: Session, delegation_id: int, user_id: int) -> DelegationRole | None:
    """The account's role row in the delegation, if any."""
    return session.scalar(
        select(DelegationRole).where(
            DelegationRole.delegation_id == delegation_id, DelegationRole.user_id == user_id
        )
    )


def check_access(session: Session, user: User | None, delegation_id: int, need: Need) -> Access:
    """The access, or NoSuchDelegation (no role) or NotAllowed (role too weak)."""
    access = access_to(session, user, delegation_id)
    if access is None:
        raise NoSuchDelegation(delegation_id)
    if not access.allows(need):
        raise NotAllowed(f"a {access.role} may not {need} this delegation")
    return access


def delegation_for(
    session: Session, user: User | None, key: str, need: Need, *, loader=None
) -> tuple[Delegation, Access]:
    """The delegation KEY as this account may use it for NEED, with the account's access.

    ``loader(session, key)`` loads the delegation (say, with its whole programme); by default
    only the row.
    """
    if loader is None:
        delegation = session.scalar(select(Delegation).where(Delegation.key == key))
    else:
        delegation = loader(session, key)
    if delegation is None:
        raise NoSuchDelegation(key)
    return delegation, check_access(session, user, delegation.id, need)


def visible_delegation_ids(session: Session, user: User | None):
    """A select of the ids of the delegations this account may see (all, for an admin)."""
    if user is not None and user.is_admin:
        return select(Delegation.id)
    user_id = user.id if user is not None and getattr(user, "is_authenticated", False) else -1
    return select(DelegationRole.delegation_id).where(DelegationRole.user_id == user_id)


def grant_role(
    session: Session,
    delegation: Delegation,
    user: User,
    role: str,
    *,
    organization_id: int | None = None,
) -> DelegationRole:
    """Give the account ROLE in the delegation, replacing an earlier one (ValueError if invalid)."""
    if role not in ALLOWED:
        raise ValueError(f"role: '{role}' is not one of {', '.join(ALLOWED)}")
    if role == "host" and organization_id is None:
        raise ValueError("organization: a host is tied to one of the delegation's organisations")
    if role != "host":
        organization_id = None
    grant = grant_of(session, delegation.id, user.id)
    if grant is None:
        grant = DelegationRole(delegation_id=delegation.id, user_id=user.id)
        session.add(grant)
    grant.role = role
    grant.organization_id = organization_id
    return grant


def revoke_role(session: Session, delegation: Delegation, user: User) -> bool:
    """Remove the account's role; whether it had one."""
    grant = grant_of(session, delegation.id, user.id)
    if grant is None:
        return False
    session.delete(grant)
    return True


def restrict_to_host(session: Session, delegation: Delegation, organization_id: int | None) -> None:
    """What a host may see of a loaded delegation: only its organisation's meetings, with their
    people, venues and organisations, and no internal notes.

    The loaded collections are replaced as if the database had returned only those rows
    (``set_committed_value``: no change is recorded, nothing is ever flushed), so every page,
    agenda, PDF and export built from the delegation shows the host's part and nothing else.
    """
    from sqlalchemy.orm.attributes import set_committed_value

    meetings = [
        m
        for m in delegation.meetings
        if any(link.organization_id == organization_id for link in m.organization_links)
    ]
    people_ids = {a.person_id for m in meetings for a in m.attendances}
    people = [
        p for p in delegation.people if p.id in people_ids or p.organization_id == organization_id
    ]
    venue_ids = {m.venue_id for m in meetings if m.venue_id is not None}
    venues = [v for v in delegation.venues if v.id in venue_ids]
    organization_ids = {organization_id} | {
        link.organization_id for m in meetings for link in m.organization_links
    }
    organization_ids |= {p.organization_id for p in people if p.organization_id is not None}
    for meeting in meetings:
        set_committed_value(meeting, "internal_notes", None)
    for person in people:
        set_committed_value(person, "notes", None)
    set_committed_value(delegation, "meetings", meetings)
    set_committed_value(delegation, "people", people)
    set_committed_value(delegation, "venues", venues)
    set_committed_value(
        delegation,
        "travel_times",
        [
            t
            for t in delegation.travel_times
            if t.from_venue_id in venue_ids and t.to_venue_id in venue_ids
        ],
    )
    set_committed_value(
        delegation,
        "organizations",
        [o for o in delegation.organizations if o.id in organization_ids],
    )
