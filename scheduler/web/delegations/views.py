"""Routes of the delegations area."""

from flask import render_template
from flask_login import login_required
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import Delegation
from scheduler.web.delegations import bp


@bp.route("/delegations")
@login_required
def index():
    delegations = db.session.scalars(select(Delegation).order_by(Delegation.start_date)).all()
    return render_template("delegations/index.html", delegations=delegations)
