"""The delegation-visit scheduler: itineraries, conflicts, calendar feeds and printable agendas."""

import os
import sqlite3

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from scheduler import config as config_module
from scheduler import i18n, jobs, logs
from scheduler.extensions import babel, csrf, db, limiter, login_manager, migrate


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_object(config_module.Defaults)
    app.config.from_pyfile("config.py", silent=True)
    app.config.update(config_module.from_environment())
    if test_config:
        app.config.update(test_config)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        path = os.path.join(app.instance_path, "scheduler.sqlite")
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"

    if app.config.get("SESSION_COOKIE_SECURE") is None:
        secure = app.config["SECRET_KEY"] != config_module.DEV_SECRET_KEY and not app.testing
        app.config["SESSION_COOKIE_SECURE"] = app.config["REMEMBER_COOKIE_SECURE"] = secure
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config.get("REDIS_URL") or "memory://")

    if app.config.get("PROXY_FIX"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["PROXY_FIX"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_prefix=hops)

    logs.init_app(app)  # first: the request id exists before anything can refuse the request
    from scheduler.web import guard

    guard.init_app(app)  # then bad input, before CSRF, sign-in or any view reads a field
    db.init_app(app)
    _close_sessions_quietly(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    i18n.init_app(app, babel)
    jobs.init_app(app)

    from scheduler import models  # noqa: F401  (registers the tables)
    from scheduler.agenda.fonts import log_font_check
    from scheduler.cli import register_commands
    from scheduler.web import register_blueprints

    register_blueprints(app)
    register_commands(app)
    log_font_check()  # once per process: the vendored fonts draw the reference visit's names?
    return app


def _close_sessions_quietly(app: Flask) -> None:
    """End the request's session before Flask-SQLAlchemy's teardown (teardowns run last
    registered first): closing rolls back, and on a connection the database has just dropped
    that raises after the response was made, leaving the server's bare 500 instead of it."""

    @app.teardown_appcontext
    def _remove_session(_exc):
        try:
            db.session.remove()
        except DBAPIError as exc:
            app.logger.warning("session closed on a lost connection: %s", str(exc).split("\n")[0])
            db.session.registry.clear()


@event.listens_for(Engine, "connect")
def _enforce_sqlite_foreign_keys(dbapi_connection, _record):
    """SQLite ignores foreign keys unless asked on every connection."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
