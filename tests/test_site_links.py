"""The areas are linked to each other: every link a coordinator or a guest follows works."""

import re

import pytest

from scheduler.extensions import db
from scheduler.itinerary.document import load_delegation
from tests.conftest import fetch_pdf

KEY = "mss-japan-2024-09"


def hrefs(html: str) -> list[str]:
    return re.findall(r'href="([^"#]+)"', html)


@pytest.fixture
def visit(load_document, reference_document):
    load_document(reference_document)


def test_every_link_on_the_programme_page_works(client, visit, login):
    page = client.get(f"/delegations/{KEY}")
    assert page.status_code == 200
    links = {h for h in hrefs(page.get_data(as_text=True)) if h.startswith("/")}
    for expected in (
        f"/delegations/{KEY}/agenda",
        f"/delegations/{KEY}/programme.xlsx",
        f"/share/manage/{KEY}",
    ):
        assert expected in links
    for link in sorted(links):
        with client.get(link, follow_redirects=True) as response:
            assert response.status_code == 200, link


def test_every_link_on_a_share_page_works_without_signing_in(app, client, visit):
    with app.app_context():
        delegation = load_delegation(db.session, KEY)
        tokens = [delegation.share_token, delegation.people[0].share_token]
    for token in tokens:
        page = client.get(f"/share/{token}")
        assert page.status_code == 200
        links = {h for h in hrefs(page.get_data(as_text=True)) if h.startswith("/share/")}
        assert f"/share/{token}/agenda" in links and f"/share/{token}/agenda.pdf" in links
        for link in sorted(links):
            with fetch_pdf(client, link) as response:  # a PDF: after its "being prepared" page
                assert response.status_code == 200, link
