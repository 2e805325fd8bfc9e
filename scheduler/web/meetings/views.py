"""Meetings: the edit form with its live conflict check, duplicate (a pre-filled new form),
cancel and restore. Meetings are never deleted."""

from __future__ import annotations

from datetime import datetime, time

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import format_number, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from scheduler.extensions import db
from scheduler.itinerary.conflicts import check_proposed_meeting
from scheduler.itinerary.document import load_meeting
from scheduler.itinerary.editing import (
    MeetingChanges,
    StaleMeetingError,
    TooManyMeetings,
    changed_since,
    check_version,
    create_meeting,
    edit_stamp,
    set_meeting_status,
    slugify,
    unused_meeting_key,
    update_meeting,
)
from scheduler.itinerary.history import history_of
from scheduler.itinerary.review import (
    current_acknowledgements,
    errors_signature,
    overrides_of,
    proposal_for,
    record_override,
    review_conflicts,
)
from scheduler.itinerary.times import meeting_zone_name, to_local
from scheduler.models import (
    Delegation,
    Meeting,
    Organization,
    Person,
    Venue,
)
from scheduler.web.common import (
    current_access,
    delegation_or_404,
    estimate_travel,
    needs,
    user_id,
)
from scheduler.web.fields import (
    choice,
    choices,
    fill_local_time,
    resolve_local_time,
)
from scheduler.web.meetings import bp
from scheduler.web.meetings.forms import NOT_ATTENDING, meeting_form_class

# Attendees are listed chair first, then in the form's order within each role.
ROLE_ORDER = {"chair": 0, "required": 1, "optional": 2, "interpreter": 3}


def _meeting_or_404(delegation: Delegation, meeting_key: str) -> Meeting:
    granted = current_access()
    if granted is not None and granted.is_host:
        # The host's restricted programme is all it may see.
        meeting = next((m for m in delegation.meetings if m.key == meeting_key), None)
    else:
        meeting = load_meeting(db.session, delegation.id, meeting_key)
    if meeting is None:
        abort(404)
    return meeting


STALE_LABELS = {
    "title": _l("Title"),
    "native_title": _l("Title in the delegation's language"),
    "kind": _l("Kind"),
    "status": _l("Status"),
    "start": _l("Starts"),
    "end": _l("Ends"),
    "venue": _l("Venue"),
    "room": _l("Room"),
    "online_url": _l("Online meeting link"),
    "organizations": _l("Organisations"),
    "attendees": _l("Attendees"),
    "agenda": _l("Agenda"),
    "internal_notes": _l("Internal notes"),
}


