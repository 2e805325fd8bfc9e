"""The calendars behind a share link: the whole feed, with stored validators, and one meeting."""

from __future__ import annotations

from sqlalchemy.orm import Session

from scheduler.calendar.feeds import FeedSettings, build_feed, last_change
from scheduler.calendar.loading import feed_programme
from scheduler.calendar.validators import (
    FeedValidators,
    feed_fingerprint,
    person_state,
    store_validators,
    stored_validators,
)
from scheduler.itinerary.memory import cycle_collection_paused
from scheduler.itinerary.releases import shared_meetings
from scheduler.models import Delegation, Meeting, Person


def shared_delegation(entity: Delegation | Person) -> Delegation:
    return entity if isinstance(entity, Delegation) else entity.delegation


def shared_person(entity: Delegation | Person) -> Person | None:
    return entity if isinstance(entity, Person) else None


class SharedFeed:
    """The feed of a delegation's or a person's share link.

    ``stored_validators()`` costs one small query (no bytes) and is all a conditional GET
    needs when nothing changed; ``stored()`` adds the stored bytes; ``build()`` reads the
    meetings, writes the bytes and stores their validators for every worker (the caller
    commits).
    """

    def __init__(self, session: Session, entity: Delegation | Person, settings: FeedSettings):
        self.session = session
        self.entity = entity
        self.settings = settings
        self.delegation = shared_delegation(entity)
        self.person = shared_person(entity)
        # A person's feed: the state of what it shows; the delegation's: its revision.
        state = None
        if self.person is not None:
            state = person_state(session, self.delegation, self.person)
        self.fingerprint = feed_fingerprint(entity, self.delegation, settings, state)

    def stored_validators(self) -> FeedValidators | None:
        return stored_validators(self.session, self.entity, self.fingerprint)

    def stored(self) -> FeedValidators | None:
        """The stored validators with the stored bytes, or None (then ``build()``)."""
        return stored_validators(self.session, self.entity, self.fingerprint, with_body=True)

    def build(self) -> tuple[bytes, FeedValidators]:
        # Thousands of small, cycle-free objects: a full collection per burst would walk
        # the whole heap (a third of a rebuild).
        with cycle_collection_paused():
            meetings = feed_programme(self.session, self.delegation, self.person)
            body = build_feed(
                self.delegation, meetings, share_entity=self.entity, settings=self.settings
            )
        validators = store_validators(
            self.session,
            self.entity,
            self.fingerprint,
            body,
            last_change(self.delegation, meetings),
        )
        return body, validators


def shared_meeting(session: Session, entity: Delegation | Person, meeting_key: str):
    """The meeting of that key if the share link shows it (a person's link: theirs only)."""
    meetings = shared_meetings(session, shared_delegation(entity), shared_person(entity))
    return next((m for m in meetings if m.key == meeting_key), None)


def meeting_calendar(
    meeting: Meeting, entity: Delegation | Person, settings: FeedSettings
) -> bytes:
    """One meeting as a calendar of its own: the same VEVENT (UID, SEQUENCE) as in the feed."""
    return build_feed(
        shared_delegation(entity),
        [meeting],
        share_entity=entity,
        settings=settings,
        name=meeting.title,
    )
