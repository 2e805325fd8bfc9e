"""Meeting requests of a delegation (list, form, matrix) and suggested schedules."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import login_required
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.itinerary.editing import KEY_MAX, KEY_RE, local_to_utc, slugify
from scheduler.itinerary.times import WallClockError, to_local
from scheduler.models import (
    INTERPRETER_CHOICES,
    REQUEST_PRIORITIES,
    Meeting,
    MeetingRequest,
    Organization,
    Person,
    SuggestionRun,
    Venue,
)
from scheduler.suggest import ProposalOutdated, apply_proposal
from scheduler.suggest.jobs import start_run
from scheduler.web.common import current_access, delegation_or_404, needs, user_id
from scheduler.web.requests import bp

DEFAULT_DURATION = 30


def _requests(delegation) -> list[MeetingRequest]:
    rows = list(
        db.session.scalars(
            select(MeetingRequest)
            .where(MeetingRequest.delegation_id == delegation.id)
            .order_by(MeetingRequest.key)
        )
    )
    granted = current_access()
    if granted is not None and granted.is_host:
        org = db.session.get(Organization, granted.host_organization_id)
        rows = [r for r in rows if org is not None and org.key in (r.organizations or [])]
    return rows


def _latest_run(delegation) -> SuggestionRun | None:
    return db.session.scalar(
        select(SuggestionRun)
        .where(SuggestionRun.delegation_id == delegation.id)
        .order_by(SuggestionRun.id.desc())
        .limit(1)
    )


def _unused_request_key(delegation, base: str, taken: set[str]) -> str:
    base = base[: KEY_MAX - 4].strip("-") or "request"
    key, n = base, 2
    while key in taken:
        key, n = f"{base}-{n}", n + 1
    taken.add(key)
    return key


@bp.route("/delegations/<key>/requests")
@login_required
@needs()
def index(key: str):
    delegation = delegation_or_404(key)
    rows = _requests(delegation)
    meetings = {
        m.key: m
        for m in db.session.scalars(
            select(Meeting).where(
                Meeting.delegation_id == delegation.id,
                Meeting.key.in_([r.key for r in rows] or [""]),
                Meeting.status != "cancelled",
            )
        )
    }
    run = _latest_run(delegation)
    reasons = {}
    if run is not None and run.state == "done" and run.result:
        reasons = {u["request"]: u["reason"] for u in run.result.get("unplaced", [])}
    people = {p.key: p.name for p in delegation.people}
    venues = {v.key: v for v in delegation.venues}
    return render_template(
        "requests/index.html",
        delegation=delegation,
        rows=rows,
        meetings=meetings,
        reasons=reasons,
        people=people,
        venues=venues,
        to_local=to_local,
    )


def _parse_local(text: str, zone_name: str, field: str, errors: dict) -> datetime | None:
    if not text:
        return None
    try:
        return local_to_utc(datetime.fromisoformat(text), zone_name)
    except (ValueError, WallClockError) as exc:
        errors[field] = gettext("%(field)s: %(error)s", field=field, error=str(exc))
        return None


def _check_form(values: dict, people, venues, delegation, errors: dict):
    """The form's fields checked (``errors`` names each wrong one): duration and window."""
    person_keys = {p.key for p in people}
    venue_keys = {v.key for v in venues}
    if not values["title"]:
        errors["title"] = gettext("title: give the meeting a title")
    elif len(values["title"]) > 300:
        errors["title"] = gettext("title: at most 300 characters")
    if values["key"] and (not KEY_RE.match(values["key"]) or len(values["key"]) > KEY_MAX):
        errors["key"] = gettext("key: lowercase letters, digits and single hyphens")
    if not values["attendees"] or not set(values["attendees"]) <= person_keys:
        errors["attendees"] = gettext("attendees: choose at least one person")
    if not values["venues"] or not set(values["venues"]) <= venue_keys:
        errors["venues"] = gettext("venues: choose at least one venue")
    try:
        duration = int(values["duration_minutes"])
        if not 5 <= duration <= 1440:
            raise ValueError
    except ValueError:
        errors["duration_minutes"] = gettext("duration_minutes: a whole number from 5 to 1440")
        duration = DEFAULT_DURATION
    if values["priority"] not in REQUEST_PRIORITIES:
        errors["priority"] = gettext("priority: must, should or could")
    if values["interpreter"] not in INTERPRETER_CHOICES:
        errors["interpreter"] = gettext("interpreter: if_needed or none")
    not_before = _parse_local(values["not_before"], delegation.timezone, "not_before", errors)
    not_after = _parse_local(values["not_after"], delegation.timezone, "not_after", errors)
    if not_before and not_after and not_after <= not_before:
        errors["not_after"] = gettext("not_after: must be after not_before")
    return duration, not_before, not_after


