"""The programme spreadsheet: opens in openpyxl with a row per meeting, cancelled ones marked."""

from __future__ import annotations

import io
from datetime import date, time

from openpyxl import load_workbook

from scheduler.agenda.spreadsheet import MIME_TYPE, PROGRAMME_COLUMNS
from tests.test_agenda import KEY, with_cancelled_meeting


def workbook_from(response):
    assert response.status_code == 200
    assert response.mimetype == MIME_TYPE
    assert "attachment;" in response.headers["Content-Disposition"]
    return load_workbook(io.BytesIO(response.data))


def rows_as_dicts(sheet) -> list[dict]:
    header = [cell.value for cell in sheet[1]]
    return [
        dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2, values_only=True)
    ]


def test_spreadsheet_has_a_row_per_meeting_in_local_time(
    client, login, load_document, reference_document
):
    document = with_cancelled_meeting(reference_document)
    load_document(document)
    book = workbook_from(client.get(f"/delegations/{KEY}/programme.xlsx"))
    assert book.sheetnames == ["Programme", "People", "Travel times"]
    programme = book["Programme"]
    assert [c.value for c in programme[1]] == [name for name, _ in PROGRAMME_COLUMNS]
    rows = rows_as_dicts(programme)
    assert len(rows) == len(document["meetings"])
    assert {r["Key"] for r in rows} == {m["key"] for m in document["meetings"]}
    cmic = next(r for r in rows if r["Key"] == "cmic")
    assert (cmic["Date"].date(), cmic["Start"], cmic["End"], cmic["Zone"]) == (
        date(2024, 9, 27),
        time(12, 30),
        time(13, 30),
        "Asia/Tokyo",
    )
    assert "Kazuo Nakamura (中村 和男), CMIC Pharma Science" in cmic["Attendees"]
    assert cmic["Internal notes"].startswith("Travel from Tsukuba is too tight")
    assert "error: LIM Jeong-wook needs 80 min" in cmic["Conflicts"]
    called_off = next(r for r in rows if r["Key"] == "called-off")
    assert called_off["Status"] == "cancelled"
    # Ordered by start: the first row is the first meeting of the visit.
    assert rows[0]["Key"] == "cro-consortium"
    assert len(rows_as_dicts(book["People"])) == len(document["people"])
    assert len(rows_as_dicts(book["Travel times"])) == len(document["travel_times"])


def test_a_title_that_looks_like_a_formula_stays_text(
    client, login, load_document, reference_document
):
    reference_document["meetings"][0]["title"] = '=HYPERLINK("http://evil.example","Click")'
    load_document(reference_document)
    book = workbook_from(client.get(f"/delegations/{KEY}/programme.xlsx"))
    cell = next(
        row[4]
        for row in book["Programme"].iter_rows(min_row=2)
        if row[16].value == "cro-consortium"
    )
    assert cell.data_type == "s"
    assert cell.value == '=HYPERLINK("http://evil.example","Click")'


def test_spreadsheet_needs_sign_in(client, load_document, reference_document):
    load_document(reference_document)
    assert client.get(f"/delegations/{KEY}/programme.xlsx").status_code == 302
