"""Pages behind a secret share link, no sign-in; feed and agenda routes in their own modules."""

from flask import Blueprint

bp = Blueprint("share", __name__, url_prefix="/share")

from scheduler.web.share import agenda, changes, feeds  # noqa: E402, F401  (registers the routes)
