"""Flask commands: thin wrappers over the domain modules (``flask --app scheduler --help``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.serving import run_simple

from scheduler.extensions import db
from scheduler.itinerary.access import grant_of
from scheduler.itinerary.conflicts import check_delegation, conflict_table, has_errors
from scheduler.itinerary.document import (
    DocumentError,
    dump_document,
    export_itinerary,
    import_itinerary,
    load_delegation,
)
from scheduler.itinerary.history import entry_json, history_of
from scheduler.itinerary.json_input import Limits, read_document
from scheduler.itinerary.share_links import share_links_document
from scheduler.itinerary.travel import estimates_travel
from scheduler.models import Delegation, User
from scheduler.operations import access as access_operations
from scheduler.operations import accounts
from scheduler.operations.imports import CONCURRENT_IMPORT

DEMO_DOCUMENT = Path(__file__).parent / "demo" / "shonan-ipark-2024.json"
DEMO_EMAIL = "coordinator@example.org"
DEMO_PASSWORD = "delegation-demo"
MIN_PASSWORD_LENGTH = accounts.MIN_PASSWORD_LENGTH


def import_document_text(text: str | bytes, *, prune: bool = False):
    """Import and commit, or roll back and raise DocumentError: nothing half-written.

    An .xlsx workbook (the programme spreadsheet, edited) is read into the document first;
    its problems then name cells (``Programme!D7``)."""
    from scheduler.agenda.spreadsheet_import import import_workbook, is_workbook

    try:
        if isinstance(text, bytes) and is_workbook(text):
            result = import_workbook(
                db.session,
                text,
                lambda document: import_itinerary(db.session, document, prune=prune),
            )
        else:
            result = import_itinerary(
                db.session, read_document(text, Limits.from_config(current_app.config)), prune=prune
            )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return result


@click.command("import-itinerary")
@with_appcontext
@click.argument("path", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--prune", is_flag=True, help="Cancel meetings that the document no longer lists.")
def import_itinerary_command(path: str, prune: bool) -> None:
    """Validate a delegation-itinerary/1 document (or the programme .xlsx, edited), then load
    it in one transaction."""
    try:
        text = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
    except OSError as exc:
        click.echo(f"{path}: cannot read: {exc.strerror}", err=True)
        sys.exit(1)
    try:
        result = import_document_text(text, prune=prune)
    except DocumentError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        click.echo(f"{len(exc.problems)} problem(s); nothing was imported.", err=True)
        sys.exit(1)
    except IntegrityError:
        click.echo(CONCURRENT_IMPORT, err=True)
        sys.exit(1)
    click.echo(result.delegation_key)


@click.command("export-itinerary")
@with_appcontext
@click.argument("key")
def export_itinerary_command(key: str) -> None:
    """Write the delegation KEY as a delegation-itinerary/1 document to stdout."""
    document = export_itinerary(db.session, key)
    if document is None:
        click.echo(f"no delegation with key '{key}'", err=True)
        sys.exit(2)
    click.echo(dump_document(document), nl=False)


def _read_new_password() -> str:
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    lines = sys.stdin.read().splitlines()
    if not lines:
        raise click.UsageError("no password on stdin")
    if len(lines) > 1 and lines[1] != lines[0]:
        raise click.UsageError("the two passwords differ")
    return lines[0]


def create_user(email: str, password: str, *, admin: bool = False) -> User:
    """A new coordinator account; raises ValueError naming what is wrong."""
    user = accounts.create_account(db.session, email, password=password, is_admin=admin)
    db.session.commit()
    return user


@click.command("create-user")
@with_appcontext
@click.argument("email")
@click.option("--admin", is_flag=True, help="Give the account administrator rights.")
def create_user_command(email: str, admin: bool) -> None:
    """Create a coordinator account; the password is asked twice (or read from stdin)."""
    try:
        password = _read_new_password()
        user = create_user(email, password, admin=admin)
    except (ValueError, click.UsageError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    click.echo(f"created {'administrator' if user.is_admin else 'coordinator'} {user.email}")


@click.command("share-links")
@with_appcontext
@click.argument("key")
@click.option(
    "--json", "as_json", is_flag=True, help="Print the links as JSON (the spec's format)."
)
def share_links_command(key: str, as_json: bool) -> None:
    """Print the secret share links (feed, agenda, PDF) of the delegation and of each person."""
    delegation = load_delegation(db.session, key)
    if delegation is None:
        click.echo(f"no delegation with key '{key}'", err=True)
        sys.exit(2)
    links = share_links_document(delegation)
    if as_json:
        click.echo(json.dumps(links, indent=2, ensure_ascii=False))
        return
    click.echo(f"delegation {key}:")
    for name, path in links["delegation"].items():
        click.echo(f"  {name:7} {path}")
    for person_key, paths in links["people"].items():
        click.echo(f"{person_key}:")
        for name, path in paths.items():
            click.echo(f"  {name:7} {path}")


@click.command("quickstart")
@with_appcontext
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option(
    "--no-serve", is_flag=True, help="Prepare the database and account, but do not serve."
)
def quickstart_command(host: str, port: int, no_serve: bool) -> None:
    """Upgrade the database, load the reference visit and a demo account, then serve the app."""
    from flask import current_app
    from flask_migrate import upgrade

    upgrade()
    from scheduler.demo import demo_document

    # The reference visit with its business-matching requests (scheduler/demo/).
    result = import_document_text(json.dumps(demo_document()))
    click.echo(
        f"reference visit '{result.delegation_key}' "
        + ("loaded" if result.changed_anything else "already up to date")
    )
    demo = db.session.scalar(select(User).where(User.email == DEMO_EMAIL))
    if demo is None:
        demo = create_user(DEMO_EMAIL, DEMO_PASSWORD)
    visit = db.session.scalar(select(Delegation).where(Delegation.key == result.delegation_key))
    if grant_of(db.session, visit.id, demo.id) is None:
        access_operations.grant(db.session, visit, demo, "owner", actor=None)
        db.session.commit()
    click.echo(f"\n  Open http://{host}:{port}/login")
    click.echo(f"  Sign in as {DEMO_EMAIL} with password {DEMO_PASSWORD}\n")
    if not no_serve:
        # Flask ignores app.run() inside a `flask` command; serve with werkzeug directly.
        run_simple(host, port, current_app._get_current_object(), threaded=True)


@click.command("check")
@with_appcontext
@click.argument("key")
@click.option("--json", "as_json", is_flag=True, help="Print the conflicts as JSON (the spec's).")
@click.option(
    "--no-estimate",
    is_flag=True,
    help="Use travel_times entries only; no estimate from coordinates where none is given.",
)
def check_command(key: str, as_json: bool, no_estimate: bool) -> None:
    """Check the delegation KEY for conflicts: exit 1 if any is an error, 2 if KEY is unknown."""
    from flask import current_app

    delegation = db.session.scalar(select(Delegation).where(Delegation.key == key))
    if delegation is None:
        click.echo(f"no delegation with key '{key}'", err=True)
        sys.exit(2)
    estimate = estimates_travel(current_app.config) and not no_estimate
    conflicts = check_delegation(db.session, delegation, estimate_travel=estimate)
    if as_json:
        click.echo(json.dumps([c.as_json() for c in conflicts], indent=2, ensure_ascii=False))
    else:
        click.echo(conflict_table(conflicts, key))
    sys.exit(1 if has_errors(conflicts) else 0)


def proposal_text(proposal: dict, key: str) -> str:
    """The proposal for a terminal: one line per placement, then the unplaced and why."""
    lines = [
        f"{len(proposal['placed'])} placed, {len(proposal['unplaced'])} unplaced in {key} "
        f"({proposal['status']}, {proposal['seconds']:.1f} s)"
    ]
    for p in proposal["placed"]:
        where = p["venue"] + (f"/{p['room']}" if p["room"] else "")
        lines.append(
            f"  {p['request']}: {p['start']} - {p['end'][11:]} at {where} "
            f"({', '.join(p['attendees'])})"
        )
    if proposal["unplaced"]:
        lines.append("Unplaced:")
        lines += [f"  {u['request']}: {u['reason']}" for u in proposal["unplaced"]]
    return "\n".join(lines)


@click.command("suggest")
@with_appcontext
@click.argument("key")
@click.option("--json", "as_json", is_flag=True, help="Print the proposal as JSON (the spec's).")
@click.option(
    "--apply", "apply", is_flag=True, help="Save the placed requests as tentative meetings."
)
@click.option("--replan", is_flag=True, help="Also move tentative meetings of earlier suggestions.")
@click.option(
    "--time-limit",
    type=click.FloatRange(min=0.1, max=3600),
    default=10.0,
    show_default=True,
    help="Seconds the search may take.",
)
def suggest_command(key: str, as_json: bool, apply: bool, replan: bool, time_limit: float) -> None:
    """Propose a time, venue and room for each open meeting request of the delegation KEY."""
    from flask import current_app

    from scheduler.suggest import apply_proposal, propose

    delegation = db.session.scalar(select(Delegation).where(Delegation.key == key))
    if delegation is None:
        click.echo(f"no delegation with key '{key}'", err=True)
        sys.exit(2)
    proposal = propose(
        db.session,
        delegation,
        replan=replan,
        time_limit=time_limit,
        estimate_travel=estimates_travel(current_app.config),
    )
    if apply:
        try:
            apply_proposal(db.session, delegation, proposal)
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
    if as_json:
        click.echo(json.dumps(proposal, indent=2, ensure_ascii=False))
    else:
        click.echo(proposal_text(proposal, key))
        if apply:
            click.echo(f"Saved {len(proposal['placed'])} tentative meeting(s).")


def _account_and_delegation(email: str, key: str) -> tuple[User, Delegation]:
    """Both, or exit 2 naming the one that is unknown."""
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        click.echo(f"no account with email '{email}'", err=True)
        sys.exit(2)
    delegation = db.session.scalar(select(Delegation).where(Delegation.key == key))
    if delegation is None:
        click.echo(f"no delegation with key '{key}'", err=True)
        sys.exit(2)
    return user, delegation


@click.command("grant")
@with_appcontext
@click.argument("email")
@click.argument("key")
@click.argument("role")
@click.option("--organization", help="The organisation a host sees (its key); hosts only.")
def grant_command(email: str, key: str, role: str, organization: str | None) -> None:
    """Give the account EMAIL the ROLE (owner, editor, viewer, host) in the delegation KEY."""
    user, delegation = _account_and_delegation(email, key)
    try:
        access_operations.grant(
            db.session, delegation, user, role, organization_key=organization, actor=None
        )
    except ValueError as exc:
        db.session.rollback()
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(f"{user.email} is {role} of {key}")


@click.command("revoke")
@with_appcontext
@click.argument("email")
@click.argument("key")
def revoke_command(email: str, key: str) -> None:
    """Remove the role of the account EMAIL in the delegation KEY."""
    user, delegation = _account_and_delegation(email, key)
    if not access_operations.revoke(db.session, delegation, user, actor=None):
        click.echo(f"{user.email} has no role in {key}", err=True)
        sys.exit(2)
    db.session.commit()
    click.echo(f"{user.email} has no role in {key} any more")


@click.command("create-token")
@with_appcontext
@click.argument("email")
@click.option("--name", required=True, help="What the token is for (shown on the account page).")
@click.option("--read-only", is_flag=True, help="The token may read, never write.")
def create_token_command(email: str, name: str, read_only: bool) -> None:
    """Print a new API token for the account EMAIL; it is shown this once, only its hash is kept."""
    from scheduler.operations.tokens import create_token

    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        click.echo(f"no account with email '{email}'", err=True)
        sys.exit(2)
    try:
        _, secret = create_token(db.session, user, name, read_only=read_only)
    except ValueError as exc:
        db.session.rollback()
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(secret)


@click.command("history")
@with_appcontext
@click.argument("key")
@click.option("--json", "as_json", is_flag=True, help="Print the entries as JSON (the spec's).")
@click.option("--limit", type=click.IntRange(min=1), help="Only the newest N entries.")
def history_command(key: str, as_json: bool, limit: int | None) -> None:
    """The changes to the delegation KEY, newest first: who, when, what, before and after."""
    delegation = db.session.scalar(select(Delegation).where(Delegation.key == key))
    if delegation is None:
        click.echo(f"no delegation with key '{key}'", err=True)
        sys.exit(2)
    entries = [entry_json(e) for e in history_of(db.session, delegation.id, limit=limit)]
    if as_json:
        click.echo(json.dumps(entries, indent=2, ensure_ascii=False))
        return
    for e in entries:
        fields = ", ".join(e["changes"]) or "-"
        click.echo(
            f"{e['at']}  {e['user'] or '(command line)':24}  {e['action']:10} "
            f"{e['entity']} {e['key']}: {fields}"
        )


def _delegation_or_exit(key: str) -> Delegation:
    delegation = db.session.scalar(select(Delegation).where(Delegation.key == key))
    if delegation is None:
        click.echo(f"no delegation with key '{key}'", err=True)
        sys.exit(2)
    return delegation


@click.command("release")
@with_appcontext
@click.argument("key")
@click.option("--note", help="What this version is about; shown with it.")
@click.option("--notify", is_flag=True, help="Email each person whose meetings changed.")
@click.option("--json", "as_json", is_flag=True, help='Print {"version": N, "changes": ...}.')
def release_command(key: str, note: str | None, notify: bool, as_json: bool) -> None:
    """Publish the draft of KEY as the next version, whatever conflicts are open (recorded)."""
    from flask import current_app

    from scheduler.operations.releases import release

    delegation = _delegation_or_exit(key)
    new, changes = release(
        db.session,
        delegation,
        note=note,
        notify=notify,
        estimate_travel=estimates_travel(current_app.config),
    )
    db.session.commit()
    if as_json:
        document = {"version": new.version, "changes": changes.as_json()}
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        click.echo(new.version)


@click.command("changes")
@with_appcontext
@click.argument("key")
@click.option("--since", type=int, help="From release N (default: the latest).")
@click.option("--until", type=int, help="To release M (default: the draft).")
@click.option("--json", "as_json", is_flag=True, help="Print the spec's CHANGES object.")
def changes_command(key: str, since: int | None, until: int | None, as_json: bool) -> None:
    """The changes of KEY from release N (default: the latest) to M (default: the draft)."""
    from scheduler.itinerary.releases import UnknownVersion, changes_between

    delegation = _delegation_or_exit(key)
    loaded = load_delegation(db.session, key) if until is None else delegation
    try:
        changes = changes_between(db.session, loaded, since=since, until=until)
    except UnknownVersion as exc:
        click.echo(f"no release {exc.args[0]} of '{key}'", err=True)
        sys.exit(2)
    if as_json:
        click.echo(json.dumps(changes.as_json(), indent=2, ensure_ascii=False))
        return
    click.echo(f"from {changes.since or 'nothing released'} to {changes.until}:")
    for key_ in changes.added:
        click.echo(f"  added      {key_}")
    for key_ in changes.cancelled:
        click.echo(f"  cancelled  {key_}")
    for entry in changes.moved:
        before, after = entry["before"], entry["after"]
        click.echo(
            f"  moved      {entry['meeting']}: {before['start']} {before['venue'] or '-'}"
            f" -> {after['start']} {after['venue'] or '-'}"
        )
    for entry in changes.changed:
        click.echo(f"  changed    {entry['meeting']}: {', '.join(entry['fields'])}")
    if not changes:
        click.echo("  no changes")


@click.command("send-notices")
@with_appcontext
def send_notices_command() -> None:
    """Send the change notices still waiting (a mail server was down); safe to run from cron."""
    from scheduler.operations.notices import sweep_notices

    releases = sweep_notices()
    db.session.commit()
    click.echo(f"{len(releases)} releases had notices waiting")


def register_commands(app: Flask) -> None:
    for command in (
        release_command,
        changes_command,
        send_notices_command,
        create_token_command,
        grant_command,
        revoke_command,
        history_command,
        import_itinerary_command,
        export_itinerary_command,
        create_user_command,
        share_links_command,
        check_command,
        suggest_command,
        quickstart_command,
    ):
        app.cli.add_command(command)
    from scheduler.jobs import worker_command_factory

    app.cli.add_command(worker_command_factory())
