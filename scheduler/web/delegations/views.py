"""Delegations: the list, the delegation form, the programme, conflicts, import and export."""

from __future__ import annotations

from datetime import date

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError, OperationalError

from scheduler import wording
from scheduler.agenda.spreadsheet_import import import_workbook, is_workbook
from scheduler.extensions import db
from scheduler.itinerary import access
from scheduler.itinerary.document import (
    DocumentError,
    dump_document,
    export_delegation,
)
from scheduler.itinerary.finding import FilterError, default_day, parse_day, parse_filter
from scheduler.itinerary.json_input import Limits, read_document
from scheduler.itinerary.programme import build_programme
from scheduler.itinerary.programme_loading import day_counts, day_programme, days_of, meeting_titles
from scheduler.itinerary.review import (
    acknowledge_warning,
    conflict_identity,
    meeting_versions,
    parse_conflict_token,
)
from scheduler.itinerary.summary import open_conflict_counts
from scheduler.itinerary.times import utcnow
from scheduler.models import Delegation, Meeting
from scheduler.operations import imports, programme_data
from scheduler.web.common import (
    conflict_kinds,
    current_access,
    delegation_or_404,
    estimate_travel,
    loaded_delegation_or_404,
    needs,
    needs_account,
    reviewed_conflicts,
    stale_edit,
    user_id,
)
from scheduler.web.delegations import bp
from scheduler.web.delegations.forms import AcknowledgeForm, DelegationForm, ImportForm

# --------------------------------------------------------------------------- list


def _meeting_counts() -> dict[int, tuple[int, int]]:
    rows = db.session.execute(
        select(
            Meeting.delegation_id,
            func.count(),
            func.sum(case((Meeting.status == "cancelled", 1), else_=0)),
        ).group_by(Meeting.delegation_id)
    )
    return {d: (total, cancelled or 0) for d, total, cancelled in rows}


@bp.route("/delegations")
@login_required
@needs_account
def index():
    """Upcoming and current visits first (soonest first), then past ones (latest first)."""
    today = date.today()
    visible = access.visible_delegation_ids(db.session, current_user)
    delegations = db.session.scalars(select(Delegation).where(Delegation.id.in_(visible))).all()
    upcoming = sorted((d for d in delegations if d.end_date >= today), key=lambda d: d.start_date)
    past = sorted(
        (d for d in delegations if d.end_date < today), key=lambda d: d.start_date, reverse=True
    )
    counts = _meeting_counts()
    open_conflicts = open_conflict_counts(
        db.session, delegations, estimate_travel=estimate_travel()
    )
    return render_template(
        "delegations/index.html",
        upcoming=upcoming,
        past=past,
        counts=counts,
        open_conflicts=open_conflicts,
        today=today,
    )


# --------------------------------------------------------------------------- delegation form


def _key_taken(key: str) -> bool:
    return db.session.scalar(select(Delegation.id).where(Delegation.key == key)) is not None


@bp.route("/delegations/new", methods=["GET", "POST"])
@login_required
@needs_account
def create():
    form = DelegationForm()
    if form.validate_on_submit():
        if _key_taken(form.key.data):
            form.key.errors.append(
                _("Another delegation already uses the key '%(key)s'.", key=form.key.data)
            )
        else:
            values = {"key": form.key.data, **_delegation_form_values(form)}
            delegation = programme_data.create_delegation_row(values)
            imports.create_delegation(db.session, current_user, delegation)
            db.session.commit()
            flash(
                _(
                    "Delegation '%(name)s' created: add its venues and people.",
                    name=delegation.name,
                ),
                "info",
            )
            return redirect(url_for("delegations.programme", key=delegation.key))
    return render_template("delegations/form.html", form=form, delegation=None)


@bp.route("/delegations/<key>/edit", methods=["GET", "POST"])
@login_required
@needs(get="edit")
def edit(key: str):
    delegation = delegation_or_404(key)
    form = DelegationForm(obj=delegation)
    form.key.data = delegation.key  # keys are identities: fixed once created
    stale = stale_edit(form, delegation, _delegation_values)
    if not stale and form.validate_on_submit():
        programme_data.update_delegation(db.session, delegation, _delegation_form_values(form))
        db.session.commit()
        flash(_("Delegation saved."), "info")
        return redirect(url_for("delegations.programme", key=delegation.key))
    page = render_template("delegations/form.html", form=form, delegation=delegation)
    return page, 409 if stale else 200


DELEGATION_FIELDS = (
    "name",
    "native_name",
    "host",
    "timezone",
    "start_date",
    "end_date",
    "description",
)


def _delegation_form_values(form) -> dict:
    return {name: form[name].data for name in DELEGATION_FIELDS}


def _delegation_values(delegation: Delegation) -> dict:
    """What the delegation form shows (its programme's revision is not part of it)."""
    return {name: getattr(delegation, name) for name in DELEGATION_FIELDS}


# --------------------------------------------------------------------------- programme, conflicts


