"""Change notices: one email per release and person, sent by a job, never twice.

Every notice is a row (``Notice``), written with its release. Sending one is three steps,
each committed: claim it (``pending`` -> ``sending``, with a lease), hand it to the mail
server, mark it ``sent``. A claim is a conditional UPDATE, so two workers never both send
the same notice; a failure from the mail server puts it back to ``pending`` with the next
attempt later (back-off), and after ``MAX_ATTEMPTS`` it is ``failed`` and shows so on the
release page. A worker killed mid-way leaves ``sending`` rows whose lease runs out; the next
run (``sweep_notices`` at worker start, or ``flask send-notices``) takes them again with the
same Message-ID. The one window left is a kill between the server's "250 OK" and the commit
of ``sent`` (milliseconds): that notice goes again, with the same Message-ID.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from babel.dates import format_datetime, format_time
from flask import current_app, render_template
from flask_babel import force_locale, gettext
from icalendar import Calendar, Event, vCalAddress
from sqlalchemy import or_, select, update

from scheduler.calendar.feeds import (
    DEFAULT_UID_DOMAIN,
    PRODID,
    Text,
    meeting_event,
    meeting_uid,
    vtimezone,
)
from scheduler.extensions import db
from scheduler.i18n import DEFAULT, LANGUAGES
from scheduler.itinerary.document import load_delegation
from scheduler.itinerary.releases import Changes, changes_in, published_meetings
from scheduler.itinerary.share_links import share_paths
from scheduler.itinerary.times import to_local, utcnow
from scheduler.models import Notice, Person, Release

log = logging.getLogger(__name__)

NOTICES_JOB = "scheduler.operations.notices:deliver_notices"
MAX_ATTEMPTS = 8
BACK_OFF = (30, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600)  # seconds after attempt 1, 2, ...


def back_off(attempts: int) -> timedelta:
    return timedelta(seconds=BACK_OFF[min(attempts, len(BACK_OFF)) - 1])


# -- the message -----------------------------------------------------------------------------


def _base_url() -> str:
    return (current_app.config.get("PUBLIC_BASE_URL") or "http://localhost:5000").rstrip("/")


def _uid_domain() -> str:
    return current_app.config.get("CALENDAR_UID_DOMAIN") or DEFAULT_UID_DOMAIN


def _sender() -> str:
    return current_app.config.get("MAIL_DEFAULT_SENDER") or "scheduler@localhost"


def _when(meeting, language: str) -> str:
    """'25 Sep 2024, 14:00:00 – 15:30 JST' as the language writes it, in the meeting's zone."""
    zone_name = meeting.zone_name
    start, end = to_local(meeting.start, zone_name), to_local(meeting.end, zone_name)
    text = format_datetime(start, "medium", locale=language)
    if end.date() == start.date():
        until = format_time(end, "short", locale=language)
    else:
        until = format_datetime(end, "medium", locale=language)
    return f"{text} \N{EN DASH} {until} {end.tzname() or ''}".strip()


def _where(meeting) -> str:
    if meeting.venue is None:
        return ""
    parts = [meeting.venue.name]
    if meeting.room is not None:
        parts.append(meeting.room.name)
    return ", ".join(parts)


FIELD_LABELS = {
    "title": lambda: gettext("title"),
    "native_title": lambda: gettext("title in the host's language"),
    "kind": lambda: gettext("kind"),
    "status": lambda: gettext("status"),
    "agenda": lambda: gettext("agenda"),
    "online_url": lambda: gettext("online link"),
    "attendees": lambda: gettext("attendees"),
    "organizations": lambda: gettext("organisations"),
}


def person_lines(theirs: dict, meetings: dict, before: dict, language: str) -> list[dict]:
    """Sections of the notice: heading and lines, in the current (forced) language."""
    sections = []

    def line(key, source=meetings):
        m = source.get(key) or meetings.get(key)
        where = _where(m)
        return f"{_when(m, language)}: {m.title}" + (f" ({where})" if where else "")

    if theirs["added"]:
        sections.append(
            {
                "heading": gettext("New in your programme"),
                "lines": [line(k) for k in theirs["added"]],
            }
        )
    if theirs["lost"]:
        sections.append(
            {
                "heading": gettext("No longer in your programme"),
                "lines": [line(k, before) for k in theirs["lost"]],
            }
        )
    if theirs["moved"]:
        sections.append(
            {
                "heading": gettext("Moved"),
                "lines": [
                    gettext(
                        "%(meeting)s (was: %(before)s)",
                        meeting=line(e["meeting"]),
                        before=line(e["meeting"], before),
                    )
                    for e in theirs["moved"]
                ],
            }
        )
    if theirs["changed"]:
        sections.append(
            {
                "heading": gettext("Changed"),
                "lines": [
                    gettext(
                        "%(meeting)s: %(fields)s changed",
                        meeting=line(e["meeting"]),
                        fields=", ".join(FIELD_LABELS[f]() for f in e["fields"]),
                    )
                    for e in theirs["changed"]
                ],
            }
        )
    return sections


