"""Words at the edge: the labels of the product's own values and the conflicts' messages.

The domain keeps its codes (``confirmed``, ``person_double_booked``) and its structured
conflicts; this module turns them into the reader's language, for pages, agenda and PDF alike.
The English conflict message stays the engine's own (``check --json`` keeps it, as the spec
says); Korean and Japanese ones are made here from the conflict's ``details``.
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from scheduler.i18n import (
    current_language,
    display_name,
    format_clock,
    format_clock_range,
    format_date_range,
    format_day,
    zone_name,
)

CONFLICT_KIND_LABELS = {
    "person_double_booked": _l("Person double-booked"),
    "room_double_booked": _l("Room double-booked"),
    "travel_time": _l("Not enough travel time"),
    "outside_availability": _l("Outside a person's availability"),
    "outside_opening_hours": _l("Outside the venue's opening hours"),
    "outside_visit_dates": _l("Outside the visit dates"),
    "over_capacity": _l("Room over capacity"),
    "language_gap": _l("No shared language"),
}
SEVERITY_LABELS = {"error": _l("error"), "warning": _l("warning")}
STATUS_LABELS = {
    "confirmed": _l("confirmed"),
    "tentative": _l("tentative"),
    "cancelled": _l("cancelled"),
}
MEETING_KIND_LABELS = {
    "meeting": _l("meeting"),
    "visit": _l("visit"),
    "briefing": _l("briefing"),
    "ceremony": _l("ceremony"),
    "meal": _l("meal"),
    "transfer": _l("transfer"),
    "press": _l("press"),
    "other": _l("other"),
}
ATTENDEE_ROLE_LABELS = {
    "required": _l("required"),
    "optional": _l("optional"),
    "chair": _l("chair"),
    "interpreter": _l("interpreter"),
}
PERSON_ROLE_LABELS = {
    "delegation": _l("delegation"),
    "host": _l("host"),
    "interpreter": _l("interpreter"),
    "staff": _l("staff"),
    "guest": _l("guest"),
}
ACCESS_ROLE_LABELS = {
    "owner": _l("owner"),
    "editor": _l("editor"),
    "viewer": _l("viewer"),
    "host": _l("host"),
}
NOTICE_STATE_LABELS = {
    "pending": _l("waiting to be sent"),
    "sending": _l("sending"),
    "sent": _l("sent"),
    "failed": _l("failed"),
}
LINK_USE_LABELS = {
    "calendar": _l("calendar feed"),
    "page": _l("share page"),
    "agenda": _l("agenda page"),
    "pdf": _l("agenda PDF"),
}
WEEKDAY_LABELS = {
    "mon": _l("Mon"),
    "tue": _l("Tue"),
    "wed": _l("Wed"),
    "thu": _l("Thu"),
    "fri": _l("Fri"),
    "sat": _l("Sat"),
    "sun": _l("Sun"),
}
_WEEKDAY_CODES = tuple(WEEKDAY_LABELS)


def _label(table: dict, code: str | None) -> str:
    if not code:
        return ""
    found = table.get(code)
    return str(found) if found is not None else code.replace("_", " ")


def conflict_kind_label(kind: str) -> str:
    found = CONFLICT_KIND_LABELS.get(kind)
    return str(found) if found is not None else kind.replace("_", " ").capitalize()


def severity_label(severity: str) -> str:
    return _label(SEVERITY_LABELS, severity)


def status_label(status: str) -> str:
    return _label(STATUS_LABELS, status)


def kind_label(kind: str) -> str:
    return _label(MEETING_KIND_LABELS, kind)


def attendee_role_label(role: str) -> str:
    return _label(ATTENDEE_ROLE_LABELS, role)


def person_role_label(role: str) -> str:
    return _label(PERSON_ROLE_LABELS, role)


def access_role_label(role: str) -> str:
    return _label(ACCESS_ROLE_LABELS, role)


def filter_problem(error) -> str:
    """A ``finding.FilterError`` in the reader's words: 'status: must be one of …'."""
    if error.field == "status":
        from scheduler.models import MEETING_STATUSES

        problem = _(
            "must be one of %(choices)s",
            choices=", ".join(status_label(code) for code in MEETING_STATUSES),
        )
    elif error.field == "q":
        problem = _("search for at most 200 characters")
    elif error.field == "day":
        problem = _("a date like 2024-09-02")
    elif error.field == "mode":
        problem = _("room or person")
    else:
        problem = error.message
    return f"{error.field}: {problem}"


def notice_state_label(state: str) -> str:
    return _label(NOTICE_STATE_LABELS, state)