@bp.route("/delegations/<key>/requests/new", methods=["GET", "POST"])
@login_required
@needs(get="edit", post="edit")
def create(key: str):
    delegation = delegation_or_404(key)
    people = list(
        db.session.scalars(
            select(Person).where(Person.delegation_id == delegation.id).order_by(Person.name)
        )
    )
    venues = list(
        db.session.scalars(
            select(Venue).where(Venue.delegation_id == delegation.id).order_by(Venue.name)
        )
    )
    errors: dict[str, str] = {}
    values = {
        "title": "",
        "key": "",
        "attendees": [],
        "venues": [],
        "duration_minutes": str(DEFAULT_DURATION),
        "not_before": "",
        "not_after": "",
        "priority": "should",
        "interpreter": "if_needed",
    }
    if request.method == "POST":
        form = request.form
        values.update(
            {
                name: form.get(name, "").strip()
                for name in values
                if name not in ("attendees", "venues")
            }
        )
        values["attendees"] = form.getlist("attendees")
        values["venues"] = form.getlist("venues")
        duration, not_before, not_after = _check_form(values, people, venues, delegation, errors)
        taken = set(
            db.session.scalars(
                select(MeetingRequest.key).where(MeetingRequest.delegation_id == delegation.id)
            )
        )
        if values["key"] and values["key"] in taken:
            errors["key"] = gettext("key: another request has this key")
        if not errors:
            taken |= set(
                db.session.scalars(
                    select(Meeting.key).where(Meeting.delegation_id == delegation.id)
                )
            )
            new = MeetingRequest(
                delegation_id=delegation.id,
                key=values["key"]
                or _unused_request_key(delegation, slugify(values["title"]), taken),
                title=values["title"],
                kind="meeting",
                attendees=[{"person": k, "role": "required"} for k in values["attendees"]],
                organizations=[],
                duration_minutes=duration,
                venues=values["venues"],
                not_before=not_before,
                not_after=not_after,
                priority=values["priority"],
                interpreter=values["interpreter"],
            )
            db.session.add(new)
            db.session.commit()
            flash(gettext("Request %(key)s added.", key=new.key), "success")
            return redirect(url_for("requests.index", key=delegation.key))
    status = 400 if errors else 200
    return (
        render_template(
            "requests/form.html",
            delegation=delegation,
            people=people,
            venues=venues,
            values=values,
            errors=errors,
            priorities=REQUEST_PRIORITIES,
        ),
        status,
    )


def _matrix_sides(delegation):
    """(companies, partners): organisations with delegation people, and with host people."""
    people = list(db.session.scalars(select(Person).where(Person.delegation_id == delegation.id)))
    by_org: dict[int, dict[str, list[Person]]] = defaultdict(lambda: defaultdict(list))
    for p in people:
        if p.organization_id is not None:
            by_org[p.organization_id][p.role].append(p)
    orgs = {
        o.id: o
        for o in db.session.scalars(
            select(Organization).where(Organization.delegation_id == delegation.id)
        )
    }
    companies = sorted(
        (orgs[i] for i, roles in by_org.items() if roles.get("delegation")), key=lambda o: o.name
    )
    partners = sorted(
        (orgs[i] for i, roles in by_org.items() if roles.get("host") or roles.get("guest")),
        key=lambda o: o.name,
    )
    return companies, partners, by_org


