"""Rendered agenda PDFs are kept: a repeat request is served from the database, a change
renders anew; the render is a background job, claimed once.

Renders are counted by the renderer itself (``pdf_renders``), not by a mock.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from scheduler.agenda.pdf_cache import PdfCache, PdfKey
from scheduler.agenda.render import pdf_renders
from scheduler.extensions import db
from scheduler.itinerary.share_links import rotate_share_link
from scheduler.models import Delegation, Meeting, RenderedPdf
from tests.conftest import fetch_pdf, minimal_document
from tests.test_agenda import share_token
from tests.test_agenda_pdf import pdf_text

KEY = "cache-visit"


def small_visit() -> dict:
    document = minimal_document(key=KEY)
    document["people"] = [
        {"key": "ana", "name": "Ana Lee"},
        {"key": "bo", "name": "Bo Kim", "native_name": "김보"},
    ]
    document["venues"] = [{"key": "v", "name": "Hall", "timezone": "Asia/Tokyo"}]
    document["meetings"] = [
        {
            "key": "opening",
            "title": "Opening session",
            "start": "2024-09-25T09:00",
            "end": "2024-09-25T10:00",
            "venue": "v",
            "attendees": [{"person": "ana"}, {"person": "bo"}],
            "internal_notes": "Seat Ana on the left.",
        },
        {
            "key": "lab",
            "title": "Laboratory tour",
            "start": "2024-09-26T14:00",
            "end": "2024-09-26T15:00",
            "venue": "v",
            "attendees": [{"person": "bo"}],
        },
    ]
    return document


@pytest.fixture
def visit(cjk_fonts, load_document):
    load_document(small_visit())


def renders() -> int:
    return pdf_renders.count


def cache_files(app) -> set[str]:
    """The copies stored in the database (rendered_pdf rows that are ready)."""
    with app.app_context():
        rows = db.session.scalars(select(RenderedPdf.cache_key).where(RenderedPdf.state == "ready"))
        return set(rows)


def test_second_request_is_served_without_rendering(app, client, visit):
    url = f"/share/{share_token(app, delegation_key=KEY)}/agenda.pdf"
    before = renders()
    first = fetch_pdf(client, url)
    assert first.status_code == 200 and renders() == before + 1
    second = fetch_pdf(client, url)
    assert second.status_code == 200 and renders() == before + 1
    assert second.data == first.data and second.headers["ETag"] == first.headers["ETag"]
    assert not first.headers["ETag"].startswith("W/")
    assert second.headers["Cache-Control"] == "private, no-cache"
    assert len(cache_files(app)) == 1


def test_a_stored_copy_and_a_304_read_no_programme(app, client, runner, visit):
    """Finding the stored copy needs the rows of the link, not the meetings (a 300-meeting
    visit's stored copy took 28 ms, its 304 27 ms, loading the whole programme)."""
    from tests.conftest import count_queries

    urls = [
        f"/share/{share_token(app, delegation_key=KEY)}/agenda.pdf",
        f"/share/{share_token(app, 'bo', delegation_key=KEY)}/agenda.pdf",
    ]
    for released in (False, True):
        if released:
            assert runner.invoke(args=["release", KEY]).exit_code == 0
        for url in urls:
            stored = fetch_pdf(client, url)
            assert stored.status_code == 200
            for headers in ({}, {"If-None-Match": stored.headers["ETag"]}):
                with app.app_context(), count_queries(db.engine) as statements:
                    again = client.get(url, headers=headers)
                assert again.status_code == (304 if headers else 200), (url, released)
                read = " ".join(statements).lower()
                for table in ("from meeting", "from attendance", "snapshot"):
                    assert table not in read, (url, released, table)
                assert len(statements) <= 6, statements


def test_a_changed_meeting_gives_a_new_pdf_and_drops_the_old_one(app, client, visit):
    url = f"/share/{share_token(app, delegation_key=KEY)}/agenda.pdf"
    first = fetch_pdf(client, url)
    old_files = cache_files(app)
    with app.app_context():
        meeting = db.session.scalar(select(Meeting).where(Meeting.key == "lab"))
        meeting.title = "Tour of the new cleanroom"
        db.session.commit()
    before = renders()
    second = fetch_pdf(client, url)
    assert renders() == before + 1
    assert second.headers["ETag"] != first.headers["ETag"]
    assert "Tour of the new cleanroom" in pdf_text(second.data)
    assert "Laboratory tour" not in pdf_text(second.data)
    assert not old_files & cache_files(app)
    assert len(cache_files(app)) == 1


def test_if_none_match_gets_304_without_rendering(app, client, visit):
    url = f"/share/{share_token(app, 'bo', delegation_key=KEY)}/agenda.pdf?paper=letter"
    etag = fetch_pdf(client, url).headers["ETag"]
    before = renders()
    response = fetch_pdf(client, url, headers={"If-None-Match": etag})
    assert response.status_code == 304 and response.data == b""
    assert response.headers["ETag"] == etag
    assert renders() == before
    stale = fetch_pdf(client, url, headers={"If-None-Match": '"an-older-copy"'})
    assert stale.status_code == 200 and stale.data.startswith(b"%PDF")


def test_a_rotated_link_is_404_and_the_new_one_renders_its_own_copy(app, client, visit):
    """Rotating the delegation's link is no programme change: the selector keeps copies apart."""
    old_token = share_token(app, delegation_key=KEY)
    assert fetch_pdf(client, f"/share/{old_token}/agenda.pdf").status_code == 200
    with app.app_context():
        delegation = db.session.scalar(select(Delegation).where(Delegation.key == KEY))
        revision = delegation.revision
        rotate_share_link(delegation)
        db.session.commit()
        assert delegation.revision == revision
    new_token = share_token(app, delegation_key=KEY)
    assert fetch_pdf(client, f"/share/{old_token}/agenda.pdf").status_code == 404
    before = renders()
    assert fetch_pdf(client, f"/share/{new_token}/agenda.pdf").status_code == 200
    assert renders() == before + 1
    assert fetch_pdf(client, f"/share/{old_token}/agenda.pdf").status_code == 404


def test_each_copy_is_kept_apart(app, client, login, visit):
    """Person, paper and audience each have their own file; notes never reach a shared copy."""
    everyone = f"/share/{share_token(app, delegation_key=KEY)}/agenda.pdf"
    ana = f"/share/{share_token(app, 'ana', delegation_key=KEY)}/agenda.pdf"
    coordinator = f"/delegations/{KEY}/agenda.pdf"
    urls = [everyone, f"{everyone}?paper=letter", ana, coordinator]
    before = renders()
    first = {url: fetch_pdf(client, url) for url in urls}
    again = {url: fetch_pdf(client, url) for url in urls}
    assert renders() == before + len(urls)
    assert len({response.headers["ETag"] for response in first.values()}) == len(urls)
    assert all(again[url].data == first[url].data for url in urls)
    assert "Laboratory tour" not in pdf_text(first[ana].data)
    assert "Seat Ana on the left." in pdf_text(first[coordinator].data)
    assert "Seat Ana on the left." not in pdf_text(again[everyone].data)
    assert "-coordinator-v1-a4.pdf" in again[coordinator].headers["Content-Disposition"]


def test_editing_the_delegation_row_itself_is_a_new_copy(app, client, visit):
    """The flush hook does not count edits to the delegation row; the key does."""
    url = f"/share/{share_token(app, delegation_key=KEY)}/agenda.pdf"
    fetch_pdf(client, url)
    with app.app_context():
        delegation = db.session.scalar(select(Delegation).where(Delegation.key == KEY))
        delegation.name = "Renamed visit"
        db.session.commit()
    before = renders()
    assert "Renamed visit" in pdf_text(fetch_pdf(client, url).data)
    assert renders() == before + 1


# --------------------------------------------------------------------------- the store itself


def key(revision: int = 1, **changes) -> PdfKey:
    fields = dict(
        delegation_id=7,
        revision=revision,
        updated_at_us=int(datetime(2024, 9, 1, tzinfo=UTC).timestamp() * 1e6) + revision,
        delegation_digest="d",
        person_id=None,
        audience="shared",
        paper="a4",
        share_selector="0123456789abcdef",
        estimate_travel=True,
        renderer="r",
    )
    fields.update(changes)
    return PdfKey(**fields)


def test_store_writes_whole_files_and_keeps_newer_revisions(tmp_path):
    store = PdfCache(tmp_path)
    store.put(key(2), b"%PDF revision 2")
    store.put(key(3), b"%PDF revision 3")
    assert store.get(key(2)) is None  # older: pruned
    store.put(key(1), b"%PDF from a worker still reading revision 1")
    assert store.get(key(3)).data == b"%PDF revision 3"  # newer: left alone
    assert store.get(key(1)).data.startswith(b"%PDF from a worker")
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]


def test_store_that_cannot_write_still_serves_the_pdf(tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder should be")
    store = PdfCache(blocked)
    made = []
    pdf = store.get_or_render(key(), lambda: made.append(1) or b"%PDF fresh")
    assert pdf.data == b"%PDF fresh" and pdf.rendered and made == [1]
    assert store.get(key()) is None
