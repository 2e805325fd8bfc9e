"""The release page (changes, open errors, warnings not acknowledged, note, notify), the list
of releases with their notices, and "what changed in version N"."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import login_required
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import BooleanField, TextAreaField
from wtforms.validators import Length, Optional

from scheduler.extensions import db
from scheduler.itinerary.releases import (
    UnknownVersion,
    changes_in,
    release_number,
    releases_of,
    unreleased_changes,
)
from scheduler.models import Notice
from scheduler.operations import notices as notice_operations
from scheduler.operations import releases as release_operations
from scheduler.web.common import delegation_or_404, estimate_travel, needs, user_id
from scheduler.web.releases import bp


class ReleaseForm(FlaskForm):
    note = TextAreaField("Note", validators=[Optional(), Length(max=5000)])
    notify = BooleanField("Notify attendees by email")
    reason = TextAreaField("Reason", validators=[Optional(), Length(max=5000)])


class RetryForm(FlaskForm):
    pass


def unreleased_count(delegation) -> int | None:
    """For the delegation layout: changes not released, once per request (None for hosts)."""
    from scheduler.web.common import current_access

    granted = current_access()
    if granted is None or granted.is_host or not granted.allows("edit"):
        return None
    cache = g.setdefault("unreleased_changes", {})
    if delegation.id not in cache:
        cache[delegation.id] = unreleased_changes(db.session, delegation)
    return cache[delegation.id]


@bp.route("/delegations/<key>/release", methods=["GET", "POST"])
@login_required
@needs(get="edit", post="edit")
def release(key: str):
    delegation = delegation_or_404(key)
    form = ReleaseForm()
    status = 200
    if form.validate_on_submit():
        try:
            new, _changes = release_operations.release(
                db.session,
                delegation,
                note=form.note.data,
                notify=form.notify.data,
                reason=form.reason.data,
                require_reason=True,
                actor_id=user_id(),
                estimate_travel=estimate_travel(),
            )
        except release_operations.ReasonRequired:
            db.session.rollback()
            form.reason.errors = [
                gettext("Errors are open: say why you release anyway (the release records it).")
            ]
            status = 400
        else:
            db.session.commit()
            flash(gettext("Version %(version)s released.", version=new.version), "info")
            return redirect(url_for("releases.version", key=key, version=new.version))
    elif form.is_submitted():
        status = 400
    review = release_operations.review(db.session, delegation, estimate_travel=estimate_travel())
    page = render_template(
        "releases/release.html",
        delegation=delegation,
        form=form,
        review=review,
        changes=review.changes,
    )
    return page, status


@bp.get("/delegations/<key>/releases")
@login_required
@needs(get="edit", post="edit")
def index(key: str):
    delegation = delegation_or_404(key)
    releases = list(reversed(releases_of(db.session, delegation.id)))
    counts = {}
    for release_id, state, count in db.session.execute(
        select(Notice.release_id, Notice.state, func.count())
        .where(Notice.release_id.in_([r.id for r in releases]))
        .group_by(Notice.release_id, Notice.state)
    ):
        counts.setdefault(release_id, {})[state] = count
    return render_template(
        "releases/index.html", delegation=delegation, releases=releases, counts=counts
    )


@bp.get("/delegations/<key>/releases/<int:version>")
@login_required
@needs(get="edit", post="edit")
def version(key: str, version: int):
    delegation = delegation_or_404(key)
    try:
        release = release_number(db.session, delegation.id, version)
    except UnknownVersion:
        abort(404)
    return render_template(
        "releases/version.html",
        delegation=delegation,
        release=release,
        changes=changes_in(db.session, release),
        notices=release.notices,
        form=RetryForm(),
    )


@bp.post("/delegations/<key>/releases/<int:version>/retry")
@login_required
@needs(get="edit", post="edit")
def retry(key: str, version: int):
    delegation = delegation_or_404(key)
    try:
        release = release_number(db.session, delegation.id, version)
    except UnknownVersion:
        abort(404)
    if not RetryForm().validate_on_submit():
        abort(400, description="The form's csrf_token is missing or stale. Reload the page.")
    count = notice_operations.retry_failed(db.session, release)
    db.session.commit()
    flash(gettext("%(count)s notices will be sent again.", count=count), "info")
    return redirect(url_for("releases.version", key=key, version=version))


def titles_of(delegation, release=None) -> dict[str, str]:
    """Meeting key -> title, from the release (else the draft), for the lists of changes."""
    titles = {m.key: m.title for m in delegation.meetings}
    if release is not None:
        titles.update({k: m["title"] for k, m in release.snapshot["meetings"].items()})
    return titles
