from flask import Blueprint

bp = Blueprint("accounts", __name__)

from scheduler.web.accounts import views  # noqa: E402, F401  (registers the routes)
