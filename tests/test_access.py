"""Roles per delegation, granted and revoked from the command line, with history of each."""

import json

import pytest
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.itinerary.access import (
    NoSuchDelegation,
    NotAllowed,
    access_to,
    delegation_for,
    visible_delegation_ids,
)
from scheduler.models import DelegationRole, User
from tests.conftest import minimal_document

KEY = "mss-japan-2024-09"
PASSWORD = "long enough password"


@pytest.fixture
def accounts(app, runner, load_document, reference_document):
    load_document(reference_document)
    load_document(minimal_document(key="other-visit"))
    for email in ("owner@example.org", "viewer@example.org", "host@example.org"):
        stdin = f"{PASSWORD}\n{PASSWORD}\n"
        assert runner.invoke(args=["create-user", email], input=stdin).exit_code == 0
    assert runner.invoke(args=["create-user", "admin@example.org", "--admin"], input=stdin)
    with app.app_context():
        return {u.email.split("@")[0]: u.id for u in db.session.scalars(select(User))}


def _user(email_name):
    return db.session.scalar(select(User).where(User.email == f"{email_name}@example.org"))


def test_grant_gives_each_role_its_powers_and_nothing_elsewhere(app, runner, accounts):
    assert runner.invoke(args=["grant", "owner@example.org", KEY, "owner"]).exit_code == 0
    assert runner.invoke(args=["grant", "viewer@example.org", KEY, "viewer"]).exit_code == 0
    granted = runner.invoke(
        args=["grant", "host@example.org", KEY, "host", "--organization", "ipark"]
    )
    assert granted.exit_code == 0, granted.output
    with app.app_context():
        _, owner = delegation_for(db.session, _user("owner"), KEY, "manage")
        assert owner.role == "owner"
        _, viewer = delegation_for(db.session, _user("viewer"), KEY, "read")
        assert not viewer.allows("edit")
        with pytest.raises(NotAllowed):
            delegation_for(db.session, _user("viewer"), KEY, "edit")
        _, host = delegation_for(db.session, _user("host"), KEY, "read")
        assert host.is_host and host.host_organization_id is not None
        assert not host.sees_internal_notes
        # No role in the other delegation: it does not exist for them.
        for name in ("owner", "viewer", "host"):
            with pytest.raises(NoSuchDelegation):
                delegation_for(db.session, _user(name), "other-visit", "read")
        # The admin sees both without a role.
        _, admin = delegation_for(db.session, _user("admin"), "other-visit", "manage")
        assert admin.role == "admin"
        assert len(db.session.scalars(visible_delegation_ids(db.session, _user("admin"))).all())
        assert db.session.scalars(visible_delegation_ids(db.session, _user("owner"))).all() == [
            delegation_for(db.session, _user("admin"), KEY, "read")[0].id
        ]


def test_grant_replaces_an_earlier_role_and_revoke_removes_it(app, runner, accounts):
    runner.invoke(args=["grant", "viewer@example.org", KEY, "viewer"])
    assert runner.invoke(args=["grant", "viewer@example.org", KEY, "editor"]).exit_code == 0
    with app.app_context():
        rows = db.session.scalars(select(DelegationRole)).all()
        assert [(r.role, r.user.email) for r in rows] == [("editor", "viewer@example.org")]
    assert runner.invoke(args=["revoke", "viewer@example.org", KEY]).exit_code == 0
    with app.app_context():
        delegation, _ = delegation_for(db.session, _user("admin"), KEY, "read")
        assert access_to(db.session, _user("viewer"), delegation.id) is None
    assert runner.invoke(args=["revoke", "viewer@example.org", KEY]).exit_code == 2


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["grant", "nobody@example.org", KEY, "viewer"], 2, "no account"),
        (["grant", "owner@example.org", "no-such-visit", "viewer"], 2, "no delegation"),
        (["grant", "owner@example.org", KEY, "boss"], 1, "role:"),
        (["grant", "host@example.org", KEY, "host"], 1, "organization:"),
        (["grant", "host@example.org", KEY, "host", "--organization", "nope"], 1, "organization:"),
        (
            ["grant", "owner@example.org", KEY, "viewer", "--organization", "ipark"],
            1,
            "only a host",
        ),
        (["revoke", "owner@example.org", "no-such-visit"], 2, "no delegation"),
        (["history", "no-such-visit"], 2, "no delegation"),
    ],
)
def test_bad_grants_are_refused_naming_what_is_wrong(app, runner, accounts, args, code, message):
    result = runner.invoke(args=args)
    assert result.exit_code == code
    assert message in result.stderr
    with app.app_context():
        assert db.session.scalars(select(DelegationRole)).all() == []


