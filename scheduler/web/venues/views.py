"""Venues of a delegation with their rooms and opening hours, and travel times between them."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from scheduler.extensions import db
from scheduler.models import WEEKDAYS, TravelTime, Venue
from scheduler.operations import programme_data
from scheduler.web.common import current_access, delegation_or_404, needs, stale_edit
from scheduler.web.fields import choices
from scheduler.web.venues import bp
from scheduler.web.venues.forms import (
    WEEKDAY_NAMES,
    TravelTimeForm,
    VenueForm,
    format_hours,
    opening_hours_from,
)

BLANK_ROOM_ROWS = 2
VENUE_FIELDS = ("name", "native_name", "address", "timezone", "latitude", "longitude")
TRAVEL_FIELDS = ("from_venue_id", "to_venue_id", "minutes", "mode")


def _venues(delegation) -> list[Venue]:
    granted = current_access()
    if granted is not None and granted.is_host:
        return sorted(delegation.venues, key=lambda v: v.name)
    return list(
        db.session.scalars(
            select(Venue)
            .where(Venue.delegation_id == delegation.id)
            .options(selectinload(Venue.rooms))
            .order_by(Venue.name)
        )
    )


@bp.route("/delegations/<key>/venues")
@login_required
@needs()
def index(key: str):
    delegation = delegation_or_404(key)
    venues = _venues(delegation)
    names = {v.id: v.name for v in venues}
    travel = [
        t
        for t in db.session.scalars(
            select(TravelTime).where(TravelTime.delegation_id == delegation.id)
        )
        if t.from_venue_id in names and t.to_venue_id in names
    ]
    travel = sorted(travel, key=lambda t: (names[t.from_venue_id], names[t.to_venue_id]))
    return render_template(
        "venues/index.html",
        delegation=delegation,
        venues=venues,
        travel=travel,
        venue_name=names,
        weekdays=[(d, WEEKDAY_NAMES[d]) for d in WEEKDAYS],
        format_hours=format_hours,
    )


# --------------------------------------------------------------------------- venues


def _venue_or_404(delegation, venue_key: str) -> Venue:
    venue = db.session.scalar(
        select(Venue)
        .where(Venue.delegation_id == delegation.id, Venue.key == venue_key)
        .options(selectinload(Venue.rooms))
    )
    if venue is None:
        abort(404)
    return venue


def _venue_values(venue: Venue) -> dict:
    """What the venue form shows, its rooms included, to tell whether it changed meanwhile."""
    values = {name: getattr(venue, name) for name in VENUE_FIELDS}
    values["opening_hours"] = venue.opening_hours or None
    values["rooms"] = sorted((r.id, r.key, r.name, r.capacity) for r in venue.rooms)
    return values


def _venue_form(delegation, venue: Venue | None) -> VenueForm:
    if request.method == "POST":
        form = VenueForm()
    else:
        form = VenueForm(obj=venue)
        if venue is None:
            form.timezone.data = delegation.timezone
        else:
            for day in WEEKDAYS:
                form[f"hours_{day}"].data = format_hours((venue.opening_hours or {}).get(day))
            while form.rooms.entries:  # filled from venue.rooms by obj=; refill with their ids
                form.rooms.pop_entry()
            for room in venue.rooms:
                form.rooms.append_entry(
                    {
                        "room_id": str(room.id),
                        "key": room.key,
                        "name": room.name,
                        "capacity": room.capacity,
                    }
                )
        for _ in range(BLANK_ROOM_ROWS):
            form.rooms.append_entry()
    if venue is not None:
        form.key.data = venue.key  # keys are identities: fixed once created
    return form


def _save_venue(delegation, venue: Venue | None, form: VenueForm) -> Venue | None:
    valid = form.validate_on_submit()
    hours = opening_hours_from(form)
    if venue is None and form.key.data:
        taken = db.session.scalar(
            select(Venue.id).where(Venue.delegation_id == delegation.id, Venue.key == form.key.data)
        )
        if taken:
            form.key.errors.append(
                f"Another venue of this delegation has the key '{form.key.data}'."
            )
    existing_rooms = {str(r.id): r for r in venue.rooms} if venue else {}
    for row in form.rooms:
        room_id = row.form.room_id.data
        if room_id and room_id not in existing_rooms:
            row.form.room_id.errors = ["This room belongs to another venue."]
        elif (
            not room_id
            and row.form.key.data
            and any(r.key == row.form.key.data for r in existing_rooms.values())
        ):
            row.form.key.errors = [*row.form.key.errors, "This venue has a room with that key."]
    errors = any(f.errors for f in form) or any(
        sub.errors for row in form.rooms for sub in row.form
    )
    if not valid or errors:
        return None
    values = {"key": form.key.data, "opening_hours": hours}
    values.update({name: form[name].data for name in VENUE_FIELDS})
    rooms = [
        programme_data.RoomValues(
            existing_rooms.get(row.form.room_id.data),
            row.form.key.data,
            row.form.name.data,
            row.form.capacity.data,
        )
        for row in form.rooms
        if not row.form.is_blank
    ]
    venue = programme_data.save_venue(db.session, delegation, venue, values, rooms)
    db.session.commit()
    return venue


@bp.route("/delegations/<key>/venues/new", methods=["GET", "POST"])
@login_required
@needs(get="edit")
def create(key: str):
    delegation = delegation_or_404(key)
    form = _venue_form(delegation, None)
    if form.is_submitted():
        venue = _save_venue(delegation, None, form)
        if venue is not None:
            flash(_("%(name)s added.", name=venue.name), "info")
            return redirect(url_for("venues.index", key=key))
    return render_template("venues/form.html", delegation=delegation, form=form, venue=None)


@bp.route("/delegations/<key>/venues/<venue_key>/edit", methods=["GET", "POST"])
@login_required
@needs(get="edit")
def edit(key: str, venue_key: str):
    delegation = delegation_or_404(key)
    venue = _venue_or_404(delegation, venue_key)
    form = _venue_form(delegation, venue)
    stale = stale_edit(form, venue, _venue_values)
    if not stale and form.is_submitted():
        saved = _save_venue(delegation, venue, form)
        if saved is not None:
            flash(_("%(name)s saved.", name=saved.name), "info")
            return redirect(url_for("venues.index", key=key))
    page = render_template("venues/form.html", delegation=delegation, form=form, venue=venue)
    return page, 409 if stale else 200


# --------------------------------------------------------------------------- travel times


def _travel_form(delegation, travel: TravelTime | None) -> TravelTimeForm:
    form = TravelTimeForm(obj=travel)
    options = [(v.id, v.name) for v in _venues(delegation)]
    form.from_venue_id.choices = choices(options)
    form.to_venue_id.choices = choices(options)
    return form


def _save_travel(delegation, travel: TravelTime | None, form: TravelTimeForm):
    if not form.validate_on_submit():
        return None
    pair = (form.from_venue_id.data, form.to_venue_id.data)
    clash = db.session.scalar(
        select(TravelTime).where(
            TravelTime.from_venue_id == pair[0], TravelTime.to_venue_id == pair[1]
        )
    )
    if clash is not None and clash is not travel:
        form.to_venue_id.errors.append(
            "A travel time for these two venues exists already: edit it."
        )
        return None
    values = {name: form[name].data for name in TRAVEL_FIELDS}
    travel = programme_data.save_travel_time(db.session, delegation, travel, values)
    db.session.commit()
    return travel


@bp.route("/delegations/<key>/travel-times/new", methods=["GET", "POST"])
@login_required
@needs(get="edit")
def create_travel_time(key: str):
    delegation = delegation_or_404(key)
    form = _travel_form(delegation, None)
    if len(form.from_venue_id.choices) < 2:
        flash(_("Add at least two venues before a travel time between them."), "info")
        return redirect(url_for("venues.index", key=key))
    if form.is_submitted() and _save_travel(delegation, None, form) is not None:
        flash(_("Travel time added."), "info")
        return redirect(url_for("venues.index", key=key))
    return render_template("venues/travel_form.html", delegation=delegation, form=form, travel=None)


@bp.route("/delegations/<key>/travel-times/<int:travel_id>/edit", methods=["GET", "POST"])
@login_required
@needs(get="edit")
def edit_travel_time(key: str, travel_id: int):
    delegation = delegation_or_404(key)
    travel = db.session.get(TravelTime, travel_id)
    if travel is None or travel.delegation_id != delegation.id:
        abort(404)
    form = _travel_form(delegation, travel)
    stale = stale_edit(form, travel, _travel_values)
    if not stale and form.is_submitted() and _save_travel(delegation, travel, form) is not None:
        flash(_("Travel time saved."), "info")
        return redirect(url_for("venues.index", key=key))
    page = render_template(
        "venues/travel_form.html", delegation=delegation, form=form, travel=travel
    )
    return page, 409 if stale else 200


def _travel_values(travel: TravelTime) -> dict:
    return {
        "from_venue_id": travel.from_venue_id,
        "to_venue_id": travel.to_venue_id,
        "minutes": travel.minutes,
        "mode": travel.mode,
    }
