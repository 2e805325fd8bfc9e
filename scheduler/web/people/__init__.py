from flask import Blueprint

bp = Blueprint("people", __name__)

from scheduler.web.people import views  # noqa: E402, F401  (registers the routes)
