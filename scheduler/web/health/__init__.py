"""Probes for a load balancer: ``/healthz`` (the process answers) and ``/readyz`` (it can work)."""

from flask import Blueprint

bp = Blueprint("health", __name__)

from scheduler.web.health import views  # noqa: E402, F401