def test_history_json_records_grants_from_the_command_line(app, runner, accounts):
    runner.invoke(args=["grant", "host@example.org", KEY, "host", "--organization", "ipark"])
    runner.invoke(args=["grant", "host@example.org", KEY, "viewer"])
    runner.invoke(args=["revoke", "host@example.org", KEY])
    result = runner.invoke(args=["history", KEY, "--json"])
    assert result.exit_code == 0
    entries = [e for e in json.loads(result.stdout) if e["entity"] == "role"]
    assert [(e["action"], e["entity"], e["key"], e["user"]) for e in entries] == [
        ("revoke", "role", "host@example.org", None),
        ("grant", "role", "host@example.org", None),
        ("grant", "role", "host@example.org", None),
    ]
    assert entries[2]["changes"] == {"role": [None, "host"], "organization": [None, "ipark"]}
    assert entries[1]["changes"] == {"role": ["host", "viewer"], "organization": ["ipark", None]}
    assert entries[0]["changes"] == {"role": ["viewer", None]}
    assert all(e["at"].endswith("Z") for e in entries)
    limited = json.loads(runner.invoke(args=["history", KEY, "--json", "--limit", "1"]).stdout)
    assert limited == entries[:1]
    # The other delegation's history is its own.
    other = json.loads(runner.invoke(args=["history", "other-visit", "--json"]).stdout)
    assert [e["entity"] for e in other] == ["delegation"]


def test_changing_the_password_signs_out_other_sessions(app, client, login):
    from tests.conftest import TEST_EMAIL

    assert client.get("/delegations").status_code == 200
    with app.app_context():
        account = db.session.scalar(select(User).where(User.email == TEST_EMAIL))
        account.set_password("a brand new password")
        db.session.commit()
    assert client.get("/delegations").status_code == 302  # back to the sign-in page


def _sign_in(client, email, password):
    from tests.conftest import csrf_token_from

    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def test_the_sixth_wrong_password_in_a_minute_is_refused_without_checking_it(
    app, client, user, monkeypatch
):
    from tests.conftest import TEST_EMAIL, TEST_PASSWORD

    checked = []
    original = User.check_password
    monkeypatch.setattr(
        User, "check_password", lambda self, pw: checked.append(pw) or original(self, pw)
    )
    for attempt in range(5):
        refused = _sign_in(client, TEST_EMAIL, f"wrong {attempt}")
        assert refused.status_code == 200 and "do not match" in refused.get_data(as_text=True)
    assert len(checked) == 5
    sixth = _sign_in(client, TEST_EMAIL, TEST_PASSWORD)  # even the right one, unchecked
    assert sixth.status_code == 429
    assert "Too many failed sign-ins" in sixth.get_data(as_text=True)
    assert sixth.headers.get("Retry-After")
    assert len(checked) == 5
    # Another account from the same address is still let in (the address limit is higher).
    assert _sign_in(client, "someone@example.org", "whatever").status_code == 200


def test_successful_sign_ins_do_not_count_against_the_limit(app, client, user):
    from tests.conftest import TEST_EMAIL, TEST_PASSWORD

    for _ in range(8):
        assert _sign_in(app.test_client(), TEST_EMAIL, TEST_PASSWORD).status_code == 302


def test_session_cookies_are_secure_outside_development(tmp_path):
    from scheduler import create_app

    url = f"sqlite:///{tmp_path / 'x.sqlite'}"
    production = create_app({"SECRET_KEY": "a real secret", "SQLALCHEMY_DATABASE_URI": url})
    assert production.config["SESSION_COOKIE_SECURE"] is True
    assert production.config["REMEMBER_COOKIE_SECURE"] is True
    assert production.config["SESSION_COOKIE_HTTPONLY"] is True
    assert production.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    development = create_app({"SQLALCHEMY_DATABASE_URI": url})
    assert development.config["SESSION_COOKIE_SECURE"] is False
