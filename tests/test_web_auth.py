"""Signing in: every coordinator page needs it, and every form needs its CSRF token."""

from __future__ import annotations

import pytest
from conftest import TEST_EMAIL, csrf_token_from, minimal_document

BASE = "/delegations/test-visit"
PAGES = [
    "/delegations",
    "/delegations/new",
    "/delegations/import",
    BASE,
    f"{BASE}/edit",
    f"{BASE}/conflicts",
    f"{BASE}/export.json",
    f"{BASE}/people",
    f"{BASE}/people/new",
    f"{BASE}/people/lim",
    f"{BASE}/people/lim/edit",
    f"{BASE}/organizations/new",
    f"{BASE}/venues",
    f"{BASE}/venues/new",
    f"{BASE}/travel-times/new",
    f"{BASE}/meetings/new",
    f"{BASE}/meetings/talk",
]
POSTS = [
    "/delegations/new",
    "/delegations/import",
    f"{BASE}/edit",
    f"{BASE}/people/new",
    f"{BASE}/people/lim/edit",
    f"{BASE}/organizations/new",
    f"{BASE}/venues/new",
    f"{BASE}/venues/ipark/edit",
    f"{BASE}/travel-times/new",
    f"{BASE}/meetings/new",
    f"{BASE}/conflicts/acknowledge",
    f"{BASE}/meetings/talk",
    f"{BASE}/meetings/talk/cancel",
    f"{BASE}/meetings/talk/restore",
    "/logout",
]


@pytest.fixture
def visit(load_document):
    doc = minimal_document()
    doc["people"] = [{"key": "lim", "name": "LIM Jeong-wook"}]
    doc["venues"] = [
        {"key": "ipark", "name": "Shonan iPark", "timezone": "Asia/Tokyo"},
        {"key": "meti", "name": "METI", "timezone": "Asia/Tokyo"},
    ]
    doc["meetings"] = [
        {"key": "talk", "title": "Talk", "start": "2024-09-25T10:00", "end": "2024-09-25T11:00"}
    ]
    load_document(doc)


def test_every_coordinator_page_needs_sign_in(app, visit):
    client = app.test_client()
    for url in PAGES:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/login?next="), url


def test_every_coordinator_page_opens_once_signed_in(client, login, visit):
    for url in PAGES:
        assert client.get(url).status_code == 200, url


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


def test_posts_without_a_csrf_token_are_refused(client, login, visit):
    for url in POSTS:
        assert client.post(url, data={"version": "1"}).status_code == 400, url
    assert client.get("/delegations").status_code == 200  # still signed in: logout was refused


def test_signing_out_ends_the_session(client, login):
    token = csrf_token_from(client.get("/delegations").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/delegations").status_code == 302