@bp.route("/delegations/<key>/requests/matrix", methods=["GET", "POST"])
@login_required
@needs(get="edit", post="edit")
def matrix(key: str):
    delegation = delegation_or_404(key)
    companies, partners, by_org = _matrix_sides(delegation)
    rows = _requests(delegation)
    existing = {(tuple(sorted(r.organizations or []))) for r in rows}

    def has(company, partner) -> bool:
        return any(company.key in pair and partner.key in pair for pair in existing)

    venues = list(
        db.session.scalars(
            select(Venue).where(Venue.delegation_id == delegation.id).order_by(Venue.name)
        )
    )
    # Offered first: the venue most of the programme happens at (the host's, as a rule).
    used = defaultdict(int)
    for venue_id in db.session.scalars(
        select(Meeting.venue_id).where(Meeting.delegation_id == delegation.id)
    ):
        used[venue_id] += 1
    venues.sort(key=lambda v: (-used[v.id], v.name))
    if request.method == "POST":
        ticked = set(request.form.getlist("pair"))
        venue_keys = [v for v in request.form.getlist("venues") if v in {x.key for x in venues}]
        try:
            duration = int(request.form.get("duration_minutes") or DEFAULT_DURATION)
            if not 5 <= duration <= 1440:
                raise ValueError
        except ValueError:
            flash(gettext("duration_minutes: a whole number from 5 to 1440"), "error")
            return redirect(url_for("requests.matrix", key=delegation.key))
        if not ticked:
            flash(gettext("Tick at least one company and partner who should meet."), "error")
            return redirect(url_for("requests.matrix", key=delegation.key))
        if not venue_keys:
            flash(gettext("venues: choose at least one venue for the new requests"), "error")
            return redirect(url_for("requests.matrix", key=delegation.key))
        taken = {r.key for r in rows} | set(
            db.session.scalars(select(Meeting.key).where(Meeting.delegation_id == delegation.id))
        )
        created = 0
        for company in companies:
            for partner in partners:
                if f"{company.key}|{partner.key}" not in ticked or has(company, partner):
                    continue
                attendees = [p.key for p in by_org[company.id]["delegation"]] + [
                    p.key for p in by_org[partner.id]["host"] + by_org[partner.id]["guest"]
                ]
                db.session.add(
                    MeetingRequest(
                        delegation_id=delegation.id,
                        key=_unused_request_key(
                            delegation, f"match-{company.key}-{partner.key}", taken
                        ),
                        title=gettext(
                            "Business matching: %(company)s and %(partner)s",
                            company=company.name,
                            partner=partner.name,
                        ),
                        kind="meeting",
                        attendees=[{"person": k, "role": "required"} for k in attendees],
                        organizations=sorted({company.key, partner.key}),
                        duration_minutes=duration,
                        venues=venue_keys,
                        priority="should",
                        interpreter="if_needed",
                    )
                )
                created += 1
        db.session.commit()
        flash(gettext("%(n)d request(s) created.", n=created), "success")
        return redirect(url_for("requests.index", key=delegation.key))
    return render_template(
        "requests/matrix.html",
        delegation=delegation,
        companies=companies,
        partners=partners,
        has=has,
        venues=venues,
    )


# --------------------------------------------------------------------------- suggestions


