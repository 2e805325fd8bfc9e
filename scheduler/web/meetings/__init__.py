from flask import Blueprint

bp = Blueprint("meetings", __name__)

from scheduler.web.meetings import views  # noqa: E402, F401  (registers the routes)