def _calendar(method: str) -> Calendar:
    calendar = Calendar()
    calendar.add("PRODID", PRODID)
    calendar.add("VERSION", "2.0")
    calendar.add("METHOD", method)
    return calendar


def _add_zones(calendar: Calendar, events: list[tuple[Event, set[str]]], years: set[int]):
    zones = set().union(*(z for _, z in events)) if events else set()
    if zones:
        first, last = date(min(years) - 1, 12, 1), date(max(years) + 1, 2, 1)
        for tzid in sorted(zones):
            calendar.add_component(vtimezone(tzid, first, last))
    for event, _ in events:
        calendar.add_component(event)


def _organizer(event: Event) -> None:
    """RFC 5546 asks an ORGANIZER of every REQUEST and CANCEL: the chair, else the sender."""
    if "ORGANIZER" not in event:
        address = vCalAddress(f"mailto:{_sender()}")
        address.params["CN"] = current_app.config.get("MAIL_SENDER_NAME") or "Delegation scheduler"
        event.add("ORGANIZER", address)


def invitation_parts(delegation, person: Person, theirs: dict, meetings: dict, before: dict):
    """(REQUEST calendar bytes or None, CANCEL calendar bytes or None) for this person."""
    agenda_url = _base_url() + share_paths(person)["agenda"]
    uid_domain = _uid_domain()
    requested = [e if isinstance(e, str) else e["meeting"] for e in theirs["added"]]
    requested += [e["meeting"] for e in theirs["moved"] + theirs["changed"]]
    requested = list(dict.fromkeys(requested))
    request_part = cancel_part = None
    if requested:
        calendar = _calendar("REQUEST")
        events, years = [], set()
        for key in requested:
            m = meetings[key]
            event, zones = meeting_event(delegation, m, agenda_url, uid_domain)
            _organizer(event)
            events.append((event, zones))
            years |= {m.start.year, m.end.year}
        _add_zones(calendar, events, years)
        request_part = calendar.to_ical()
    if theirs["lost"]:
        calendar = _calendar("CANCEL")
        for key in theirs["lost"]:
            m = meetings.get(key) or before[key]
            event = Event()
            event.add("UID", meeting_uid(delegation, m, uid_domain))
            event.add("DTSTAMP", m.updated_at)
            event.add("SEQUENCE", m.sequence)
            event.add("DTSTART", m.start.astimezone(UTC))
            event.add("DTEND", m.end.astimezone(UTC))
            event.add("SUMMARY", Text(m.title))
            event.add("STATUS", "CANCELLED")
            _organizer(event)
            attendee = vCalAddress(f"mailto:{person.email}")
            attendee.params["CN"] = person.display_name
            event.add("ATTENDEE", attendee)
            calendar.add_component(event)
        cancel_part = calendar.to_ical()
    return request_part, cancel_part


def build_message(notice: Notice, release: Release, changes: Changes, context) -> EmailMessage:
    """The email of NOTICE: text and HTML in the person's language, invitations if asked for."""
    delegation, meetings, before = context
    person = notice.person
    language = person.language if person.language in LANGUAGES else DEFAULT
    theirs = changes.for_person(person.key)
    agenda_url = _base_url() + share_paths(person)["agenda"]
    changes_url = f"{agenda_url.rsplit('/agenda', 1)[0]}/changes/{release.version}"
    with force_locale(language):
        sections = person_lines(theirs, meetings, before, language)
        values = {
            "person": person,
            "name": person.display_name,
            "delegation": delegation,
            "release": release,
            "sections": sections,
            "agenda_url": agenda_url,
            "changes_url": changes_url,
            "language": language,
        }
        subject = gettext(
            "%(delegation)s: your programme changed (version %(version)s)",
            delegation=delegation.name,
            version=release.version,
        )
        text = render_template("notices/release.txt", **values)
        html = render_template("notices/release.html", **values)
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = _sender()
    message["To"] = formataddr((person.display_name, notice.email))
    message["Message-ID"] = notice.message_id
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    if person.calendar == "invitations":
        request_part, cancel_part = invitation_parts(delegation, person, theirs, meetings, before)
        for part, method, name in (
            (request_part, "REQUEST", "invitation.ics"),
            (cancel_part, "CANCEL", "cancellation.ics"),
        ):
            if part is not None:
                message.add_attachment(
                    part,
                    maintype="text",
                    subtype="calendar",
                    params={"method": method, "charset": "utf-8"},
                    filename=name,
                )
    # After the body: set_content() clears every Content-* header set before it.
    message["Content-Language"] = language
    return message


# -- sending ---------------------------------------------------------------------------------


class Mailer:
    """One SMTP connection for a batch, opened when first needed, with the MAIL_* settings."""

    def __init__(self, config):
        self.config = config
        self.smtp: smtplib.SMTP | None = None

    def send(self, message: EmailMessage) -> None:
        if self.smtp is None:
            c = self.config
            smtp = smtplib.SMTP(
                c.get("MAIL_SERVER") or "localhost",
                int(c.get("MAIL_PORT") or 25),
                timeout=int(c.get("MAIL_TIMEOUT") or 30),
            )
            try:
                if c.get("MAIL_USE_TLS"):
                    smtp.starttls()
                if c.get("MAIL_USERNAME"):
                    smtp.login(c["MAIL_USERNAME"], c.get("MAIL_PASSWORD") or "")
            except Exception:
                smtp.close()
                raise
            self.smtp = smtp
        try:
            self.smtp.send_message(message)
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except Exception:  # noqa: BLE001 - the connection is gone anyway
                self.smtp.close()
            self.smtp = None


