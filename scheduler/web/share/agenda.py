"""The agenda page and its PDF behind a share link: no sign-in, never internal notes or conflicts.

A delegation's link shows the whole programme; a person's link only the meetings they attend.
The PDF is rendered once per programme revision and copy by a background job
(scheduler.agenda.pdf_jobs) and served from the database; until then a "being prepared" page.
"""

from flask import Response, abort, request, url_for

from scheduler.agenda.assemble import SHARED, build_agenda
from scheduler.agenda.pdf_jobs import CopySpec, key_for
from scheduler.agenda.render import (
    FONTS_STYLESHEET,
    STYLESHEET,
    PaperError,
    paper_size,
    render_agenda_html,
)
from scheduler.extensions import db
from scheduler.i18n import current_language
from scheduler.itinerary.releases import published_programme, published_stamp
from scheduler.models import Delegation, Person
from scheduler.web.agenda.responses import (
    copy_filename,
    private_page,
    stored_pdf_or_preparing,
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
    published = published_stamp(db.session, delegation)  # the programme is the job's to load
    spec = CopySpec(
        SHARED,
        delegation.id,
        person.id if person is not None else None,
        paper,
        language=current_language(),
    )
    key = key_for(published, person, spec)
    person_key = person.key if person is not None else None
    filename = copy_filename(delegation.key, person_key, SHARED, published.revision, paper)
    return stored_pdf_or_preparing(spec, key, filename)
