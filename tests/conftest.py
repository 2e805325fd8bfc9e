"""Fixtures: app, client, runner, login, documents, query counting, and external requirements.

The suite runs on SQLite by default and on PostgreSQL when TEST_DATABASE_URL names one
(CI does both). Tests that need Chromium, PostgreSQL or CJK fonts skip on a machine
without them, and fail in CI (CI=true), where nothing may skip.
"""

from __future__ import annotations

import copy
import html
import json
import os
import re
import shutil
import subprocess
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import event, text

from scheduler import create_app
from scheduler.extensions import db as _db

ROOT = Path(__file__).resolve().parent.parent
REFERENCE_DOCUMENT = ROOT / "scheduler" / "demo" / "shonan-ipark-2024.json"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def require(available: bool, reason: str) -> None:
    """Skip with a reason on a developer's machine; fail in CI, where nothing may skip."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"CI requires this, but: {reason}")
    pytest.skip(reason)


# --------------------------------------------------------------------------- databases


def _is_postgres(url: str) -> bool:
    return url.startswith("postgresql")


def pytest_collection_modifyitems(config, items):
    """On PostgreSQL (TEST_DATABASE_URL), leave out the tests marked ``any_database``: they
    never touch the database under test (the wheel, the benchmark scripts, the linter), so
    the SQLite run has already run them, identically. Deselected, not skipped: the summary
    counts them, and CI's SQLite run fails if any of them fails."""
    if not _is_postgres(os.environ.get("TEST_DATABASE_URL", "")):
        return
    elsewhere = [item for item in items if item.get_closest_marker("any_database")]
    if elsewhere:
        config.hook.pytest_deselected(items=elsewhere)
        items[:] = [item for item in items if not item.get_closest_marker("any_database")]


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"


@pytest.fixture(scope="session")
def _schema(database_url):
    """Create the tables once per run; each test then starts from empty tables."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        _db.drop_all()
        _db.create_all()
    yield
    with app.app_context():
        _db.drop_all()
        _db.engine.dispose()


def _empty_all_tables() -> None:
    tables = list(reversed(_db.metadata.sorted_tables))
    if _db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        _db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            _db.session.execute(table.delete())
    _db.session.commit()


@pytest.fixture
def app(_schema, database_url, tmp_path):
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "SECRET_KEY": "test-secret-key",
            "WTF_CSRF_ENABLED": True,
            "SERVER_NAME": "scheduler.test",
            # Rendered agenda PDFs: per test, never in the checkout's instance/ folder.
            # PDF jobs at the end of the request that asked, not in a thread: deterministic.
            "AGENDA_PDF_JOB_THREADED": False,
        }
    )
    yield app
    with app.app_context():
        _db.session.remove()
        _empty_all_tables()
        _db.session.remove()
        _db.engine.dispose()  # each app has its own pool: close it, or PostgreSQL connections leak


@pytest.fixture
def app_context(app):
    with app.app_context():
        yield app


@pytest.fixture
def session(app_context):
    """The database session, inside an app context."""
    return _db.session


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# --------------------------------------------------------------------------- accounts

TEST_EMAIL = "coordinator@example.org"
TEST_PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def _test_password_hash() -> str:
    """A real hash, of a cheap method: scrypt at 0.2 s a sign-in would dominate the suite.

    The production method is exercised by the create-user tests.
    """
    from werkzeug.security import generate_password_hash

    return generate_password_hash(TEST_PASSWORD, method="pbkdf2:sha256:1000")


def own_every_delegation(email: str = TEST_EMAIL) -> None:
    """The test coordinator owns every delegation there is (in an app context).

    Most tests are about what a coordinator does with a visit of their own; the access tests
    use accounts of their own with other roles.
    """
    from sqlalchemy import select

    from scheduler.itinerary.access import grant_of, grant_role
    from scheduler.models import Delegation, User

    account = _db.session.scalar(select(User).where(User.email == email))
    if account is None:
        return
    for delegation in _db.session.scalars(select(Delegation)):
        if grant_of(_db.session, delegation.id, account.id) is None:
            grant_role(_db.session, delegation, account, "owner")
    _db.session.commit()


@pytest.fixture
def user(app, _test_password_hash):
    from scheduler.models import User

    with app.app_context():
        account = User(email=TEST_EMAIL, password_hash=_test_password_hash)
        _db.session.add(account)
        _db.session.commit()
        own_every_delegation()
        return account.id


def csrf_token_from(html: str) -> str:
    marker = 'name="csrf_token" type="hidden" value="'
    if marker not in html:
        marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


def opened_stamp(page: str) -> dict:
    """The edit stamp an edit form's page carries, as form data to send back with the save."""
    match = re.search(r'<input id="opened" name="opened" type="hidden" value="([^"]*)"', page)
    assert match, "the page has no edit stamp"
    return {"opened": html.unescape(match.group(1))}


