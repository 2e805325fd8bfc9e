"""What every coordinator area's views share: loading the delegation, conflicts, stale edits.

Meetings, people, venues and the delegations area all import from here, never from each other.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import available_timezones

from flask import abort, current_app, request
from flask_login import current_user
from sqlalchemy import select

from scheduler.agenda.assemble import native_language
from scheduler.extensions import db
from scheduler.itinerary.conflicts import KINDS
from scheduler.itinerary.document import load_delegation
from scheduler.itinerary.summary import reviewed_conflicts as _reviewed_conflicts
from scheduler.itinerary.travel import estimates_travel
from scheduler.models import Delegation

# The words for the engine's kinds (scheduler.itinerary.conflicts.KINDS, the one list of them).
CONFLICT_KIND_LABELS = {
    "person_double_booked": "Person double-booked",
    "room_double_booked": "Room double-booked",
    "travel_time": "Not enough travel time",
    "outside_availability": "Outside a person's availability",
    "outside_opening_hours": "Outside the venue's opening hours",
    "outside_visit_dates": "Outside the visit dates",
    "over_capacity": "Room over capacity",
    "language_gap": "No shared language",
}


def conflict_kind_label(kind: str) -> str:
    return CONFLICT_KIND_LABELS.get(kind, kind.replace("_", " ").capitalize())


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
    return request.path.startswith("/share/") and not request.path.startswith("/share/manage/")


def duration_text(minutes: int) -> str:
    """'45 min', '2 h', '3 h 30 min'."""
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest} min" if rest else f"{hours} h"


def gap_text(note, arrives: datetime) -> str:
    """The time between two meetings in words: the same day in hours and minutes, else the day."""
    left = arrives - timedelta(minutes=note.gap_minutes)  # on the arriving meeting's clock
    if left.date() == arrives.date():
        return f"{duration_text(note.gap_minutes)} between meetings"
    if left.date() == arrives.date() - timedelta(days=1):
        return f"next day: the previous meeting ended the day before at {left:%H:%M}"
    return f"the previous meeting ended on {left:%a %d %b} at {left:%H:%M}"


def register_template_helpers(app) -> None:
    app.add_template_global(gap_text)
    app.add_template_global(zone_names)
    app.add_template_global(behind_share_link)
    app.add_template_global(native_language)
    app.add_template_filter(conflict_kind_label, "conflict_kind")


def delegation_or_404(key: str) -> Delegation:
    delegation = db.session.scalar(select(Delegation).where(Delegation.key == key))
    if delegation is None:
        abort(404)
    return delegation


def loaded_delegation_or_404(key: str) -> Delegation:
    """The delegation with everything a programme page reads, in a fixed number of queries."""
    delegation = load_delegation(db.session, key)
    if delegation is None:
        abort(404)
    return delegation


def estimate_travel() -> bool:
    return estimates_travel(current_app.config)


def reviewed_conflicts(delegation: Delegation):
    """Every conflict of the delegation with the acknowledgements that still hold."""
    return _reviewed_conflicts(db.session, delegation, estimate_travel=estimate_travel())


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
    return current_user.get_id() and int(current_user.get_id())
