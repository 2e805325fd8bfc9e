from flask import Blueprint

bp = Blueprint("team", __name__)

from scheduler.web.team import views  # noqa: E402, F401  (registers the routes)
