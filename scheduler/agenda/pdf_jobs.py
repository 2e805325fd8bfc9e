"""Agenda PDFs rendered off the request path, once per copy, stored in the database.

A request for a PDF looks for its ``rendered_pdf`` row (see scheduler.models.rendered_pdf);
if the copy is not ready it enqueues :func:`render_copy` (scheduler.jobs: RQ when
``REDIS_URL`` is set, in this process after the request otherwise) and answers at once with
a page saying the PDF is being prepared. The job claims the copy's row (the unique key is
the lock, so two workers never render the same copy), renders, stores the bytes and marks
the row ready; older revisions of the delegation's copies are removed.

A copy is described to the job by plain values (``CopySpec``), never by a share token: the
job reads the delegation (its published release for shared copies) and works out the key
itself, so it renders what is current when it runs.

A host's restricted coordinator copy is never stored here (the views render it for the host
alone): stored copies are the coordinators' full copy and the share-link copies.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import asdict, dataclass
from datetime import timedelta

from flask_babel import force_locale
from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.orm import Session

from scheduler import jobs
from scheduler.agenda.assemble import COORDINATOR, SHARED, build_agenda
from scheduler.agenda.pdf_cache import CachedPdf, PdfKey
from scheduler.agenda.render import render_agenda_pdf
from scheduler.extensions import db
from scheduler.itinerary.times import utcnow
from scheduler.models import Delegation, Person, RenderedPdf
from scheduler.models.rendered_pdf import FAILED, READY, RENDERING

log = logging.getLogger(__name__)

STALE_CLAIM = timedelta(minutes=10)  # a claim this old belongs to a worker that died
TARGET = "scheduler.agenda.pdf_jobs:render_copy"


@dataclass(frozen=True)
class CopySpec:
    """Which copy: the share copy of a delegation or person, or the coordinators' copy."""

    audience: str  # SHARED or COORDINATOR
    delegation_id: int
    person_id: int | None = None
    paper: str = "a4"
    estimate_travel: bool = True
    # The copy's language; None: the person's (a release renders each person's copy ahead).
    language: str | None = None
    # A host's copy of the coordinators' agenda: only this organisation's meetings.
    host_organization_id: int | None = None

    def language_for(self, person: Person | None) -> str:
        return self.language or getattr(person, "language", None) or "en"


def digest(key: PdfKey) -> str:
    return hashlib.sha256(repr(key).encode()).hexdigest()


def _programme(session: Session, spec: CopySpec) -> tuple[Delegation, Person | None] | None:
    """The delegation as this copy shows it (published for shared copies), and the person."""
    from scheduler.itinerary.document import load_delegation

    delegation = session.get(Delegation, spec.delegation_id)
    if delegation is None:
        return None
    if spec.audience == SHARED:
        from scheduler.itinerary.releases import published_programme

        delegation = published_programme(session, delegation)
    else:
        delegation = load_delegation(session, delegation.key)
        if delegation is not None and spec.host_organization_id is not None:
            from scheduler.itinerary.access import restrict_to_host

            restrict_to_host(session, delegation, spec.host_organization_id)
    if delegation is None:
        return None
    person = None
    if spec.person_id is not None:
        person = next((p for p in delegation.people if p.id == spec.person_id), None)
        if person is None:
            return None
    return delegation, person


def key_for(delegation: Delegation, person: Person | None, spec: CopySpec) -> PdfKey:
    """The copy's key; a share copy is also told apart by its link and the person's language."""
    share_selector = None
    if spec.audience == SHARED:
        share_selector = (person or delegation).share_selector
        language = getattr(person, "language", None)
        if language:
            share_selector = f"{share_selector}.{language}"
    latest_override = None
    if spec.audience == COORDINATOR:  # it prints override reasons, which raise no revision
        from scheduler.itinerary.review import latest_override_id

        latest_override = latest_override_id(db.session, delegation.id)
    return PdfKey.for_copy(
        delegation,
        person=person,
        audience=spec.audience,
        paper=spec.paper,
        share_selector=share_selector,
        estimate_travel=spec.estimate_travel,
        latest_override=latest_override,
        language=spec.language_for(person),
        host_organization_id=spec.host_organization_id,
    )


def stored(session: Session, key: PdfKey) -> CachedPdf | None:
    row = session.execute(
        select(RenderedPdf.data, RenderedPdf.etag).where(
            RenderedPdf.cache_key == digest(key), RenderedPdf.state == READY
        )
    ).first()
    if row is None or row.data is None:
        return None
    return CachedPdf(row.data, row.etag, rendered=False)


