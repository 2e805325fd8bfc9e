"""The team's pages: a delegation's access list, the admins' accounts page, your own account.

Everything through the real forms (CSRF and all) and the real database.
"""

from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.itinerary.access import grant_of
from scheduler.models import Delegation, DelegationRole, HistoryEntry, User
from tests.conftest import TEST_EMAIL, TEST_PASSWORD, csrf_token_from

KEY = "mss-japan-2024-09"


def _post(client, url, data, page_url=None):
    token = csrf_token_from(client.get(page_url or "/delegations").get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


def _sign_in(app, email, password=TEST_PASSWORD):
    client = app.test_client()
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token}
    )
    return client, response


def _account(app, email, *, admin=False, password_hash=None) -> int:
    with app.app_context():
        user = User(email=email, password_hash=password_hash or "x", is_admin=admin)
        db.session.add(user)
        db.session.commit()
        return user.id


@pytest.fixture
def visit(load_document, reference_document, login):
    load_document(reference_document)


def _role(app, email):
    with app.app_context():
        delegation = db.session.scalar(select(Delegation).where(Delegation.key == KEY))
        user = db.session.scalar(select(User).where(User.email == email))
        grant = grant_of(db.session, delegation.id, user.id)
        if grant is None:
            return None
        organization = next(
            (o.key for o in delegation.organizations if o.id == grant.organization_id), None
        )
        return grant.role, organization


# --------------------------------------------------------------------------- access list


def test_an_owner_adds_a_host_tied_to_an_organisation(app, client, visit):
    _account(app, "host@cmic.example")
    url = f"/delegations/{KEY}/access"
    response = _post(
        client, url, {"email": "Host@CMIC.example", "role": "host", "organization": "cmic"}, url
    )
    assert response.status_code == 302
    assert _role(app, "host@cmic.example") == ("host", "cmic")
    page = client.get(url).get_data(as_text=True)
    assert "host@cmic.example" in page
    with app.app_context():
        entry = db.session.scalar(select(HistoryEntry).where(HistoryEntry.entity == "role"))
        assert (entry.action, entry.key, entry.user.email) == (
            "grant",
            "host@cmic.example",
            TEST_EMAIL,
        )
        assert entry.changes["role"] == [None, "host"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"email": "nobody@example.org", "role": "viewer"}, "No account uses this address"),
        ({"email": "not an address", "role": "viewer"}, "Invalid email address"),
        ({"email": "host@cmic.example", "role": "host"}, "Choose the host"),
        ({"email": "host@cmic.example", "role": "emperor"}, "Not a valid choice"),
    ],
)
def test_a_bad_addition_names_the_field_and_changes_nothing(app, client, visit, data, message):
    _account(app, "host@cmic.example")
    url = f"/delegations/{KEY}/access"
    response = _post(client, url, data, url)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _role(app, "host@cmic.example") is None


def test_an_owner_changes_a_role_and_removes_an_account(app, client, visit):
    account_id = _account(app, "colleague@example.org")
    url = f"/delegations/{KEY}/access"
    _post(client, url, {"email": "colleague@example.org", "role": "viewer"}, url)
    changed = _post(client, f"{url}/{account_id}", {"role": "editor"}, url)
    assert changed.status_code == 302
    assert _role(app, "colleague@example.org") == ("editor", None)
    removed = _post(client, f"{url}/{account_id}/remove", {}, url)
    assert removed.status_code == 302
    assert _role(app, "colleague@example.org") is None
    with app.app_context():
        actions = db.session.scalars(
            select(HistoryEntry.action)
            .where(HistoryEntry.entity == "role", HistoryEntry.key == "colleague@example.org")
            .order_by(HistoryEntry.id)
        ).all()
    assert actions == ["grant", "grant", "revoke"]


def test_the_last_owner_cannot_be_removed_or_demoted(app, client, visit, user):
    url = f"/delegations/{KEY}/access"
    demoted = _post(client, f"{url}/{user}", {"role": "viewer"}, url)
    assert demoted.status_code == 400
    assert "needs an owner" in demoted.get_data(as_text=True)
    removed = _post(client, f"{url}/{user}/remove", {}, url)
    assert removed.status_code == 409
    assert _role(app, TEST_EMAIL) == ("owner", None)


def test_an_account_without_a_role_in_the_list_is_not_found(app, client, visit):
    stranger = _account(app, "stranger@example.org")
    url = f"/delegations/{KEY}/access"
    assert _post(client, f"{url}/{stranger}", {"role": "viewer"}, url).status_code == 404
    assert _post(client, f"{url}/999999/remove", {}, url).status_code == 404


# --------------------------------------------------------------------------- accounts (admins)


@pytest.fixture
def admin(app, _test_password_hash):
    _account(app, "admin@example.org", admin=True, password_hash=_test_password_hash)
    client, response = _sign_in(app, "admin@example.org")
    assert response.status_code == 302
    return client


def _link_of(page: str) -> str:
    match = re.search(r'class="copy-link"[^>]*|value="(http[^"]*/set-password/[^"]+)"', page)
    link = re.search(r'value="(https?://[^"]*/set-password/[^"]+)"', page)
    assert match and link, "no one-time link on the page"
    return unescape(link.group(1))


