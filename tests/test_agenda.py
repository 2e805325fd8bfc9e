"""The agenda's programme and its HTML pages: share links, the coordinator version, local times."""

from __future__ import annotations

import copy

import pytest
from markupsafe import escape
from sqlalchemy import select

from scheduler.agenda.assemble import COORDINATOR, build_agenda, native_language
from scheduler.agenda.render import render_agenda_html
from scheduler.extensions import db
from scheduler.itinerary.conflicts import check_delegation
from scheduler.itinerary.document import load_delegation
from scheduler.models import Delegation, Meeting, Person
from tests.conftest import count_queries, fetch_pdf, minimal_document

KEY = "mss-japan-2024-09"
NOTES = ("Confirm bank attendees", "Travel from Tsukuba is too tight")
NATIVE_NAMES = (
    "임정욱",
    "윤석배",
    "中村 和男",
    "중소벤처기업부",
    "한국벤처투자",
    "アステラス製薬",
    "湘南ヘルスイノベーションパーク",
    "経済産業省 生物化学産業課",
    "중소벤처기업부 한일 바이오 협력 방문단",
)


def share_token(app, person_key: str | None = None, delegation_key: str = KEY) -> str:
    with app.app_context():
        delegation = db.session.scalar(select(Delegation).where(Delegation.key == delegation_key))
        if person_key is None:
            return delegation.share_token
        person = db.session.scalar(
            select(Person).where(Person.delegation_id == delegation.id, Person.key == person_key)
        )
        return person.share_token


def titles_attended_by(document: dict, person_key: str | None) -> tuple[set[str], set[str]]:
    """(titles the person's agenda must show, titles it must not): cancelled meetings never show."""
    shown, hidden = set(), set()
    for meeting in document["meetings"]:
        attends = person_key is None or any(
            a["person"] == person_key for a in meeting.get("attendees", [])
        )
        if attends and meeting.get("status") != "cancelled":
            shown.add(meeting["title"])
        else:
            hidden.add(meeting["title"])
    return shown, hidden


def with_cancelled_meeting(document: dict) -> dict:
    document = copy.deepcopy(document)
    document["meetings"].append(
        {
            "key": "called-off",
            "title": "Dinner with the prefectural governor",
            "status": "cancelled",
            "start": "2024-09-26T18:00",
            "end": "2024-09-26T20:00",
            "venue": "shonan-ipark",
            "attendees": [{"person": "lim"}, {"person": "interp-kim"}],
        }
    )
    return document


# --------------------------------------------------------------------------- assembling


def test_delegation_agenda_lists_meetings_day_by_day_in_local_time(
    app, load_document, reference_document
):
    load_document(reference_document)
    with app.app_context():
        agenda = build_agenda(load_delegation(db.session, KEY))
    assert [str(day.day) for day in agenda.days] == ["2024-09-25", "2024-09-26", "2024-09-27"]
    first = agenda.days[0].items[0]
    assert (first.key, first.start.strftime("%H:%M"), first.end.strftime("%H:%M")) == (
        "cro-consortium",
        "14:00",
        "15:30",
    )
    assert first.venue.native == "湘南ヘルスイノベーションパーク"
    assert first.room == "Conference Room A"
    assert [a.person.key for a in first.attendees] == [
        "lim",
        "interp-kim",
        "mediport-rep",
        "nemoto-rep",
    ]
    assert [item.key for item in agenda.items] == [
        "cro-consortium",
        "company-pitches",
        "move-in-tour",
        "astellas",
        "cmic",
        "meti",
    ]


def test_cancelled_meetings_are_left_out(app, load_document, reference_document):
    load_document(with_cancelled_meeting(reference_document))
    with app.app_context():
        delegation = load_delegation(db.session, KEY)
        lim = next(p for p in delegation.people if p.key == "lim")
        for agenda in (build_agenda(delegation), build_agenda(delegation, person=lim)):
            assert "called-off" not in [item.key for item in agenda.items]


