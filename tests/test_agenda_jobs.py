"""Agenda PDFs rendered by a background job: a "being prepared" page until the copy is stored,
one render per copy even when two workers claim it at once, and a release queues its share
PDFs. Renders are counted by the renderer itself (``pdf_renders``); nothing waits on a clock.
"""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from scheduler import create_app, jobs
from scheduler.agenda import pdf_jobs
from scheduler.agenda.assemble import SHARED
from scheduler.agenda.render import pdf_renders
from scheduler.extensions import db
from scheduler.models import Delegation, RenderedPdf
from scheduler.operations.releases import release
from tests.conftest import fetch_pdf
from tests.test_agenda import share_token
from tests.test_agenda_cache import KEY, small_visit
from tests.test_agenda_pdf import pdf_text


def _delegation_id(app) -> int:
    with app.app_context():
        return db.session.scalar(select(Delegation.id).where(Delegation.key == KEY))


def _stored(app) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count()).select_from(RenderedPdf).where(RenderedPdf.state == "ready")
        )


def test_a_pdf_not_yet_rendered_answers_at_once_with_a_page_that_refreshes(
    app, client, cjk_fonts, load_document
):
    load_document(small_visit())
    url = f"/share/{share_token(app, delegation_key=KEY)}/agenda.pdf"
    assert _stored(app) == 0
    first = client.get(url)
    assert first.status_code == 202 and first.mimetype == "text/html"
    assert first.headers["Retry-After"] == "2" and first.headers["Refresh"] == "2"
    page = first.get_data(as_text=True)
    assert "The PDF is being prepared" in page and 'http-equiv="refresh"' in page
    assert first.headers["Cache-Control"] == "private, no-store"
    # In-process mode: the job ran once that request ended; the refresh gets the PDF.
    assert _stored(app) == 1
    before = pdf_renders.count
    second = client.get(url)
    assert second.status_code == 200 and second.data.startswith(b"%PDF")
    assert pdf_renders.count == before


def test_a_copy_claimed_by_another_worker_is_not_rendered_twice(
    app, client, cjk_fonts, load_document
):
    load_document(small_visit())
    url = f"/share/{share_token(app, delegation_key=KEY)}/agenda.pdf"
    spec = pdf_jobs.CopySpec(SHARED, _delegation_id(app))
    with app.app_context():
        delegation, person = pdf_jobs._programme(db.session, spec)
        assert pdf_jobs.claim(db.session, pdf_jobs.key_for(delegation, person, spec))
    before = pdf_renders.count
    for _ in range(3):  # the page keeps saying "being prepared"; the job finds the claim
        assert client.get(url).status_code == 202
    assert pdf_renders.count == before and _stored(app) == 0


def test_after_the_job_the_pdf_is_served_without_rendering(app, client, cjk_fonts, load_document):
    load_document(small_visit())
    url = f"/share/{share_token(app, 'bo', delegation_key=KEY)}/agenda.pdf"
    with app.app_context():
        person_id = db.session.scalar(select(Delegation).where(Delegation.key == KEY)).people[1].id
        assert pdf_jobs.render_copy(
            **pdf_jobs.CopySpec(SHARED, _delegation_id(app), person_id).__dict__
        )
        db.session.commit()
    before = pdf_renders.count
    response = client.get(url)
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert "Laboratory tour" in pdf_text(response.data)
    assert pdf_renders.count == before


def test_two_concurrent_claims_render_once_on_postgresql(postgres_database, cjk_fonts):
    """Two workers (threads with their own connections) start the same job at the same time."""
    app = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": postgres_database, "SECRET_KEY": "t"}
    )
    with app.app_context():
        db.create_all()
        from scheduler.itinerary.document import import_itinerary

        import_itinerary(db.session, small_visit())
        db.session.commit()
        delegation_id = db.session.scalar(select(Delegation.id).where(Delegation.key == KEY))
    spec = pdf_jobs.CopySpec(SHARED, delegation_id)
    start = threading.Barrier(2)
    results: list[bool] = []

    def worker():
        with app.app_context():
            start.wait()
            results.append(pdf_jobs.render_copy(**spec.__dict__))
            db.session.remove()

    before = pdf_renders.count
    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, True]
    assert pdf_renders.count == before + 1
    with app.app_context():
        rows = db.session.scalars(select(RenderedPdf)).all()
        assert [(row.state, row.data[:4]) for row in rows] == [("ready", b"%PDF")]
        db.session.remove()
        db.engine.dispose()


def test_a_release_queues_its_share_pdfs(app, client, cjk_fonts, load_document):
    load_document(small_visit())
    with app.app_context():
        delegation = db.session.scalar(select(Delegation).where(Delegation.key == KEY))
        release(db.session, delegation)
        db.session.commit()
        queued = [job for job in app.extensions[jobs.READY] if job.target == pdf_jobs.TARGET]
        # The delegation's copy and one per person (ana, bo).
        assert sorted(str(job.kwargs["person_id"]) for job in queued) == sorted(
            ["None", *(str(p.id) for p in delegation.people)]
        )
    # The app context has ended: the jobs ran. Links open on the PDF, never the page.
    assert _stored(app) == 3
    before = pdf_renders.count
    for person in (None, "ana", "bo"):
        response = client.get(f"/share/{share_token(app, person, delegation_key=KEY)}/agenda.pdf")
        assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert pdf_renders.count == before


def test_a_coordinators_copy_of_a_newer_draft_keeps_the_released_share_copy(
    app, client, login, cjk_fonts, load_document
):
    load_document(small_visit())
    with app.app_context():
        release(db.session, db.session.scalar(select(Delegation).where(Delegation.key == KEY)))
        db.session.commit()
    with app.app_context():  # a draft edit after the release: a newer revision
        from scheduler.models import Meeting

        db.session.scalar(select(Meeting).where(Meeting.key == "lab")).title = "Draft title"
        db.session.commit()
    share = f"/share/{share_token(app, delegation_key=KEY)}/agenda.pdf"
    coordinator = fetch_pdf(client, f"/delegations/{KEY}/agenda.pdf")
    assert coordinator.status_code == 200 and "Draft title" in pdf_text(coordinator.data)
    before = pdf_renders.count
    shared = client.get(share)
    assert shared.status_code == 200 and "Draft title" not in pdf_text(shared.data)
    assert pdf_renders.count == before
