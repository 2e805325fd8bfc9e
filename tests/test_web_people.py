"""People and organisations: the forms, with availability entered in the delegation's zone."""

from __future__ import annotations

import html
from datetime import UTC, datetime

import pytest
from conftest import csrf_token_from, minimal_document, opened_stamp
from sqlalchemy import func, select

from scheduler.extensions import db
from scheduler.models import Organization, Person

BASE = "/delegations/test-visit"


@pytest.fixture
def visit(load_document, login):
    doc = minimal_document(timezone="Europe/Berlin", start_date="2024-10-26", end_date="2024-10-28")
    doc["organizations"] = [{"key": "mss", "name": "Ministry of SMEs and Startups"}]
    doc["people"] = [{"key": "lim", "name": "LIM Jeong-wook"}]
    load_document(doc)


def post(client, url, data):
    token = csrf_token_from(client.get("/delegations").get_data(as_text=True))
    return client.post(url, data={**data, "csrf_token": token})


def person_data(app, **overrides) -> dict:
    with app.app_context():
        org_id = db.session.scalar(select(Organization.id))
    data = {
        "key": "yoon",
        "name": "YOON Seok-bae",
        "native_name": "윤석배",
        "title": "Director",
        "organization_id": str(org_id),
        "role": "delegation",
        "languages": "ko, en",
        "available_from": "2024-10-26T09:00",
        "available_until": "2024-10-28T18:00",
        "email": "yoon@example.org",
        "phone": "+82 10 1234 5678",
        "notes": "Prefers aisle seats",
    }
    data.update(overrides)
    return data


def person(app, key="yoon"):
    with app.app_context():
        found = db.session.scalar(select(Person).where(Person.key == key))
        if found is None:
            return None
        return {
            "name": found.name,
            "native_name": found.native_name,
            "organization": found.organization.key if found.organization else None,
            "languages": found.languages,
            "available_from": found.available_from,
            "available_until": found.available_until,
            "email": found.email,
            "role": found.role,
            "share_token": found.share_token,
        }


def test_a_person_is_added_with_availability_in_the_delegation_zone(client, app, visit):
    response = post(client, f"{BASE}/people/new", person_data(app))
    assert response.status_code == 302
    saved = person(app)
    assert saved["native_name"] == "윤석배"
    assert saved["organization"] == "mss"
    assert saved["languages"] == ["ko", "en"]
    assert saved["available_from"] == datetime(2024, 10, 26, 7, 0, tzinfo=UTC)  # CEST
    assert saved["available_until"] == datetime(2024, 10, 28, 17, 0, tzinfo=UTC)  # CET
    assert saved["share_token"]
    page = html.unescape(client.get(f"{BASE}/people").get_data(as_text=True))
    assert "YOON Seok-bae" in page and "윤석배" in page and "ko, en" in page


def test_editing_a_person_shows_local_times_and_keeps_the_key(client, app, visit):
    post(client, f"{BASE}/people/new", person_data(app))
    page = client.get(f"{BASE}/people/yoon/edit").get_data(as_text=True)
    assert 'value="2024-10-26 09:00"' in page
    response = post(
        client,
        f"{BASE}/people/yoon/edit",
        person_data(
            app,
            key="other",
            name="YOON S.",
            organization_id="0",
            available_from="",
            **opened_stamp(page),
        ),
    )
    assert response.status_code == 302
    saved = person(app)
    assert saved["name"] == "YOON S."
    assert saved["organization"] is None
    assert saved["available_from"] is None
    assert person(app, "other") is None


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"key": "lim"}, "key", "Another person of this delegation has the key 'lim'."),
        ({"key": "Yoon!"}, "key", "Use lowercase letters"),
        ({"languages": "korean, en"}, "languages", "Not a language code: korean."),
        ({"email": "yoon-at-example"}, "email", "Not an email address."),
        ({"role": "boss"}, "role", "Not a valid choice."),
        ({"organization_id": "12345"}, "organization_id", "Not a valid choice."),
        (
            {"available_until": "2024-10-26T08:00"},
            "available_until",
            "Must be after 'available from'.",
        ),
        (
            {"available_from": "2024-10-27T02:30"},
            "available_from",
            "happens twice in Europe/Berlin",
        ),
        ({"phone": "1" * 51}, "phone", "Field cannot be longer than 50 characters."),
    ],
)
def test_each_invalid_person_field_is_named(client, app, visit, overrides, field, message):
    response = post(client, f"{BASE}/people/new", person_data(app, **overrides))
    assert response.status_code == 200
    page = html.unescape(response.get_data(as_text=True))
    assert f'id="{field}-error"' in page
    assert message in page
    assert person(app) is None


def test_an_organisation_is_added_and_edited(client, app, visit):
    response = post(
        client,
        f"{BASE}/organizations/new",
        {
            "key": "kvic",
            "name": "Korea Venture Investment Corp.",
            "native_name": "한국벤처투자",
            "country": "kr",
            "kind": "VC",
        },
    )
    assert response.status_code == 302
    page = client.get(f"{BASE}/organizations/kvic/edit").get_data(as_text=True)
    post(
        client,
        f"{BASE}/organizations/kvic/edit",
        {"name": "KVIC", "native_name": "", "country": "KR", **opened_stamp(page)},
    )
    with app.app_context():
        org = db.session.scalar(select(Organization).where(Organization.key == "kvic"))
        assert (org.name, org.country, org.native_name) == ("KVIC", "KR", None)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"key": "mss"}, "key", "Another organisation has the key 'mss'."),
        ({"name": ""}, "name", "This field is required."),
        ({"country": "KOR"}, "country", "Two capital letters (ISO 3166)"),
    ],
)
def test_each_invalid_organisation_field_is_named(client, app, visit, overrides, field, message):
    data = {"key": "kvic", "name": "KVIC", "country": "KR", **overrides}
    page = html.unescape(post(client, f"{BASE}/organizations/new", data).get_data(as_text=True))
    assert f'id="{field}-error"' in page
    assert message in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Organization)) == 1


def test_a_person_form_without_csrf_is_refused(client, app, visit):
    assert client.post(f"{BASE}/people/new", data=person_data(app)).status_code == 400
    assert person(app) is None