def test_travel_leg_between_meetings_at_different_venues(app, load_document, reference_document):
    load_document(reference_document)
    with app.app_context():
        agenda = build_agenda(load_delegation(db.session, KEY))
    legs = {item.key: item.travel for item in agenda.items}
    assert legs["company-pitches"] == [] and legs["move-in-tour"] == []  # same venue
    [cmic] = legs["cmic"]
    assert (cmic.from_venue.name, cmic.to_venue.name, cmic.leg.minutes, cmic.leg.mode) == (
        "Astellas Tsukuba Research Center",
        "CMIC head office",
        80,
        "car",
    )
    assert not cmic.leg.estimated and cmic.gap_minutes == 60


def test_no_travel_leg_carried_over_from_the_day_before(app, load_document, reference_document):
    load_document(reference_document)
    with app.app_context():
        agenda = build_agenda(load_delegation(db.session, KEY))
    legs = {item.key: item.travel for item in agenda.items}
    # Thursday ends at Shonan iPark, Friday starts in Tsukuba: the night is spent elsewhere.
    assert legs["astellas"] == []


def test_travel_leg_without_an_entry_is_a_marked_estimate(app, load_document, reference_document):
    reference_document["travel_times"] = []
    load_document(reference_document)
    with app.app_context():
        delegation = load_delegation(db.session, KEY)
        [leg] = next(i for i in build_agenda(delegation).items if i.key == "cmic").travel
        assert leg.leg.estimated and leg.leg.minutes > 0
        assert all(i.travel == [] for i in build_agenda(delegation, estimate_travel=False).items)


def _two_people_two_venues() -> dict:
    """X at A 09:00-10:00, Y at B from 10:30, 60 minutes from A to B (the issue's example)."""
    document = minimal_document()
    document["people"] = [{"key": "x", "name": "Person X"}, {"key": "y", "name": "Person Y"}]
    document["venues"] = [
        {"key": "a", "name": "Venue A", "timezone": "Asia/Tokyo"},
        {"key": "b", "name": "Venue B", "timezone": "Asia/Tokyo"},
    ]
    document["travel_times"] = [{"from": "a", "to": "b", "minutes": 60}]
    document["meetings"] = [
        {"key": "at-a", "title": "At A", "start": "2024-09-25T09:00", "end": "2024-09-25T10:00",
         "venue": "a", "attendees": [{"person": "x"}]},
        {"key": "at-b", "title": "At B", "start": "2024-09-25T10:30", "end": "2024-09-25T11:30",
         "venue": "b", "attendees": [{"person": "y"}]},
    ]  # fmt: skip
    return document


def test_agenda_pairs_travel_per_person_like_the_conflict_rules(app, load_document):
    load_document(_two_people_two_venues())
    with app.app_context():
        delegation = load_delegation(db.session, "test-visit")
        assert check_delegation(db.session, delegation) == []
        agenda = build_agenda(delegation)
        html = render_agenda_html(agenda, stylesheet_href="agenda.css")
    assert [item.travel for item in agenda.items] == [[], []]
    assert "Travel from" not in html


def test_agenda_names_who_travels_when_people_part_ways(app, load_document):
    document = _two_people_two_venues()
    document["meetings"][0]["attendees"].append({"person": "y"})
    document["meetings"][1]["start"] = "2024-09-25T10:10"
    load_document(document)
    with app.app_context():
        delegation = load_delegation(db.session, "test-visit")
        [conflict] = check_delegation(db.session, delegation)
        [leg] = build_agenda(delegation).items[1].travel
    assert conflict.kind == "travel_time" and conflict.person == "y"
    assert [p.key for p in leg.people] == ["y"] and leg.too_short


