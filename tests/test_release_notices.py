"""Change notices against a real SMTP server (aiosmtpd) started by the test."""

from __future__ import annotations

import copy
import email
import socket
import threading
from email import policy

import ical.calendar_stream
import pytest
from aiosmtpd.controller import Controller
from icalendar import Calendar
from sqlalchemy import select

from scheduler.extensions import db
from scheduler.models import Meeting, Notice, Person

KEY = "mss-japan-2024-09"


class Inbox:
    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), message))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp(app):
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, JOBS_RAISE=True)
    app.config["PUBLIC_BASE_URL"] = "https://scheduler.example.org"
    yield inbox, controller
    controller.stop()


def document_with_emails(reference_document) -> dict:
    document = copy.deepcopy(reference_document)
    languages = {"lim": "ko", "matsunaga": "ja", "park": "ko"}
    for person in document["people"]:
        person["email"] = f"{person['key']}@example.org"
        if person["key"] in languages:
            person["language"] = languages[person["key"]]
        if person["key"] in ("lim", "matsunaga"):
            person["calendar"] = "invitations"
    return document


def attendees_of(app, meeting_key: str) -> set[str]:
    with app.app_context():
        meeting = db.session.scalar(select(Meeting).where(Meeting.key == meeting_key))
        return {a.person.key for a in meeting.attendances}


def move(app, meeting_key: str, minutes: int) -> None:
    from datetime import timedelta

    with app.app_context():
        meeting = db.session.scalar(select(Meeting).where(Meeting.key == meeting_key))
        meeting.start += timedelta(minutes=minutes)
        meeting.end += timedelta(minutes=minutes)
        db.session.commit()


def remove_attendee(app, meeting_key: str, person_key: str) -> None:
    with app.app_context():
        meeting = db.session.scalar(select(Meeting).where(Meeting.key == meeting_key))
        meeting.attendances = [a for a in meeting.attendances if a.person.key != person_key]
        db.session.commit()


def calendar_parts(message):
    return [p for p in message.walk() if p.get_content_type() == "text/calendar"]


def test_release_with_notices_mails_exactly_the_affected_people_once_in_their_language(
    app, runner, load_document, reference_document, smtp
):
    inbox, _ = smtp
    load_document(document_with_emails(reference_document))
    assert runner.invoke(args=["release", KEY]).exit_code == 0  # version 1: no notices
    assert inbox.messages == []
    move(app, "cro-consortium", 30)
    remove_attendee(app, "cro-consortium", "interp-kim")
    affected = attendees_of(app, "cro-consortium") | {"interp-kim"}
    assert "lim" in affected
    result = runner.invoke(args=["release", KEY, "--notify", "--note", "Moved"])
    assert result.exit_code == 0, result.output
    recipients = sorted(r for rcpts, _ in inbox.messages for r in rcpts)
    assert recipients == sorted(f"{k}@example.org" for k in affected)

    messages = {rcpts[0].split("@")[0]: m for rcpts, m in inbox.messages}
    korean = messages["lim"]
    assert korean["Content-Language"] == "ko"
    kinds = [p.get_content_type() for p in korean.walk()]
    assert "text/plain" in kinds and "text/html" in kinds
    english = messages["mediport-rep"]
    assert english["Content-Language"] == "en"
    body = english.get_body(("plain",)).get_content()
    assert "Dear Mediport representative" in body
    assert "/share/" in body and "/agenda" in body
    assert calendar_parts(english) == []  # a feed subscriber gets no invitation

    # lim (invitations) gets a REQUEST for the moved meeting, with the feed's UID and a
    # higher SEQUENCE than version 1 published.
    [request_part] = calendar_parts(korean)
    assert request_part.get_content_type() == "text/calendar"
    assert request_part.get_param("method") == "REQUEST"
    data = request_part.get_content()
    parsed = Calendar.from_ical(data)
    assert str(parsed["METHOD"]) == "REQUEST"
    [event] = parsed.walk("VEVENT")
    assert str(event["UID"]) == f"{KEY}.cro-consortium@delegation-scheduler.invalid"
    with app.app_context():
        from scheduler.itinerary.releases import releases_of
        from scheduler.models import Delegation

        delegation = db.session.scalar(select(Delegation))
        first, second = releases_of(db.session, delegation.id)
        old = first.snapshot["meetings"]["cro-consortium"]["sequence"]
        new = second.snapshot["meetings"]["cro-consortium"]["sequence"]
    assert int(event["SEQUENCE"]) == new > old
    other = ical.calendar_stream.IcsCalendarStream.from_ics(data)
    assert other.calendars[0].events[0].uid == str(event["UID"])
    assert other.calendars[0].events[0].sequence == new

    # Running the job again sends nothing.
    before = len(inbox.messages)
    assert runner.invoke(args=["send-notices"]).exit_code == 0
    with app.app_context():
        from scheduler.operations.notices import deliver_notices

        deliver_notices(second.id)
        db.session.commit()
        states = set(db.session.scalars(select(Notice.state)))
    assert len(inbox.messages) == before and states == {"sent"}


