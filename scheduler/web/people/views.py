"""People and organisations of a delegation, and each person's own programme."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.itinerary.programme import build_programme
from scheduler.itinerary.programme_loading import person_meetings
from scheduler.models import Organization, Person
from scheduler.operations import programme_data
from scheduler.web.common import (
    current_access,
    delegation_or_404,
    estimate_travel,
    needs,
    reviewed_conflicts,
    stale_edit,
)
from scheduler.web.fields import choices, fill_local_time, resolve_local_time
from scheduler.web.people import bp
from scheduler.web.people.forms import OrganizationForm, PersonForm

PERSON_FIELDS = ("name", "native_name", "title", "role", "languages", "email", "phone", "notes")
ORGANIZATION_FIELDS = ("name", "native_name", "country", "kind")


def _person_values(person: Person) -> dict:
    """What the person form shows, to tell whether it changed since the form was opened."""
    values = {name: getattr(person, name) for name in PERSON_FIELDS}
    values["organization_id"] = person.organization_id
    values["available_from"] = person.available_from
    values["available_until"] = person.available_until
    return values


def _organization_form_values(form) -> dict:
    return {"key": form.key.data, **{name: form[name].data for name in ORGANIZATION_FIELDS}}


def _organization_values(organization: Organization) -> dict:
    return {name: getattr(organization, name) for name in ORGANIZATION_FIELDS}


@bp.route("/delegations/<key>/people")
@login_required
@needs()
def index(key: str):
    delegation = delegation_or_404(key)
    granted = current_access()
    if granted is not None and granted.is_host:  # its restricted programme is all it may see
        people = sorted(delegation.people, key=lambda p: p.name)
        organizations = sorted(delegation.organizations, key=lambda o: o.name)
    else:
        people = db.session.scalars(
            select(Person).where(Person.delegation_id == delegation.id).order_by(Person.name)
        ).all()
        organizations = db.session.scalars(
            select(Organization)
            .where(Organization.delegation_id == delegation.id)
            .order_by(Organization.name)
        ).all()
    by_id = {o.id: o for o in organizations}
    return render_template(
        "people/index.html",
        delegation=delegation,
        people=people,
        organizations=organizations,
        organization_of=lambda p: by_id.get(p.organization_id),
    )


# --------------------------------------------------------------------------- people


def _person_or_404(delegation, person_key: str) -> Person:
    person = db.session.scalar(
        select(Person).where(Person.delegation_id == delegation.id, Person.key == person_key)
    )
    if person is None:
        abort(404)
    return person


def _person_form(delegation, person: Person | None) -> PersonForm:
    form = PersonForm(obj=person)
    organizations = db.session.scalars(
        select(Organization)
        .where(Organization.delegation_id == delegation.id)
        .order_by(Organization.name)
    ).all()
    form.organization_id.choices = choices(
        [(0, _("— none —"))] + [(o.id, o.name) for o in organizations]
    )
    if person is not None:
        form.key.data = person.key  # keys are identities: fixed once created
    if person is not None and not form.is_submitted():
        form.organization_id.data = person.organization_id or 0
        zone_name = delegation.timezone
        fill_local_time(
            form.available_from, form.available_from_offset, person.available_from, zone_name
        )
        fill_local_time(
            form.available_until, form.available_until_offset, person.available_until, zone_name
        )
    return form


def _save_person(delegation, person: Person | None, form: PersonForm) -> Person | None:
    """Validate what needs the database or the zone, then save; None when the form has errors."""
    valid = form.validate_on_submit()
    zone_name = delegation.timezone
    start = resolve_local_time(form.available_from, form.available_from_offset, zone_name)
    until = resolve_local_time(form.available_until, form.available_until_offset, zone_name)
    if start and until and until <= start:
        form.available_until.errors.append("Must be after 'available from'.")
    if person is None and form.key.data:
        taken = db.session.scalar(
            select(Person.id).where(
                Person.delegation_id == delegation.id, Person.key == form.key.data
            )
        )
        if taken:
            form.key.errors.append(
                f"Another person of this delegation has the key '{form.key.data}'."
            )
    if not valid or any(field.errors for field in form):
        return None
    values = {name: getattr(form, name).data for name in PERSON_FIELDS}
    values.update(
        key=form.key.data,
        organization_id=form.organization_id.data or None,
        available_from=start,
        available_until=until,
    )
    person = programme_data.save_person(db.session, delegation, person, values)
    db.session.commit()
    return person


@bp.route("/delegations/<key>/people/new", methods=["GET", "POST"])
@login_required
@needs(get="edit")
def create(key: str):
    delegation = delegation_or_404(key)
    form = _person_form(delegation, None)
    if form.is_submitted():
        person = _save_person(delegation, None, form)
        if person is not None:
            flash(_("%(name)s added.", name=person.name), "info")
            return redirect(url_for("people.index", key=key))
    return render_template("people/form.html", delegation=delegation, form=form, person=None)


@bp.route("/delegations/<key>/people/<person_key>/edit", methods=["GET", "POST"])
@login_required
@needs(get="edit")
def edit(key: str, person_key: str):
    delegation = delegation_or_404(key)
    person = _person_or_404(delegation, person_key)
    form = _person_form(delegation, person)
    stale = stale_edit(form, person, _person_values)
    if not stale and form.is_submitted():
        saved = _save_person(delegation, person, form)
        if saved is not None:
            flash(_("%(name)s saved.", name=saved.name), "info")
            return redirect(url_for("people.index", key=key))
    page = render_template("people/form.html", delegation=delegation, form=form, person=person)
    return page, 409 if stale else 200


@bp.route("/delegations/<key>/people/<person_key>")
@login_required
@needs()
def programme(key: str, person_key: str):
    delegation = delegation_or_404(key)  # a host's comes loaded and restricted
    granted = current_access()
    if granted is not None and granted.is_host:
        person = next((p for p in delegation.people if p.key == person_key), None)
        meetings = None  # the restricted delegation's
    else:
        person = _person_or_404(delegation, person_key)
        meetings = person_meetings(db.session, person)  # their legs involve no one else's
    if person is None:
        abort(404)
    reviewed = reviewed_conflicts(delegation)
    mine = build_programme(
        delegation,
        reviewed,
        person=person,
        estimate_travel=estimate_travel(),
        meetings=meetings,
    )
    keys = {item.meeting.key for day in mine.days for item in day.items}
    involved = [
        r
        for r in reviewed
        if keys & set(r.conflict.meetings) and r.conflict.person in (None, person.key)
    ]
    return render_template(
        "delegations/programme.html",
        delegation=delegation,
        programme=mine,
        errors=sum(1 for r in involved if r.conflict.severity == "error"),
        open_warnings=sum(1 for r in involved if r.is_open and r.conflict.severity == "warning"),
    )


# --------------------------------------------------------------------------- organisations


def _organization_or_404(delegation, organization_key: str) -> Organization:
    organization = db.session.scalar(
        select(Organization).where(
            Organization.delegation_id == delegation.id, Organization.key == organization_key
        )
    )
    if organization is None:
        abort(404)
    return organization


@bp.route("/delegations/<key>/organizations/new", methods=["GET", "POST"])
@login_required
@needs(get="edit")
def create_organization(key: str):
    delegation = delegation_or_404(key)
    form = OrganizationForm()
    if form.validate_on_submit():
        taken = db.session.scalar(
            select(Organization.id).where(
                Organization.delegation_id == delegation.id, Organization.key == form.key.data
            )
        )
        if taken:
            form.key.errors.append(f"Another organisation has the key '{form.key.data}'.")
        else:
            organization = programme_data.save_organization(
                db.session, delegation, None, _organization_form_values(form)
            )
            db.session.commit()
            flash(_("%(name)s added.", name=organization.name), "info")
            return redirect(url_for("people.index", key=key))
    return render_template(
        "people/organization_form.html", delegation=delegation, form=form, organization=None
    )


@bp.route("/delegations/<key>/organizations/<organization_key>/edit", methods=["GET", "POST"])
@login_required
@needs(get="edit")
def edit_organization(key: str, organization_key: str):
    delegation = delegation_or_404(key)
    organization = _organization_or_404(delegation, organization_key)
    form = OrganizationForm(obj=organization)
    form.key.data = organization.key
    stale = stale_edit(form, organization, _organization_values)
    if not stale and form.validate_on_submit():
        programme_data.save_organization(
            db.session, delegation, organization, _organization_form_values(form)
        )
        db.session.commit()
        flash(_("%(name)s saved.", name=organization.name), "info")
        return redirect(url_for("people.index", key=key))
    page = render_template(
        "people/organization_form.html",
        delegation=delegation,
        form=form,
        organization=organization,
    )
    return page, 409 if stale else 200
