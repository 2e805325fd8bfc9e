"""The coordinator's agenda (with internal notes and conflicts), its PDF, and the spreadsheet."""

from flask import Response, abort, request, url_for
from flask_login import login_required
from sqlalchemy import select

from scheduler.agenda.assemble import COORDINATOR, build_agenda
from scheduler.agenda.pdf_cache import PdfKey
from scheduler.agenda.render import (
    STYLESHEET,
    PaperError,
    paper_size,
    render_agenda_html,
    render_agenda_pdf,
)
from scheduler.agenda.spreadsheet import MIME_TYPE, programme_workbook
from scheduler.extensions import db
from scheduler.itinerary.conflicts import Conflict, check_delegation
from scheduler.models import Delegation
from scheduler.web.agenda import bp
from scheduler.web.agenda.responses import (
    agenda_filename,
    agenda_pdf_cache,
    copy_filename,
    download_response,
    pdf_response,
    private_page,
)
from scheduler.web.common import estimate_travel, loaded_delegation_or_404


def _conflicts(delegation: Delegation) -> list[Conflict]:
    return check_delegation(db.session, delegation, estimate_travel=estimate_travel())


def _coordinator_agenda(delegation: Delegation):
    return build_agenda(
        delegation,
        audience=COORDINATOR,
        conflicts=_conflicts(delegation),
        estimate_travel=estimate_travel(),
    )


@bp.get("/delegations/<key>/agenda")
@login_required
def coordinator(key: str) -> Response:
    programme = _coordinator_agenda(loaded_delegation_or_404(key))
    links = {
        "pdf_a4": url_for("agenda.coordinator_pdf", key=key),
        "pdf_letter": url_for("agenda.coordinator_pdf", key=key, paper="letter"),
        "spreadsheet": url_for("agenda.spreadsheet", key=key),
        "back": url_for("delegations.programme", key=key),
    }
    html = render_agenda_html(
        programme, stylesheet_href=url_for("static", filename=STYLESHEET), links=links
    )
    return private_page(html)


@bp.get("/delegations/<key>/agenda.pdf")
@login_required
def coordinator_pdf(key: str) -> Response:
    try:
        paper = paper_size(request.args.get("paper"))
    except PaperError as exc:
        abort(400, description=str(exc))
    delegation = db.session.scalar(select(Delegation).where(Delegation.key == key))
    if delegation is None:
        abort(404)
    pdf_key = PdfKey.for_copy(
        delegation,
        person=None,
        audience=COORDINATOR,
        paper=paper,
        share_selector=None,
        estimate_travel=estimate_travel(),
    )
    pdf = agenda_pdf_cache().get_or_render(
        pdf_key,
        lambda: render_agenda_pdf(_coordinator_agenda(loaded_delegation_or_404(key)), paper=paper),
    )
    return pdf_response(pdf, copy_filename(key, None, COORDINATOR, delegation.revision, paper))


@bp.get("/delegations/<key>/programme.xlsx")
@login_required
def spreadsheet(key: str) -> Response:
    delegation = loaded_delegation_or_404(key)
    data = programme_workbook(delegation, conflicts=_conflicts(delegation))
    programme = build_agenda(delegation, audience=COORDINATOR)
    return download_response(data, MIME_TYPE, agenda_filename(programme, "", "xlsx"))
