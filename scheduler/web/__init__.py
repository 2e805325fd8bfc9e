"""Blueprints, one per area, registered in one place."""

from flask import Flask, current_app, g, render_template
from flask_babel import lazy_gettext as _l
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException, InternalServerError

# The database cannot be reached (refused, reset, timed out): try again shortly, not a bug.
DATABASE_UNAVAILABLE = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)

ERROR_EXPLANATIONS = {
    400: _l("The request could not be understood. Reload the page and try again."),
    403: _l("You may not see this page."),
    404: _l("There is no such page. A share link stops working when a coordinator replaces it."),
    405: _l("That page cannot be used this way."),
    409: _l("Someone else saved the same thing at the same moment. Reload the page and try again."),
    413: _l("The upload is too large: itinerary documents may be at most {limit} MiB."),
    500: _l("Something went wrong on our side. The error has been logged; try again in a moment."),
    503: _l(
        "The scheduler cannot reach its database just now. Nothing you sent was saved: "
        "wait a few seconds and try again."
    ),
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
    from scheduler.web.accounts import bp as accounts_bp
    from scheduler.web.agenda import bp as agenda_bp
    from scheduler.web.auth import bp as auth_bp
    from scheduler.web.common import register_template_helpers
    from scheduler.web.delegations import bp as delegations_bp
    from scheduler.web.health import bp as health_bp
    from scheduler.web.meetings import bp as meetings_bp
    from scheduler.web.people import bp as people_bp
    from scheduler.web.releases import bp as releases_bp
    from scheduler.web.requests import bp as requests_bp
    from scheduler.web.share import bp as share_bp
    from scheduler.web.team import bp as team_bp
    from scheduler.web.timetable import bp as timetable_bp
    from scheduler.web.venues import bp as venues_bp

    register_template_helpers(app)
    app.register_error_handler(HTTPException, _http_error_page)
    app.register_error_handler(InternalServerError, _server_error_page)
    for error in DATABASE_UNAVAILABLE:
        app.register_error_handler(error, _database_unavailable_page)
    app.register_blueprint(health_bp)
    register_api(app)
    for blueprint in (
        auth_bp,
        delegations_bp,
        meetings_bp,
        people_bp,
        venues_bp,
        releases_bp,
        requests_bp,
        agenda_bp,
        share_bp,
        accounts_bp,
        team_bp,
        timetable_bp,
    ):
        app.register_blueprint(blueprint)


def register_api(app: Flask) -> None:
    """/api/v1 (scheduler.web.api), its OpenAPI description and the page of it."""
    from scheduler.web.api import api, docs
    from scheduler.web.api import bp as api_bp

    app.config.setdefault("API_TITLE", "Delegation-visit scheduler")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api/v1")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("API_SPEC_OPTIONS", docs.SPEC_OPTIONS)
    api.init_app(app)
    api.register_blueprint(api_bp)
    app.register_blueprint(docs.pages)


def _http_error_page(error: HTTPException):
    """A page in the site's words for every HTTP error, never a bare server default."""
    from flask import current_app, request

    if request.path == "/api" or request.path.startswith("/api/"):
        from scheduler.web.api.errors import http_error_response

        return http_error_response(error)

    limit = (current_app.config.get("MAX_CONTENT_LENGTH") or 0) // (1024 * 1024)
    # A view that aborted with its own description (say, which field was wrong) keeps it.
    if error.description and error.description != type(error).description:
        explanation = error.description
    else:
        explanation = str(ERROR_EXPLANATIONS.get(error.code, error.description or ""))
        explanation = explanation.format(limit=limit)
    name = str(ERROR_NAMES.get(error.code, error.name))
    return _render_error(error.code, name, explanation), error.code


def _render_error(code: int, name: str, explanation: str) -> str:
    """The error page; if the database is gone too, the same page for nobody signed in.

    Rendering any template loads the signed-in account (Flask-Login's context processor):
    without a database that would fail inside the error handler and leave the server's bare
    "Internal Server Error"."""
    if not g.get("database_unavailable"):
        try:
            return render_template("errors.html", code=code, name=name, explanation=explanation)
        except DATABASE_UNAVAILABLE:
            _forget_the_session()
    from scheduler.extensions import login_manager

    g.database_unavailable = True
    g._login_user = login_manager.anonymous_user()
    return render_template("errors.html", code=code, name=name, explanation=explanation)


def _server_error_page(error: InternalServerError):
    """A bug: logged with its traceback once, and a page that needs nothing but the template."""
    original = getattr(error, "original_exception", None)
    if isinstance(original, DATABASE_UNAVAILABLE):
        return _database_unavailable_page(original)
    _forget_the_session()
    return _render_error(500, str(ERROR_NAMES[500]), str(ERROR_EXPLANATIONS[500])), 500


def _database_unavailable_page(error: Exception):
    """503 with Retry-After, in the site's words, rendered without touching the database."""
    current_app.logger.warning("database unavailable: %s", str(error).splitlines()[0][:200])
    _forget_the_session()
    from scheduler.extensions import login_manager

    g.database_unavailable = True
    g._login_user = login_manager.anonymous_user()
    body = _render_error(503, str(ERROR_NAMES[503]), str(ERROR_EXPLANATIONS[503]))
    retry = str(current_app.config["RETRY_AFTER_SECONDS"])
    return body, 503, {"Retry-After": retry, "Cache-Control": "no-store"}


def _forget_the_session() -> None:
    from scheduler.extensions import db

    try:
        db.session.rollback()
    except Exception:  # the connection is gone: the session is removed at teardown anyway
        current_app.logger.debug("rollback failed after an error", exc_info=True)
