"""Production settings: a real SECRET_KEY, PREFERRED_URL_SCHEME, PROXY_FIX, JSON logs."""

from __future__ import annotations

import json

import pytest
from flask import request, url_for

from scheduler import create_app
from scheduler.config import DEV_SECRET_KEY, check_production_config, from_environment


def _app(database_url, **settings):
    return create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "s" * 32}
        | settings
    )


@pytest.mark.parametrize("key", [None, "", DEV_SECRET_KEY])
def test_production_refuses_a_missing_or_development_secret_key(key):
    with pytest.raises(RuntimeError, match="SECRET_KEY is not set"):
        check_production_config({"SECRET_KEY": key})
    check_production_config({"SECRET_KEY": "a-real-one-" + "x" * 20})


def test_the_environment_sets_the_service_settings(monkeypatch):
    monkeypatch.setenv("PREFERRED_URL_SCHEME", "https")
    monkeypatch.setenv("PROXY_FIX", "2")
    monkeypatch.setenv("DOCUMENT_MAX_MEETINGS", "500")
    monkeypatch.setenv("LOG_FORMAT", "json")
    settings = from_environment()
    assert settings["PREFERRED_URL_SCHEME"] == "https"
    assert settings["PROXY_FIX"] == 2
    assert settings["DOCUMENT_MAX_MEETINGS"] == 500
    assert settings["LOG_FORMAT"] == "json"


def test_behind_one_proxy_the_forwarded_scheme_and_host_are_used(database_url):
    app = _app(database_url, PROXY_FIX=1)
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "scheduler.example.org"}
    with app.test_client() as client:
        client.get("/healthz", headers=headers)
        assert request.url == "https://scheduler.example.org/healthz"
        assert url_for("auth.login", _external=True) == "https://scheduler.example.org/login"


def test_without_proxy_fix_forwarded_headers_are_not_trusted(database_url):
    app = _app(database_url)
    with app.test_client() as client:
        client.get("/healthz", headers={"X-Forwarded-Proto": "https"})
        assert request.url.startswith("http://")


def test_preferred_url_scheme_makes_external_urls_https(database_url):
    app = _app(database_url, PREFERRED_URL_SCHEME="https", SERVER_NAME="scheduler.example.org")
    with app.app_context():
        assert url_for("auth.login", _external=True) == "https://scheduler.example.org/login"


def test_logs_are_one_json_object_a_line_with_the_request_id(database_url, capsys):
    app = _app(database_url, LOG_FORMAT="json")
    response = app.test_client().get("/healthz", headers={"X-Request-Id": "req-42"})
    assert response.headers["X-Request-Id"] == "req-42"
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    (entry,) = [e for e in lines if e.get("request_id") == "req-42"]
    assert entry["message"] == "request" and entry["status"] == 200 and entry["path"] == "/healthz"
    assert "ms" in entry and entry["level"] == "INFO"
