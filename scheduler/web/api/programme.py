"""/api/v1 releases, changes, meeting requests and suggestions of a delegation.

Writes go through the web pages' operations: ``operations.releases.release`` (with a reason
required while errors are open, as the release page asks), ``suggest.jobs.start_run`` (the
search as a background job) and ``suggest.apply_proposal`` (one transaction, history).
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import g, url_for
from flask_smorest import abort

from scheduler.extensions import db
from scheduler.itinerary.releases import (
    UnknownVersion,
    changes_between,
    changes_in,
    release_number,
    releases_of,
)
from scheduler.models import Organization, SuggestionRun
from scheduler.operations import releases as release_operations
from scheduler.suggest import ProposalOutdated, apply_proposal
from scheduler.suggest.jobs import start_run
from scheduler.web.api import bp, schemas
from scheduler.web.api.auth import api_needs, api_user, delegation_for_request
from scheduler.web.api.views import ERRORS, _page
from scheduler.web.common import estimate_travel

CONFLICTS = {
    409: {
        "description": "The suggestion is not ready to apply, or the programme changed since",
        "content": {"application/json": {"schema": schemas.Errors}},
    }
}
_SAME_RELEASE = {"key": "$request.path.key", "version": "$response.body#/version"}
RELEASE_LINKS = {"GetRelease": {"operationId": "get_release", "parameters": _SAME_RELEASE}}
_SAME_RUN = {"key": "$request.path.key", "suggestion": "$response.body#/id"}
SUGGESTION_LINKS = {
    "GetSuggestion": {"operationId": "get_suggestion", "parameters": _SAME_RUN},
    "ApplySuggestion": {"operationId": "apply_suggestion", "parameters": _SAME_RUN},
}
PROPOSAL_EXAMPLE = {
    "status": "optimal",
    "placed": [
        {
            "request": "match-cefo-mediport",
            "start": "2024-09-24T14:00+09:00",
            "end": "2024-09-24T14:30+09:00",
            "venue": "shonan-ipark",
            "room": "meeting-room-1",
            "attendees": ["cefo-ceo", "mediport-ceo"],
        }
    ],
    "unplaced": [{"request": "match-cefo-cmic", "reason": "no common free time"}],
    "seconds": 0.42,
}
SUGGESTION_EXAMPLE = {
    "id": 1,
    "state": "done",
    "progress": "1 placed, 1 unplaced",
    "replan": False,
    "time_limit": 10.0,
    "created_at": "2024-09-20T08:00:00Z",
    "finished_at": "2024-09-20T08:00:01Z",
    "result": PROPOSAL_EXAMPLE,
}
RELEASE_EXAMPLE = {
    "version": 2,
    "note": "Final times",
    "created_at": "2024-09-20T08:00:00Z",
    "created_by": "coordinator@example.org",
    "reason": None,
    "notify": True,
    "open_errors": [],
    "open_warnings": [],
    "changes": schemas.CHANGES_EXAMPLE | {"from": 1, "to": 2},
}


def _utc(instant: datetime | None) -> str | None:
    if instant is None:
        return None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _release_body(release) -> dict:
    return {
        "version": release.version,
        "note": release.note,
        "created_at": _utc(release.created_at),
        "created_by": release.created_by.email if release.created_by else None,
        "reason": release.reason,
        "notify": release.notify,
        "open_errors": release.open_errors or [],
        "open_warnings": release.open_warnings or [],
    }


# --------------------------------------------------------------------------- releases


@bp.route("/delegations/<key>/releases", methods=["GET"])
@bp.arguments(schemas.PageArgs, location="query")
@bp.response(200, schemas.ReleasePage)
@bp.doc(responses=ERRORS, operationId="list_releases")
@api_needs(read="edit")
def list_releases(args, key):
    """The delegation's releases, oldest first (editors and owners, as the release pages)."""
    delegation = delegation_for_request(key, loaded=False)
    return _page([_release_body(r) for r in releases_of(db.session, delegation.id)], args)


@bp.route("/delegations/<key>/releases", methods=["POST"])
@bp.arguments(
    schemas.ReleaseCreate,
    example={"note": "Final times", "notify": False, "reason": "the clash is agreed"},
)
@bp.response(
    201,
    schemas.ReleaseDetail,
    example=RELEASE_EXAMPLE,
    headers={"Location": {"schema": {"type": "string"}}},
)
@bp.doc(responses=ERRORS | {201: {"links": RELEASE_LINKS}}, operationId="create_release")
@api_needs(read="edit", write="edit")
def create_release(data, key):
    """Publish the draft as the next version; while errors are open, give a `reason`.

    The answer is the command line's `release --json` object, with the release's record.
    With `notify`, each person whose meetings changed gets one notice (after the commit).
    """
    delegation = delegation_for_request(key, loaded=False)
    try:
        new, changes = release_operations.release(
            db.session,
            delegation,
            note=data.get("note"),
            notify=data.get("notify", False),
            reason=data.get("reason"),
            require_reason=True,
            actor_id=api_user().id,
            estimate_travel=estimate_travel(),
        )
    except release_operations.ReasonRequired as exc:
        db.session.rollback()
        abort(
            422,
            problems=[
                (
                    "reason",
                    f"{len(exc.errors)} error-severity conflicts are open: "
                    "say why you release anyway (the release records it)",
                )
            ],
        )
    db.session.commit()
    body = _release_body(new) | {"changes": changes.as_json()}
    location = url_for("api.get_release", key=key, version=new.version)
    return body, 201, {"Location": location}