def test_an_admin_creates_an_account_whose_link_sets_the_password_once(app, admin):
    created = _post(admin, "/accounts", {"email": "new@example.org"}, "/accounts")
    assert created.status_code == 200
    link = _link_of(created.get_data(as_text=True))
    path = link.split("scheduler.test", 1)[1]

    fresh = app.test_client()
    form = fresh.get(path)
    assert form.status_code == 200 and "new@example.org" in form.get_data(as_text=True)
    token = csrf_token_from(form.get_data(as_text=True))
    too_short = fresh.post(
        path, data={"new_password": "short", "new_password_again": "short", "csrf_token": token}
    )
    assert too_short.status_code == 400
    data = {"new_password": "a long new secret", "new_password_again": "a long new secret"}
    assert fresh.post(path, data={**data, "csrf_token": token}).status_code == 302
    # Used: it is bound to the old password, so it no longer works.
    assert fresh.get(path).status_code == 404
    _, signed_in = _sign_in(app, "new@example.org", "a long new secret")
    assert signed_in.status_code == 302


def test_an_expired_or_forged_link_is_refused(app, admin):
    created = _post(admin, "/accounts", {"email": "new@example.org"}, "/accounts")
    path = _link_of(created.get_data(as_text=True)).split("scheduler.test", 1)[1]
    app.config["PASSWORD_LINK_MAX_AGE"] = -1
    assert app.test_client().get(path).status_code == 404
    app.config["PASSWORD_LINK_MAX_AGE"] = 3600
    assert app.test_client().get(path[:-3] + "xyz").status_code == 404
    assert app.test_client().get(path).status_code == 200


def test_a_duplicate_account_names_the_email_field(app, admin):
    _post(admin, "/accounts", {"email": "new@example.org"}, "/accounts")
    again = _post(admin, "/accounts", {"email": "NEW@example.org"}, "/accounts")
    assert again.status_code == 400
    assert "exists already" in again.get_data(as_text=True)


def test_a_deactivated_account_is_signed_out_and_cannot_sign_in(app, admin, client, login, user):
    assert client.get("/delegations").status_code == 200
    assert _post(admin, f"/accounts/{user}/deactivate", {}, "/accounts").status_code == 302
    assert client.get("/delegations").status_code == 302  # to the sign-in page
    _, again = _sign_in(app, TEST_EMAIL)
    assert again.status_code == 200  # the form again, not signed in
    assert _post(admin, f"/accounts/{user}/activate", {}, "/accounts").status_code == 302
    assert _sign_in(app, TEST_EMAIL)[1].status_code == 302


def test_an_admin_makes_another_admin_but_cannot_unmake_or_deactivate_themselves(app, admin, user):
    assert _post(admin, f"/accounts/{user}/admin", {}, "/accounts").status_code == 302
    with app.app_context():
        assert db.session.get(User, user).is_admin
        me = db.session.scalar(select(User).where(User.email == "admin@example.org")).id
    assert _post(admin, f"/accounts/{me}/deactivate", {}, "/accounts").status_code == 409
    assert _post(admin, f"/accounts/{me}/not-admin", {}, "/accounts").status_code == 409
    with app.app_context():
        me_now = db.session.get(User, me)
        assert me_now.is_admin and me_now.is_active


def test_the_accounts_page_is_for_admins_only(client, login):
    assert client.get("/accounts").status_code == 403
    assert "Accounts</a>" not in client.get("/delegations").get_data(as_text=True)


# --------------------------------------------------------------------------- your own account


def test_changing_your_password_signs_out_your_other_sessions(app, client, login):
    other, _ = _sign_in(app, TEST_EMAIL)
    data = {
        "current_password": TEST_PASSWORD,
        "new_password": "another good one",
        "new_password_again": "another good one",
    }
    changed = _post(client, "/account/password", data, "/account")
    assert changed.status_code == 302
    assert client.get("/delegations").status_code == 200  # this session stays
    assert other.get("/delegations").status_code == 302  # the other one is signed out
    assert _sign_in(app, TEST_EMAIL, "another good one")[1].status_code == 302


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"current_password": "wrong", "new_password": "x" * 10, "new_password_again": "x" * 10},
            "That is not your current password.",
        ),
        (
            {
                "current_password": TEST_PASSWORD,
                "new_password": "x" * 10,
                "new_password_again": "y" * 10,
            },
            "The two do not match.",
        ),
    ],
)
def test_a_refused_password_change_says_why(app, client, login, data, message):
    refused = _post(client, "/account/password", data, "/account")
    assert refused.status_code == 400
    assert message in refused.get_data(as_text=True)
    assert _sign_in(app, TEST_EMAIL)[1].status_code == 302


def test_your_language_is_saved_and_chooses_the_pages_language(app, client, login, user):
    assert _post(client, "/account/language", {"language": "ko"}, "/account").status_code == 302
    with app.app_context():
        assert db.session.get(User, user).language == "ko"
    with app.test_request_context("/delegations"):
        from flask_login import login_user

        from scheduler.i18n import select_locale

        login_user(db.session.get(User, user))
        assert select_locale() == "ko"
    assert _post(client, "/account/language", {"language": "fr"}, "/account").status_code == 400
    assert _post(client, "/account/language", {"language": ""}, "/account").status_code == 302
    with app.app_context():
        assert db.session.get(User, user).language is None


def test_the_roles_table_is_untouched_by_account_pages(app, admin):
    _post(admin, "/accounts", {"email": "new@example.org", "is_admin": "y"}, "/accounts")
    with app.app_context():
        assert db.session.scalars(select(DelegationRole)).all() == []
        assert db.session.scalar(select(User).where(User.email == "new@example.org")).is_admin
