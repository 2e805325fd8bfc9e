"""The command-line contract: create-user, import/export exit codes, share-links, quickstart."""

from __future__ import annotations

import copy
import json

import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import func, select

from scheduler import create_app
from scheduler.cli import DEMO_EMAIL, DEMO_PASSWORD
from scheduler.extensions import db
from scheduler.itinerary.document import schema
from scheduler.itinerary.share_links import find_by_share_token
from scheduler.models import Delegation, Meeting, Person, User

KEY = "mss-japan-2024-09"
PASSWORD = "kimchi-and-natto-2024"


def users(app) -> list[User]:
    with app.app_context():
        found = list(db.session.scalars(select(User).order_by(User.id)))
        db.session.expunge_all()
        db.session.remove()
    return found


@pytest.fixture
def imported(runner, reference_document, tmp_path):
    path = tmp_path / "visit.json"
    path.write_text(json.dumps(reference_document), "utf-8")
    result = runner.invoke(args=["import-itinerary", str(path)])
    assert result.exit_code == 0, result.stderr
    return result


# --------------------------------------------------------------------------- create-user


def test_create_user_reads_the_password_twice_from_stdin(app, runner):
    result = runner.invoke(
        args=["create-user", "Min-ji.Seo@Example.org"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.stderr
    assert "created coordinator min-ji.seo@example.org" in result.stdout
    [account] = users(app)
    assert account.email == "min-ji.seo@example.org"
    assert not account.is_admin
    assert PASSWORD not in account.password_hash
    assert account.password_hash.startswith(("scrypt:", "pbkdf2:"))
    assert account.check_password(PASSWORD)
    assert not account.check_password(PASSWORD.upper())


def test_create_user_admin(app, runner):
    result = runner.invoke(
        args=["create-user", "head@example.org", "--admin"], input=f"{PASSWORD}\n{PASSWORD}\n"
    )
    assert result.exit_code == 0, result.stderr
    assert "created administrator" in result.stdout
    assert users(app)[0].is_admin


@pytest.mark.parametrize(
    ("email", "stdin", "message"),
    [
        ("a@example.org", f"{PASSWORD}\n{PASSWORD}-typo\n", "differ"),
        ("not-an-email", f"{PASSWORD}\n{PASSWORD}\n", "email"),
        ("a@example.org", "short\nshort\n", "at least"),
        ("a@example.org", "", "no password"),
    ],
    ids=["passwords differ", "invalid email", "too short", "no password"],
)
def test_create_user_refuses_bad_input(app, runner, email, stdin, message):
    result = runner.invoke(args=["create-user", email], input=stdin)
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert users(app) == []


def test_create_user_refuses_an_existing_account(app, runner):
    stdin = f"{PASSWORD}\n{PASSWORD}\n"
    assert runner.invoke(args=["create-user", "a@example.org"], input=stdin).exit_code == 0
    again = runner.invoke(args=["create-user", "A@Example.ORG"], input=stdin)
    assert again.exit_code == 1
    assert "exists already" in again.stderr
    assert len(users(app)) == 1


# --------------------------------------------------------------------------- import / export


def test_import_prints_the_delegation_key(imported):
    assert imported.stdout == f"{KEY}\n"
    assert imported.stderr == ""


def test_import_reads_stdin(app, runner, reference_document):
    result = runner.invoke(
        args=["import-itinerary", "-"], input=json.dumps(reference_document).encode()
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"{KEY}\n"


def test_export_writes_a_valid_document(imported, runner, reference_document):
    result = runner.invoke(args=["export-itinerary", KEY])
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert list(Draft202012Validator(schema()).iter_errors(document)) == []
    assert document["delegation"] == reference_document["delegation"]
    assert result.stdout.endswith("}\n")


def test_export_of_an_unknown_key_exits_2(imported, runner):
    result = runner.invoke(args=["export-itinerary", "no-such-visit"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "no delegation with key 'no-such-visit'" in result.stderr


def test_prune_through_the_cli(app, imported, runner, reference_document, tmp_path):
    shorter = copy.deepcopy(reference_document)
    shorter["meetings"] = shorter["meetings"][:-1]  # "meti" no longer listed
    path = tmp_path / "shorter.json"
    path.write_text(json.dumps(shorter), "utf-8")
    assert runner.invoke(args=["import-itinerary", str(path)]).exit_code == 0
    with app.app_context():
        assert db.session.scalar(select(Meeting.status).where(Meeting.key == "meti")) == (
            "confirmed"
        )
    assert runner.invoke(args=["import-itinerary", "--prune", str(path)]).exit_code == 0
    with app.app_context():
        assert db.session.scalar(select(Meeting.status).where(Meeting.key == "meti")) == (
            "cancelled"
        )
        assert db.session.scalar(select(func.count(Meeting.id))) == 6


# --------------------------------------------------------------------------- share-links


def test_share_links_json_has_the_spec_shape(app, imported, runner, reference_document):
    result = runner.invoke(args=["share-links", KEY, "--json"])
    assert result.exit_code == 0, result.stderr
    links = json.loads(result.stdout)
    assert set(links) == {"delegation", "people"}
    assert set(links["people"]) == {p["key"] for p in reference_document["people"]}
    every = [links["delegation"], *links["people"].values()]
    for paths in every:
        assert set(paths) == {"ics", "agenda", "pdf"}
        assert all(isinstance(p, str) and p.startswith("/share/") for p in paths.values())
        token = paths["ics"].split("/")[2]
        assert paths == {
            "ics": f"/share/{token}/calendar.ics",
            "agenda": f"/share/{token}/agenda",
            "pdf": f"/share/{token}/agenda.pdf",
        }
    tokens = [paths["ics"].split("/")[2] for paths in every]
    assert len(set(tokens)) == len(tokens)
    # Each token opens exactly its own delegation or person, without signing in.
    with app.app_context():
        delegation = find_by_share_token(db.session, tokens[0])
        assert isinstance(delegation, Delegation) and delegation.key == KEY
        for person_key, paths in links["people"].items():
            person = find_by_share_token(db.session, paths["ics"].split("/")[2])
            assert isinstance(person, Person) and person.key == person_key


def test_share_links_are_stable_across_a_reimport(imported, runner, reference_document, tmp_path):
    before = runner.invoke(args=["share-links", KEY, "--json"]).stdout
    path = tmp_path / "again.json"
    path.write_text(json.dumps(reference_document), "utf-8")
    assert runner.invoke(args=["import-itinerary", str(path)]).exit_code == 0
    assert runner.invoke(args=["share-links", KEY, "--json"]).stdout == before


def test_share_links_of_an_unknown_key_exit_2(runner):
    result = runner.invoke(args=["share-links", "no-such-visit", "--json"])
    assert result.exit_code == 2
    assert "no delegation with key 'no-such-visit'" in result.stderr


# --------------------------------------------------------------------------- quickstart


def test_quickstart_no_serve_is_idempotent(tmp_path):
    app = create_app(
        {"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'quick.sqlite'}"}
    )
    runner = app.test_cli_runner()
    first = runner.invoke(args=["quickstart", "--no-serve"])
    assert first.exit_code == 0, first.output
    assert f"reference visit '{KEY}' loaded" in first.stdout
    assert "http://127.0.0.1:5000/login" in first.stdout
    assert DEMO_EMAIL in first.stdout and DEMO_PASSWORD in first.stdout
    export_first = runner.invoke(args=["export-itinerary", KEY]).stdout
    with app.app_context():
        revision = db.session.scalar(select(Delegation.revision))

    second = runner.invoke(args=["quickstart", "--no-serve"])
    assert second.exit_code == 0, second.output
    assert "already up to date" in second.stdout
    assert runner.invoke(args=["export-itinerary", KEY]).stdout == export_first
    with app.app_context():
        assert db.session.scalar(select(Delegation.revision)) == revision
        assert db.session.scalar(select(func.count(Delegation.id))) == 1
        [account] = db.session.scalars(select(User)).all()
        assert account.email == DEMO_EMAIL and account.check_password(DEMO_PASSWORD)
        db.session.remove()
        db.engine.dispose()
