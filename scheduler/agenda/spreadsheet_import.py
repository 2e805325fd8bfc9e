"""The programme workbook (scheduler.agenda.spreadsheet), edited in Excel or LibreOffice, back
into the interchange document.

The delegation is the one the workbook names (its ``identifier`` property). Its document as it
stands is the starting point; each row of the Programme sheet with a Key replaces that
meeting's fields the sheet shows (a row without a Key is a new meeting), and the document is
then imported exactly as a JSON one is, with the same checks. A problem in a meeting is
reported at its cell (``Programme!D7: ...``) instead of its JSON path.
"""

from __future__ import annotations

import re
import zipfile
from datetime import date, datetime, time
from io import BytesIO

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from sqlalchemy.orm import Session

from scheduler.agenda.spreadsheet import PROGRAMME_COLUMNS, person_label
from scheduler.itinerary.document import DocumentError, Problem, export_delegation, load_delegation
from scheduler.itinerary.editing import slugify
from scheduler.models import ATTENDEE_ROLES

SHEET = "Programme"
HEADERS = [header for header, _ in PROGRAMME_COLUMNS]
COLUMN = {header: get_column_letter(i) for i, header in enumerate(HEADERS, start=1)}
# Which column a problem with a meeting field points at.
FIELD_COLUMN = {
    "key": "Key",
    "title": "Title",
    "native_title": "Native title",
    "kind": "Kind",
    "status": "Status",
    "start": "Start",
    "end": "End",
    "venue": "Venue",
    "room": "Room",
    "organizations": "Organisations",
    "attendees": "Attendees",
    "agenda": "Agenda",
    "internal_notes": "Internal notes",
}
_ROLE_SUFFIX = re.compile(r"^(.*) \((" + "|".join(ATTENDEE_ROLES) + r")\)$")
_MEETING_PATH = re.compile(r"^meetings\[(\d+)\](?:\.([a-z_]+))?")


def is_workbook(data: bytes) -> bool:
    """An .xlsx file (a zip with a workbook in it), whatever it is called."""
    if not data.startswith(b"PK"):
        return False
    try:
        with zipfile.ZipFile(BytesIO(data)) as archive:
            return "xl/workbook.xml" in archive.namelist()
    except zipfile.BadZipFile:
        return False


class _Sheet:
    """What the rows say, and which row each meeting of the document came from."""

    def __init__(self):
        self.problems: list[Problem] = []
        self.row_of_meeting: dict[int, int] = {}

    def problem(self, row: int, header: str, message: str) -> None:
        self.problems.append(Problem(f"{SHEET}!{COLUMN[header]}{row}", message))