def _lease() -> timedelta:
    return timedelta(seconds=int(current_app.config.get("NOTICE_LEASE_SECONDS") or 120))


def _due(now: datetime):
    return Notice.state.in_(("pending", "sending")) & or_(
        Notice.next_attempt_at.is_(None), Notice.next_attempt_at <= now
    )


def _claim(notice_id: int) -> bool:
    """pending (or sending, lease run out) -> sending, for this worker only."""
    now = utcnow()
    claimed = db.session.execute(
        update(Notice)
        .where(Notice.id == notice_id, _due(now))
        .values(state="sending", attempts=Notice.attempts + 1, next_attempt_at=now + _lease())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return claimed == 1


def deliver_notices(release_id: int) -> dict[str, int]:
    """Send the due notices of the release; the job behind ``release --notify``. Safe to rerun."""
    release = db.session.get(Release, release_id)
    if release is None:
        return {}
    now = utcnow()
    due_ids = list(
        db.session.scalars(
            select(Notice.id).where(Notice.release_id == release_id, _due(now)).order_by(Notice.id)
        )
    )
    counts = {"sent": 0, "failed": 0}
    if due_ids:
        delegation = load_delegation(db.session, release.delegation.key)
        changes = changes_in(db.session, release)
        meetings = {m.key: m for m in published_meetings(delegation, release)}
        before = {}
        if release.version > 1:
            from scheduler.itinerary.releases import release_number

            previous = release_number(db.session, release.delegation_id, release.version - 1)
            before = {m.key: m for m in published_meetings(delegation, previous)}
        mailer = Mailer(current_app.config)
        try:
            for notice_id in due_ids:
                if not _claim(notice_id):
                    continue
                counts[
                    _send_one(notice_id, release, changes, (delegation, meetings, before), mailer)
                ] += 1
        finally:
            mailer.close()
    _retry_later(release_id)
    return counts


def _send_one(notice_id, release, changes, context, mailer) -> str:
    notice = db.session.get(Notice, notice_id)
    db.session.refresh(notice)
    if notice.message_id is None:
        notice.message_id = make_msgid(domain=_uid_domain())
        db.session.commit()
    try:
        mailer.send(build_message(notice, release, changes, context))
    except (smtplib.SMTPException, OSError) as exc:
        now = utcnow()
        notice.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if notice.attempts >= MAX_ATTEMPTS:
            notice.state, notice.next_attempt_at = "failed", None
        else:
            notice.state, notice.next_attempt_at = "pending", now + back_off(notice.attempts)
        db.session.commit()
        log.warning("notice %s to %s failed: %s", notice.id, notice.email, exc)
        return "failed"
    notice.state, notice.sent_at = "sent", utcnow()
    notice.next_attempt_at = None
    db.session.commit()
    return "sent"


def _retry_later(release_id: int) -> None:
    """With Redis, ask for another run when the next notice is due; in-process, the next sweep."""
    if not current_app.config.get("REDIS_URL"):
        return
    next_at = db.session.scalar(
        select(Notice.next_attempt_at)
        .where(Notice.release_id == release_id, Notice.state.in_(("pending", "sending")))
        .order_by(Notice.next_attempt_at)
        .limit(1)
    )
    if next_at is None:
        return
    from scheduler import jobs

    delay = max(next_at - utcnow(), timedelta(seconds=1))
    jobs.enqueue_later(NOTICES_JOB, release_id, delay=delay)


def pending_releases() -> list[int]:
    return list(
        db.session.scalars(
            select(Notice.release_id)
            .where(Notice.state.in_(("pending", "sending")))
            .distinct()
            .order_by(Notice.release_id)
        )
    )


def sweep_notices() -> list[int]:
    """Run (in-process) or queue (Redis) the delivery of every release with notices left."""
    from scheduler import jobs

    releases = pending_releases()
    for release_id in releases:
        if current_app.config.get("REDIS_URL"):
            jobs.enqueue_now(jobs.Job(NOTICES_JOB, (release_id,), job_id=f"notices-{release_id}"))
        else:
            deliver_notices(release_id)
    return releases


def retry_failed(session, release: Release) -> int:
    """Put the release's failed notices back in line (the release page's "Try again")."""
    count = session.execute(
        update(Notice)
        .where(Notice.release_id == release.id, Notice.state == "failed")
        .values(state="pending", next_attempt_at=None, attempts=0)
        .execution_options(synchronize_session=False)
    ).rowcount
    if count:
        from scheduler import jobs

        jobs.enqueue(NOTICES_JOB, release.id, job_id=f"notices-{release.id}")
    return count
