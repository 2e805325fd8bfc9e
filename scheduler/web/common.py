"""What every coordinator area's views share: loading the delegation, conflicts, stale edits.

Meetings, people, venues and the delegations area all import from here, never from each other.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from functools import lru_cache, wraps
from zoneinfo import available_timezones

from flask import abort, current_app, g, has_request_context, request
from flask_babel import gettext
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from scheduler import i18n, wording
from scheduler.agenda.assemble import native_language
from scheduler.extensions import db
from scheduler.itinerary import access
from scheduler.itinerary.conflicts import KINDS
from scheduler.itinerary.document import load_delegation
from scheduler.itinerary.review import overrides_by_conflict, with_overrides
from scheduler.itinerary.summary import reviewed_conflicts as _reviewed_conflicts
from scheduler.itinerary.travel import estimates_travel
from scheduler.models import Delegation
from scheduler.wording import CONFLICT_KIND_LABELS, conflict_kind_label  # noqa: F401


def conflict_kinds() -> list[tuple[str, str]]:
    """(kind, label) in the engine's order: every kind it can report."""
    return [(kind, conflict_kind_label(kind)) for kind in KINDS]


def zone_names() -> list[str]:
    """IANA zone names for the time-zone fields' suggestions (from tzdata, no network)."""
    return _zone_names()


@lru_cache(maxsize=1)
def _zone_names() -> list[str]:
    return sorted(z for z in available_timezones() if "/" in z and not z.startswith("Etc/"))


def behind_share_link() -> bool:
    """Whether this page is for an attendee holding a share link (no account, no sign-in)."""
    if not has_request_context():  # an agenda rendered for a PDF job or a test
        return False
    return request.path.startswith("/share/") and not request.path.startswith("/share/manage/")


def duration_text(minutes: int) -> str:
    """'45 min', '2 h', '3 h 30 min' (45분, 2시간 30분; 45分, 2時間30分)."""
    hours, rest = divmod(minutes, 60)
    if not hours:
        return gettext("%(num)d min", num=rest)
    if not rest:
        return gettext("%(num)d h", num=hours)
    return gettext("%(hours)d h %(minutes)d min", hours=hours, minutes=rest)


def gap_text(note, arrives: datetime) -> str:
    """The time between two meetings in words: the same day in hours and minutes, else the day."""
    left = arrives - timedelta(minutes=note.gap_minutes)  # on the arriving meeting's clock
    if left.date() == arrives.date():
        return gettext("%(duration)s between meetings", duration=duration_text(note.gap_minutes))
    if left.date() == arrives.date() - timedelta(days=1):
        return gettext(
            "next day: the previous meeting ended the day before at %(time)s",
            time=i18n.format_clock(left),
        )
    return gettext(
        "the previous meeting ended on %(day)s at %(time)s",
        day=i18n.format_day(left, "day"),
        time=i18n.format_clock(left),
    )


_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Fields whose stored values are codes, and the words for them.
_CODED_FIELDS = {
    "status": wording.status_label,
    "kind": wording.kind_label,
}


