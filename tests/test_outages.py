"""A lost database answers 503 with Retry-After and a page in the site's words; error pages
render without it; /healthz says the process is up, /readyz whether it can work; and when the
database returns, so does the service.

The database is a private PostgreSQL on a free port (bench/private_postgres.py), started and
stopped by the test; the machine's PostgreSQL is never touched.
"""

from __future__ import annotations

import html
import time

import pytest
from sqlalchemy import func, select

from bench.private_postgres import PrivatePostgres, binaries, free_port
from scheduler import create_app
from scheduler.extensions import db
from scheduler.models import Meeting, User
from tests.conftest import TEST_PASSWORD, csrf_token_from

pytestmark = pytest.mark.slow
SITE_WORDS = "The scheduler cannot reach its database just now"


@pytest.fixture
def private_pg():
    from tests.conftest import require

    require(binaries() is not None, "PostgreSQL server binaries (initdb, pg_ctl) are installed")
    with PrivatePostgres() as server:
        yield server


@pytest.fixture
def service(private_pg, reference_document, _test_password_hash):
    app = create_app(
        {
            "TESTING": False,  # errors are handled as in production, not raised
            "SQLALCHEMY_DATABASE_URI": private_pg.url,
            "SQLALCHEMY_ENGINE_OPTIONS": {
                "pool_pre_ping": True,
                "connect_args": {"connect_timeout": 2},
            },
            "SECRET_KEY": "test-secret-key",
            "SERVER_NAME": "scheduler.test",
            "RETRY_AFTER_SECONDS": 7,
        }
    )
    import json

    from scheduler.cli import import_document_text

    with app.app_context():
        db.create_all()
        db.session.add(
            User(email="admin@example.org", password_hash=_test_password_hash, is_admin=True)
        )
        db.session.commit()
        import_document_text(json.dumps(reference_document))
    client = app.test_client()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    signed = client.post(
        "/login",
        data={"email": "admin@example.org", "password": TEST_PASSWORD, "csrf_token": token},
    )
    assert signed.status_code == 302
    yield app, client
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


KEY = "mss-japan-2024-09"


def _text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_a_lost_database_answers_503_pages_and_comes_back(service, private_pg, caplog):
    app, client = service
    assert client.get(f"/delegations/{KEY}").status_code == 200
    edit_page = client.get(f"/delegations/{KEY}/edit").get_data(as_text=True)
    token = csrf_token_from(edit_page)
    with app.app_context():
        share = client.get("/delegations")  # warm: the pool holds connections that will die
        assert share.status_code == 200

    private_pg.stop()
    for url in ("/delegations", f"/delegations/{KEY}", f"/delegations/{KEY}/people"):
        response = client.get(url)
        assert response.status_code == 503, url
        assert response.headers["Retry-After"] == "7"
        assert SITE_WORDS in _text(response), url
        assert "Internal Server Error" not in _text(response)
        assert '<meta http-equiv="refresh" content="7">' in _text(response)  # tries again
    saved = client.post(f"/delegations/{KEY}/edit", data={"csrf_token": token, "name": "x"})
    assert saved.status_code == 503 and SITE_WORDS in _text(saved)

    # Error pages need no database: a signed-in user's 404 is still the site's page.
    missing = client.get("/no-such-page")
    assert missing.status_code == 404
    assert "There is no such page" in _text(missing)
    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json["checks"]["database"].startswith("error")
    assert ready.headers["Retry-After"] == "7"

    private_pg.start()
    deadline = time.monotonic() + 2
    while client.get("/readyz").status_code != 200:
        assert time.monotonic() < deadline, "not ready within 2 s of the database returning"
        time.sleep(0.05)
    assert client.get(f"/delegations/{KEY}").status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Meeting)) > 0
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert tracebacks == [], "an outage is not a bug: no traceback in the log"


def test_share_pages_answer_503_too(service, private_pg):
    app, client = service
    with app.app_context():
        from scheduler.itinerary.document import load_delegation

        token = load_delegation(db.session, KEY).share_token
    assert client.get(f"/share/{token}/agenda").status_code == 200
    private_pg.stop()
    for url in (f"/share/{token}/agenda", f"/share/{token}/calendar.ics"):
        response = client.get(url)
        assert response.status_code == 503, url
        assert SITE_WORDS in _text(response)


def test_readyz_checks_redis_when_it_is_configured(service):
    app, client = service
    app.config["REDIS_URL"] = f"redis://127.0.0.1:{free_port()}/0"  # nobody listens there
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json["checks"]["database"] == "ok"
    assert ready.json["checks"]["redis"].startswith("error")
