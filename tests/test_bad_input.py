"""Every bad input of issue 20 gets a 4xx with a message naming the field, writes nothing, and
leaves no traceback in the log: the request guard (scheduler/web/guard.py) for addresses,
query strings and form fields, the document limits (scheduler/itinerary/json_input.py) for
every import path, and a 409 for imports that race each other.
"""

from __future__ import annotations

import html
import io
import json
import logging
import threading

import pytest
from sqlalchemy import func, select

from scheduler import create_app
from scheduler.extensions import db
from scheduler.itinerary.document import DocumentError
from scheduler.itinerary.json_input import Limits, read_document
from scheduler.models import Delegation, Meeting
from tests.conftest import csrf_token_from, minimal_document


@pytest.fixture
def quiet_log(caplog):
    """After the test: nothing logged with a traceback."""
    caplog.set_level(logging.INFO)
    yield caplog
    for record in caplog.records:
        assert record.exc_info is None, record.getMessage()
        assert "Traceback" not in record.getMessage()


def page(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def delegations(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Delegation))


# --------------------------------------------------------------------------- the request guard


def test_next_with_cr_lf_on_login_is_refused_naming_next(client, quiet_log):
    for method in (client.get, client.post):
        response = method("/login?next=/delegations%0D%0ASet-Cookie:%20stolen=1")
        assert response.status_code == 400
        assert "The query parameter 'next' contains a control character." in page(response)
        assert "Set-Cookie" not in response.headers


def test_nul_in_a_key_of_a_url_is_refused(client, login, load_document, quiet_log):
    load_document(minimal_document())
    for url in (
        "/delegations/test-visit%00",
        "/delegations/test%00visit/meetings",
        "/delegations/test-visit/people/lim%00",
    ):
        response = client.get(url)
        assert response.status_code == 400, url
        assert "The address contains a control character" in page(response)


def test_nul_in_a_share_token_is_refused(client, load_document, quiet_log):
    load_document(minimal_document())
    for url in ("/share/abc%00def", "/share/abc%00def/agenda", "/share/abc%00/calendar.ics"):
        response = client.get(url)
        assert response.status_code == 400, url
        assert "control character" in page(response)


def test_bytes_that_are_not_utf8_in_a_query_are_refused_naming_the_parameter(client, quiet_log):
    response = client.get("/login?next=%FF%FE")
    assert response.status_code == 400
    assert "The query parameter 'next' is not UTF-8 text." in page(response)


def test_a_control_character_in_a_form_field_is_refused_naming_it(app, client, user, quiet_log):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"email": "someone\x01@example.org", "password": "x", "csrf_token": token}
    )
    assert response.status_code == 400
    assert "The form field 'email' contains a control character." in page(response)


def test_invalid_utf8_in_a_form_field_is_refused_naming_it(client, user, quiet_log):
    response = client.post(
        "/login",
        data=b"email=%C3%28&password=x",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert "The form field 'email' is not UTF-8 text." in page(response)


def test_line_breaks_in_a_text_field_are_text(client, login, load_document, quiet_log):
    """Textareas hold newlines and tabs: the guard lets them through to the form."""
    load_document(minimal_document())
    token = csrf_token_from(client.get("/delegations").get_data(as_text=True))
    response = client.post(
        "/delegations/test-visit/edit",
        data={"csrf_token": token, "notes": "line one\r\n\tline two"},
    )
    assert response.status_code != 400


def test_an_oversized_form_field_is_refused_naming_it(app, client, user, quiet_log):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"email": "a" * 20_001, "password": "x", "csrf_token": token}
    )
    assert response.status_code == 400
    assert "The form field 'email' is 20,001 characters; at most 20,000." in page(response)


def test_a_request_id_is_kept_or_made_and_returned(client):
    assert client.get("/healthz", headers={"X-Request-Id": "abc-123"}).headers["X-Request-Id"] == (
        "abc-123"
    )
    made = client.get("/healthz", headers={"X-Request-Id": "bad\x01id"}).headers["X-Request-Id"]
    assert len(made) == 32 and made != "bad\x01id"


# --------------------------------------------------------------------------- documents

DEEP = b'{"format": ' + b"[" * 1200 + b"]" * 1200 + b"}"
HUGE_INTEGER = json.dumps(minimal_document()).replace(
    '"meetings": []', '"meetings": [], "x": ' + "9" * 5000
)
HUGE_INTEGER = HUGE_INTEGER.encode()


def _with(change) -> bytes:
    document = minimal_document()
    change(document)
    return json.dumps(document, allow_nan=True).encode()


def _venue(latitude) -> dict:
    return {"key": "hall", "name": "Hall", "latitude": latitude, "longitude": 139.7}


BAD_DOCUMENTS = {
    "nested 1,200 deep": (DEEP, "$", "nested more than 16 levels deep"),
    "a 5,000-digit integer": (HUGE_INTEGER, "$", "not valid JSON"),
    "a 30-digit integer": (
        _with(lambda d: d["delegation"].update(name=10**30)),
        "delegation.name",
        "is a number too large to store",
    ),
    "a lone surrogate": (
        json.dumps(minimal_document(name="Visit \ud800")).encode(),
        "delegation.name",
        "lone surrogate",
    ),
    "a key ending in a newline": (
        json.dumps(minimal_document(key="test-visit\n")).encode(),
        "delegation.key",
        "is not a valid key",
    ),
    "NaN coordinates": (
        _with(lambda d: d["venues"].append(_venue(float("nan")))),
        "venues[0].latitude",
        "nan is not a number a document holds",
    ),
    "Infinity coordinates": (
        _with(lambda d: d["venues"].append(_venue(float("inf")))),
        "venues[0].latitude",
        "inf is not a number a document holds",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_DOCUMENTS))