@pytest.fixture
def login(client, user):
    """Sign the test client in through the real form, CSRF token and all."""

    def do_login(email: str = TEST_EMAIL, password: str = TEST_PASSWORD):
        page = client.get("/login")
        token = csrf_token_from(page.get_data(as_text=True))
        return client.post(
            "/login", data={"email": email, "password": password, "csrf_token": token}
        )

    response = do_login()
    assert response.status_code == 302, response.get_data(as_text=True)
    return do_login


# --------------------------------------------------------------------------- documents


@pytest.fixture
def reference_document() -> dict:
    """A fresh copy of the reference visit (Shonan iPark, 25-27 September 2024)."""
    return json.loads(REFERENCE_DOCUMENT.read_text("utf-8"))


def minimal_document(**delegation) -> dict:
    """A small valid document to build on in a test."""
    return {
        "format": "delegation-itinerary/1",
        "delegation": {
            "key": "test-visit",
            "name": "Test visit",
            "timezone": "Asia/Tokyo",
            "start_date": "2024-09-25",
            "end_date": "2024-09-27",
            **delegation,
        },
        "organizations": [],
        "people": [],
        "venues": [],
        "travel_times": [],
        "meetings": [],
    }


@pytest.fixture
def load_document(app):
    """Import a document (dict) through the domain function and commit; returns the result."""
    from scheduler.itinerary.document import import_itinerary

    def load(document: dict, *, prune: bool = False):
        with app.app_context():
            result = import_itinerary(_db.session, copy.deepcopy(document), prune=prune)
            _db.session.commit()
            own_every_delegation()
            return result

    return load


# --------------------------------------------------------------------------- query counting


@contextmanager
def count_queries(engine):
    """Collect the SQL statements run inside the block: ``with count_queries(db.engine) as q``."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


# --------------------------------------------------------------------------- external requirements


@pytest.fixture
def postgres_database():
    """A fresh, empty PostgreSQL database for one test (dropped after), as a SQLAlchemy URL."""
    import psycopg

    admin = POSTGRES_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    try:
        connection = psycopg.connect(admin, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        require(False, f"PostgreSQL is not reachable at {admin}: {exc}")
    name = f"scheduler_test_{uuid.uuid4().hex[:12]}"
    with connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def chromium_path() -> str:
    require(
        os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK),
        f"Chromium not found at {CHROMIUM} (apt-get install chromium)",
    )
    return CHROMIUM


@pytest.fixture(scope="session")
def cjk_fonts() -> None:
    found = ""
    if shutil.which("fc-list"):
        found = subprocess.run(
            ["fc-list", ":lang=ko", "family"], capture_output=True, text=True, check=False
        ).stdout
    require(
        "Noto" in found and "CJK" in found,
        "Noto CJK fonts not found (apt-get install fonts-noto-cjk)",
    )


def fetch_pdf(client, url: str, **kwargs):
    """GET an agenda PDF, following its "being prepared" page once.

    Without Redis the render job runs in-process when the first request ends, so the page's
    refresh (the second GET) finds the stored PDF; no waiting on a clock.
    """
    response = client.get(url, **kwargs)
    if response.status_code == 202:
        assert response.headers.get("Retry-After")
        response = client.get(url, **kwargs)
    return response
