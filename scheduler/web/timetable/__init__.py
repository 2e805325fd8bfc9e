from flask import Blueprint

bp = Blueprint("timetable", __name__)

from scheduler.web.timetable import views  # noqa: E402, F401  (registers the routes)
