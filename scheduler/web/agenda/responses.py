"""HTTP responses shared by the share-link and coordinator agenda routes."""

from __future__ import annotations

import re

from flask import Response, render_template, request

from scheduler.agenda.assemble import COORDINATOR, Agenda
from scheduler.agenda.pdf_cache import CachedPdf

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def copy_filename(
    delegation_key: str,
    person_key: str | None,
    audience: str,
    revision: int,
    paper: str,
    extension: str = "pdf",
) -> str:
    """programme-<delegation>[-<person>][-coordinator]-v<revision>-<paper>.pdf, ASCII only."""
    parts = ["programme", delegation_key]
    if person_key is not None:
        parts.append(person_key)
    if audience == COORDINATOR:
        parts.append("coordinator")
    parts.append(f"v{revision}")
    if paper:
        parts.append(paper)
    return _UNSAFE.sub("-", "-".join(parts)) + f".{extension}"


def agenda_filename(agenda: Agenda, paper: str, extension: str = "pdf") -> str:
    person_key = agenda.person.key if agenda.person is not None else None
    return copy_filename(
        agenda.delegation_key, person_key, agenda.audience, agenda.revision, paper, extension
    )


def _private(response: Response, cache_control: str = "private, no-store") -> Response:
    """Programmes change and links are secret: no shared caches, no stale copies, no referrer."""
    response.headers["Cache-Control"] = cache_control
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def private_page(html: str) -> Response:
    return _private(Response(html, mimetype="text/html"))


def pdf_response(pdf: CachedPdf, filename: str) -> Response:
    """The PDF with a strong ETag; a client that has these bytes gets 304 Not Modified.

    ``private, no-cache``: the browser may keep the file (never a shared cache), but asks
    again every time, so a changed programme is never shown from a stale copy.
    """
    response = Response(pdf.data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.set_etag(pdf.etag)
    _private(response, "private, no-cache")
    return response.make_conditional(request)


def preparing_response(retry_after: int = 2) -> Response:
    """202 Accepted: the PDF is being rendered by a background job; the page reloads itself.

    ``Retry-After`` and ``Refresh`` say when to ask again; nothing here waits for the render.
    """
    html = render_template("agenda/preparing.html", retry_after=retry_after)
    response = _private(Response(html, status=202, mimetype="text/html"))
    response.headers["Retry-After"] = str(retry_after)
    response.headers["Refresh"] = str(retry_after)
    return response


def stored_pdf_or_preparing(spec, key, filename: str) -> Response:
    """The stored copy, or (enqueueing its render) the "being prepared" page."""
    from scheduler.agenda import pdf_jobs
    from scheduler.extensions import db

    pdf = pdf_jobs.stored(db.session, key)
    if pdf is not None:
        return pdf_response(pdf, filename)
    pdf_jobs.request_render(spec, key)
    db.session.commit()  # the job leaves once this commits
    return preparing_response()


def download_response(data: bytes, mimetype: str, filename: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return _private(response)
