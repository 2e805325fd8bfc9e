"""The programme as an .xlsx workbook for coordinators who want to edit a copy.

Unlike the agenda, the workbook lists every meeting, cancelled ones too (with their status),
since a coordinator's copy must say what was called off. Times are local wall-clock times in
each meeting's zone, with the zone in its own column: Excel has no time zones.
"""

from __future__ import annotations

from collections.abc import Iterable
from io import BytesIO

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from scheduler.itinerary.conflicts import conflicts_by_meeting
from scheduler.itinerary.times import to_local
from scheduler.models import Delegation
from scheduler.wording import (
    conflict_message,
    person_role_label,
    severity_label,
)

MIME_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# The Programme sheet is also an import format (spreadsheet_import.py reads these headings
# and codes), so it stays in English whatever the reader's language; the others are localised.
PROGRAMME_COLUMNS = (
    ("Date", 12),
    ("Start", 8),
    ("End", 8),
    ("Zone", 12),
    ("Title", 40),
    ("Native title", 24),
    ("Kind", 10),
    ("Status", 11),
    ("Venue", 28),
    ("Room", 18),
    ("Address", 30),
    ("Organisations", 28),
    ("Attendees", 40),
    ("Agenda", 40),
    ("Internal notes", 30),
    ("Conflicts", 40),
    ("Key", 16),
)
PEOPLE_COLUMNS = (
    (_l("Key"), 14),
    (_l("Name"), 24),
    (_l("Native name"), 14),
    (_l("Title"), 30),
    (_l("Organisation"), 28),
    (_l("Role"), 12),
    (_l("Phone"), 16),
    (_l("Email"), 26),
    (_l("Languages"), 10),
    (_l("Notes"), 30),
)
TRAVEL_COLUMNS = ((_l("From"), 30), (_l("To"), 30), (_l("Minutes"), 9), (_l("Mode"), 12))

_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
_WRAP = Alignment(wrap_text=True, vertical="top")


def _text(value):
    """A cell value written as text, never as a formula: a title may begin with '='."""
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def _sheet(workbook: Workbook, title: str, columns, rows: Iterable[tuple], *, first: bool = False):
    sheet = workbook.active if first else workbook.create_sheet()
    sheet.title = title
    for index, (header, width) in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=index, value=str(header))
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
        sheet.column_dimensions[get_column_letter(index)].width = width
    for row_number, row in enumerate(rows, start=2):
        for index, value in enumerate(row, start=1):
            cell = sheet.cell(row=row_number, column=index, value=_text(value))
            if isinstance(value, str):
                cell.data_type = "s"
                cell.alignment = _WRAP
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    return sheet


def person_label(person) -> str:
    label = person.display_name
    if person.organization is not None:
        label += f", {person.organization.name}"
    return label


def programme_workbook(delegation: Delegation, *, conflicts: Iterable | None = None) -> bytes:
    """The workbook (Programme, People, Travel times) as .xlsx bytes.

    ``delegation`` should come from ``load_delegation``; ``conflicts`` from the conflict engine.
    """
    notes = {
        key: [f"{severity_label(c.severity)}: {conflict_message(c)}" for c in found]
        for key, found in conflicts_by_meeting(conflicts or ()).items()
    }

    meetings = sorted(delegation.meetings, key=lambda m: (m.start, m.end, m.key))
    programme_rows = []
    for m in meetings:
        zone_name = m.zone_name
        start, end = to_local(m.start, zone_name), to_local(m.end, zone_name)
        programme_rows.append(
            (
                start.date(),
                start.time().replace(tzinfo=None),
                end.time().replace(tzinfo=None),
                zone_name,
                m.title,
                m.native_title,
                m.kind,
                m.status,
                m.venue.name if m.venue is not None else None,
                m.room.name if m.room is not None else None,
                m.venue.address if m.venue is not None else None,
                "; ".join(o.name for o in m.organizations) or None,
                "\n".join(
                    person_label(a.person) + ("" if a.role == "required" else f" ({a.role})")
                    for a in m.attendances
                )
                or None,
                m.agenda,
                m.internal_notes,
                "\n".join(notes.get(m.key, ())) or None,
                m.key,
            )
        )

    workbook = Workbook()
    programme = _sheet(workbook, "Programme", PROGRAMME_COLUMNS, programme_rows, first=True)
    for row in programme.iter_rows(min_row=2, max_col=3):
        row[0].number_format = "yyyy-mm-dd ddd"
        row[1].number_format = row[2].number_format = "hh:mm"

    people = sorted(delegation.people, key=lambda p: p.key)
    _sheet(
        workbook,
        _("People"),
        PEOPLE_COLUMNS,
        (
            (
                p.key,
                p.name,
                p.native_name,
                p.title,
                p.organization.name if p.organization is not None else None,
                person_role_label(p.role),
                p.phone,
                p.email,
                ", ".join(p.languages or ()) or None,
                p.notes,
            )
            for p in people
        ),
    )
    legs = sorted(delegation.travel_times, key=lambda t: (t.from_venue.name, t.to_venue.name))
    _sheet(
        workbook,
        _("Travel times"),
        TRAVEL_COLUMNS,
        ((t.from_venue.name, t.to_venue.name, t.minutes, t.mode) for t in legs),
    )
    workbook.properties.title = _(
        "%(name)s: programme, version %(revision)d",
        name=delegation.name,
        revision=delegation.revision,
    )
    # Which delegation an edited copy belongs to, when it is imported back (spreadsheet_import).
    workbook.properties.identifier = delegation.key
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
