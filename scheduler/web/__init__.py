"""Blueprints, one per area, registered in one place."""

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from scheduler.web.agenda import bp as agenda_bp
    from scheduler.web.auth import bp as auth_bp
    from scheduler.web.delegations import bp as delegations_bp
    from scheduler.web.meetings import bp as meetings_bp
    from scheduler.web.people import bp as people_bp
    from scheduler.web.share import bp as share_bp
    from scheduler.web.venues import bp as venues_bp

    for blueprint in (
        auth_bp,
        delegations_bp,
        meetings_bp,
        people_bp,
        venues_bp,
        agenda_bp,
        share_bp,
    ):
        app.register_blueprint(blueprint)
