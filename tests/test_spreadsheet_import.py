"""The programme workbook, edited as a coordinator would in Excel, imported back: exactly
what was edited changes (with its history), and problems name their cells."""

from __future__ import annotations

import io
from datetime import time

from openpyxl import load_workbook
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.itinerary.document import export_itinerary
from scheduler.models import HistoryEntry
from tests.conftest import csrf_token_from

KEY = "mss-japan-2024-09"


def _exported(client) -> bytes:
    response = client.get(f"/delegations/{KEY}/programme.xlsx")
    assert response.status_code == 200
    return response.data


def _row(sheet, key: str) -> int:
    keys = [c.value for c in sheet["Q"]]
    return keys.index(key) + 1


def _edit(data: bytes, edit) -> bytes:
    book = load_workbook(io.BytesIO(data))
    edit(book["Programme"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _history(app) -> list[tuple]:
    with app.app_context():
        return [
            (e.action, e.entity, e.key, sorted(e.changes))
            for e in db.session.scalars(select(HistoryEntry).order_by(HistoryEntry.id))
        ]


def test_unchanged_workbook_changes_nothing(
    app, client, login, load_document, reference_document, runner, tmp_path
):
    load_document(reference_document)
    with app.app_context():
        before = export_itinerary(db.session, KEY)
    history = _history(app)
    path = tmp_path / "programme.xlsx"
    path.write_bytes(_exported(client))
    result = runner.invoke(args=["import-itinerary", str(path)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert export_itinerary(db.session, KEY) == before
    assert _history(app) == history


def test_round_trip_changes_exactly_the_three_edits(
    app, client, login, load_document, reference_document, runner, tmp_path
):
    load_document(reference_document)
    with app.app_context():
        before = export_itinerary(db.session, KEY)
    history = _history(app)

    def edit(sheet):
        sheet[f"B{_row(sheet, 'astellas')}"] = time(9, 30)  # a time
        sheet[f"J{_row(sheet, 'cro-consortium')}"] = "Event Hall"  # a room
        cell = sheet[f"M{_row(sheet, 'meti')}"]
        cell.value += "\nKIM Soo-jin, Ministry of SMEs and Startups (interpreter)"  # an attendee

    path = tmp_path / "edited.xlsx"
    path.write_bytes(_edit(_exported(client), edit))
    result = runner.invoke(args=["import-itinerary", str(path)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        after = export_itinerary(db.session, KEY)
    by_key_after = {m["key"]: m for m in after["meetings"]}
    by_key_before = {m["key"]: m for m in before["meetings"]}
    assert set(by_key_after) == set(by_key_before)
    changed = {
        key: sorted(
            k for k in set(m) | set(by_key_before[key]) if m.get(k) != by_key_before[key].get(k)
        )
        for key, m in by_key_after.items()
        if m != by_key_before[key]
    }
    assert changed == {
        "astellas": ["start"],
        "cro-consortium": ["room"],
        "meti": ["attendees"],
    }
    assert by_key_after["astellas"]["start"].startswith("2024-09-27T09:30")
    assert by_key_after["cro-consortium"]["room"] == "hall"
    assert by_key_after["meti"]["attendees"][-1] == {"person": "interp-kim", "role": "interpreter"}
    assert {k: v for k, v in after.items() if k != "meetings"} == {
        k: v for k, v in before.items() if k != "meetings"
    }
    assert sorted(_history(app)[len(history) :]) == [
        ("update", "meeting", "astellas", ["start"]),
        ("update", "meeting", "cro-consortium", ["room"]),
        ("update", "meeting", "meti", ["attendees"]),
    ]


def test_problems_name_their_cells(
    app, client, login, load_document, reference_document, runner, tmp_path
):
    load_document(reference_document)

    def edit(sheet):
        sheet[f"C{_row(sheet, 'cmic')}"] = time(11, 0)  # ends before it starts (12:30)
        sheet[f"I{_row(sheet, 'meti')}"] = "Nowhere in particular"
        sheet[f"B{_row(sheet, 'astellas')}"] = "half past nine"

    path = tmp_path / "bad.xlsx"
    path.write_bytes(_edit(_exported(client), edit))
    result = runner.invoke(args=["import-itinerary", str(path)])
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert any(line.startswith("Programme!B") and "half past nine" in line for line in lines)
    assert any(line.startswith("Programme!I") and "Nowhere" in line for line in lines)

    # Problems the document's own checks find are at their cells too, after the sheet reads.
    def only_end(sheet):
        sheet[f"C{_row(sheet, 'cmic')}"] = time(11, 0)

    path.write_bytes(_edit(_exported(client), only_end))
    result = runner.invoke(args=["import-itinerary", str(path)])
    assert result.exit_code == 1
    row = _row(load_workbook(path)["Programme"], "cmic")
    assert result.stderr.splitlines()[0].startswith(f"Programme!C{row}: ")


def test_the_web_import_takes_the_workbook(app, client, login, load_document, reference_document):
    load_document(reference_document)

    def edit(sheet):
        sheet[f"E{_row(sheet, 'cmic')}"] = "Lunch with CMIC"

    data = _edit(_exported(client), edit)
    page = client.get("/delegations/import").get_data(as_text=True)
    response = client.post(
        "/delegations/import",
        data={
            "document": (io.BytesIO(data), "programme.xlsx"),
            "csrf_token": csrf_token_from(page),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        meetings = {m["key"]: m for m in export_itinerary(db.session, KEY)["meetings"]}
    assert meetings["cmic"]["title"] == "Lunch with CMIC"
