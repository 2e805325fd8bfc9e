"""The coordinator's agenda (with internal notes and conflicts), its PDF, and the spreadsheet."""

from flask import Response, abort, request, url_for
from flask_login import login_required

from scheduler.agenda.assemble import COORDINATOR, build_agenda
from scheduler.agenda.fonts import agenda_names, font_report, reference_names
from scheduler.agenda.pdf_jobs import CopySpec, key_for
from scheduler.agenda.render import (
    FONTS_STYLESHEET,
    STYLESHEET,
    PaperError,
    paper_size,
    render_agenda_html,
)
from scheduler.agenda.spreadsheet import MIME_TYPE, programme_workbook
from scheduler.extensions import db
from scheduler.i18n import current_language
from scheduler.itinerary.conflicts import Conflict, check_delegation
from scheduler.itinerary.review import overrides_by_conflict
from scheduler.models import Delegation
from scheduler.web.agenda import bp
from scheduler.web.agenda.responses import (
    agenda_filename,
    copy_filename,
    download_response,
    private_page,
    stored_pdf_or_preparing,
)
from scheduler.web.common import (
    current_access,
    delegation_or_404,
    estimate_travel,
    loaded_delegation_or_404,
    needs,
    visible_conflicts,
)


def _conflicts(delegation: Delegation) -> list[Conflict]:
    conflicts = check_delegation(db.session, delegation, estimate_travel=estimate_travel())
    return visible_conflicts(delegation, conflicts)


def _coordinator_agenda(delegation: Delegation):
    return build_agenda(
        delegation,
        audience=COORDINATOR,
        conflicts=_conflicts(delegation),
        overrides=overrides_by_conflict(db.session, delegation.id),
        estimate_travel=estimate_travel(),
    )


@bp.get("/delegations/<key>/agenda")
@login_required
@needs()
def coordinator(key: str) -> Response:
    programme = _coordinator_agenda(loaded_delegation_or_404(key))
    links = {
        "pdf_a4": url_for("agenda.coordinator_pdf", key=key),
        "pdf_letter": url_for("agenda.coordinator_pdf", key=key, paper="letter"),
        "spreadsheet": url_for("agenda.spreadsheet", key=key),
        "back": url_for("delegations.programme", key=key),
    }
    html = render_agenda_html(
        programme,
        stylesheet_href=url_for("static", filename=STYLESHEET),
        fonts_href=url_for("static", filename=FONTS_STYLESHEET),
        links=links,
        font_problems=font_report([*reference_names(), *agenda_names(programme)]),
    )
    return private_page(html)


@bp.get("/delegations/<key>/agenda.pdf")
@login_required
@needs()
def coordinator_pdf(key: str) -> Response:
    try:
        paper = paper_size(request.args.get("paper"))
    except PaperError as exc:
        abort(400, description=str(exc))
    delegation = delegation_or_404(key)
    granted = current_access()
    # A host's copy is its own part of the programme, rendered and stored as a copy of its own.
    spec = CopySpec(
        COORDINATOR,
        delegation.id,
        estimate_travel=estimate_travel(),
        paper=paper,
        language=current_language(),
        host_organization_id=granted.host_organization_id if granted.is_host else None,
    )
    pdf_key = key_for(delegation, None, spec)
    filename = copy_filename(key, None, COORDINATOR, delegation.revision, paper)
    return stored_pdf_or_preparing(spec, pdf_key, filename)


@bp.get("/delegations/<key>/programme.xlsx")
@login_required
@needs()
def spreadsheet(key: str) -> Response:
    delegation = loaded_delegation_or_404(key)
    data = programme_workbook(delegation, conflicts=_conflicts(delegation))
    programme = build_agenda(delegation, audience=COORDINATOR)
    return download_response(data, MIME_TYPE, agenda_filename(programme, "", "xlsx"))
