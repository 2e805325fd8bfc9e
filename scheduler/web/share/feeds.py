"""Calendar feeds and the share page behind secret share links, and the coordinators' link manager.

The share page, the feed and single-meeting downloads need no sign-in: the token is the
key. Managing and rotating links needs a coordinator.
"""

from __future__ import annotations

import re
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
from flask_babel import gettext as _
from flask_login import login_required
from flask_wtf import FlaskForm
from werkzeug.http import is_resource_modified
from wtforms import HiddenField
from wtforms.validators import DataRequired

from scheduler.calendar.feeds import DEFAULT_UID_DOMAIN, FeedSettings
from scheduler.calendar.shared import (
    SharedFeed,
    meeting_calendar,
    shared_delegation,
    shared_meeting,
    shared_person,
)
from scheduler.calendar.validators import FeedValidators, etag_of
from scheduler.extensions import db
from scheduler.i18n import display_name, format_clock, format_day
from scheduler.itinerary.releases import shared_meetings
from scheduler.itinerary.share_links import rotate_share_link, share_link_uses, share_paths
from scheduler.itinerary.times import to_local
from scheduler.models import Delegation, Meeting, Person
from scheduler.web.common import delegation_or_404, needs
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
    entity = shared_entity_or_404(token, used_for="calendar")
    feed = SharedFeed(db.session, entity, feed_settings())
    validators = feed.stored_validators()
    if validators is not None and not is_resource_modified(
        request.environ, etag=validators.etag, last_modified=validators.last_modified
    ):
        return _with_validators(Response(status=304), validators)
    stored = feed.stored() if validators is not None else None
    if stored is not None:
        body, validators = stored.body, stored  # built before under the same fingerprint
    else:
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
    response.headers["Content-Disposition"] = meeting_file_disposition(meeting)
    response.set_etag(etag_of(body))
    response.last_modified = meeting.updated_at.replace(microsecond=0)
    return _private(response).make_conditional(request)


def meeting_file_disposition(meeting: Meeting) -> str:
    """'attachment' named by the meeting's day and title, as the attendee knows it (not its key).

    An ASCII name for old clients and the exact one (RFC 6266 ``filename*``) for the rest.
    """
    day = to_local(meeting.start, meeting.zone_name).date().isoformat()
    name = re.sub(r'[\\/:*?"<>|\x00-\x1f]+', " ", f"{day} {meeting.title}").strip()[:120] + ".ics"
    fallback = re.sub(r"[^A-Za-z0-9 ._-]+", "", name).strip() or f"{day}.ics"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def meeting_when(meeting: Meeting) -> str:
    """'Wed 25 Sep 2024, 14:00 – 15:30 JST' in the meeting's zone; both names across a change.

    In the reader's language: 2024年9月25日(水) 14:00 – 15:30 JST.
    """
    zone_name = meeting.zone_name
    start, end = to_local(meeting.start, zone_name), to_local(meeting.end, zone_name)
    text = f"{format_day(start)}, {format_clock(start)}"
    if start.tzname() != end.tzname():
        text += f" {start.tzname()}"
    if end.date() == start.date():
        end_text = format_clock(end)
    else:
        end_text = f"{format_day(end)}, {format_clock(end)}"
    return f"{text} \N{EN DASH} {end_text} {end.tzname()}"


@bp.get("/<token>")
def landing(token: str):
    entity = shared_entity_or_404(token, used_for="page")
    delegation, person = shared_delegation(entity), shared_person(entity)
    meetings = shared_meetings(db.session, delegation, person)
    html = render_template(
        "share/landing.html",
        delegation=delegation,
        person=person,
        token=token,
        meetings=meetings,
        when={meeting.id: meeting_when(meeting) for meeting in meetings},
        links=subscription_links(entity, feed_settings()),
        paths=share_paths(entity),
        latest_version=_latest_version(delegation),
    )
    return _private(Response(html))


def _latest_version(delegation: Delegation) -> int | None:
    from scheduler.itinerary.releases import latest_release

    release = latest_release(db.session, delegation.id)
    return release.version if release is not None else None


class RotateShareLinkForm(FlaskForm):
    target = HiddenField(validators=[DataRequired()])
    # "yes" only from the confirmation page: the first click asks, the second replaces.
    confirmed = HiddenField()


LINK_USES = {
    "calendar": "calendar feed",
    "page": "share page",
    "agenda": "agenda page",
    "pdf": "agenda PDF",
}


def _link_rows(delegation: Delegation) -> list[tuple[str, str, Delegation | Person]]:
    """(target, label, entity): the whole delegation first, then its people by name."""
    people = sorted(delegation.people, key=lambda p: (p.name.casefold(), p.key))
    return [("delegation", _("Whole delegation"), delegation)] + [
        (person.key, display_name(person), person) for person in people
    ]


def _last_use(use, zone_name: str) -> dict | None:
    if use is None:
        return None
    return {
        "at": to_local(use.last_used_at, zone_name),
        "what": use.used_for,  # the page words it: wording.use_label
        "client": use.user_agent,
    }


@bp.get("/manage/<delegation_key>")
@login_required
@needs(get="manage", post="manage")
def manage(delegation_key: str):
    delegation = delegation_or_404(delegation_key)
    settings = feed_settings()
    rows = _link_rows(delegation)
    uses = share_link_uses(db.session, [entity for _, _, entity in rows])
    links = [
        {
            "target": target,
            "label": label,
            "page": settings.base_url + url_for("share.landing", token=entity.share_token),
            "feed": subscription_links(entity, settings),
            "paths": share_paths(entity),
            "last_use": _last_use(uses.get(entity.share_selector), delegation.timezone),
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
@needs(get="manage", post="manage")
def rotate(delegation_key: str):
    """First the confirmation page (what stops working, when the link was last used), then a
    new link. Both steps are plain forms, so it works without JavaScript."""
    delegation = delegation_or_404(delegation_key)
    form = RotateShareLinkForm()
    if not form.validate_on_submit():
        abort(400, description="The form's target field is missing. Reload the page.")
    target = form.target.data
    entity, label = next(
        ((e, la) for t, la, e in _link_rows(delegation) if t == target), (None, "")
    )
    if entity is None:
        abort(404)
    if form.confirmed.data != "yes":
        use = share_link_uses(db.session, [entity]).get(entity.share_selector)
        page = render_template(
            "share/confirm_rotate.html",
            delegation=delegation,
            form=form,
            target=target,
            label=label,
            whole_delegation=target == "delegation",
            last_use=_last_use(use, delegation.timezone),
        )
        return _private(Response(page))
    rotate_share_link(entity)
    db.session.commit()
    flash(
        _(
            "New share link for %(label)s. The old link no longer works: send the new one, and "
            "ask anyone subscribed to the old calendar feed to subscribe again.",
            label=label,
        ),
        "info",
    )
    return redirect(url_for("share.manage", delegation_key=delegation.key))