def history_value(value, field: str | None = None, entity: str | None = None) -> str:
    """A history value as a person reads it, in their language: codes as words (confirmed,
    owner, ko), instants and dates as the language writes them, attendees as 'lim (chair)',
    lists joined, '—' for nothing. The history keeps the codes; the words are made here."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if isinstance(value, list):
        return ", ".join(_history_item(v, field, entity) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {history_value(v, k, entity)}" for k, v in value.items())
    if isinstance(value, str):
        if field in _CODED_FIELDS:
            return _CODED_FIELDS[field](value)
        if field == "role":
            if entity == "membership":
                return wording.access_role_label(value)
            return wording.person_role_label(value)
        if field in ("languages", "language"):
            return i18n.language_name(value)
        if _INSTANT.fullmatch(value):
            moment = datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
            return gettext("%(moment)s UTC", moment=i18n.format_timestamp(moment))
        if _DATE.fullmatch(value):
            try:
                return i18n.format_day(datetime.strptime(value, "%Y-%m-%d"), "weekday_date")
            except ValueError:
                pass
    text = str(value)
    return text if len(text) <= 300 else text[:299] + "…"


def _history_item(value, field: str | None, entity: str | None) -> str:
    if isinstance(value, dict) and "person" in value:
        role = value.get("role")
        if role and role != "required":
            return f"{value['person']} ({wording.attendee_role_label(role)})"
        return value["person"]
    return history_value(value, field, entity)


def signed_in() -> bool:
    """Whether to show the account's menu; never asks a database that is not there.

    Error pages call this too: while the database is down, the page shows no account rather
    than failing itself (which would leave the server's bare "Internal Server Error").
    """
    if g.get("database_unavailable"):
        return False
    try:
        return current_user.is_authenticated
    except SQLAlchemyError:
        db.session.rollback()
        g.database_unavailable = True
        return False


def register_template_helpers(app) -> None:
    app.add_template_filter(history_value, "history_value")
    app.add_template_global(signed_in)
    app.add_template_global(current_access)
    app.add_template_global(gap_text)
    app.add_template_global(zone_names)
    app.add_template_global(behind_share_link)
    app.add_template_global(native_language)
    wording.register_template_helpers(app)
    from scheduler.web.releases.views import titles_of, unreleased_count

    app.add_template_global(unreleased_count)
    app.add_template_global(titles_of)


# --------------------------------------------------------------------------- who may do what
#
# Every view that shows or changes a delegation says what it needs, per HTTP method, with
# ``@needs``; the loaders below read it for the request, so a view cannot load a delegation
# without a check, and a test walks app.url_map to see that every route says something.

ACCOUNT = "account"  # any signed-in account: no delegation involved, or one it creates
ADMIN = "admin"  # administrators only: the accounts pages


def needs(get: access.Need | None = "read", post: access.Need | None = "edit"):
    """Declare what a delegation view needs for reads (GET) and for writes (POST)."""

    def declare(view):
        view.needs = {"GET": get, "HEAD": get, "POST": post}
        return view

    return declare


def needs_account(view):
    """A view for any signed-in account that touches no delegation's data before checking."""
    view.needs = {"GET": ACCOUNT, "HEAD": ACCOUNT, "POST": ACCOUNT}
    return view


def needs_admin(view):
    """A view for administrators only (403 for everyone else); sign-in is checked first."""

    @wraps(view)
    def checked(*args, **kwargs):
        if not (current_user.is_authenticated and current_user.is_admin):
            abort(403)
        return view(*args, **kwargs)

    checked.needs = {"GET": ADMIN, "HEAD": ADMIN, "POST": ADMIN}
    return checked


def declared_need(view) -> dict | None:
    return getattr(view, "needs", None)


def _need_of_this_request() -> access.Need:
    view = current_app.view_functions.get(request.endpoint)
    need = (declared_need(view) or {}).get(request.method)
    if need is None or need == ACCOUNT:
        # A route that forgot to say what it needs serves nobody (and fails the url_map test).
        current_app.logger.error("%s declares no need for %s", request.endpoint, request.method)
        abort(403)
    return need


def _checked(load) -> Delegation:
    try:
        delegation, granted = load()
    except access.NoSuchDelegation:
        abort(404)
    except access.NotAllowed:
        abort(403)
    g.access = granted
    if granted.is_host:
        access.restrict_to_host(db.session, delegation, granted.host_organization_id)
    return delegation


def delegation_or_404(key: str) -> Delegation:
    """The delegation row, if the signed-in account may do what this view needs (else 404/403).

    A host gets the loaded programme, restricted to its part, whatever the view asked for.
    """
    user = current_user if current_user.is_authenticated else None
    need = _need_of_this_request()

    def load():
        delegation, granted = access.delegation_for(db.session, user, key, need)
        if granted.is_host:
            delegation = load_delegation(db.session, key)
        return delegation, granted

    return _checked(load)


def loaded_delegation_or_404(key: str) -> Delegation:
    """The same, with everything a programme page reads, in a fixed number of queries.

    For a host, the programme holds only its organisation's meetings, their people and
    venues, and no internal notes.
    """
    user = current_user if current_user.is_authenticated else None
    need = _need_of_this_request()
    return _checked(
        lambda: access.delegation_for(db.session, user, key, need, loader=load_delegation)
    )


def current_access() -> access.Access | None:
    """What the signed-in account may do in the delegation this request loaded."""
    return g.get("access")


def estimate_travel() -> bool:
    return estimates_travel(current_app.config)


def reviewed_conflicts(delegation: Delegation):
    """Every conflict of the delegation with the acknowledgements that still hold."""
    reviewed = _reviewed_conflicts(
        db.session,
        delegation,
        estimate_travel=estimate_travel(),
        cached=request.method in ("GET", "HEAD") and not db.session.dirty and not db.session.new,
    )
    reviewed = with_overrides(reviewed, overrides_by_conflict(db.session, delegation.id))
    return visible_conflicts(delegation, reviewed, lambda r: r.conflict)


def visible_conflicts(delegation: Delegation, items: list, conflict_of=lambda c: c) -> list:
    """All of them, or for a host only those between meetings of its restricted programme."""
    granted = current_access()
    if granted is None or not granted.is_host:
        return items
    keys = {m.key for m in delegation.meetings}
    return [item for item in items if set(conflict_of(item).meetings) <= keys]


def stale_edit(form, row, values_of) -> bool:
    """Stamp an edit form when it opens; when it is saved, whether the row changed meanwhile.

    The row is read again first, locked (``FOR UPDATE`` on PostgreSQL) so that two saves of it
    take turns; the form then compares it with the values it opened with (``EditStamped``).
    """
    if not form.is_submitted():
        form.stamp(values_of(row))
        return False
    db.session.refresh(row, with_for_update=True)
    return form.refused_as_stale(values_of(row))


def user_id() -> int | None:
    return current_user.id if current_user.is_authenticated else None
