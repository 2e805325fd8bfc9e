"""A delegation's team and its history: the access list (owners) and who changed what."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from scheduler.extensions import db
from scheduler.itinerary import history
from scheduler.models import DelegationRole, Meeting, Person, User
from scheduler.operations import access as access_operations
from scheduler.operations.accounts import account_by_email
from scheduler.web.common import current_access, delegation_or_404, needs
from scheduler.web.team import bp
from scheduler.web.team.forms import AddMemberForm, RoleForm

# --------------------------------------------------------------------------- the access list


def _members(delegation) -> list[DelegationRole]:
    return list(
        db.session.scalars(
            select(DelegationRole)
            .where(DelegationRole.delegation_id == delegation.id)
            .options(selectinload(DelegationRole.user))
        )
    )


def _access_page(delegation, form=None, *, status: int = 200, errors_for=None, row_form=None):
    organizations = list(delegation.organizations)
    members = sorted(_members(delegation), key=lambda r: (r.user.email,))
    forms = {}
    for member in members:
        if errors_for == member.user_id and row_form is not None:
            forms[member.user_id] = row_form
            continue
        organization = next((o.key for o in organizations if o.id == member.organization_id), "")
        forms[member.user_id] = RoleForm(
            formdata=None, role=member.role, organization=organization
        ).with_organizations(organizations)
    page = render_template(
        "team/access.html",
        delegation=delegation,
        members=members,
        organizations={o.id: o for o in organizations},
        forms=forms,
        form=form
        if form is not None
        else AddMemberForm(formdata=None).with_organizations(organizations),
    )
    return page, status


@bp.get("/delegations/<key>/access")
@login_required
@needs(get="manage", post="manage")
def access_list(key: str):
    return _access_page(delegation_or_404(key))


def _grant(delegation, user, form) -> str | None:
    """Give the role the form says; the error text (naming the field) if refused."""
    try:
        access_operations.check_keeps_an_owner(db.session, delegation, user, form.role.data)
        access_operations.grant(
            db.session,
            delegation,
            user,
            form.role.data,
            organization_key=form.organization.data if form.role.data == "host" else None,
            actor=current_user,
        )
    except ValueError as exc:
        db.session.rollback()
        return str(exc)
    db.session.commit()
    return None


@bp.post("/delegations/<key>/access")
@login_required
@needs(get="manage", post="manage")
def add_member(key: str):
    delegation = delegation_or_404(key)
    form = AddMemberForm().with_organizations(delegation.organizations)
    if form.validate_on_submit():
        user = account_by_email(db.session, form.email.data)
        if user is None:
            form.email.errors.append(
                _("No account uses this address: an administrator creates accounts first.")
            )
        elif user.is_admin:
            form.email.errors.append(_("Administrators see every delegation already."))
        else:
            problem = _grant(delegation, user, form)
            if problem is None:
                flash(_("%(email)s is now %(role)s.", email=user.email, role=form.role.data))
                return redirect(url_for("team.access_list", key=key))
            form.role.errors.append(problem.partition(": ")[2])
    return _access_page(delegation, form, status=400)


def _member_or_404(delegation, account_id: int) -> User:
    user = db.session.get(User, account_id)
    if user is None or not any(m.user_id == account_id for m in _members(delegation)):
        abort(404)
    return user


@bp.post("/delegations/<key>/access/<int:account_id>")
@login_required
@needs(get="manage", post="manage")
def change_role(key: str, account_id: int):
    delegation = delegation_or_404(key)
    user = _member_or_404(delegation, account_id)
    form = RoleForm().with_organizations(delegation.organizations)
    if form.validate_on_submit():
        problem = _grant(delegation, user, form)
        if problem is None:
            flash(_("%(email)s is now %(role)s.", email=user.email, role=form.role.data))
            return redirect(url_for("team.access_list", key=key))
        form.role.errors.append(problem.partition(": ")[2])
    return _access_page(delegation, status=400, errors_for=account_id, row_form=form)


@bp.post("/delegations/<key>/access/<int:account_id>/remove")
@login_required
@needs(get="manage", post="manage")
def remove_member(key: str, account_id: int):
    delegation = delegation_or_404(key)
    user = db.session.get(User, account_id)
    if user is None:
        abort(404)
    if not any(m.user_id == account_id for m in _members(delegation)):
        # Removed already (a second click, another owner): the outcome asked for holds.
        flash(_("%(email)s has no role here.", email=user.email))
        return redirect(url_for("team.access_list", key=key))
    try:
        access_operations.check_keeps_an_owner(db.session, delegation, user, None)
    except ValueError as exc:
        flash(str(exc).partition(": ")[2], "error")
        return _access_page(delegation, status=409)
    access_operations.revoke(db.session, delegation, user, actor=current_user)
    db.session.commit()
    flash(_("%(email)s no longer has a role here.", email=user.email))
    return redirect(url_for("team.access_list", key=key))


# --------------------------------------------------------------------------- history

PER_PAGE = 50
# Fields a host never sees the values of (internal notes of meetings and people).
HIDDEN_FROM_HOSTS = frozenset({"internal_notes", "notes"})


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    if not value:
        return None
    if not value.isdigit():
        abort(400, description=_("%(name)s: a number, please.", name=name))
    return int(value)


@bp.get("/delegations/<key>/history")
@login_required
@needs()
def delegation_history(key: str):
    """Newest first, filterable by meeting, person and account; a host sees its meetings'."""
    delegation = delegation_or_404(key)
    granted = current_access()
    meeting_key = request.args.get("meeting") or None
    person_key = request.args.get("person") or None
    account_id = _int_arg("account")
    page_number = _int_arg("page") or 1
    restricted_to = None
    if granted.is_host:
        restricted_to = [m.key for m in delegation.meetings]
    query = history.history_query(
        delegation.id,
        meeting=meeting_key,
        person=person_key,
        user_id=account_id,
        meetings_only=restricted_to,
    )
    page = db.paginate(query, page=page_number, per_page=PER_PAGE, error_out=False)
    if granted.is_host:
        meetings = sorted(delegation.meetings, key=lambda m: m.title)
        people = sorted(delegation.people, key=lambda p: p.name)
    else:
        meetings = db.session.scalars(
            select(Meeting).where(Meeting.delegation_id == delegation.id).order_by(Meeting.title)
        ).all()
        people = db.session.scalars(
            select(Person).where(Person.delegation_id == delegation.id).order_by(Person.name)
        ).all()
    accounts = history.accounts_in_history(db.session, delegation.id, meetings_only=restricted_to)
    filters = {"meeting": meeting_key, "person": person_key, "account": account_id}
    return render_template(
        "team/history.html",
        delegation=delegation,
        page=page,
        meetings=meetings,
        people=people,
        accounts=accounts,
        filters=filters,
        hidden_fields=HIDDEN_FROM_HOSTS if granted.is_host else frozenset(),
        page_url=lambda n: url_for(
            "team.delegation_history",
            key=key,
            page=n,
            **{k: v for k, v in filters.items() if v is not None},
        ),
    )
