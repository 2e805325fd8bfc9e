"""Behind a share link: "what changed in version N", for that person (or the delegation)."""

from __future__ import annotations

from flask import Response, abort, render_template

from scheduler import i18n
from scheduler.calendar.shared import shared_delegation, shared_person
from scheduler.extensions import db
from scheduler.itinerary.releases import (
    UnknownVersion,
    changes_in,
    latest_release,
    release_number,
)
from scheduler.itinerary.share_links import share_paths
from scheduler.web.share import bp
from scheduler.web.share.feeds import _private
from scheduler.web.share.lookup import shared_entity_or_404


def latest_version(delegation) -> int | None:
    release = latest_release(db.session, delegation.id)
    return release.version if release is not None else None


@bp.get("/<token>/changes/<int:version>")
def changes(token: str, version: int):
    entity = shared_entity_or_404(token, used_for="page")
    delegation, person = shared_delegation(entity), shared_person(entity)
    i18n.use_share_language(person)
    try:
        release = release_number(db.session, delegation.id, version)
    except UnknownVersion:
        abort(404)
    found = changes_in(db.session, release)
    titles = {k: m["title"] for k, m in release.snapshot["meetings"].items()}
    if person is not None:
        theirs = found.for_person(person.key)
        lists = (theirs["added"], theirs["lost"], theirs["moved"], theirs["changed"])
    else:
        lists = (found.added, found.cancelled, found.moved, found.changed)
    html = render_template(
        "share/changes.html",
        delegation=delegation,
        person=person,
        release=release,
        lists=lists,
        titles=titles,
        paths=share_paths(entity),
        token=token,
        latest=latest_version(delegation),
    )
    return _private(Response(html))