def document_from_workbook(session: Session, data: bytes) -> tuple[dict, dict[int, int]]:
    """The document the edited workbook describes, and meeting index -> sheet row.

    Raises DocumentError (cell references as paths) for what cannot even be read.
    """
    try:
        workbook = load_workbook(BytesIO(data), data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise DocumentError([Problem("$", f"not a readable .xlsx workbook: {exc}")]) from None
    if SHEET not in workbook.sheetnames:
        raise DocumentError([Problem("$", f"the workbook has no '{SHEET}' sheet")])
    key = workbook.properties.identifier
    delegation = load_delegation(session, key) if key else None
    if delegation is None:
        raise DocumentError(
            [
                Problem(
                    "$",
                    "the workbook does not name a delegation of this scheduler: "
                    "start from the spreadsheet the programme page exports",
                )
            ]
        )
    sheet = workbook[SHEET]
    header_row = [c.value for c in sheet[1]]
    missing = [h for h in HEADERS if h not in header_row and h not in ("Conflicts", "Address")]
    if missing:
        raise DocumentError(
            [Problem(f"{SHEET}!1", f"the header row lacks column(s): {', '.join(missing)}")]
        )
    position = {h: header_row.index(h) for h in HEADERS if h in header_row}
    document = export_delegation(delegation)
    reader = _Reader(delegation, document)
    seen = _Sheet()
    for number, row in enumerate(sheet.iter_rows(min_row=2, values_only=True), start=2):
        values = {h: (row[i] if i < len(row) else None) for h, i in position.items()}
        if all(v is None or str(v).strip() == "" for v in values.values()):
            continue
        reader.apply_row(number, values, seen)
    if seen.problems:
        raise DocumentError(seen.problems)
    return document, seen.row_of_meeting


class _Reader:
    def __init__(self, delegation, document: dict):
        self.document = document
        self.index = {m["key"]: i for i, m in enumerate(document["meetings"])}
        self.venues = {}
        for venue in delegation.venues:
            rooms = {}
            for room in venue.rooms:
                rooms[room.name] = rooms[room.key] = room.key
            self.venues[venue.name] = self.venues[venue.key] = (venue.key, rooms)
        self.organizations = {}
        for o in delegation.organizations:
            self.organizations[o.name] = self.organizations[o.key] = o.key
        self.people = {}
        for p in delegation.people:
            for label in (person_label(p), p.display_name, p.name, p.key):
                self.people.setdefault(label, p.key)

    def apply_row(self, row: int, values: dict, seen: _Sheet) -> None:
        key = _text(values.get("Key"))
        if key and key in self.index:
            i = self.index[key]
            meeting = self.document["meetings"][i]
        else:
            meeting = {"key": key or slugify(_text(values.get("Title")) or "meeting")}
            self.document["meetings"].append(meeting)
            i = len(self.document["meetings"]) - 1
            self.index[meeting["key"]] = i
        if i in seen.row_of_meeting:
            seen.problem(
                row, "Key", f"meeting '{meeting['key']}' is also on row {seen.row_of_meeting[i]}"
            )
            return
        seen.row_of_meeting[i] = row
        for header, name in (
            ("Title", "title"),
            ("Native title", "native_title"),
            ("Kind", "kind"),
            ("Status", "status"),
            ("Agenda", "agenda"),
            ("Internal notes", "internal_notes"),
        ):
            if header in values:
                _set(meeting, name, _text(values[header]))
        day = _day(values.get("Date"))
        if day is None:
            seen.problem(row, "Date", f"{_shown(values.get('Date'))} is not a date like 2024-09-25")
        for header, name in (("Start", "start"), ("End", "end")):
            clock = _clock(values.get(header))
            if clock is None:
                seen.problem(row, header, f"{_shown(values.get(header))} is not a time like 14:00")
            elif day is not None:
                meeting[name] = datetime.combine(day, clock).isoformat(timespec="minutes")
        venue_text = _text(values.get("Venue"))
        rooms = {}
        if venue_text is None:
            meeting.pop("venue", None)
        elif venue_text in self.venues:
            meeting["venue"], rooms = self.venues[venue_text]
        else:
            seen.problem(row, "Venue", f"no venue named '{venue_text}'")
        room_text = _text(values.get("Room"))
        if room_text is None:
            meeting.pop("room", None)
        elif room_text in rooms:
            meeting["room"] = rooms[room_text]
        elif venue_text in self.venues:
            seen.problem(row, "Room", f"venue '{venue_text}' has no room '{room_text}'")
        organizations = []
        for name in _parts(values.get("Organisations"), ";"):
            if name in self.organizations:
                organizations.append(self.organizations[name])
            else:
                seen.problem(row, "Organisations", f"no organisation named '{name}'")
        _set(meeting, "organizations", organizations or None)
        attendees = []
        for line in _parts(values.get("Attendees"), "\n"):
            label, role = line, "required"
            match = _ROLE_SUFFIX.match(line)
            if match and match.group(1) in self.people:
                label, role = match.group(1), match.group(2)
            if label not in self.people:
                seen.problem(row, "Attendees", f"no person '{label}'")
                continue
            attendees.append({"person": self.people[label], "role": role})
        _set(meeting, "attendees", attendees or None)


def _set(meeting: dict, name: str, value) -> None:
    if value is None:
        meeting.pop(name, None)
    else:
        meeting[name] = value


def _text(value) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _shown(value) -> str:
    return "an empty cell" if value is None or str(value).strip() == "" else f"'{value}'"


def _parts(value, separator: str) -> list[str]:
    text = _text(value)
    return [p.strip() for p in text.split(separator) if p.strip()] if text else []


def _day(value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    if text:
        try:
            return date.fromisoformat(text[:10])
        except ValueError:
            return None
    return None


def _clock(value) -> time | None:
    if isinstance(value, datetime):
        return value.time().replace(second=0, microsecond=0)
    if isinstance(value, time):
        return value.replace(second=0, microsecond=0, tzinfo=None)
    text = _text(value)
    if text and re.fullmatch(r"\d{1,2}:\d{2}(:\d{2})?", text):
        hours, minutes = int(text.split(":")[0]), int(text.split(":")[1])
        if hours < 24 and minutes < 60:
            return time(hours, minutes)
    return None


def cell_problems(problems: list[Problem], row_of_meeting: dict[int, int]) -> list[Problem]:
    """The document's problems at the cells they come from, where they come from a row."""
    found = []
    for problem in problems:
        match = _MEETING_PATH.match(problem.path)
        row = row_of_meeting.get(int(match.group(1))) if match else None
        if row is None:
            found.append(problem)
            continue
        header = FIELD_COLUMN.get(match.group(2) or "key", "Key")
        found.append(Problem(f"{SHEET}!{COLUMN[header]}{row}", problem.message))
    return found


def import_workbook(session: Session, data: bytes, importer) -> object:
    """Read the workbook, then ``importer(document)`` (the same import as for JSON), with
    every problem at its cell. Raises DocumentError."""
    document, rows = document_from_workbook(session, data)
    try:
        return importer(document)
    except DocumentError as exc:
        raise DocumentError(cell_problems(exc.problems, rows)) from None
