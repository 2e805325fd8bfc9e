"""The agenda page and its PDF behind a share link: no sign-in, never internal notes or conflicts.

A delegation's link shows the whole programme; a person's link only the meetings they attend.
The PDF is rendered once per programme revision and copy, then served from the PDF cache.
"""

from flask import Response, abort, request, url_for

from scheduler.agenda.assemble import SHARED, build_agenda
from scheduler.agenda.pdf_cache import PdfKey
from scheduler.agenda.render import (
    FONTS_STYLESHEET,
    STYLESHEET,
    PaperError,
    paper_size,
    render_agenda_html,
    render_agenda_pdf,
)
from scheduler.extensions import db
from scheduler.itinerary.releases import published_programme
from scheduler.models import Delegation, Person
from scheduler.web.agenda.responses import (
    agenda_pdf_cache,
    copy_filename,
    pdf_response,
    private_page,
)
from scheduler.web.share import bp
from scheduler.web.share.lookup import shared_entity_or_404


def _whose_copy(entity: Delegation | Person) -> tuple[Delegation, Person | None]:
    if isinstance(entity, Person):
        return entity.delegation, entity
    return entity, None


def _shared_agenda(entity: Delegation | Person):
    delegation, person = _whose_copy(entity)
    delegation = published_programme(db.session, delegation)
    if delegation is None:  # deleted between the two reads
        abort(404)
    if person is not None:
        person = next((p for p in delegation.people if p.id == person.id), None)
    return build_agenda(delegation, person=person, audience=SHARED)


@bp.get("/<token>/agenda")
def agenda(token: str) -> Response:
    programme = _shared_agenda(shared_entity_or_404(token, used_for="agenda"))
    links = {
        "pdf_a4": url_for("share.agenda_pdf", token=token),
        "pdf_letter": url_for("share.agenda_pdf", token=token, paper="letter"),
    }
    html = render_agenda_html(
        programme,
        stylesheet_href=url_for("static", filename=STYLESHEET),
        fonts_href=url_for("static", filename=FONTS_STYLESHEET),
        links=links,
    )
    return private_page(html)


@bp.get("/<token>/agenda.pdf")
def agenda_pdf(token: str) -> Response:
    try:
        paper = paper_size(request.args.get("paper"))
    except PaperError as exc:
        abort(400, description=str(exc))
    entity = shared_entity_or_404(token, used_for="pdf")
    delegation, person = _whose_copy(entity)
    published = published_programme(db.session, delegation)
    key = PdfKey.for_copy(
        published,
        person=person,
        audience=SHARED,
        paper=paper,
        share_selector=entity.share_selector,
    )
    pdf = agenda_pdf_cache().get_or_render(
        key, lambda: render_agenda_pdf(_shared_agenda(entity), paper=paper)
    )
    person_key = person.key if person is not None else None
    return pdf_response(
        pdf, copy_filename(delegation.key, person_key, SHARED, published.revision, paper)
    )