class MeetingPage:
    """Everything the meeting form needs: the delegation's people, venues, rooms, organisations."""

    def __init__(self, delegation: Delegation, meeting: Meeting | None, source: Meeting | None):
        self.delegation = delegation
        self.meeting = meeting
        self.people = list(
            db.session.scalars(
                select(Person).where(Person.delegation_id == delegation.id).order_by(Person.name)
            )
        )
        self.venues = list(
            db.session.scalars(
                select(Venue)
                .where(Venue.delegation_id == delegation.id)
                .options(selectinload(Venue.rooms))
                .order_by(Venue.name)
            )
        )
        self.venue_by_id = {v.id: v for v in self.venues}
        self.organizations = list(
            db.session.scalars(
                select(Organization)
                .where(Organization.delegation_id == delegation.id)
                .order_by(Organization.name)
            )
        )
        filled_from = meeting or source
        attending = [a.person_id for a in filled_from.attendances] if filled_from else []
        order = {person_id: n for n, person_id in enumerate(attending)}
        self.people.sort(key=lambda p: (order.get(p.id, len(order)), p.name))
        self.form = meeting_form_class(self.people)()
        self._set_choices()
        if not self.form.is_submitted():
            self.fill_from(filled_from)
        self.conflicts = []
        self.needs_confirmation = False
        self.stale: Meeting | None = None
        self.stale_changes: list[tuple[str, str]] = []  # (field, its value now)

    def _set_choices(self) -> None:
        form, home = self.form, self.delegation.timezone
        form.venue_id.choices = [choice(0, _("No venue"), **{"data-zone": home})] + [
            choice(v.id, v.name, **{"data-zone": v.timezone}) for v in self.venues
        ]
        form.room_id.choices = [choice(0, _("No room"))] + [
            choice(
                r.id,
                f"{v.name}: {r.name}"
                + (" " + _("(%(num)d seats)", num=r.capacity) if r.capacity else ""),
                **{"data-venue": str(v.id)},
            )
            for v in self.venues
            for r in v.rooms
        ]
        form.organizations.choices = choices((o.id, o.name) for o in self.organizations)

    def fill_from(self, meeting: Meeting | None) -> None:
        form = self.form
        if meeting is None:
            form.kind.data, form.status.data = "meeting", "confirmed"
            form.venue_id.data = form.room_id.data = 0
            day = self.delegation.start_date
            form.start.data = datetime.combine(day, time(9))
            form.end.data = datetime.combine(day, time(10))
            return
        for name in ("title", "native_title", "kind", "status", "online_url", "agenda"):
            form[name].data = getattr(meeting, name)
        form.internal_notes.data = meeting.internal_notes
        form.venue_id.data = meeting.venue_id or 0
        form.room_id.data = meeting.room_id or 0
        form.organizations.data = [link.organization_id for link in meeting.organization_links]
        roles = {a.person_id: a.role for a in meeting.attendances}
        for person in self.people:
            form[f"attendee_{person.id}"].data = roles.get(person.id, NOT_ATTENDING)
        zone_name = self.zone_name(meeting.venue_id)
        fill_local_time(form.start, form.start_offset, meeting.start, zone_name)
        fill_local_time(form.end, form.end_offset, meeting.end, zone_name)
        if meeting is self.meeting:
            form.version.data = meeting.version
            form.opened.data = edit_stamp(self.shown_values(meeting))

    def shown_values(self, meeting: Meeting) -> dict:
        """What a coordinator sees of the meeting, as text: to say what someone else changed."""
        zone_name = self.zone_name(meeting.venue_id)
        return {
            "title": meeting.title,
            "native_title": meeting.native_title or "",
            "kind": meeting.kind,
            "status": meeting.status,
            "start": f"{to_local(meeting.start, zone_name):%a %d %b %Y %H:%M}",
            "end": f"{to_local(meeting.end, zone_name):%a %d %b %Y %H:%M}",
            "venue": meeting.venue.name if meeting.venue else "",
            "room": meeting.room.name if meeting.room else "",
            "online_url": meeting.online_url or "",
            "organizations": ", ".join(
                link.organization.name for link in meeting.organization_links
            ),
            "attendees": ", ".join(
                a.person.name + ("" if a.role == "required" else f" ({a.role})")
                for a in meeting.attendances
            ),
            "agenda": meeting.agenda or "",
            "internal_notes": meeting.internal_notes or "",
        }

    def zone_name(self, venue_id: int | None) -> str:
        return meeting_zone_name(self.venue_by_id.get(venue_id or 0), self.delegation.timezone)

    @property
    def key(self) -> str:
        if self.meeting is not None:
            return self.meeting.key
        if self.form.key.data:
            return self.form.key.data
        return unused_meeting_key(db.session, self.delegation.id, slugify(self.form.title.data))

    def changes(self) -> MeetingChanges | None:
        """The form's meeting, or None with every problem set on its field."""
        form = self.form
        valid = form.validate_on_submit()
        venue = self.venue_by_id.get(form.venue_id.data or 0)
        zone_name = self.zone_name(form.venue_id.data)
        start = resolve_local_time(form.start, form.start_offset, zone_name)
        end = resolve_local_time(form.end, form.end_offset, zone_name)
        if start and end and end <= start:
            form.end.errors.append("Must be after the start.")
        room_id = form.room_id.data or None
        if room_id and (venue is None or all(r.id != room_id for r in venue.rooms)):
            form.room_id.errors.append(
                "That room is not at the chosen venue: choose one of its rooms, or no room."
            )
        if self.meeting is None and form.key.data:
            taken = db.session.scalar(
                select(Meeting.id).where(
                    Meeting.delegation_id == self.delegation.id, Meeting.key == form.key.data
                )
            )
            if taken:
                form.key.errors.append(
                    _("Another meeting has the key '%(key)s'.", key=form.key.data)
                )
        if not valid or any(field.errors for field in form):
            return None
        return MeetingChanges(
            title=form.title.data,
            native_title=form.native_title.data,
            kind=form.kind.data,
            status=form.status.data,
            start=start,
            end=end,
            venue_id=venue.id if venue else None,
            room_id=room_id,
            online_url=form.online_url.data,
            agenda=form.agenda.data,
            internal_notes=form.internal_notes.data,
            attendees=sorted(
                (
                    (int(field.name.removeprefix("attendee_")), field.data)
                    for field in form.attendee_fields()
                    if field.data != NOT_ATTENDING
                ),
                key=lambda attendee: ROLE_ORDER.get(attendee[1], len(ROLE_ORDER)),
            ),
            organization_ids=list(form.organizations.data or []),
        )

    def check(self, changes: MeetingChanges, key: str) -> list:
        proposal = proposal_for(
            self.delegation.id, self.meeting.id if self.meeting else None, key, changes
        )
        return check_proposed_meeting(db.session, proposal, estimate_travel=estimate_travel())

    def show_stale(self) -> None:
        """Load the meeting as it is now; the form keeps what the coordinator typed."""
        db.session.rollback()
        self.stale = _meeting_or_404(self.delegation, self.meeting.key)
        now = self.shown_values(self.stale)
        self.stale_changes = [
            (STALE_LABELS[name], now[name]) for name in changed_since(self.form.opened.data, now)
        ]
        self.form.opened.data = edit_stamp(now)
        self.meeting = self.stale
        self.form.version.data = self.stale.version
        self.form.version.raw_data = [
            str(self.stale.version)
        ]  # rendered in place of the posted one
        self.form.confirm_conflicts.data = False

    def render(self, status: int = 200):
        meeting = self.meeting
        reviewed, others, overrides = [], {}, []
        if self.conflicts:
            reviewed = review_conflicts(self.conflicts, {})
        elif meeting is not None and not self.form.is_submitted():
            reviewed = self._current_conflicts()
        keys = {k for r in reviewed for k in r.conflict.meetings}
        if keys:
            others = {
                m.key: m
                for m in db.session.scalars(
                    select(Meeting).where(
                        Meeting.delegation_id == self.delegation.id, Meeting.key.in_(keys)
                    )
                )
            }
        meeting_history = []
        if meeting is not None:
            overrides = overrides_of(db.session, meeting.id)
            meeting_history = history_of(
                db.session, self.delegation.id, entity="meeting", key=meeting.key, limit=10
            )
        stale = None
        if self.stale is not None:
            zone_name = self.zone_name(self.stale.venue_id)
            stale = {
                "meeting": self.stale,
                "changes": self.stale_changes,
                "by": self.stale.updated_by.email if self.stale.updated_by else None,
                "at": to_local(self.stale.updated_at, self.delegation.timezone),
                "start": to_local(self.stale.start, zone_name),
                "end": to_local(self.stale.end, zone_name),
            }
        return (
            render_template(
                "meetings/form.html",
                delegation=self.delegation,
                meeting=meeting,
                page=self,
                form=self.form,
                reviewed=reviewed,
                others=others,
                overrides=overrides,
                meeting_history=meeting_history,
                stale=stale,
                home_zone=self.delegation.timezone,
            ),
            status,
        )

    def _current_conflicts(self) -> list:
        """The saved meeting's conflicts now, with the acknowledgements that hold."""
        meeting = self.meeting
        changes = MeetingChanges(
            title=meeting.title,
            kind=meeting.kind,
            status=meeting.status,
            start=meeting.start,
            end=meeting.end,
            venue_id=meeting.venue_id,
            room_id=meeting.room_id,
            attendees=[(a.person_id, a.role) for a in meeting.attendances],
        )
        conflicts = self.check(changes, meeting.key)
        keys = {k for c in conflicts for k in c.meetings}
        versions = dict(
            db.session.execute(
                select(Meeting.key, Meeting.version).where(
                    Meeting.delegation_id == self.delegation.id, Meeting.key.in_(keys)
                )
            ).all()
        )
        acks = current_acknowledgements(db.session, self.delegation.id, versions)
        return review_conflicts(conflicts, acks)


