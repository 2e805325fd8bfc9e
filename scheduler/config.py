"""Configuration in one order: defaults, ``instance/config.py``, the environment, a test config."""

import os

DEV_SECRET_KEY = "dev-only-insecure-secret-key"


class Defaults:
    SECRET_KEY = DEV_SECRET_KEY
    SQLALCHEMY_DATABASE_URI = None  # filled in by create_app: a SQLite file in instance/
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    # Uploaded itineraries: a 20,000-meeting programme is about 12 MiB of JSON.
    MAX_CONTENT_LENGTH = 32 * 1024 * 1024
    WTF_CSRF_TIME_LIMIT = None  # a coordinator may keep a form open all afternoon
    SESSION_COOKIE_HTTPONLY = True
    # None: Secure unless the development key is in use (quickstart serves plain http).
    SESSION_COOKIE_SECURE = None
    REMEMBER_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SAMESITE = "Lax"
    # Travel-time estimate from coordinates where no travel_times entry exists (see conflicts).
    TRAVEL_ESTIMATE_ENABLED = True
    # The site's public address, e.g. https://scheduler.example.org: links inside calendar
    # feeds use it, so every worker and proxy writes the same bytes. Unset: the request's host.
    PUBLIC_BASE_URL = None
    # Right-hand side of every calendar UID. Set once, never change: subscribers key on it.
    CALENDAR_UID_DOMAIN = None
    # Redis for background work and shared rate limits; unset: in-process work, in-memory limits.
    REDIS_URL = None
    # Failed sign-ins allowed per minute before the next attempt is refused unchecked.
    SIGN_IN_LIMIT_PER_ACCOUNT = "5 per minute"
    SIGN_IN_LIMIT_PER_ADDRESS = "20 per minute"
    RATELIMIT_HEADERS_ENABLED = True
    # How long an admin's one-time link to set a new account's password stays valid (seconds).
    PASSWORD_LINK_MAX_AGE = 3 * 24 * 3600
    # Change notices by email (see README's configuration table).
    MAIL_SERVER = "localhost"
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USERNAME = None
    MAIL_PASSWORD = None
    MAIL_DEFAULT_SENDER = None  # unset: scheduler@localhost
    # How long a notice being sent is held by its worker before another may take it again.
    NOTICE_LEASE_SECONDS = 120
    # Imported documents (scheduler/itinerary/json_input.py): the 20,000-meeting benchmark
    # document is about 12 MiB and 20,000 meetings, nested 6 levels.
    DOCUMENT_MAX_BYTES = 32 * 1024 * 1024
    DOCUMENT_MAX_MEETINGS = 25_000
    DOCUMENT_MAX_DEPTH = 16
    # Form fields and query-string values (scheduler/web/guard.py), in characters.
    FORM_FIELD_MAX_CHARS = 20_000
    QUERY_VALUE_MAX_CHARS = 2_000
    # Behind a proxy: https for external URLs, and how many proxies set X-Forwarded-* headers
    # (0: trust none of them).
    PREFERRED_URL_SCHEME = "http"
    PROXY_FIX = 0
    # Seconds a client is told to wait (Retry-After) while the database cannot be reached.
    RETRY_AFTER_SECONDS = 5
    # Logs: "json" writes one JSON object a line with the request id; "text" Flask's default.
    LOG_FORMAT = "text"
    # Requests per API token (Flask-Limiter notation); beyond it 429 with Retry-After.
    API_RATE_LIMIT = "600 per minute"


def from_environment() -> dict:
    """Settings the environment overrides; only the ones that are set."""
    settings = {}
    if os.environ.get("DATABASE_URL"):
        settings["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(os.environ["DATABASE_URL"])
    for name in (
        "SECRET_KEY",
        "PUBLIC_BASE_URL",
        "CALENDAR_UID_DOMAIN",
        "REDIS_URL",
        "JOBS_QUEUE",
        "MAIL_SERVER",
        "MAIL_USERNAME",
        "MAIL_PASSWORD",
        "MAIL_DEFAULT_SENDER",
        "PREFERRED_URL_SCHEME",
        "LOG_FORMAT",
        "API_RATE_LIMIT",
    ):
        if os.environ.get(name):
            settings[name] = os.environ[name]
    for name in (
        "MAIL_PORT",
        "NOTICE_LEASE_SECONDS",
        "DOCUMENT_MAX_BYTES",
        "DOCUMENT_MAX_MEETINGS",
        "DOCUMENT_MAX_DEPTH",
        "FORM_FIELD_MAX_CHARS",
        "QUERY_VALUE_MAX_CHARS",
        "PROXY_FIX",
        "RETRY_AFTER_SECONDS",
    ):
        if os.environ.get(name):
            settings[name] = int(os.environ[name])
    if os.environ.get("MAIL_USE_TLS"):
        settings["MAIL_USE_TLS"] = os.environ["MAIL_USE_TLS"].lower() in ("1", "true", "yes", "on")
    return settings


def normalise_database_url(url: str) -> str:
    """Accept the ``postgres://`` and ``postgresql://`` forms hosts hand out; we ship psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def check_production_config(config) -> None:
    """Refuse to serve real users with the development secret key."""
    if not config.get("SECRET_KEY") or config["SECRET_KEY"] == DEV_SECRET_KEY:
        raise RuntimeError(
            "SECRET_KEY is not set: set it in the environment or instance/config.py "
            "before serving in production "
            "(python -c 'import secrets; print(secrets.token_hex(32))')."
        )
