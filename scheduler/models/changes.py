"""Bookkeeping every write needs: a meeting's SEQUENCE and last change, the delegation's revision.

Kept in one flush hook so that the web forms, the import and the tests cannot forget it.
Only the programme's own rows count: reviews, feed validators and share-link rotation do not
make a new "version" of the agenda. Bulk statements bypass the hook; the import touches the
delegation itself.
"""

from itertools import chain

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from scheduler.itinerary.times import utcnow

# Columns whose change is not a change of the programme: the bookkeeping itself, and share
# links (rotating a link must not announce a new "version" of the agenda).
NOT_PROGRAMME = frozenset(
    {"revision", "updated_at", "updated_by_id", "share_selector", "share_secret"}
)


def _changed(obj, fields) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in fields)


def _programme_changed(session: Session, obj) -> bool:
    if obj in session.new or obj in session.deleted:
        return True
    state = inspect(obj)
    return any(attr.history.has_changes() for attr in state.attrs if attr.key not in NOT_PROGRAMME)


def _track_changes(session: Session, _flush_context, _instances) -> None:
    from scheduler.models.delegation import Delegation, Organization, Person
    from scheduler.models.meeting import SCHEDULING_FIELDS, Attendance, Meeting, MeetingOrganization
    from scheduler.models.request import MeetingRequest
    from scheduler.models.venue import Room, TravelTime, Venue

    programme_models = (
        Delegation,
        Organization,
        Person,
        Venue,
        Room,
        TravelTime,
        Meeting,
        Attendance,
        MeetingOrganization,
        MeetingRequest,
    )
    now = utcnow()
    touched_meetings: set = set()
    delegation_ids: set[int] = set()
    for obj in chain(session.new, session.dirty, session.deleted):
        if not isinstance(obj, programme_models) or not _programme_changed(session, obj):
            continue
        if isinstance(obj, Delegation):
            if obj not in session.new:
                delegation_ids.add(obj.id)
        elif isinstance(obj, Meeting):
            touched_meetings.add(obj)
            # "venue": assigning the relationship sets venue_id only later, during the flush.
            if obj in session.dirty and _changed(obj, (*SCHEDULING_FIELDS, "venue")):
                obj.sequence = (obj.sequence or 0) + 1
        elif isinstance(obj, Attendance | MeetingOrganization):
            if obj.meeting is not None:
                touched_meetings.add(obj.meeting)
        elif isinstance(obj, Room):
            if obj.venue is not None:
                delegation_ids.add(obj.venue.delegation_id)
        elif getattr(obj, "delegation_id", None) is not None:
            delegation_ids.add(obj.delegation_id)
    for meeting in touched_meetings:
        if meeting not in session.new:
            meeting.updated_at = now
        if meeting.delegation_id is not None:
            delegation_ids.add(meeting.delegation_id)
    for delegation_id in delegation_ids:
        delegation = session.get(Delegation, delegation_id)
        if delegation is not None and delegation not in session.new:
            delegation.touch()


def _record_history(session: Session, _flush_context) -> None:
    """Who changed what, written in the flush that changes it (itinerary/history.py).

    After the flush, so new rows have their ids; SQLAlchemy still shows what it found to do.
    """
    from sqlalchemy import insert

    from scheduler.itinerary.history import flush_history_rows
    from scheduler.models.access import HistoryEntry

    rows = flush_history_rows(session)
    if rows:
        now = utcnow()
        session.execute(insert(HistoryEntry), [{"at": now, **row} for row in rows])


def register_change_tracking() -> None:
    for name, hook in (("before_flush", _track_changes), ("after_flush", _record_history)):
        if not event.contains(Session, name, hook):
            event.listen(Session, name, hook)
