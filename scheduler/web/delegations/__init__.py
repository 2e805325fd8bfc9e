from flask import Blueprint

bp = Blueprint("delegations", __name__)

from scheduler.web.delegations import views  # noqa: E402, F401  (registers the routes)