def test_meeting_in_another_zone_is_shown_in_its_own_local_time(app, load_document):
    document = minimal_document()
    document["venues"] = [
        {"key": "seoul", "name": "MSS Seoul office", "timezone": "Asia/Seoul"},
        {"key": "tokyo", "name": "Tokyo hotel", "timezone": "Asia/Tokyo"},
    ]
    document["meetings"] = [
        # 23:30 in Seoul on the 25th is 23:30 in Tokyo too (same offset) but a late one in UTC.
        {
            "key": "late",
            "title": "Late call",
            "start": "2024-09-25T23:30",
            "end": "2024-09-26T00:30",
            "venue": "seoul",
        },
        {
            "key": "utc",
            "title": "Exact instant",
            "start": "2024-09-26T15:30Z",
            "end": "2024-09-26T16:00Z",
            "venue": "tokyo",
        },
    ]
    document["delegation"]["timezone"] = "Europe/Berlin"
    load_document(document)
    with app.app_context():
        agenda = build_agenda(load_delegation(db.session, "test-visit"))
    late, exact = agenda.items
    assert late.start.strftime("%Y-%m-%d %H:%M") == "2024-09-25 23:30"
    assert late.zone_label == "KST" and late.ends_on_later_day
    # 15:30 UTC is 00:30 the next day in Tokyo: it belongs to the 27th.
    assert exact.start.strftime("%Y-%m-%d %H:%M %Z") == "2024-09-27 00:30 JST"
    assert [str(d.day) for d in agenda.days] == ["2024-09-25", "2024-09-27"]


def test_person_agenda_contacts_are_whom_they_meet_and_the_support_staff(
    app, load_document, reference_document
):
    load_document(reference_document)
    with app.app_context():
        delegation = load_delegation(db.session, KEY)
        yoon = next(p for p in delegation.people if p.key == "yoon")
        agenda = build_agenda(delegation, person=yoon)
    assert [item.key for item in agenda.items] == ["meti"]
    assert {c.key for c in agenda.contacts} == {"yoon", "meti-director", "interp-kim"}


def test_shared_audience_never_carries_notes_or_conflicts(app, load_document, reference_document):
    reference_document["people"][0]["notes"] = "Prefers aisle seats."
    load_document(reference_document)
    with app.app_context():
        delegation = load_delegation(db.session, KEY)
        conflicts = check_delegation(db.session, delegation)
        shared = build_agenda(delegation, conflicts=conflicts)
        coordinator = build_agenda(delegation, audience=COORDINATOR, conflicts=conflicts)
    assert conflicts  # the reference visit's drive from Tsukuba to Tokyo is too tight
    assert all(i.internal_notes is None and not i.conflicts for i in shared.items)
    assert all(c.notes is None for c in shared.contacts)
    notes = {i.key: i.internal_notes for i in coordinator.items if i.internal_notes}
    assert notes["cro-consortium"].startswith(NOTES[0]) and notes["cmic"].startswith(NOTES[1])
    shown = {(i.key, c.message) for i in coordinator.items for c in i.conflicts}
    assert shown == {(key, c.message) for c in conflicts for key in c.meetings}
    assert "Prefers aisle seats." in [c.notes for c in coordinator.contacts]


def test_unknown_audience_is_refused(app, load_document, reference_document):
    load_document(reference_document)
    with app.app_context(), pytest.raises(ValueError, match="audience"):
        build_agenda(load_delegation(db.session, KEY), audience="press")


@pytest.mark.parametrize(
    ("text", "country", "language"),
    [
        ("임정욱", None, "ko"),
        ("アステラス製薬", None, "ja"),
        ("湘南ヘルスイノベーションパーク", None, "ja"),
        ("中村 和男", "JP", "ja"),
        ("中村 和男", None, None),
        ("中小企業", "KR", "ko"),
        ("Mediport", "JP", None),
        (None, "JP", None),
    ],
)
def test_native_names_carry_the_language_their_glyphs_need(text, country, language):
    assert native_language(text, country) == language


# --------------------------------------------------------------------------- share pages


