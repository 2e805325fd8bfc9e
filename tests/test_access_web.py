"""Every route, for every role, answers as the spec says: built from app.url_map.

A route that declares what it needs (``@needs``) is checked for each role; a route that
declares nothing must be one of the few public ones, so a new route cannot forget.
"""

from __future__ import annotations

import io
import json

import pypdf
import pytest
from sqlalchemy import func, select

from scheduler.extensions import db
from scheduler.itinerary.access import ALLOWED, grant_role
from scheduler.models import Delegation, Organization, TravelTime, User
from scheduler.web.common import ACCOUNT, ADMIN, declared_need
from tests.conftest import TEST_PASSWORD, csrf_token_from, fetch_pdf, minimal_document

KEY = "mss-japan-2024-09"
ROLES = ("admin", "owner", "editor", "viewer", "host", "none")
# The account the accounts and access-list routes act on: a viewer of the visit, no client.
SPARE = "spare@example.org"
# Routes that serve without a role in any delegation: signing in, share links, static files.
PUBLIC = {
    "auth.login",
    "auth.logout",
    "auth.home",
    "static",
    "share.landing",
    "share.calendar",
    "share.meeting_ics",
    "share.agenda",
    "share.agenda_pdf",
    "accounts.set_password",  # the one-time link is the credential
    "share.changes",
    "health.healthz",  # load balancer probes: no data, no session
    "health.readyz",
    "api-docs.openapi_json",  # the API's description and its page: no delegation's data
    "api_docs_page.page",
}
# What the host (of CMIC) may see of the reference visit, used to fill in the URLs.
HOST_ORGANIZATION = "cmic"
VALUES = {
    "key": KEY,
    "delegation_key": KEY,
    "meeting_key": "cmic",
    "meeting": "cmic",  # the API's name for it
    "person_key": "nakamura",
    "organization_key": "cmic",
    "venue_key": "cmic-tokyo",
    "filename": "app.css",
    "version": 1,
    "token_id": 1,  # an API token: revoking one that is not yours changes nothing
}


@pytest.fixture
def accounts(app, load_document, reference_document, _test_password_hash):
    load_document(reference_document)
    load_document(minimal_document(key="elsewhere", name="Somebody else's visit"))
    with app.app_context():
        visit = db.session.scalar(select(Delegation).where(Delegation.key == KEY))
        cmic = db.session.scalar(
            select(Organization).where(
                Organization.delegation_id == visit.id, Organization.key == HOST_ORGANIZATION
            )
        )
        for role in ROLES:
            account = User(
                email=f"{role}@example.org",
                password_hash=_test_password_hash,
                is_admin=role == "admin",
            )
            db.session.add(account)
            db.session.flush()
            if role in ALLOWED:
                grant_role(
                    db.session,
                    visit,
                    account,
                    role,
                    organization_id=cmic.id if role == "host" else None,
                )
        spare = User(email=SPARE, password_hash=_test_password_hash)
        db.session.add(spare)
        db.session.flush()
        grant_role(db.session, visit, spare, "viewer")
        db.session.commit()
        # A release, so that "what changed in version 1" and its notices have a page.
        from scheduler.operations.releases import release

        release(db.session, visit)
        # A finished suggestion run, for the API's suggestion and apply routes.
        from scheduler.models import SuggestionRun

        run = SuggestionRun(
            delegation_id=visit.id,
            state="done",
            result={"status": "optimal", "placed": [], "unplaced": [], "seconds": 0.0},
        )
        db.session.add(run)
        db.session.commit()
        values = {
            "account_id": spare.id,
            **VALUES,
            "travel_id": db.session.scalar(
                select(TravelTime.id).where(TravelTime.delegation_id == visit.id)
            ),
            "token": visit.share_token,
            "suggestion": run.id,
        }
    return values


