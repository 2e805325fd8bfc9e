"""Releasing a programme: the next numbered snapshot, its history entry, and its notices.

``release`` checks, writes and records in the caller's transaction (the caller commits); the
notices leave as a job once it has committed (``scheduler.jobs``), so a rolled-back release
mails nobody.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from scheduler import jobs
from scheduler.itinerary.document import load_delegation
from scheduler.itinerary.history import record
from scheduler.itinerary.memory import cycle_collection_paused
from scheduler.itinerary.releases import (
    Changes,
    compare,
    draft_snapshot,
    latest_release,
    release_snapshot,
)
from scheduler.itinerary.summary import reviewed_conflicts
from scheduler.models import Delegation, Notice, Release

NOTICES_JOB = "scheduler.operations.notices:deliver_notices"


class ReasonRequired(ValueError):
    """Errors are open and no reason was given (the web page asks for one)."""

    def __init__(self, errors: list[dict]):
        self.errors = errors
        super().__init__(f"{len(errors)} errors are open: say why you release anyway")


@dataclass
class Review:
    """What the release page shows before releasing: changes, open errors, open warnings."""

    changes: Changes
    errors: list[dict]
    warnings: list[dict]
    # The same conflicts as the engine's objects, whose details make their words per language.
    shown_errors: list = field(default_factory=list)
    shown_warnings: list = field(default_factory=list)


def review(session: Session, delegation: Delegation, *, estimate_travel: bool) -> Review:
    with cycle_collection_paused():
        return _review(session, delegation, estimate_travel=estimate_travel)


def _review(session: Session, delegation: Delegation, *, estimate_travel: bool) -> Review:
    loaded = load_delegation(session, delegation.key)
    draft = draft_snapshot(loaded)
    previous = latest_release(session, loaded.id)
    changes = compare(
        previous.snapshot if previous else None,
        draft,
        since=previous.version if previous else None,
    )
    errors, warnings = _open_conflicts(session, loaded, estimate_travel)
    return Review(
        changes,
        [c.as_json() for c in errors],
        [c.as_json() for c in warnings],
        errors,
        warnings,
    )


def _open_conflicts(session, loaded, estimate_travel) -> tuple[list, list]:
    """The open errors and the warnings nobody acknowledged, as the engine's Conflicts."""
    reviewed = reviewed_conflicts(session, loaded, estimate_travel=estimate_travel)
    errors = [r.conflict for r in reviewed if r.conflict.severity == "error"]
    warnings = [r.conflict for r in reviewed if r.is_open and r.conflict.severity == "warning"]
    return errors, warnings


def release(session: Session, delegation: Delegation, **options) -> tuple[Release, Changes]:
    """Publish the draft as the next version (see ``_release``); many objects, no cycles."""
    with cycle_collection_paused():
        return _release(session, delegation, **options)


def _release(
    session: Session,
    delegation: Delegation,
    *,
    note: str | None = None,
    notify: bool = False,
    reason: str | None = None,
    require_reason: bool = False,
    actor_id: int | None = None,
    estimate_travel: bool = True,
) -> tuple[Release, Changes]:
    """Publish the draft as the next version; with NOTIFY, one notice per affected person.

    With ``require_reason`` (the web page), open errors need a ``reason``; the command line
    releases whatever is open, and the release records it either way.
    """
    loaded = load_delegation(session, delegation.key)
    found_errors, found_warnings = _open_conflicts(session, loaded, estimate_travel)
    errors = [c.as_json() for c in found_errors]
    warnings = [c.as_json() for c in found_warnings]
    reason = (reason or "").strip() or None
    if errors and require_reason and reason is None:
        raise ReasonRequired(errors)
    previous = latest_release(session, loaded.id)
    snapshot = release_snapshot(draft_snapshot(loaded), previous.snapshot if previous else None)
    version = previous.version + 1 if previous else 1
    # A new version for everything cached by revision (feed validators, PDFs): the share
    # links' content changes now although the draft did not.
    loaded.touch()
    new = Release(
        delegation_id=loaded.id,
        version=version,
        note=(note or "").strip() or None,
        created_by_id=actor_id,
        revision=loaded.revision,
        snapshot=snapshot,
        open_errors=errors,
        open_warnings=warnings,
        reason=reason if errors else None,
        notify=notify,
    )
    session.add(new)
    changes = compare(
        previous.snapshot if previous else None,
        snapshot,
        since=previous.version if previous else None,
        until=version,
    )
    record(
        session,
        delegation_id=loaded.id,
        user_id=actor_id,
        action="release",
        entity="delegation",
        key=loaded.key,
        changes={
            "version": [previous.version if previous else None, version],
            "note": [None, new.note],
            "open_errors": [None, len(errors)],
            "reason": [None, new.reason],
        },
    )
    session.flush()
    if notify:
        people = {p.key: p for p in loaded.people}
        for person_key, theirs in changes.people.items():
            person = people.get(person_key)
            if person is None or not person.email or not any(theirs.values()):
                continue
            session.add(Notice(release_id=new.id, person_id=person.id, email=person.email))
        session.flush()
        jobs.enqueue(NOTICES_JOB, new.id, job_id=f"notices-{new.id}")
    # The new release's share PDFs, rendered before the first attendee opens a link.
    from scheduler.agenda.pdf_jobs import enqueue_share_copies

    enqueue_share_copies(loaded, release_id=new.id)
    return new, changes
