"""Releasing the programme: the release page, the list of releases, what changed in each."""

from flask import Blueprint

bp = Blueprint("releases", __name__)

from scheduler.web.releases import views  # noqa: E402, F401  (registers the routes)