def _save(page: MeetingPage, changes: MeetingChanges):
    """Save unless the check finds errors the coordinator has not confirmed with a reason."""
    form = page.form
    if page.meeting is not None:
        try:
            check_version(page.meeting, form.version.data)
        except StaleMeetingError:
            page.show_stale()
            return page.render(409)
    key = page.key
    conflicts = page.check(changes, key)
    errors = [c for c in conflicts if c.severity == "error"]
    if errors:
        signature = errors_signature(errors)
        confirmed = form.confirm_conflicts.data and form.confirmed_errors.data == signature
        if confirmed and not form.override_reason.data:
            form.override_reason.errors.append("Say why the meeting is saved despite the errors.")
        if form.confirm_conflicts.data and form.confirmed_errors.data != signature:
            flash(_("The conflicts changed since you confirmed them: check them again."), "error")
        if not confirmed or not form.override_reason.data:
            form.confirmed_errors.data = signature
            if not confirmed:
                form.confirm_conflicts.data = False
            page.conflicts = conflicts
            page.needs_confirmation = True
            return page.render(422)
    try:
        if page.meeting is None:
            meeting = create_meeting(
                db.session, page.delegation, changes, key=key, user_id=user_id()
            )
        else:
            meeting = update_meeting(
                db.session,
                page.meeting,
                changes,
                expected_version=form.version.data,
                user_id=user_id(),
            )
        if errors:
            record_override(
                db.session, meeting, errors, user_id=user_id(), reason=form.override_reason.data
            )
        db.session.commit()
    except (StaleMeetingError, StaleDataError):
        page.show_stale()
        return page.render(409)
    except TooManyMeetings as exc:
        db.session.rollback()
        flash(
            _(
                "This delegation has %(limit)s meetings, the most it may have (cancelled "
                "ones count too): ask the administrator to raise the limit.",
                limit=format_number(exc.limit),
            ),
            "error",
        )
        return page.render(422)
    except IntegrityError:
        if page.meeting is not None:
            raise
        db.session.rollback()  # another coordinator created a meeting with this key just now
        form.key.errors.append(_("Another meeting has the key '%(key)s' now: save again.", key=key))
        return page.render(409)
    warnings = len(conflicts) - len(errors)
    message = _("Meeting saved")
    if errors:
        message += " " + ngettext(
            "despite %(num)d error (reason recorded)",
            "despite %(num)d errors (reason recorded)",
            len(errors),
        )
    if warnings:
        message += ngettext(
            "; %(num)d warning to review below", "; %(num)d warnings to review below", warnings
        )
    flash(message + _("."), "info")
    return redirect(url_for("meetings.edit", key=page.delegation.key, meeting_key=meeting.key))


