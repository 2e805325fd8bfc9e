"""Benchmark of /api/v1 on gunicorn: requests per second for GET of the interchange document
and PATCH of a meeting (with If-Match), from concurrent keep-alive clients.

    python bench/api.py [--workers 4] [--clients 8] [--seconds 10] [--meetings 0 500]
                        [--no-postgres]

For each programme size (0: the reference visit; N: the generated programme of
bench/pages.py) it makes a throwaway database (PostgreSQL at TEST_POSTGRES_ADMIN_URL, named
bench_api_..., dropped afterwards; SQLite with --no-postgres), imports the programme, makes an
account and an API token, starts gunicorn with --workers on a free port, and lets --clients
threads send requests for --seconds per operation. Each PATCH client edits a meeting of its
own, sending the ETag the previous answer gave, so no request is refused as stale.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from scheduler import create_app  # noqa: E402
from scheduler.extensions import db  # noqa: E402

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REFERENCE = ROOT / "scheduler" / "demo" / "shonan-ipark-2024.json"


@contextmanager
def fresh_database(postgres: bool):
    if not postgres:
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/bench.sqlite"
        return
    import psycopg

    admin = POSTGRES_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    name = f"bench_api_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def prepare(url: str, meetings: int, clients: int) -> tuple[str, str, list[str]]:
    """Import the programme, make an owner with a token, and one meeting per PATCH client."""
    from scheduler.itinerary.document import import_itinerary
    from scheduler.models import User
    from scheduler.operations.access import grant
    from scheduler.operations.tokens import create_token

    if meetings:
        from pages import generate_document

        document = generate_document(meetings)
    else:
        document = json.loads(REFERENCE.read_text("utf-8"))
    base = document["meetings"][0]
    for n in range(clients):
        document["meetings"].append({**base, "key": f"bench-patch-{n}", "attendees": []})
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        db.create_all()
        result = import_itinerary(db.session, document)
        user = User(email="bench@example.org", password_hash="-")
        db.session.add(user)
        db.session.flush()
        from sqlalchemy import select

        from scheduler.models import Delegation

        delegation = db.session.scalar(
            select(Delegation).where(Delegation.key == result.delegation_key)
        )
        grant(db.session, delegation, user, "owner", actor=None)
        _, secret = create_token(db.session, user, "bench")
        db.session.commit()
        db.engine.dispose()
    return result.delegation_key, secret, [f"bench-patch-{n}" for n in range(clients)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(url: str, workers: int):
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "bench-secret-key",
        "API_RATE_LIMIT": "1000000 per minute",
    }
    env.pop("REDIS_URL", None)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "scheduler.wsgi:app",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError("gunicorn did not start")
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def load(port: int, clients: int, seconds: float, make_request) -> tuple[float, int]:
    """Requests per second over all clients, and the number of non-2xx answers."""
    counts = [0] * clients
    failures = [0] * clients
    stop = time.monotonic() + seconds

    def client(n: int):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        state = {}
        while time.monotonic() < stop:
            status = make_request(connection, n, state)
            counts[n] += 1
            if status >= 300:
                failures[n] += 1
        connection.close()

    began = time.monotonic()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.monotonic() - began), sum(failures)


def run(meetings: int, args, postgres: bool) -> list[tuple]:
    rows = []
    with fresh_database(postgres) as url:
        key, secret, patch_keys = prepare(url, meetings, args.clients)
        auth = {"Authorization": f"Bearer {secret}"}
        with gunicorn(url, args.workers) as port:

            def get_document(connection, n, state):
                connection.request("GET", f"/api/v1/delegations/{key}", headers=auth)
                response = connection.getresponse()
                response.read()
                return response.status

            def patch_meeting(connection, n, state):
                path = f"/api/v1/delegations/{key}/meetings/{patch_keys[n]}"
                if "etag" not in state:
                    connection.request("GET", path, headers=auth)
                    response = connection.getresponse()
                    response.read()
                    state["etag"], state["flip"] = response.getheader("ETag"), False
                state["flip"] = not state["flip"]
                body = json.dumps({"title": f"Bench {n} {'a' if state['flip'] else 'b'}"})
                headers = {**auth, "If-Match": state["etag"], "Content-Type": "application/json"}
                connection.request("PATCH", path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                state["etag"] = response.getheader("ETag") or state["etag"]
                return response.status

            load(port, args.clients, min(1.0, args.seconds), get_document)  # warm up
            for name, request in (("GET document", get_document), ("PATCH meeting", patch_meeting)):
                rate, failed = load(port, args.clients, args.seconds, request)
                rows.append((meetings or "reference (6)", name, rate, failed))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--meetings", type=int, nargs="+", default=[0, 500])
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    postgres = not args.no_postgres
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; gunicorn "
        f"{args.workers} workers, {args.clients} clients, {args.seconds:g} s per operation, "
        f"{'PostgreSQL' if postgres else 'SQLite'}"
    )
    rows = []
    for meetings in args.meetings:
        rows += run(meetings, args, postgres)
    print()
    print("| meetings | operation | requests/s | non-2xx |")
    print("|----------|-----------|-----------:|--------:|")
    for meetings, name, rate, failed in rows:
        print(f"| {meetings} | {name} | {rate:,.0f} | {failed} |")


if __name__ == "__main__":
    main()