def test_shared_delegation_page_shows_the_programme_without_notes(
    app, client, load_document, reference_document
):
    load_document(with_cancelled_meeting(reference_document))
    response = client.get(f"/share/{share_token(app)}/agenda")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    html = response.get_data(as_text=True)
    shown, hidden = titles_attended_by(reference_document, None)
    for title in shown:
        assert str(escape(title)) in html
    assert "Dinner with the prefectural governor" not in html
    for name in NATIVE_NAMES:
        assert name in html
    for note in NOTES:
        assert note not in html
    assert "Coordinator copy" not in html and 'class="conflicts"' not in html
    assert "Version " in html and "/agenda.pdf?paper=letter" in html


def test_native_names_keep_their_language_on_screen_and_where_glyphs_need_it_in_print(
    app, load_document, reference_document
):
    """Screen readers need every lang; the Korean-first PDF fonts need only the non-Korean ones."""
    load_document(reference_document)
    with app.app_context():
        agenda = build_agenda(load_delegation(db.session, KEY))
        screen = render_agenda_html(agenda, stylesheet_href="agenda.css")
        pdf = render_agenda_html(agenda, stylesheet_href="agenda.css", for_pdf=True)
    assert '<span class="native" lang="ko">임정욱</span>' in screen
    assert '<span class="native" lang="ja">中村 和男</span>' in screen
    assert "임정욱" in pdf and 'lang="ko">임정욱' not in pdf
    assert '<span class="native" lang="ja">中村 和男</span>' in pdf


def test_shared_person_page_shows_only_their_meetings(
    app, client, load_document, reference_document
):
    load_document(reference_document)
    html = client.get(f"/share/{share_token(app, 'nakamura')}/agenda").get_data(as_text=True)
    shown, hidden = titles_attended_by(reference_document, "nakamura")
    assert shown == {"Decentralized clinical trials and AI healthcare"}
    for title in shown:
        assert title in html
    for title in hidden:
        assert str(escape(title)) not in html
    assert "中村 和男" in html and 'lang="ja"' in html


def test_unknown_or_tampered_token_is_404(app, client, load_document, reference_document):
    load_document(reference_document)
    token = share_token(app)
    # Change the last character to one it is not (a random token may end in any letter).
    tampered = token[:-1] + ("x" if token[-1] != "x" else "y")
    assert client.get(f"/share/{tampered}/agenda").status_code == 404
    assert fetch_pdf(client, "/share/nonsense/agenda.pdf").status_code == 404


def test_unknown_paper_is_a_clear_400(app, client, load_document, reference_document):
    load_document(reference_document)
    response = fetch_pdf(client, f"/share/{share_token(app)}/agenda.pdf?paper=a3")
    assert response.status_code == 400
    assert "paper must be one of a4, letter" in response.get_data(as_text=True)


def test_version_line_changes_when_the_programme_changes(
    app, client, load_document, reference_document
):
    load_document(reference_document)
    token = share_token(app)
    before = client.get(f"/share/{token}/agenda").get_data(as_text=True)
    with app.app_context():
        delegation = db.session.scalar(select(Delegation).where(Delegation.key == KEY))
        revision = delegation.revision
        meeting = db.session.scalar(select(Meeting).where(Meeting.key == "cmic"))
        meeting.title = "Decentralised clinical trials"
        db.session.commit()
    after = client.get(f"/share/{token}/agenda").get_data(as_text=True)
    assert f"Version {revision}," in before
    assert f"Version {revision + 1}," in after and "Decentralised clinical trials" in after


