from flask import Blueprint

bp = Blueprint("agenda", __name__)

from scheduler.web.agenda import views  # noqa: E402, F401  (registers the routes)