def _client(app, role):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    response = client.post(
        "/login",
        data={
            "email": f"{role}@example.org",
            "password": TEST_PASSWORD,
            "csrf_token": csrf_token_from(page),
        },
    )
    assert response.status_code == 302, role
    return client


def _api_tokens(app) -> dict[str, str]:
    from scheduler.operations.tokens import create_token

    with app.app_context():
        found = {}
        for role in ROLES:
            account = db.session.scalar(select(User).where(User.email == f"{role}@example.org"))
            found[role] = create_token(db.session, account, "access test")[1]
        db.session.commit()
    return found


def _rules(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_route_declares_what_it_needs_or_is_public(app):
    undeclared = [
        rule.rule
        for rule, _ in _rules(app)
        if rule.endpoint not in PUBLIC and declared_need(app.view_functions[rule.endpoint]) is None
    ]
    assert undeclared == []


def _expected(role: str, need: str) -> str:
    if need == ADMIN:
        return "allowed" if role == "admin" else "forbidden"
    if need == ACCOUNT or role == "admin":
        return "allowed"
    if role == "none":
        return "hidden"
    return "allowed" if need in ALLOWED[role] else "forbidden"


def test_every_route_answers_each_role_as_the_spec_says(app, accounts):
    clients = {role: _client(app, role) for role in ROLES}
    tokens = {
        role: csrf_token_from(client.get("/delegations").get_data(as_text=True))
        for role, client in clients.items()
    }
    api_tokens = _api_tokens(app)
    checked = 0
    wrong = []
    for rule, method in _rules(app):
        if rule.endpoint in PUBLIC:
            continue
        need = declared_need(app.view_functions[rule.endpoint])[method]
        url = rule.build({k: accounts[k] for k in rule.arguments}, append_unknown=False)[1]
        for role in ROLES:
            client = clients[role]
            if rule.endpoint.startswith("api."):
                # The API takes a token, never the session: each role's own token, a body
                # that is wrong (an allowed role gets 4xx about it, not 403 or 404).
                headers = {"Authorization": f"Bearer {api_tokens[role]}", "If-Match": '"0"'}
                status = client.open(url, method=method, json={}, headers=headers).status_code
            elif method == "GET":
                status = fetch_pdf(client, url).status_code
            else:
                status = client.post(url, data={"csrf_token": tokens[role]}).status_code
            expected = _expected(role, need)
            got = {403: "forbidden", 404: "hidden"}.get(status, "allowed")
            if got != expected or status >= 500:
                wrong.append((method, url, role, need, status))
            checked += 1
    assert wrong == []
    assert checked > 6 * 30


def test_without_a_shared_role_neither_account_sees_the_others_delegation(app, accounts, runner):
    """The owner of one visit gets 404 for every page of another, as if it did not exist."""
    client = _client(app, "owner")
    token = csrf_token_from(client.get("/delegations").get_data(as_text=True))
    listing = client.get("/delegations").get_data(as_text=True)
    assert "Somebody else" not in listing and "Shonan" in listing
    other = {**accounts, "key": "elsewhere", "delegation_key": "elsewhere"}
    api_token = _api_tokens(app)["owner"]
    seen = 0
    for rule, method in _rules(app):
        if rule.endpoint in PUBLIC or "key" not in "".join(rule.arguments):
            continue
        url = rule.build({k: other[k] for k in rule.arguments}, append_unknown=False)[1]
        if rule.endpoint.startswith("api."):
            headers = {"Authorization": f"Bearer {api_token}"}
            response = client.open(url, method=method, json={}, headers=headers)
        elif method == "GET":
            response = fetch_pdf(client, url)
        else:
            response = client.post(url, data={"csrf_token": token})
        assert response.status_code == 404, (method, url, response.status_code)
        seen += 1
    assert seen > 25


def test_a_host_sees_only_its_organisations_meetings_and_no_internal_notes(app, accounts):
    client = _client(app, "host")
    programme = client.get(f"/delegations/{KEY}").get_data(as_text=True)
    assert "CMIC" in programme
    for other_title in ("Astellas", "METI", "consortium"):
        assert other_title not in programme, other_title
    assert client.get(f"/delegations/{KEY}/meetings/astellas").status_code == 404
    assert client.get(f"/delegations/{KEY}/people/matsunaga").status_code == 404

    exported = json.loads(client.get(f"/delegations/{KEY}/export.json").get_data())
    assert [m["key"] for m in exported["meetings"]] == ["cmic"]
    assert "internal_notes" not in exported["meetings"][0]
    assert {p["key"] for p in exported["people"]} == {"lim", "nakamura", "interp-kim"}
    assert [v["key"] for v in exported["venues"]] == ["cmic-tokyo"]

    pdf = fetch_pdf(client, f"/delegations/{KEY}/agenda.pdf")
    assert pdf.status_code == 200
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf.data)).pages)
    assert "CMIC" in text
    assert "Astellas" not in text and "METI" not in text
    with app.app_context():
        notes = [
            m.internal_notes
            for m in db.session.scalar(select(Delegation).where(Delegation.key == KEY)).meetings
            if m.internal_notes
        ]
    for note in notes:
        assert note not in text and note not in programme


