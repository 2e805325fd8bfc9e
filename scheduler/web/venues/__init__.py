from flask import Blueprint

bp = Blueprint("venues", __name__)

from scheduler.web.venues import views  # noqa: E402, F401  (registers the routes)