def _proposal_days(delegation, proposal: dict):
    """The programme with the proposal in it, by local day: (day, [(item, proposed?)])."""
    items = []
    for m in db.session.scalars(
        select(Meeting).where(Meeting.delegation_id == delegation.id, Meeting.status != "cancelled")
    ):
        local = to_local(m.start, m.zone_name)
        items.append(
            (
                local,
                to_local(m.end, m.zone_name),
                m.title,
                m.venue.name if m.venue else "",
                m.status,
                False,
                m.key,
            )
        )
    requests = {r.key: r for r in _requests(delegation)}
    venues = {v.key: v for v in delegation.venues}
    for p in proposal.get("placed", []):
        start, end = datetime.fromisoformat(p["start"]), datetime.fromisoformat(p["end"])
        venue = venues.get(p["venue"])
        room = next((r.name for r in venue.rooms if r.key == p["room"]), None) if venue else None
        where = (venue.name if venue else p["venue"]) + (f" · {room}" if room else "")
        title = requests[p["request"]].title if p["request"] in requests else p["request"]
        items.append((start, end, title, where, "tentative", True, p["request"]))
    items.sort(key=lambda i: (i[0], i[6]))
    days: dict = defaultdict(list)
    for item in items:
        days[item[0].date()].append(item)
    return sorted(days.items())


@bp.route("/delegations/<key>/suggest", methods=["GET", "POST"])
@login_required
@needs(get="read", post="edit")
def suggest(key: str):
    delegation = delegation_or_404(key)
    if request.method == "POST":
        try:
            time_limit = float(request.form.get("time_limit") or 10)
            if not 0.1 <= time_limit <= 600:
                raise ValueError
        except ValueError:
            flash(gettext("time_limit: seconds from 0.1 to 600"), "error")
            return redirect(url_for("requests.suggest", key=delegation.key))
        start_run(
            delegation,
            replan=bool(request.form.get("replan")),
            time_limit=time_limit,
            user_id=user_id(),
        )
        db.session.commit()
        return redirect(url_for("requests.suggest", key=delegation.key))
    run = _latest_run(delegation)
    days = []
    if run is not None and run.state == "done" and run.result:
        days = _proposal_days(delegation, run.result)
    requests = {r.key: r for r in _requests(delegation)}
    return render_template(
        "requests/suggest.html", delegation=delegation, run=run, days=days, requests=requests
    )


@bp.route("/delegations/<key>/suggest/status.json")
@login_required
@needs()
def suggest_status(key: str):
    delegation = delegation_or_404(key)
    run = _latest_run(delegation)
    if run is None:
        return jsonify({"state": None})
    return jsonify({"id": run.id, "state": run.state, "progress": run.progress})


def _run_of_form(delegation) -> SuggestionRun | None:
    try:
        run_id = int(request.form.get("run_id", ""))
    except ValueError:
        return None
    run = db.session.get(SuggestionRun, run_id)
    return run if run is not None and run.delegation_id == delegation.id else None


@bp.route("/delegations/<key>/suggest/apply", methods=["POST"])
@login_required
@needs(get=None, post="edit")
def suggest_apply(key: str):
    delegation = delegation_or_404(key)
    run = _run_of_form(delegation)
    if run is None or run.state != "done" or not run.result:
        flash(gettext("run_id: no finished suggestion to apply"), "error")
        return redirect(url_for("requests.suggest", key=delegation.key))
    try:
        saved = apply_proposal(db.session, delegation, run.result, user_id=user_id())
    except ProposalOutdated as exc:
        db.session.rollback()
        flash(
            gettext("The programme changed since: %(why)s. Run the suggestion again.", why=exc),
            "error",
        )
        return redirect(url_for("requests.suggest", key=delegation.key))
    run.state = "applied"
    db.session.commit()
    flash(gettext("%(n)d tentative meeting(s) added to the programme.", n=len(saved)), "success")
    return redirect(url_for("delegations.programme", key=delegation.key))


@bp.route("/delegations/<key>/suggest/discard", methods=["POST"])
@login_required
@needs(get=None, post="edit")
def suggest_discard(key: str):
    delegation = delegation_or_404(key)
    run = _run_of_form(delegation)
    if run is not None and run.state in ("done", "failed"):
        run.state = "discarded"
        db.session.commit()
        flash(gettext("The proposal was discarded."), "success")
    return redirect(url_for("requests.suggest", key=delegation.key))