def test_a_hosts_timetable_holds_only_its_organisations_meetings(app, accounts):
    client = _client(app, "host")
    data = client.get(f"/delegations/{KEY}/timetable.json?day=2024-09-27&mode=person").get_json()
    assert [e["id"] for e in data["events"] if e["extendedProps"]["kind"] == "meeting"] == ["cmic"]
    titles = {r["title"] for r in data["resources"]}
    assert "Taro Matsunaga" not in titles
    page = client.get(f"/delegations/{KEY}/timetable").get_data(as_text=True)
    assert "Astellas" not in page and '"editable": false' in page
    token = csrf_token_from(client.get("/delegations").get_data(as_text=True))
    move = client.post(
        f"/delegations/{KEY}/meetings/cmic/move",
        json={"start": "2024-09-27T17:00", "end": "2024-09-27T18:00", "version": 1},
        headers={"X-CSRFToken": token},
    )
    assert move.status_code == 403


def test_a_viewer_may_see_the_timetable_but_not_move_meetings(app, accounts):
    client = _client(app, "viewer")
    assert client.get(f"/delegations/{KEY}/timetable.json?day=2024-09-27").status_code == 200
    token = csrf_token_from(client.get("/delegations").get_data(as_text=True))
    check = client.post(
        f"/delegations/{KEY}/meetings/cmic/move/check",
        json={"start": "2024-09-27T17:00", "end": "2024-09-27T18:00"},
        headers={"X-CSRFToken": token},
    )
    assert check.status_code == 403


def test_a_hosts_pdf_is_a_stored_copy_of_its_own_never_the_coordinators(app, accounts):
    """Rendered by the job like every copy, and kept apart from the owner's full copy."""
    from scheduler.models import RenderedPdf

    owner_pdf = fetch_pdf(_client(app, "owner"), f"/delegations/{KEY}/agenda.pdf")
    assert owner_pdf.status_code == 200
    host = _client(app, "host")
    first = host.get(f"/delegations/{KEY}/agenda.pdf")
    assert first.status_code == 202  # not the owner's stored copy, and not rendered in-request
    host_pdf = fetch_pdf(host, f"/delegations/{KEY}/agenda.pdf")
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(host_pdf.data)).pages)
    assert "CMIC" in text and "Astellas" not in text
    again = host.get(f"/delegations/{KEY}/agenda.pdf")
    assert again.status_code == 200 and again.data == host_pdf.data  # stored
    with app.app_context():
        coordinators_copies = select(func.count(RenderedPdf.id)).where(
            RenderedPdf.audience == "coordinator"
        )
        assert db.session.scalar(coordinators_copies) == 2  # the owner's and the host's