@bp.route("/delegations/<key>/meetings/new", methods=["GET", "POST"])
@login_required
@needs(get="edit")
def create(key: str):
    delegation = delegation_or_404(key)
    source = None
    if request.args.get("copy_of"):
        source = _meeting_or_404(delegation, request.args["copy_of"])
    page = MeetingPage(delegation, None, source)
    if page.form.is_submitted():
        changes = page.changes()
        if changes is not None:
            return _save(page, changes)
        return page.render(422)
    return page.render()


@bp.route("/delegations/<key>/meetings/<meeting_key>", methods=["GET", "POST"])
@login_required
@needs()
def edit(key: str, meeting_key: str):
    delegation = delegation_or_404(key)
    page = MeetingPage(delegation, _meeting_or_404(delegation, meeting_key), None)
    if page.form.is_submitted():
        changes = page.changes()
        if changes is not None:
            return _save(page, changes)
        return page.render(422)
    return page.render()


_BAD_VERSION = object()


def _posted_version():
    """The meeting version a button's form was drawn with: None when absent, else a number."""
    text = request.form.get("version", "").strip()
    if not text:
        return None
    return int(text) if text.isascii() and text.isdigit() else _BAD_VERSION


def _refuse_bad_version(back: str):
    flash(
        _(
            "Not changed: the form's version field must be a whole number. "
            "Reload the page and try again."
        ),
        "error",
    )
    return redirect(back)


