"""The agenda page and its PDF behind a share link: no sign-in, never internal notes or conflicts.

A delegation's link shows the whole programme; a person's link only the meetings they attend.
"""

from flask import Response, abort, request, url_for

from scheduler.agenda.programme import SHARED, build_agenda
from scheduler.agenda.render import (
    STYLESHEET,
    PaperError,
    paper_size,
    render_agenda_html,
    render_agenda_pdf,
)
from scheduler.extensions import db
from scheduler.itinerary.document import load_delegation
from scheduler.models import Person
from scheduler.web.agenda.responses import pdf_response, private_page
from scheduler.web.share import bp
from scheduler.web.share.lookup import shared_entity_or_404


def _shared_agenda(token: str):
    entity = shared_entity_or_404(token)
    is_person = isinstance(entity, Person)
    key = entity.delegation.key if is_person else entity.key
    delegation = load_delegation(db.session, key)
    if delegation is None:  # deleted between the two reads
        abort(404)
    person = next((p for p in delegation.people if p.id == entity.id), None) if is_person else None
    return build_agenda(delegation, person=person, audience=SHARED)


@bp.get("/<token>/agenda")
def agenda(token: str) -> Response:
    programme = _shared_agenda(token)
    links = {
        "pdf_a4": url_for("share.agenda_pdf", token=token),
        "pdf_letter": url_for("share.agenda_pdf", token=token, paper="letter"),
    }
    html = render_agenda_html(
        programme, stylesheet_href=url_for("static", filename=STYLESHEET), links=links
    )
    return private_page(html)


@bp.get("/<token>/agenda.pdf")
def agenda_pdf(token: str) -> Response:
    try:
        paper = paper_size(request.args.get("paper"))
    except PaperError as exc:
        abort(400, description=str(exc))
    programme = _shared_agenda(token)
    return pdf_response(render_agenda_pdf(programme, paper=paper), programme, paper)
