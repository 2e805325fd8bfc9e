"""Calendar feeds and the share page behind secret share links, and the coordinators' link manager.

The share page, the feed and single-meeting downloads need no sign-in: the token is the
key. Managing and rotating links needs a coordinator.
"""

from __future__ import annotations

from urllib.parse import quote

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from werkzeug.http import is_resource_modified
from wtforms import HiddenField
from wtforms.validators import DataRequired

from scheduler.calendar.feeds import DEFAULT_UID_DOMAIN, FeedSettings, feed_meetings
from scheduler.calendar.shared import (
    SharedFeed,
    meeting_calendar,
    shared_delegation,
    shared_meeting,
    shared_person,
)
from scheduler.calendar.validators import FeedValidators, etag_of
from scheduler.extensions import db
from scheduler.itinerary.share_links import rotate_share_link, share_paths
from scheduler.itinerary.times import to_local
from scheduler.models import Delegation, Meeting, Person
from scheduler.web.share import bp
from scheduler.web.share.lookup import shared_entity_or_404

CALENDAR_TYPE = "text/calendar; charset=utf-8"
GOOGLE_SUBSCRIBE = "https://calendar.google.com/calendar/render?cid="


def feed_settings() -> FeedSettings:
    """PUBLIC_BASE_URL when set (it should be, behind a proxy), else the host of this request."""
    base = current_app.config.get("PUBLIC_BASE_URL") or request.host_url
    uid_domain = current_app.config.get("CALENDAR_UID_DOMAIN") or DEFAULT_UID_DOMAIN
    return FeedSettings(base_url=base.rstrip("/"), uid_domain=uid_domain)


def subscription_links(entity: Delegation | Person, settings: FeedSettings) -> dict[str, str]:
    """Absolute links to the feed: https, webcal (opens the calendar app) and Google Calendar."""
    https = settings.base_url + share_paths(entity)["ics"]
    webcal = "webcal://" + https.split("://", 1)[1]
    return {"https": https, "webcal": webcal, "google": GOOGLE_SUBSCRIBE + quote(webcal, safe="")}


def _private(response: Response) -> Response:
    """A secret link: keep it out of shared caches, search engines and Referer headers."""
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _with_validators(response: Response, validators: FeedValidators) -> Response:
    response.set_etag(validators.etag)
    response.last_modified = validators.last_modified
    return _private(response)


@bp.get("/<token>/calendar.ics")
def calendar(token: str):
    entity = shared_entity_or_404(token)
    feed = SharedFeed(db.session, entity, feed_settings())
    validators = feed.stored_validators()
    if validators is not None and not is_resource_modified(
        request.environ, etag=validators.etag, last_modified=validators.last_modified
    ):
        return _with_validators(Response(status=304), validators)
    body, validators = feed.build()
    db.session.commit()
    response = Response(body, content_type=CALENDAR_TYPE)
    response.headers["Content-Disposition"] = 'inline; filename="calendar.ics"'
    return _with_validators(response, validators).make_conditional(request)


@bp.get("/<token>/meetings/<meeting_key>.ics")
def meeting_ics(token: str, meeting_key: str):
    entity = shared_entity_or_404(token)
    meeting = shared_meeting(db.session, entity, meeting_key)
    if meeting is None:
        abort(404)
    body = meeting_calendar(meeting, entity, feed_settings())
    response = Response(body, content_type=CALENDAR_TYPE)
    response.headers["Content-Disposition"] = f'attachment; filename="{meeting.key}.ics"'
    response.set_etag(etag_of(body))
    response.last_modified = meeting.updated_at.replace(microsecond=0)
    return _private(response).make_conditional(request)


def meeting_when(meeting: Meeting) -> str:
    """'Wed 25 Sep 2024, 14:00 – 15:30 JST' in the meeting's zone; both names across a change."""
    zone_name = meeting.zone_name
    start, end = to_local(meeting.start, zone_name), to_local(meeting.end, zone_name)
    end_format = "%H:%M" if end.date() == start.date() else "%a %d %b %Y, %H:%M"
    text = start.strftime("%a %d %b %Y, %H:%M")
    if start.tzname() != end.tzname():
        text += f" {start.tzname()}"
    return f"{text} \N{EN DASH} {end.strftime(end_format)} {end.tzname()}"


@bp.get("/<token>")
def landing(token: str):
    entity = shared_entity_or_404(token)
    delegation, person = shared_delegation(entity), shared_person(entity)
    meetings = feed_meetings(db.session, delegation, person)
    html = render_template(
        "share/landing.html",
        delegation=delegation,
        person=person,
        token=token,
        meetings=meetings,
        when={meeting.id: meeting_when(meeting) for meeting in meetings},
        links=subscription_links(entity, feed_settings()),
        paths=share_paths(entity),
    )
    return _private(Response(html))


class RotateShareLinkForm(FlaskForm):
    target = HiddenField(validators=[DataRequired()])


def _delegation_or_404(key: str) -> Delegation:
    delegation = db.session.scalar(
        select(Delegation).where(Delegation.key == key).options(selectinload(Delegation.people))
    )
    if delegation is None:
        abort(404)
    return delegation


@bp.get("/manage/<delegation_key>")
@login_required
def manage(delegation_key: str):
    delegation = _delegation_or_404(delegation_key)
    settings = feed_settings()
    rows = [("delegation", "Whole delegation", delegation)] + [
        (person.key, person.display_name, person) for person in delegation.people
    ]
    links = [
        {
            "target": target,
            "label": label,
            "page": settings.base_url + url_for("share.landing", token=entity.share_token),
            "feed": subscription_links(entity, settings),
            "paths": share_paths(entity),
        }
        for target, label, entity in rows
    ]
    response = Response(
        render_template(
            "share/manage.html", delegation=delegation, links=links, form=RotateShareLinkForm()
        )
    )
    return _private(response)


@bp.post("/manage/<delegation_key>/rotate")
@login_required
def rotate(delegation_key: str):
    delegation = _delegation_or_404(delegation_key)
    form = RotateShareLinkForm()
    if not form.validate_on_submit():
        abort(400)
    target = form.target.data
    if target == "delegation":
        entity, label = delegation, "the whole delegation"
    else:
        entity = next((p for p in delegation.people if p.key == target), None)
        if entity is None:
            abort(404)
        label = entity.display_name
    rotate_share_link(entity)
    db.session.commit()
    flash(f"New share link for {label}: the old link no longer works.", "info")
    return redirect(url_for("share.manage", delegation_key=delegation.key))