def test_a_bad_document_is_refused_with_its_path(name):
    data, path, message = BAD_DOCUMENTS[name]
    with pytest.raises(DocumentError) as refused:
        read_document(data)
    assert any(p.path == path and message in p.message for p in refused.value.problems), [
        str(p) for p in refused.value.problems
    ]


def _upload(client, data: bytes):
    token = csrf_token_from(client.get("/delegations/import").get_data(as_text=True))
    return client.post(
        "/delegations/import",
        data={"document": (io.BytesIO(data), "visit.json"), "csrf_token": token},
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize("name", sorted(BAD_DOCUMENTS))
def test_the_web_import_refuses_it_with_a_422_and_writes_nothing(
    app, client, login, name, quiet_log
):
    data, path, message = BAD_DOCUMENTS[name]
    response = _upload(client, data)
    assert response.status_code == 422
    text = page(response)
    assert "Nothing was imported." in text and message in text
    assert delegations(app) == 0


def test_the_web_import_words_members_of_the_wrong_type(app, client, login, quiet_log):
    # a list where the delegation object belongs reached the access check and was a 500
    response = _upload(client, b'{"delegation": [], "format": []}')
    assert response.status_code == 422
    text = page(response)
    assert "Nothing was imported." in text and "is not of type" in text
    assert delegations(app) == 0


@pytest.mark.parametrize("name", sorted(BAD_DOCUMENTS))
def test_the_command_refuses_it_and_writes_nothing(app, runner, tmp_path, name):
    data, path, message = BAD_DOCUMENTS[name]
    (tmp_path / "visit.json").write_bytes(data)
    result = runner.invoke(args=["import-itinerary", str(tmp_path / "visit.json")])
    assert result.exit_code == 1, result.output
    assert message in result.output and "nothing was imported" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert delegations(app) == 0


def test_too_many_meetings_are_refused_before_validation(app, client, login, quiet_log):
    document = minimal_document()
    document["meetings"] = [{"key": f"m{i}"} for i in range(25_001)]
    response = _upload(client, json.dumps(document).encode())
    assert response.status_code == 422
    assert "25,001 meetings; a delegation may have at most 25,000" in page(response)
    assert delegations(app) == 0


def test_a_document_over_the_size_limit_names_the_setting(app, client, login, quiet_log):
    app.config["DOCUMENT_MAX_BYTES"] = 1000
    response = _upload(client, json.dumps(minimal_document(name="x" * 2000)).encode())
    assert response.status_code == 422
    assert "at most 1,000 bytes may be imported (setting DOCUMENT_MAX_BYTES)" in page(response)
    assert delegations(app) == 0


def test_the_limits_hold_the_benchmark_document():
    """The defaults admit the 20,000-meeting benchmark (bench/import.py): 20,000 meetings."""
    from bench.conflicts import generate_document

    document = generate_document(20_000)
    read_document(json.dumps(document).encode(), Limits())


# --------------------------------------------------------------------------- imports that race


@pytest.mark.slow
def test_concurrent_imports_of_one_document_answer_409_never_500(
    postgres_database, reference_document, _test_password_hash, caplog
):
    from scheduler.models import User

    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": postgres_database,
            "SECRET_KEY": "test-secret-key",
            "SERVER_NAME": "scheduler.test",
        }
    )
    with app.app_context():
        db.create_all()
        db.session.add(
            User(email="admin@example.org", password_hash=_test_password_hash, is_admin=True)
        )
        db.session.commit()
    data = json.dumps(reference_document).encode()
    clients = []
    for _ in range(4):
        client = app.test_client()
        token = csrf_token_from(client.get("/login").get_data(as_text=True))
        from tests.conftest import TEST_PASSWORD

        signed = client.post(
            "/login",
            data={"email": "admin@example.org", "password": TEST_PASSWORD, "csrf_token": token},
        )
        assert signed.status_code == 302
        clients.append(client)
    forms = [csrf_token_from(c.get("/delegations/import").get_data(as_text=True)) for c in clients]
    start = threading.Barrier(len(clients))
    answers = []

    def post(client, token):
        start.wait()
        response = client.post(
            "/delegations/import",
            data={"document": (io.BytesIO(data), "visit.json"), "csrf_token": token},
            content_type="multipart/form-data",
        )
        answers.append((response.status_code, page(response)))

    threads = [
        threading.Thread(target=post, args=pair) for pair in zip(clients, forms, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    codes = sorted(code for code, _ in answers)
    assert set(codes) <= {302, 409}, answers
    assert 302 in codes
    for code, text in answers:
        if code == 409:
            assert "another import of this delegation was saved at the same time" in text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Delegation)) == 1
        assert db.session.scalar(select(func.count()).select_from(Meeting)) == len(
            reference_document["meetings"]
        )
        db.session.remove()
        db.engine.dispose()
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