def _set_status(key: str, meeting_key: str, status: str, done: str):
    """Cancel or restore from a button (CSRFProtect has checked the token of every POST)."""
    delegation = delegation_or_404(key)
    meeting = _meeting_or_404(delegation, meeting_key)
    back = url_for("meetings.edit", key=key, meeting_key=meeting_key)
    expected = _posted_version()
    if expected is _BAD_VERSION:
        return _refuse_bad_version(back)
    try:
        set_meeting_status(
            db.session, meeting, status, expected_version=expected, user_id=user_id()
        )
        db.session.commit()
    except (StaleMeetingError, StaleDataError):
        db.session.rollback()
        flash(
            _(
                "Not changed: someone changed this meeting after you opened it. "
                "Its current state is shown below."
            ),
            "error",
        )
        return redirect(back)
    flash(done, "info")
    return redirect(back)


@bp.post("/delegations/<key>/meetings/<meeting_key>/cancel")
@login_required
@needs()
def cancel(key: str, meeting_key: str):
    return _set_status(
        key, meeting_key, "cancelled", _("Meeting cancelled. Calendars will show it as cancelled.")
    )


@bp.post("/delegations/<key>/meetings/<meeting_key>/restore")
@login_required
@needs()
def restore(key: str, meeting_key: str):
    """Back as tentative; errors it would cause are confirmed through the form like any save."""
    delegation = delegation_or_404(key)
    meeting = _meeting_or_404(delegation, meeting_key)
    page = MeetingPage(delegation, meeting, None)
    form = page.form
    page.fill_from(meeting)
    form.status.data = "tentative"
    changes = MeetingChanges(
        title=meeting.title,
        kind=meeting.kind,
        status="tentative",
        start=meeting.start,
        end=meeting.end,
        venue_id=meeting.venue_id,
        room_id=meeting.room_id,
        attendees=[(a.person_id, a.role) for a in meeting.attendances],
    )
    errors = [c for c in page.check(changes, meeting.key) if c.severity == "error"]
    if errors:
        expected = _posted_version()
        if expected is _BAD_VERSION:
            return _refuse_bad_version(url_for("meetings.edit", key=key, meeting_key=meeting_key))
        try:
            check_version(meeting, expected or 0)
        except StaleMeetingError:
            flash(_("Not restored: someone changed this meeting after you opened it."), "error")
            return redirect(url_for("meetings.edit", key=key, meeting_key=meeting_key))
        page.conflicts = errors
        page.needs_confirmation = True
        form.confirmed_errors.data = errors_signature(errors)
        form.confirm_conflicts.data = False
        flash(
            _(
                "Restoring this meeting would cause the errors below. It is not restored yet: "
                "confirm with a reason and save, or change it first."
            ),
            "error",
        )
        return page.render(422)
    return _set_status(key, meeting_key, "tentative", _("Meeting restored as tentative."))
