"""Signing in: every coordinator page needs it, and every form needs its CSRF token."""

from __future__ import annotations

import pytest
from conftest import TEST_EMAIL, csrf_token_from, minimal_document

from tests.conftest import fetch_pdf

BASE = "/delegations/test-visit"
# Pages for anyone: signing in itself, static files, and what a share link opens.
PUBLIC = {"static", "auth.login", "auth.home", "health.healthz", "health.readyz"}
ARGUMENTS = {
    "key": "test-visit",
    "delegation_key": "test-visit",
    "meeting_key": "talk",
    "person_key": "lim",
    "venue_key": "ipark",
    "organization_key": "mss",
    "account_id": 1,
    "version": 1,
    "token_id": 1,
}
# The API's description and its page: public, no delegation's data in them.
API_DOCS = {"api-docs.openapi_json", "api_docs_page.page"}


def is_api(rule) -> bool:
    """/api/v1 takes a token, never the sign-in (tests/test_api.py): 401, not a redirect."""
    return rule.endpoint.startswith("api.")


def is_public(rule) -> bool:
    return rule.endpoint in PUBLIC or rule.endpoint in API_DOCS or "token" in rule.arguments


def coordinator_urls(app, method: str) -> list[str]:
    """Every route of the app answering ``method`` that is not public, with the visit's keys."""
    with app.app_context():
        from scheduler.extensions import db
        from scheduler.models import TravelTime

        values = {**ARGUMENTS, "travel_id": db.session.scalar(db.select(TravelTime.id))}
    urls = []
    for rule in app.url_map.iter_rules():
        if method in rule.methods and not is_public(rule) and not is_api(rule):
            urls.append(rule.build({name: values[name] for name in rule.arguments})[1])
    assert len(urls) > 10
    return sorted(urls)


def test_only_the_expected_routes_are_public(app):
    public = {rule.endpoint for rule in app.url_map.iter_rules() if is_public(rule)}
    assert public == PUBLIC | API_DOCS | {
        "share.landing",
        "share.agenda",
        "share.agenda_pdf",
        "share.calendar",
        "share.meeting_ics",
        "accounts.set_password",  # the one-time link to set a password is its own credential
        "share.changes",
    }


@pytest.fixture
def visit(app, load_document):
    doc = minimal_document()
    doc["organizations"] = [{"key": "mss", "name": "Ministry of SMEs and Startups"}]
    doc["people"] = [{"key": "lim", "name": "LIM Jeong-wook", "organization": "mss"}]
    doc["venues"] = [
        {"key": "ipark", "name": "Shonan iPark", "timezone": "Asia/Tokyo"},
        {"key": "meti", "name": "METI", "timezone": "Asia/Tokyo"},
    ]
    doc["travel_times"] = [{"from": "ipark", "to": "meti", "minutes": 90}]
    doc["meetings"] = [
        {"key": "talk", "title": "Talk", "start": "2024-09-25T10:00", "end": "2024-09-25T11:00"}
    ]
    load_document(doc)
    with app.app_context():  # version 1, so that its page exists
        from scheduler.extensions import db
        from scheduler.models import Delegation
        from scheduler.operations.releases import release

        release(db.session, db.session.scalar(db.select(Delegation)))
        db.session.commit()


def test_every_coordinator_page_needs_sign_in(app, visit):
    client = app.test_client()
    pages = coordinator_urls(app, "GET")
    assert {f"{BASE}/agenda", f"{BASE}/agenda.pdf", f"{BASE}/programme.xlsx"} <= set(pages)
    assert "/share/manage/test-visit" in pages
    for url in pages:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/login?next="), url


def test_the_api_answers_401_to_a_signed_in_browser(app, client, login, visit):
    for rule in app.url_map.iter_rules():
        if is_api(rule):
            values = {**ARGUMENTS, "meeting": "talk", "suggestion": 1}
            url = rule.build({name: values[name] for name in rule.arguments})[1]
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                assert client.open(url, method=method).status_code == 401, (method, url)


def test_every_coordinator_page_opens_once_signed_in(app, client, login, visit):
    """For the coordinator who owns the visit; the admins' pages refuse them (403)."""
    from scheduler.web.common import ADMIN, declared_need

    adapter = app.url_map.bind("scheduler.test")
    for url in coordinator_urls(app, "GET"):
        endpoint, _ = adapter.match(url, method="GET")
        admin_only = (declared_need(app.view_functions[endpoint]) or {}).get("GET") == ADMIN
        expected = 403 if admin_only else 200
        assert fetch_pdf(client, url).status_code == expected, url  # PDFs: after the 202 page


def test_sign_in_returns_to_the_page_asked_for_but_never_off_site(client, user, visit):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    data = {"email": TEST_EMAIL, "password": "correct horse battery", "csrf_token": token}
    response = client.post(f"/login?next={BASE}/conflicts", data=data)
    assert response.headers["Location"] == f"{BASE}/conflicts"
    client.post("/logout", data={"csrf_token": token})
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login?next=https://evil.example/", data={**data, "csrf_token": token})
    assert response.headers["Location"] == "/delegations"


def test_a_wrong_password_is_refused(client, user):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"email": TEST_EMAIL, "password": "wrong", "csrf_token": token}
    )
    assert response.status_code == 200
    assert "That email and password do not match an account." in response.get_data(as_text=True)
    assert client.get("/delegations").status_code == 302


def test_posts_without_a_csrf_token_are_refused(app, client, login, visit):
    for url in coordinator_urls(app, "POST") + ["/login"]:
        assert client.post(url, data={"version": "1"}).status_code == 400, url
    assert client.get("/delegations").status_code == 200  # still signed in: logout was refused
    assert "/logout" in coordinator_urls(app, "POST")


def test_signing_out_ends_the_session(client, login):
    token = csrf_token_from(client.get("/delegations").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/delegations").status_code == 302