def _generated_visit(meetings: int) -> dict:
    """A visit of that many meetings over five days at three venues, everyone attending some."""
    document = minimal_document(key="big-visit", start_date="2024-09-23", end_date="2024-09-27")
    document["organizations"] = [
        {"key": "org", "name": "Org", "native_name": "기관", "country": "KR"}
    ]
    document["people"] = [
        {"key": f"p{i}", "name": f"Person {i}", "native_name": "김민수", "organization": "org"}
        for i in range(8)
    ]
    document["venues"] = [
        {
            "key": f"v{i}",
            "name": f"Venue {i}",
            "timezone": "Asia/Tokyo",
            "rooms": [{"key": "r", "name": "Room"}],
        }
        for i in range(3)
    ]
    document["travel_times"] = [{"from": "v0", "to": "v1", "minutes": 30}]
    for n in range(meetings):
        day, slot = divmod(n, 12)
        start = f"2024-09-{23 + day % 5:02d}T{8 + slot:02d}:{'00' if day < 5 else '30'}"
        end = f"2024-09-{23 + day % 5:02d}T{8 + slot:02d}:{'20' if day < 5 else '50'}"
        document["meetings"].append(
            {
                "key": f"m{n}",
                "title": f"Meeting {n}",
                "start": start,
                "end": end,
                "venue": f"v{n % 3}",
                "room": "r",
                "organizations": ["org"],
                "attendees": [{"person": f"p{n % 8}"}, {"person": f"p{(n + 3) % 8}"}],
            }
        )
    return document


def test_agenda_page_costs_the_same_queries_for_6_or_120_meetings(
    app, client, load_document, reference_document
):
    load_document(reference_document)
    load_document(_generated_visit(120))
    counts = []
    for key in (KEY, "big-visit"):
        for person in (None, "p1" if key == "big-visit" else "lim"):
            token = share_token(app, person, key)
            with app.app_context():
                engine = db.engine
            with count_queries(engine) as statements:
                assert client.get(f"/share/{token}/agenda").status_code == 200
            counts.append(len(statements))
    assert len(set(counts[::2])) == 1 and len(set(counts[1::2])) == 1, counts


# --------------------------------------------------------------------------- coordinator pages


def test_coordinator_pages_need_sign_in(app, client, load_document, reference_document):
    load_document(reference_document)
    for path in (
        f"/delegations/{KEY}/agenda",
        f"/delegations/{KEY}/agenda.pdf",
        f"/delegations/{KEY}/programme.xlsx",
    ):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path


def test_coordinator_page_adds_internal_notes_and_conflicts(
    app, client, login, load_document, reference_document
):
    load_document(reference_document)
    response = client.get(f"/delegations/{KEY}/agenda")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for note in NOTES:
        assert note in html
    with app.app_context():
        conflicts = check_delegation(db.session, load_delegation(db.session, KEY))
    assert len(conflicts) == 2
    for conflict in conflicts:
        assert str(escape(conflict.message)) in html
    assert "Coordinator copy" in html and 'class="conflicts"' in html
    assert f"/delegations/{KEY}/programme.xlsx" in html


def test_shared_pages_never_show_the_conflicts(app, client, load_document, reference_document):
    load_document(reference_document)
    with app.app_context():
        conflicts = check_delegation(db.session, load_delegation(db.session, KEY))
    for token in (share_token(app), share_token(app, "lim")):
        html = client.get(f"/share/{token}/agenda").get_data(as_text=True)
        for conflict in conflicts:
            assert str(escape(conflict.message)) not in html
            assert "needs 80 min" not in html


def test_coordinator_page_of_unknown_delegation_is_404(client, login):
    assert client.get("/delegations/no-such-visit/agenda").status_code == 404


def test_coordinator_cover_counts_conflicts_or_says_they_were_not_checked(
    app, load_document, reference_document
):
    load_document(reference_document)
    with app.app_context():
        delegation = load_delegation(db.session, KEY)
        conflicts = check_delegation(db.session, delegation)
        checked = build_agenda(delegation, audience=COORDINATOR, conflicts=conflicts)
        unchecked = build_agenda(delegation, audience=COORDINATOR)
        yoon = next(p for p in delegation.people if p.key == "yoon")
        yoons = build_agenda(delegation, person=yoon, audience=COORDINATOR, conflicts=conflicts)
    assert checked.conflict_counts == (2, 0)
    assert unchecked.conflict_counts is None
    assert yoons.conflict_counts == (0, 0)  # his one meeting is in none of them