@bp.route("/delegations/<key>")
@login_required
@needs()
def programme(key: str):
    """One day at a time (the day asked for, else today or the first day with meetings)."""
    try:
        found = parse_filter(request.args)
        wanted = request.args.get("day", "")
        day = None if wanted == "all" else parse_day(wanted)
    except FilterError as exc:
        abort(400, description=wording.filter_problem(exc))
    delegation = delegation_or_404(key)
    host = bool(current_access() and current_access().is_host)  # loaded and restricted
    partial = wanted != "all" and not found.active and not host
    if not partial and not host:  # the whole visit, or a search
        delegation = loaded_delegation_or_404(key)
    reviewed = reviewed_conflicts(delegation)
    if partial:
        counts = day_counts(db.session, delegation)
        day = day or default_day(
            [(d, counts.get(d, (0, 0))[0]) for d in days_of(delegation, counts)], date.today()
        )
        whole = day_programme(
            db.session, delegation, reviewed, day, counts, estimate_travel=estimate_travel()
        )
    else:
        whole = build_programme(
            delegation, reviewed, estimate_travel=estimate_travel(), found=found
        )
        if wanted != "all":
            day = day or default_day([(d.day, d.meeting_count) for d in whole.days], date.today())
    return render_template(
        "delegations/programme.html",
        delegation=delegation,
        programme=whole,
        shown_days=[d for d in whole.days if wanted == "all" or d.day == day],
        day=day,
        show_all=wanted == "all",
        found=found,
        filter_choices={
            "people": sorted(delegation.people, key=lambda p: p.name),
            "organizations": sorted(delegation.organizations, key=lambda o: o.name),
            "venues": sorted(delegation.venues, key=lambda v: v.name),
        },
        errors=sum(1 for r in reviewed if r.conflict.severity == "error"),
        open_warnings=sum(1 for r in reviewed if r.is_open and r.conflict.severity == "warning"),
    )


@bp.route("/delegations/<key>/conflicts")
@login_required
@needs()
def conflicts(key: str):
    delegation = delegation_or_404(key)  # a host's comes loaded and restricted
    reviewed = reviewed_conflicts(delegation)
    groups = []
    for kind, label in conflict_kinds():
        items = [r for r in reviewed if r.conflict.kind == kind]
        if items:
            groups.append((kind, label, items))
    listed = {key for r in reviewed for key in r.conflict.meetings}
    return render_template(
        "delegations/conflicts.html",
        delegation=delegation,
        groups=groups,
        meetings=meeting_titles(db.session, delegation.id, listed),
        total=len(reviewed),
    )


@bp.post("/delegations/<key>/conflicts/acknowledge")
@login_required
@needs()
def acknowledge(key: str):
    delegation = loaded_delegation_or_404(key)
    form = AcknowledgeForm()
    back = url_for("delegations.conflicts", key=key)
    if form.next.data and form.next.data.startswith(f"/delegations/{key}/"):
        back = form.next.data  # back to the meeting the warning was acknowledged from
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(_("Warning not acknowledged: %(error)s", error=error), "error")
        return redirect(back)
    wanted = parse_conflict_token(form.conflict.data)
    reviewed = reviewed_conflicts(delegation)
    match = next((r for r in reviewed if conflict_identity(r.conflict) == wanted), None)
    if match is None:
        flash(_("That conflict no longer exists: the programme changed since the page was shown."))
        return redirect(back)
    if match.conflict.severity != "warning":
        flash(_("Errors cannot be acknowledged: fix them, or save the meeting anyway."), "error")
        return redirect(back)
    acknowledge_warning(
        db.session,
        delegation,
        match.conflict,
        user_id=user_id(),
        reason=form.reason.data,
        versions=meeting_versions(delegation.meetings),
    )
    db.session.commit()
    flash(_("Warning acknowledged. It comes back if one of its meetings changes."), "info")
    return redirect(back)


# --------------------------------------------------------------------------- import, export


@bp.route("/delegations/import", methods=["GET", "POST"])
@login_required
@needs_account
def import_document():
    form = ImportForm()
    problems = []
    if form.validate_on_submit():
        data = form.document.data.read()
        try:
            if is_workbook(data):
                result = import_workbook(
                    db.session,
                    data,
                    lambda document: imports.import_as(
                        db.session, current_user, document, prune=form.prune.data
                    ),
                )
            else:
                result = imports.import_as(
                    db.session,
                    current_user,
                    read_document(data, Limits.from_config(current_app.config)),
                    prune=form.prune.data,
                )
            db.session.commit()
        except DocumentError as exc:
            db.session.rollback()
            problems = exc.problems
        except (IntegrityError, OperationalError) as exc:
            # Two imports of one delegation at once: the other one won; this one wrote nothing.
            db.session.rollback()
            if not imports.is_concurrent_write(exc):
                raise
            abort(409, description=imports.CONCURRENT_IMPORT)
        except access.NoSuchDelegation:
            db.session.rollback()
            abort(404)
        except access.NotAllowed:
            db.session.rollback()
            abort(
                403, description=_("Your role in that delegation does not allow importing over it.")
            )
        else:
            done = (
                _("Imported delegation '%(key)s'")
                if result.created
                else _("Updated delegation '%(key)s'")
            )
            message = done % {"key": result.delegation_key}
            details = ", ".join(f"{n} {name}" for name, n in sorted(result.added.items()))
            if details:
                message += " " + _("(added %(details)s)", details=details)
            if result.cancelled:
                message += _(
                    "; %(num)d meeting(s) no longer listed were cancelled", num=result.cancelled
                )
            flash(message + _("."), "info")
            return redirect(url_for("delegations.programme", key=result.delegation_key))
    # A refused document is a 422: the page lists what to fix, nothing was written.
    status = 422 if problems else 200
    return render_template("delegations/import.html", form=form, problems=problems), status


@bp.route("/delegations/<key>/export.json")
@login_required
@needs()
def export_document(key: str):
    document = export_delegation(loaded_delegation_or_404(key))
    stamp = utcnow().strftime("%Y%m%d-%H%M")
    return Response(
        dump_document(document),
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{key}-{stamp}.json"'},
    )
