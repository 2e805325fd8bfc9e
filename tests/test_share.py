"""The share page behind a secret link, the coordinators' link manager, and ``share-links``."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import Delegation, Person
from tests.conftest import csrf_token_from

KEY = "mss-japan-2024-09"
INTERNAL_NOTE = "Confirm bank attendees by 09-20."


@pytest.fixture
def visit(load_document, reference_document):
    load_document(reference_document)


def tokens(app) -> dict[str, str]:
    """'delegation' and every person key -> current share token."""
    with app.app_context():
        delegation = db.session.scalar(select(Delegation).where(Delegation.key == KEY))
        found = {"delegation": delegation.share_token}
        for person in db.session.scalars(select(Person)):
            found[person.key] = person.share_token
        return found


def hrefs(html: str) -> list[str]:
    return [value.replace("&amp;", "&") for value in re.findall(r'href="([^"]+)"', html)]


# --------------------------------------------------------------------------- share page


def test_share_page_offers_every_way_to_subscribe(app, client, visit):
    token = tokens(app)["delegation"]
    response = client.get(f"/share/{token}")
    assert response.status_code == 200
    assert response.headers["Referrer-Policy"] == "no-referrer"
    html = response.get_data(as_text=True)
    assert "MSS bio delegation to Shonan iPark and Tsukuba" in html
    assert "중소벤처기업부 한일 바이오 협력 방문단" in html
    links = hrefs(html)
    https = f"http://scheduler.test/share/{token}/calendar.ics"
    webcal = f"webcal://scheduler.test/share/{token}/calendar.ics"
    assert https in links
    assert webcal in links
    (google,) = [link for link in links if link.startswith("https://calendar.google.com/")]
    assert urlsplit(google).path == "/calendar/render"
    assert parse_qs(urlsplit(google).query) == {"cid": [webcal]}
    assert f"/share/{token}/agenda" in links
    assert f"/share/{token}/agenda.pdf" in links
    downloads = [link for link in links if "/meetings/" in link]
    assert len(downloads) == 6
    for link in downloads:
        assert client.get(link).status_code == 200
    assert client.get(https).status_code == 200


def test_share_page_lists_meetings_in_their_zone_without_internal_notes(app, client, visit):
    html = client.get(f"/share/{tokens(app)['delegation']}").get_data(as_text=True)
    assert "Wed 25 Sep 2024, 14:00 – 15:30 JST" in html
    assert "Shonan Health Innovation Park, Conference Room A" in html
    assert "(tentative)" in html
    assert INTERNAL_NOTE not in html


def test_a_persons_share_page_shows_only_their_meetings(app, client, visit):
    html = client.get(f"/share/{tokens(app)['park']}").get_data(as_text=True)
    assert "PARK Hyeon-sook" in html
    downloads = sorted(link.rsplit("/", 1)[1] for link in hrefs(html) if "/meetings/" in link)
    assert downloads == ["company-pitches.ics", "move-in-tour.ics"]


def test_share_page_needs_no_sign_in_and_unknown_tokens_404(app, client, visit):
    assert client.get(f"/share/{tokens(app)['lim']}").status_code == 200
    assert client.get("/share/" + "0" * 48).status_code == 404


# --------------------------------------------------------------------------- link manager


def test_manage_page_needs_a_coordinator(app, client, visit):
    response = client.get(f"/share/manage/{KEY}")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_manage_page_lists_every_link(app, client, visit, login):
    response = client.get(f"/share/manage/{KEY}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for token in tokens(app).values():
        assert f"http://scheduler.test/share/{token}/calendar.ics" in html
        assert f"webcal://scheduler.test/share/{token}/calendar.ics" in html
        assert f"/share/{token}/agenda.pdf" in html
    assert html.count('name="target"') == 1 + 11
    assert client.get("/share/manage/no-such-visit").status_code == 404


def _rotate(client, target: str, *, with_token: bool = True, confirmed: bool = True):
    """Click "New link", then (unless ``confirmed`` is False) confirm on the page it shows."""
    page = client.get(f"/share/manage/{KEY}").get_data(as_text=True)
    data = {"target": target}
    if with_token:
        data["csrf_token"] = csrf_token_from(page)
    asked = client.post(f"/share/manage/{KEY}/rotate", data=data)
    if not confirmed or asked.status_code != 200:
        return asked
    form = asked.get_data(as_text=True)
    assert 'name="confirmed" value="yes"' in form
    data = {"target": target, "confirmed": "yes", "csrf_token": csrf_token_from(form)}
    return client.post(f"/share/manage/{KEY}/rotate", data=data)


def test_new_link_asks_first_and_says_what_stops_working(app, client, visit, login):
    before = tokens(app)
    asked = _rotate(client, "lim", confirmed=False)
    assert asked.status_code == 200
    page = asked.get_data(as_text=True)
    assert "Replace the share link for LIM Jeong-wook (임정욱)?" in page
    assert "calendars subscribed to its feed stop receiving changes" in page
    assert "No use of this link has been recorded." in page
    assert tokens(app) == before  # nothing replaced by the first click


def test_the_manage_page_shows_when_and_by_whom_each_link_was_last_used(app, client, visit, login):
    token = tokens(app)["lim"]
    assert (
        client.get(
            f"/share/{token}/calendar.ics", headers={"User-Agent": "Google-Calendar-Importer"}
        ).status_code
        == 200
    )
    page = client.get(f"/share/manage/{KEY}").get_data(as_text=True)
    lim_row = page[page.index("LIM Jeong-wook (임정욱)</th>") :].split("</tr>")[0]
    assert "calendar feed" in lim_row and "Google-Calendar-Importer" in lim_row
    assert page.count("Not used yet") == 11  # the delegation and everyone else
    asked = _rotate(client, "lim", confirmed=False).get_data(as_text=True)
    assert "(calendar feed, by" in asked and "Google-Calendar-Importer" in asked
    _rotate(client, "lim")
    page = client.get(f"/share/manage/{KEY}").get_data(as_text=True)
    assert page.count("Not used yet") == 12  # the new link has not been used


def test_the_manage_page_lists_the_delegation_then_people_by_name(app, client, visit, login):
    page = client.get(f"/share/manage/{KEY}").get_data(as_text=True)
    labels = re.findall(r'<th scope="row">([^<]+)</th>', page)
    assert labels[0] == "Whole delegation"
    assert labels[1:] == sorted(labels[1:], key=str.casefold)


def test_a_polling_calendar_writes_its_use_at_most_once_a_minute(app, visit):
    from datetime import timedelta

    from scheduler.itinerary.share_links import record_share_link_use
    from scheduler.itinerary.times import utcnow

    with app.app_context():
        lim = db.session.scalar(select(Person).where(Person.key == "lim"))
        now = utcnow()
        agent = "DAVx5/4.3"
        assert record_share_link_use(db.session, lim, "calendar", agent, now=now)
        db.session.commit()
        assert not record_share_link_use(
            db.session, lim, "calendar", agent, now=now + timedelta(seconds=50)
        )
        assert record_share_link_use(
            db.session, lim, "calendar", "Other", now=now + timedelta(seconds=50)
        )
        assert record_share_link_use(
            db.session, lim, "calendar", "Other", now=now + timedelta(seconds=200)
        )


def test_rotating_the_delegation_link_retires_the_old_one(app, client, visit, login):
    old = tokens(app)["delegation"]
    old_ics = client.get(f"/share/{old}/calendar.ics")
    response = _rotate(client, "delegation")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/share/manage/{KEY}")
    new = tokens(app)["delegation"]
    assert new != old
    assert len(new) >= 16 + 32
    assert client.get(f"/share/{old}").status_code == 404
    assert client.get(f"/share/{old}/calendar.ics").status_code == 404
    fresh = client.get(f"/share/{new}/calendar.ics")
    assert fresh.status_code == 200
    # The new link is another feed: the old one's validators do not answer for it.
    assert fresh.headers["ETag"] != old_ics.headers["ETag"]
    assert "The old link no longer works" in client.get(f"/share/manage/{KEY}").get_data(
        as_text=True
    )


def test_rotating_a_persons_link_leaves_the_others(app, client, visit, login):
    before = tokens(app)
    assert _rotate(client, "lim").status_code == 302
    after = tokens(app)
    assert after["lim"] != before["lim"]
    assert {k: v for k, v in after.items() if k != "lim"} == {
        k: v for k, v in before.items() if k != "lim"
    }
    assert client.get(f"/share/{before['lim']}/calendar.ics").status_code == 404
    assert client.get(f"/share/{after['lim']}/calendar.ics").status_code == 200


def test_rotation_needs_csrf_token_sign_in_and_a_known_target(app, client, visit, login):
    before = tokens(app)
    assert _rotate(client, "delegation", with_token=False).status_code == 400
    assert _rotate(client, "nobody").status_code == 404
    assert _rotate(client, "").status_code == 400
    assert tokens(app) == before
    stranger = app.test_client()
    csrf = csrf_token_from(stranger.get("/login").get_data(as_text=True))
    response = stranger.post(
        f"/share/manage/{KEY}/rotate", data={"target": "lim", "csrf_token": csrf}
    )
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    assert tokens(app) == before


# --------------------------------------------------------------------------- CLI


def test_share_links_cli_prints_working_paths(app, client, runner, visit):
    result = runner.invoke(args=["share-links", KEY, "--json"])
    assert result.exit_code == 0, result.output
    links = json.loads(result.output)
    current = tokens(app)
    assert set(links) == {"delegation", "people"}
    assert set(links["people"]) == set(current) - {"delegation"}
    for owner, paths in [("delegation", links["delegation"]), *links["people"].items()]:
        token = current[owner]
        assert paths == {
            "ics": f"/share/{token}/calendar.ics",
            "agenda": f"/share/{token}/agenda",
            "pdf": f"/share/{token}/agenda.pdf",
        }
        assert client.get(paths["ics"]).status_code == 200


def test_share_links_cli_unknown_key_exits_2(runner, visit):
    result = runner.invoke(args=["share-links", "no-such-visit", "--json"])
    assert result.exit_code == 2
    assert "no-such-visit" in result.output


def test_an_attendee_is_never_sent_to_the_coordinators_sign_in(app, client, visit):
    token = tokens(app)["lim"]
    for path in (f"/share/{token}", "/share/" + "0" * 48, f"/share/{token}/no/such/page"):
        page = client.get(path).get_data(as_text=True)
        assert 'href="/"' not in page and "/login" not in page and "/delegations" not in page, path
    assert "ask them for the current one" in client.get("/share/" + "0" * 48).get_data(as_text=True)


def test_calendar_files_are_named_by_day_and_title_not_by_key(app, client, visit):
    token = tokens(app)["delegation"]
    page = client.get(f"/share/{token}").get_data(as_text=True)
    assert "cro-consortium.ics<" not in page
    link = next(link for link in hrefs(page) if link.endswith("/meetings/cro-consortium.ics"))
    disposition = client.get(link).headers["Content-Disposition"]
    assert "cro-consortium" not in disposition
    assert disposition.startswith('attachment; filename="2024-09-2')
    assert "filename*=UTF-8''2024-09-2" in disposition
