"""HTTP responses shared by the share-link and coordinator agenda routes."""

from __future__ import annotations

import re

from flask import Response

from scheduler.agenda.programme import Agenda

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def agenda_filename(agenda: Agenda, paper: str, extension: str = "pdf") -> str:
    """programme-<delegation>[-<person>][-coordinator]-v<revision>-<paper>.pdf, ASCII only."""
    parts = ["programme", agenda.delegation_key]
    if agenda.person is not None:
        parts.append(agenda.person.key)
    if agenda.audience == "coordinator":
        parts.append("coordinator")
    parts.append(f"v{agenda.revision}")
    if paper:
        parts.append(paper)
    return _UNSAFE.sub("-", "-".join(parts)) + f".{extension}"


def _no_store(response: Response) -> Response:
    """Programmes change and links are secret: no shared caches, no stale copies, no referrer."""
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def private_page(html: str) -> Response:
    return _no_store(Response(html, mimetype="text/html"))


def pdf_response(pdf: bytes, agenda: Agenda, paper: str) -> Response:
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{agenda_filename(agenda, paper)}"'
    return _no_store(response)


def download_response(data: bytes, mimetype: str, filename: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return _no_store(response)
