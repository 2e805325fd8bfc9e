"""Suggested schedules: meeting requests placed by a solver, checked by the conflict rules.

``propose`` reads a delegation and returns the spec's proposal; ``apply_proposal`` saves its
placements as tentative meetings (the caller commits: one transaction). See ``solver.py``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.itinerary.conflict_data import load_snapshot
from scheduler.itinerary.editing import (
    MeetingChanges,
    TooManyMeetings,
    create_meeting,
    update_meeting,
)
from scheduler.models import Delegation, Meeting, MeetingRequest, Organization, Person, Venue
from scheduler.suggest.solver import RequestInfo, solve

DEFAULT_TIME_LIMIT = 10.0


def _iso(instant: datetime, zone_name: str) -> str:
    from scheduler.itinerary.times import to_local

    return to_local(instant, zone_name).isoformat(timespec="minutes")


def pending_requests(session: Session, delegation: Delegation, *, replan: bool = False):
    """The requests to place and the keys of the tentative meetings ``replan`` may move.

    A request is open when no meeting has its key, or only a cancelled one; with ``replan``
    also when its meeting is tentative (an earlier suggestion). Confirmed meetings never move.
    """
    requests = list(
        session.scalars(
            select(MeetingRequest)
            .where(MeetingRequest.delegation_id == delegation.id)
            .order_by(MeetingRequest.key)
        )
    )
    status = dict(
        session.execute(
            select(Meeting.key, Meeting.status).where(
                Meeting.delegation_id == delegation.id,
                Meeting.key.in_([r.key for r in requests] or [""]),
            )
        ).all()
    )
    movable = set()
    open_requests = []
    for r in requests:
        state = status.get(r.key)
        if state is None or state == "cancelled":
            open_requests.append(r)
        elif replan and state == "tentative":
            open_requests.append(r)
            movable.add(r.key)
    return open_requests, movable


def request_info(request: MeetingRequest, people: dict[str, int], venues: dict[str, int]):
    return RequestInfo(
        key=request.key,
        title=request.title,
        attendees=tuple(
            (people[a["person"]], a.get("role", "required"))
            for a in request.attendees
            if a["person"] in people
        ),
        duration_minutes=request.duration_minutes,
        venue_ids=tuple(venues[v] for v in request.venues if v in venues),
        not_before=request.not_before,
        not_after=request.not_after,
        priority=request.priority,
        interpreter=request.interpreter,
    )


def propose(
    session: Session,
    delegation: Delegation,
    *,
    replan: bool = False,
    time_limit: float = DEFAULT_TIME_LIMIT,
    estimate_travel: bool = True,
) -> dict:
    """The spec's proposal object for the delegation's open requests (nothing written)."""
    from dataclasses import replace

    requests, movable = pending_requests(session, delegation, replan=replan)
    snapshot = load_snapshot(session, delegation)
    if movable:
        snapshot = replace(
            snapshot,
            meetings=tuple(
                m for m in snapshot.meetings if not (m.key in movable and m.status == "tentative")
            ),
        )
    people = {p.key: p.id for p in snapshot.people.values()}
    venues = {v.key: v.id for v in snapshot.venues.values()}
    infos = [request_info(r, people, venues) for r in requests]
    outcome = solve(snapshot, infos, time_limit=time_limit, estimate_travel=estimate_travel)
    person_key = {p.id: p.key for p in snapshot.people.values()}
    return {
        "status": outcome.status,
        "placed": [
            {
                "request": p.request,
                "start": _iso(p.start, snapshot.venues[p.venue_id].timezone),
                "end": _iso(p.end, snapshot.venues[p.venue_id].timezone),
                "venue": snapshot.venues[p.venue_id].key,
                "room": snapshot.rooms[p.room_id].key if p.room_id is not None else None,
                "attendees": [person_key[pid] for pid, _ in p.attendees],
            }
            for p in outcome.placed
        ],
        "unplaced": [{"request": key, "reason": why} for key, why in outcome.unplaced],
        "seconds": outcome.seconds,
    }


class ProposalOutdated(Exception):
    """The programme changed since the proposal was made: a placement no longer fits."""


def apply_proposal(
    session: Session, delegation: Delegation, proposal: dict, *, user_id: int | None = None
) -> list[Meeting]:
    """Every placed request saved as a tentative meeting with the request's key.

    Confirmed meetings are never touched: a request whose meeting is confirmed by now is
    refused (``ProposalOutdated``). The caller commits, or rolls back on an exception.
    """
    from scheduler.itinerary.times import parse_document_datetime

    requests = {
        r.key: r
        for r in session.scalars(
            select(MeetingRequest).where(MeetingRequest.delegation_id == delegation.id)
        )
    }
    people = dict(
        session.execute(
            select(Person.key, Person.id).where(Person.delegation_id == delegation.id)
        ).all()
    )
    organizations = dict(
        session.execute(
            select(Organization.key, Organization.id).where(
                Organization.delegation_id == delegation.id
            )
        ).all()
    )
    venues = {
        v.key: v for v in session.scalars(select(Venue).where(Venue.delegation_id == delegation.id))
    }
    saved = []
    for placed in proposal.get("placed", []):
        request = requests.get(placed["request"])
        venue = venues.get(placed["venue"])
        if request is None or venue is None:
            raise ProposalOutdated(f"{placed['request']}: the request or its venue is gone")
        room = next((r for r in venue.rooms if r.key == placed.get("room")), None)
        roles = {a["person"]: a.get("role", "required") for a in request.attendees}
        attendees = [
            (people[key], roles.get(key, "interpreter"))
            for key in placed["attendees"]
            if key in people
        ]
        changes = MeetingChanges(
            title=request.title,
            native_title=request.native_title,
            kind=request.kind,
            status="tentative",
            start=parse_document_datetime(placed["start"], venue.timezone),
            end=parse_document_datetime(placed["end"], venue.timezone),
            venue_id=venue.id,
            room_id=room.id if room else None,
            attendees=attendees,
            organization_ids=[
                organizations[k] for k in request.organizations if k in organizations
            ],
        )
        meeting = session.scalar(
            select(Meeting).where(
                Meeting.delegation_id == delegation.id, Meeting.key == request.key
            )
        )
        if meeting is None:
            try:
                meeting = create_meeting(session, delegation, changes, request.key, user_id=user_id)
            except TooManyMeetings as exc:
                raise ProposalOutdated(f"{request.key}: {exc}") from None
            saved.append(meeting)
        elif meeting.status == "confirmed":
            raise ProposalOutdated(f"{request.key}: its meeting has been confirmed meanwhile")
        else:
            saved.append(
                update_meeting(
                    session, meeting, changes, expected_version=meeting.version, user_id=user_id
                )
            )
    return saved


__all__ = [
    "DEFAULT_TIME_LIMIT",
    "ProposalOutdated",
    "apply_proposal",
    "format_document_datetime",
    "propose",
]
