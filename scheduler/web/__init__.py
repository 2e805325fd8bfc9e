"""Blueprints, one per area, registered in one place."""

from flask import Flask, render_template
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

ERROR_EXPLANATIONS = {
    400: _l("The request could not be understood. Reload the page and try again."),
    403: _l("You may not see this page."),
    404: _l("There is no such page. A share link stops working when a coordinator replaces it."),
    405: _l("That page cannot be used this way."),
    413: _l("The upload is too large: itinerary documents may be at most {limit} MiB."),
}
# The status lines' words (werkzeug's names are English only).
ERROR_NAMES = {
    400: _l("Bad Request"),
    401: _l("Unauthorized"),
    403: _l("Forbidden"),
    404: _l("Not Found"),
    405: _l("Method Not Allowed"),
    409: _l("Conflict"),
    410: _l("Gone"),
    412: _l("Precondition Failed"),
    413: _l("Request Entity Too Large"),
    415: _l("Unsupported Media Type"),
    422: _l("Unprocessable Entity"),
    428: _l("Precondition Required"),
    429: _l("Too Many Requests"),
    500: _l("Internal Server Error"),
    503: _l("Service Unavailable"),
}


def register_blueprints(app: Flask) -> None:
    from scheduler.web.agenda import bp as agenda_bp
    from scheduler.web.auth import bp as auth_bp
    from scheduler.web.common import register_template_helpers
    from scheduler.web.delegations import bp as delegations_bp
    from scheduler.web.meetings import bp as meetings_bp
    from scheduler.web.people import bp as people_bp
    from scheduler.web.share import bp as share_bp
    from scheduler.web.timetable import bp as timetable_bp
    from scheduler.web.venues import bp as venues_bp

    register_template_helpers(app)
    app.register_error_handler(HTTPException, _http_error_page)
    for blueprint in (
        auth_bp,
        delegations_bp,
        meetings_bp,
        people_bp,
        venues_bp,
        agenda_bp,
        share_bp,
        timetable_bp,
    ):
        app.register_blueprint(blueprint)


def _http_error_page(error: HTTPException):
    """A page in the site's words for every HTTP error, never a bare server default."""
    from flask import current_app

    limit = (current_app.config.get("MAX_CONTENT_LENGTH") or 0) // (1024 * 1024)
    # A view that aborted with its own description (say, which field was wrong) keeps it.
    if error.description and error.description != type(error).description:
        explanation = error.description
    else:
        explanation = str(ERROR_EXPLANATIONS.get(error.code, error.description or ""))
        explanation = explanation.format(limit=limit)
    name = str(ERROR_NAMES.get(error.code, error.name))
    body = render_template("errors.html", code=error.code, name=name, explanation=explanation)
    return body, error.code