def use_label(used_for: str) -> str:
    return _label(LINK_USE_LABELS, used_for)


def weekday_label(code: str) -> str:
    return _label(WEEKDAY_LABELS, code)


def honorific(name: str) -> str:
    """A person's name as a letter addresses them: 김민수 님, 山田太郎 様; English as it is."""
    language = current_language()
    if language == "ko":
        return f"{name} 님"
    if language == "ja":
        return f"{name} 様"
    return name


def addressed(person) -> str:
    """A person named as a letter would: 김민수 님 (Kim Min-su), 山田太郎 様 (Taro Yamada)."""
    if current_language() == "en":
        return display_name(person)
    native = getattr(person, "native_name", None)
    latin = getattr(person, "name", None)
    if native:
        return f"{honorific(native)} ({latin})" if latin else honorific(native)
    return honorific(latin or "")


# --------------------------------------------------------------------------- conflicts


def _span(meeting: tuple) -> str:
    title, start, end = meeting
    if start.date() == end.date():
        when = f"{format_day(start, 'day')} {format_clock_range(start, end)}"
    else:
        when = f"{_moment(start)} – {_moment(end)}"
    return _("“%(title)s” (%(when)s)", title=title, when=when)


def _moment(value) -> str:
    return f"{format_day(value, 'day')} {format_clock(value)}"


def _where(room: str, venue: str | None) -> str:
    return _("%(room)s at %(venue)s", room=room, venue=venue) if venue else room


def conflict_message(conflict) -> str:
    """The conflict in the reader's language: the engine's English, else made from its details."""
    if isinstance(conflict, dict):  # a stored conflict (a release's review): its JSON only
        return conflict.get("message", "")
    details = getattr(conflict, "details", None)
    if current_language() == "en" or not details:
        return conflict.message
    maker = _MAKERS.get(conflict.kind)
    return maker(details) if maker else conflict.message


def _person_double_booked(d: dict) -> str:
    return _(
        "%(person)s is booked for %(first)s and %(second)s at the same time",
        person=d["person"],
        first=_span(d["first"]),
        second=_span(d["second"]),
    )


def _room_double_booked(d: dict) -> str:
    return _(
        "%(where)s is booked for %(first)s and %(second)s at the same time",
        where=_where(d["room"], d["venue"]),
        first=_span(d["first"]),
        second=_span(d["second"]),
    )


def _travel_time(d: dict) -> str:
    needs = (
        _("%(num)d min (estimated)", num=d["minutes"])
        if d["estimated"]
        else _("%(num)d min", num=d["minutes"])
    )
    first_title, _start, first_end = d["first"]
    second_title, second_start, _end = d["second"]
    return _(
        "%(person)s needs %(needs)s from %(origin)s to %(destination)s but has %(gap)d min "
        "between “%(first)s” (ends %(ends)s) and “%(second)s” (starts %(starts)s)",
        person=d["person"],
        needs=needs,
        origin=d["from"],
        destination=d["to"],
        gap=d["gap"],
        first=first_title,
        ends=_moment(first_end),
        second=second_title,
        starts=_moment(second_start),
    )


def _outside_availability(d: dict) -> str:
    if d["from"] is not None and d["until"] is not None:
        window = _(
            "only from %(start)s until %(end)s", start=_moment(d["from"]), end=_moment(d["until"])
        )
    elif d["from"] is not None:
        window = _("only from %(start)s", start=_moment(d["from"]))
    else:
        window = _("only until %(end)s", end=_moment(d["until"]))
    if d["zone"]:
        window += " " + _("(%(zone)s)", zone=zone_name(d["zone"]))
    return _(
        "%(person)s is available %(window)s but attends %(meeting)s",
        person=d["person"],
        window=window,
        meeting=_span(d["meeting"]),
    )


def _outside_opening_hours(d: dict) -> str:
    hours = ", ".join(d["hours"]) if d["hours"] else _("closed")
    return _(
        "%(meeting)s is outside the opening hours of %(venue)s (%(weekday)s: %(hours)s)",
        meeting=_span(d["meeting"]),
        venue=d["venue"],
        weekday=weekday_label(_WEEKDAY_CODES[d["weekday"]]),
        hours=hours,
    )


def _outside_visit_dates(d: dict) -> str:
    meeting = _span(d["meeting"])
    if d["zone"]:
        meeting += " " + _("(%(zone)s)", zone=zone_name(d["zone"]))
    return _(
        "%(meeting)s is outside the visit dates, %(dates)s",
        meeting=meeting,
        dates=format_date_range(d["start"], d["end"]),
    )


