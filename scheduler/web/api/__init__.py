"""/api/v1: JSON for other systems, with a token for an account (flask-smorest).

The OpenAPI description is generated from the views and schemas here and served at
/api/v1/openapi.json; /api/v1/docs is a page of it for people.
"""

from flask_smorest import Api as _Api
from flask_smorest import Blueprint

from scheduler.web.api.schemas import Errors  # noqa: E402


class Api(_Api):
    ERROR_SCHEMA = Errors  # the "default" response of every operation: {"errors": [...]}

    def _register_error_handlers(self):
        """The app's one error handler answers /api in JSON (scheduler.web.api.errors)."""


api = Api()
bp = Blueprint(
    "api",
    __name__,
    url_prefix="/api/v1",
    description="Delegations, their programme and conflicts, for other systems.",
)


def _setup(blueprint: Blueprint) -> None:
    """Token authentication instead of the session, no CSRF (no cookie is trusted), and a
    request limit per token."""
    from flask import current_app

    from scheduler.extensions import csrf, limiter
    from scheduler.web.api.auth import authenticate_request, rate_limit_key

    csrf.exempt(blueprint)
    blueprint.before_request(authenticate_request)
    limiter.limit(
        lambda: current_app.config["API_RATE_LIMIT"],
        key_func=rate_limit_key,
        scope="api",
        per_method=False,
    )(blueprint)


_setup(bp)

from scheduler.web.api import programme, views  # noqa: E402,F401