@bp.route("/delegations/<key>/releases/<int(max=2147483647):version>", methods=["GET"])
@bp.response(200, schemas.ReleaseDetail, example=RELEASE_EXAMPLE)
@bp.doc(responses=ERRORS, operationId="get_release")
@api_needs(read="edit")
def get_release(key, version):
    """Release N: its record and what changed in it (from release N-1)."""
    delegation = delegation_for_request(key, loaded=False)
    try:
        release = release_number(db.session, delegation.id, version)
    except UnknownVersion:
        abort(404, problems=[("version", f"'{key}' has no release {version}")])
    return _release_body(release) | {"changes": changes_in(db.session, release).as_json()}


@bp.route("/delegations/<key>/changes", methods=["GET"])
@bp.arguments(schemas.ChangesArgs, location="query")
@bp.response(200, schemas.Changes, example=schemas.CHANGES_EXAMPLE)
@bp.doc(responses=ERRORS, operationId="get_changes")
@api_needs(read="edit")
def get_changes(args, key):
    """The changes from release `since` (default: the latest) to `until` (default: the
    draft), as `changes KEY --json` prints them; 404 for a version that does not exist."""
    until = args.get("until")
    delegation = delegation_for_request(key, loaded=until is None)
    for name in ("since", "until"):
        if name in args:
            try:
                release_number(db.session, delegation.id, args[name])
            except UnknownVersion:
                abort(404, problems=[(f"query.{name}", f"'{key}' has no release {args[name]}")])
    changes = changes_between(db.session, delegation, since=args.get("since"), until=until)
    return changes.as_json()


# --------------------------------------------------------------------------- requests


@bp.route("/delegations/<key>/requests", methods=["GET"])
@bp.arguments(schemas.PageArgs, location="query")
@bp.response(200, schemas.RequestPage)
@bp.doc(responses=ERRORS, operationId="list_requests")
@api_needs()
def list_requests(args, key):
    """The meeting requests, as the document's `meeting_requests` writes them (a host: those
    of its organisation)."""
    from scheduler.itinerary.document import export_delegation

    delegation = delegation_for_request(key)
    items = export_delegation(delegation).get("meeting_requests", [])
    if g.access.is_host:
        org = db.session.get(Organization, g.access.host_organization_id)
        items = [r for r in items if org is not None and org.key in r.get("organizations", [])]
    return _page(items, args)


# --------------------------------------------------------------------------- suggestions


def _suggestion_body(run: SuggestionRun) -> dict:
    done = run.state in ("done", "applied") and run.result is not None
    return {
        "id": run.id,
        "state": run.state,
        "progress": run.progress,
        "replan": run.replan,
        "time_limit": run.time_limit,
        "created_at": _utc(run.created_at),
        "finished_at": _utc(run.finished_at),
        "result": run.result if done else None,
    }


def _run_or_404(delegation, suggestion: int) -> SuggestionRun:
    run = db.session.get(SuggestionRun, suggestion)
    if run is None or run.delegation_id != delegation.id:
        abort(404, problems=[("suggestion", f"'{delegation.key}' has no suggestion {suggestion}")])
    return run


@bp.route("/delegations/<key>/suggestions", methods=["POST"])
@bp.arguments(schemas.SuggestionCreate, example={"replan": False, "time_limit": 5})
@bp.response(
    202,
    schemas.Suggestion,
    example=SUGGESTION_EXAMPLE
    | {"state": "queued", "progress": "waiting for a worker", "result": None, "finished_at": None},
    headers={"Location": {"schema": {"type": "string"}, "description": "The run to poll"}},
)
@bp.doc(responses=ERRORS | {202: {"links": SUGGESTION_LINKS}}, operationId="create_suggestion")
@api_needs(read="read", write="edit")
def create_suggestion(data, key):
    """Start a suggestion for the open meeting requests, in the background: poll the run
    (Location) until its state is `done`, then apply it."""
    delegation = delegation_for_request(key, loaded=False)
    run = start_run(
        delegation, replan=data["replan"], time_limit=data["time_limit"], user_id=api_user().id
    )
    db.session.commit()
    location = url_for("api.get_suggestion", key=key, suggestion=run.id)
    return _suggestion_body(run), 202, {"Location": location}


@bp.route("/delegations/<key>/suggestions/<int(max=2147483647):suggestion>", methods=["GET"])
@bp.response(200, schemas.Suggestion, example=SUGGESTION_EXAMPLE)
@bp.doc(responses=ERRORS | {200: {"links": SUGGESTION_LINKS}}, operationId="get_suggestion")
@api_needs()
def get_suggestion(key, suggestion):
    """A suggestion run: its state and progress, and the proposal (the spec's `suggest
    --json` object) once it is done."""
    delegation = delegation_for_request(key, loaded=False)
    return _suggestion_body(_run_or_404(delegation, suggestion))


@bp.route("/delegations/<key>/suggestions/<int(max=2147483647):suggestion>/apply", methods=["POST"])
@bp.response(200, schemas.Applied)
@bp.doc(responses=ERRORS | CONFLICTS, operationId="apply_suggestion")
@api_needs(read="edit", write="edit")
def apply_suggestion(key, suggestion):
    """Save every placed request of a finished run as a tentative meeting, in one
    transaction (with history); 409 when it is not done or the programme changed since."""
    delegation = delegation_for_request(key, loaded=False)
    run = _run_or_404(delegation, suggestion)
    if run.state != "done" or not run.result:
        abort(409, problems=[("state", f"the suggestion is {run.state}, not done")])
    try:
        saved = apply_proposal(db.session, delegation, run.result, user_id=api_user().id)
    except ProposalOutdated as exc:
        db.session.rollback()
        abort(409, problems=[("$", f"the programme changed since: {exc}; suggest again")])
    run.state = "applied"
    keys = [m.key for m in saved]
    db.session.commit()
    return {"suggestion": _suggestion_body(run), "meetings": keys}