def test_lost_meeting_sends_a_cancel_with_status_cancelled(
    app, runner, load_document, reference_document, smtp
):
    inbox, _ = smtp
    load_document(document_with_emails(reference_document))
    runner.invoke(args=["release", KEY])
    remove_attendee(app, "cro-consortium", "lim")
    assert runner.invoke(args=["release", KEY, "--notify"]).exit_code == 0
    messages = {rcpts[0].split("@")[0]: m for rcpts, m in inbox.messages}
    parts = calendar_parts(messages["lim"])
    cancel = next(p for p in parts if p.get_param("method") == "CANCEL")
    data = cancel.get_content()
    parsed = Calendar.from_ical(data)
    assert str(parsed["METHOD"]) == "CANCEL"
    [event] = parsed.walk("VEVENT")
    assert str(event["STATUS"]) == "CANCELLED"
    assert str(event["UID"]) == f"{KEY}.cro-consortium@delegation-scheduler.invalid"
    assert int(event["SEQUENCE"]) >= 1
    stream = ical.calendar_stream.IcsCalendarStream.from_ics(data)
    assert stream.calendars[0].events[0].uid == str(event["UID"])


def test_japanese_notice_is_in_japanese_locale(
    app, runner, load_document, reference_document, smtp
):
    inbox, _ = smtp
    load_document(document_with_emails(reference_document))
    runner.invoke(args=["release", KEY])
    with app.app_context():
        matsunaga = db.session.scalar(select(Person).where(Person.key == "matsunaga"))
        meeting = db.session.scalar(
            select(Meeting).where(Meeting.attendances.any(person_id=matsunaga.id))
        )
        meeting.title = "New title"
        db.session.commit()
    runner.invoke(args=["release", KEY, "--notify"])
    messages = {rcpts[0].split("@")[0]: m for rcpts, m in inbox.messages}
    assert messages["matsunaga"]["Content-Language"] == "ja"
    html = messages["matsunaga"].get_body(("html",)).get_content()
    assert '<html lang="ja">' in html
    assert "2024/09/2" in messages["matsunaga"].get_body(("plain",)).get_content()


def test_smtp_down_notices_wait_and_go_out_once_when_it_is_back(
    app, runner, load_document, reference_document
):
    port = free_port()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, JOBS_RAISE=True)
    load_document(document_with_emails(reference_document))
    runner.invoke(args=["release", KEY])
    move(app, "cro-consortium", 15)
    affected = attendees_of(app, "cro-consortium")
    assert runner.invoke(args=["release", KEY, "--notify"]).exit_code == 0
    with app.app_context():
        notices = db.session.scalars(select(Notice)).all()
        assert len(notices) == len(affected)
        assert {n.state for n in notices} == {"pending"}
        assert all(n.attempts == 1 and n.last_error and n.next_attempt_at for n in notices)
        # Not due yet: a sweep now sends nothing and costs no attempt.
    runner.invoke(args=["send-notices"])
    with app.app_context():
        assert {n.attempts for n in db.session.scalars(select(Notice))} == {1}
        # Time passes: make them due.
        for notice in db.session.scalars(select(Notice)):
            notice.next_attempt_at = None
        db.session.commit()

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        runner.invoke(args=["send-notices"])
        runner.invoke(args=["send-notices"])
    finally:
        controller.stop()
    recipients = sorted(r for rcpts, _ in inbox.messages for r in rcpts)
    assert recipients == sorted(f"{k}@example.org" for k in affected)
    with app.app_context():
        assert {n.state for n in db.session.scalars(select(Notice))} == {"sent"}


def test_failed_notices_show_on_the_release_page(
    app, runner, load_document, reference_document, client, login
):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port())  # nobody listens
    load_document(document_with_emails(reference_document))
    runner.invoke(args=["release", KEY])
    move(app, "cro-consortium", 15)
    assert runner.invoke(args=["release", KEY, "--notify"]).exit_code == 0
    with app.app_context():
        for notice in db.session.scalars(select(Notice)).all()[:1]:
            notice.state = "failed"  # as after the last attempt
        db.session.commit()
    page = client.get(f"/delegations/{KEY}/releases/2").get_data(as_text=True)
    assert "ConnectionRefusedError" in page
    assert "notice-pending" in page and "notice-failed" in page
    assert "Send the failed notices again" in page
    listing = client.get(f"/delegations/{KEY}/releases").get_data(as_text=True)
    assert "1 failed" in listing