def _over_capacity(d: dict) -> str:
    return _(
        "“%(meeting)s” has %(attendees)d attendees but %(where)s holds %(capacity)d",
        meeting=d["meeting"][0],
        attendees=d["attendees"],
        where=_where(d["room"], d["venue"]),
        capacity=d["capacity"],
    )


def _language_gap(d: dict) -> str:
    who = "; ".join(f"{name}: {', '.join(languages)}" for name, languages in d["who"])
    if d["more"]:
        who += "; ..."
    return ngettext(
        "No language is shared by the %(num)d attendee of %(meeting)s and no interpreter "
        "attends (%(who)s)",
        "No language is shared by all %(num)d attendees of %(meeting)s and no interpreter "
        "attends (%(who)s)",
        d["count"],
        meeting=_span(d["meeting"]),
        who=who,
    )


_MAKERS = {
    "person_double_booked": _person_double_booked,
    "room_double_booked": _room_double_booked,
    "travel_time": _travel_time,
    "outside_availability": _outside_availability,
    "outside_opening_hours": _outside_opening_hours,
    "outside_visit_dates": _outside_visit_dates,
    "over_capacity": _over_capacity,
    "language_gap": _language_gap,
}


# History pages: the stored field, action and entity codes, as a reader names them.
HISTORY_FIELD_LABELS = {
    "address": _l("Address"),
    "agenda": _l("Agenda"),
    "attendees": _l("Attendees"),
    "available_from": _l("Available from"),
    "available_until": _l("Available until"),
    "capacity": _l("Capacity"),
    "country": _l("Country"),
    "description": _l("Description"),
    "start": _l("Starts"),
    "end": _l("Ends"),
    "start_date": _l("First day"),
    "end_date": _l("Last day"),
    "from": _l("From"),
    "to": _l("To"),
    "host": _l("Host"),
    "internal_notes": _l("Internal notes"),
    "key": _l("Key"),
    "kind": _l("Kind"),
    "languages": _l("Languages"),
    "latitude": _l("Latitude"),
    "longitude": _l("Longitude"),
    "minutes": _l("Minutes"),
    "mode": _l("Mode"),
    "name": _l("Name"),
    "native_name": _l("Name in own script"),
    "note": _l("Note"),
    "open_errors": _l("Open errors"),
    "opening_hours": _l("Opening hours"),
    "organization": _l("Organisation"),
    "organizations": _l("Organisations"),
    "reason": _l("Reason"),
    "role": _l("Role"),
    "room": _l("Room"),
    "status": _l("Status"),
    "timezone": _l("Time zone"),
    "title": _l("Title"),
    "venue": _l("Venue"),
    "version": _l("Version"),
    "email": _l("Email"),
    "language": _l("Language"),
    "notes": _l("Notes"),
}
HISTORY_ACTION_LABELS = {
    "create": _l("created"),
    "update": _l("changed"),
    "delete": _l("deleted"),
    "release": _l("released"),
    "cancel": _l("cancelled"),
    "restore": _l("restored"),
}
HISTORY_ENTITY_LABELS = {
    "delegation": _l("delegation"),
    "meeting": _l("meeting"),
    "organization": _l("organisation"),
    "person": _l("person"),
    "room": _l("room"),
    "travel_time": _l("travel time"),
    "venue": _l("venue"),
    "release": _l("release"),
    "override": _l("override"),
    "membership": _l("access"),
}


def history_field_label(name: str) -> str:
    return _label(HISTORY_FIELD_LABELS, name)


def history_action_label(action: str) -> str:
    return _label(HISTORY_ACTION_LABELS, action)


def history_entity_label(entity: str) -> str:
    return _label(HISTORY_ENTITY_LABELS, entity)


def register_template_helpers(app) -> None:
    app.add_template_filter(conflict_kind_label, "conflict_kind")
    app.add_template_filter(conflict_message, "conflict_message")
    app.add_template_filter(severity_label, "severity_label")
    app.add_template_filter(status_label, "status_label")
    app.add_template_filter(kind_label, "kind_label")
    app.add_template_filter(attendee_role_label, "attendee_role")
    app.add_template_filter(person_role_label, "person_role")
    app.add_template_filter(use_label, "use_label")
    app.add_template_filter(notice_state_label, "notice_state")
    app.add_template_filter(access_role_label, "access_role")
    app.add_template_filter(honorific, "honorific")
    app.add_template_filter(addressed, "addressed")
    app.add_template_global(weekday_label)
    app.add_template_filter(history_field_label, "history_field")
    app.add_template_filter(history_action_label, "history_action")
    app.add_template_filter(history_entity_label, "history_entity")