def _threaded() -> bool:
    """Without Redis: render in a thread of the web process (AGENDA_PDF_JOB_THREADED, on by
    default), so the worker answers other requests meanwhile; off, at the end of the request
    that asked (the tests: the page's refresh then finds the PDF, no clock involved)."""
    from flask import current_app

    return bool(current_app.config.get("AGENDA_PDF_JOB_THREADED", True))


def request_render(spec: CopySpec, key: PdfKey) -> None:
    """Enqueue the copy's render (once: the job id is the copy's key)."""
    jobs.enqueue(TARGET, job_id=f"pdf-{digest(key)[:32]}", threaded=_threaded(), **asdict(spec))


def claim(session: Session, key: PdfKey) -> bool:
    """Take the copy's row for rendering; False if another worker has it or it is ready.

    The insert is committed at once, so a second worker's insert conflicts on the unique
    ``cache_key`` and finds nothing to do. A failed render, or a claim older than
    STALE_CLAIM (its worker died), may be taken over: one UPDATE, so again only one wins.
    """
    now = utcnow()
    values = {
        "cache_key": digest(key),
        "delegation_id": key.delegation_id,
        "revision": key.revision,
        "audience": key.audience,
        "state": RENDERING,
        "claimed_at": now,
    }
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    inserted = session.execute(
        insert(RenderedPdf.__table__)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["cache_key"])
        .returning(RenderedPdf.__table__.c.id)
    ).scalar()
    session.commit()
    if inserted is not None:
        return True
    table = RenderedPdf.__table__
    result = session.execute(
        update(table)
        .where(
            table.c.cache_key == digest(key),
            or_(
                table.c.state == FAILED,
                and_(table.c.state == RENDERING, table.c.claimed_at < now - STALE_CLAIM),
            ),
        )
        .values(state=RENDERING, claimed_at=now)
    )
    session.commit()
    return result.rowcount == 1


def _render(delegation: Delegation, person: Person | None, spec: CopySpec) -> bytes:
    if spec.audience == COORDINATOR:
        from scheduler.itinerary.conflicts import check_delegation

        conflicts = check_delegation(db.session, delegation, estimate_travel=spec.estimate_travel)
        if spec.host_organization_id is not None:  # as the host's pages show them
            keys = {m.key for m in delegation.meetings}
            conflicts = [c for c in conflicts if set(c.meetings) <= keys]
        from scheduler.itinerary.review import overrides_by_conflict

        agenda = build_agenda(
            delegation,
            audience=COORDINATOR,
            conflicts=conflicts,
            overrides=overrides_by_conflict(db.session, delegation.id),
            estimate_travel=spec.estimate_travel,
        )
    else:
        agenda = build_agenda(delegation, person=person, audience=SHARED)
    with force_locale(spec.language_for(person)):
        return render_agenda_pdf(agenda, paper=spec.paper)


def render_copy(**values) -> bool:
    """The job: render and store one copy unless it is stored or being rendered. Idempotent.

    Returns whether this call rendered it.
    """
    spec = CopySpec(**values)
    session = db.session
    found = _programme(session, spec)
    if found is None:
        return False
    delegation, person = found
    key = key_for(delegation, person, spec)
    if stored(session, key) is not None or not claim(session, key):
        return False
    found = _programme(session, spec)  # the claim's commit expired what was read
    if found is None:
        return False
    delegation, person = found
    try:
        data = _render(delegation, person, spec)
    except Exception:
        session.rollback()
        session.execute(
            update(RenderedPdf)
            .where(RenderedPdf.cache_key == digest(key))
            .values(state=FAILED, finished_at=utcnow())
        )
        session.commit()
        raise
    session.execute(
        update(RenderedPdf)
        .where(RenderedPdf.cache_key == digest(key))
        .values(
            state=READY,
            data=data,
            etag=hashlib.sha256(data).hexdigest(),
            finished_at=utcnow(),
        )
    )
    # Older versions of this audience's copies are never asked for again.
    session.execute(
        delete(RenderedPdf).where(
            RenderedPdf.delegation_id == key.delegation_id,
            RenderedPdf.audience == key.audience,
            RenderedPdf.revision < key.revision,
        )
    )
    session.commit()
    return True


def enqueue_share_copies(delegation: Delegation, *, release_id: int) -> None:
    """After a release: render the delegation's and every person's share PDF ahead of time."""
    targets = [None, *(person.id for person in delegation.people)]
    for person_id in targets:
        who = "all" if person_id is None else person_id
        jobs.enqueue(
            TARGET,
            job_id=f"pdf-release-{release_id}-{who}",
            threaded=_threaded(),
            **asdict(CopySpec(SHARED, delegation.id, person_id)),
        )
