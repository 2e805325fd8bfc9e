"""Import benchmark: generated programmes of 2,000 and 20,000 meetings, on SQLite and PostgreSQL.

    python bench/import.py                      # both sizes, SQLite, and PostgreSQL if reachable
    python bench/import.py --sizes 2000 --no-postgres

Each document is realistic in shape: venues with rooms and travel times between them, people
in organisations, 3-6 attendees and 0-2 organisations per meeting, wall-clock times in the
venue's zone. For each size and database it imports into a fresh database and prints the time
(validation and load separately), the number of SQL statements sent (counted with a cursor
event: the import writes in bulk, so this grows with rows / 1,000, not with rows), and the
same for a re-import of an unchanged document and of one with 5% of the meetings changed.
Goal (issue 2): 20,000 meetings at most 12x the time of 2,000.

Beside each first import (issues 12 and 18), in the same run:
- the same import without history (``import_itinerary(..., _history=False)``, a switch for
  this script alone): the history must cost at most 30% more;
- the floor: orjson parse plus jsonschema-rs validation of the same text, and a bare bulk
  insert of the very rows the import inserted (captured from an untimed no-history import,
  replayed table by table into another empty database) with SQLAlchemy Core's executemany
  (the import itself writes big batches by COPY on PostgreSQL and by the driver's
  executemany on SQLite, see scheduler/models/bulk.py). Goal: 20,000 meetings in at most
  3.0 s and at most 2x the floor.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event, func, select  # noqa: E402

from scheduler import create_app  # noqa: E402
from scheduler.extensions import db  # noqa: E402
from scheduler.itinerary.document import import_itinerary, parse_json  # noqa: E402
from scheduler.models import Attendance, Meeting  # noqa: E402

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
SIZES = {2000: 200, 20000: 2000}  # meetings: people
ZONES = ["Asia/Tokyo"] * 8 + ["Asia/Seoul", "Europe/Berlin"]
KINDS = ["meeting", "visit", "briefing", "meal", "press", "ceremony"]
ROLES = ["delegation", "host", "staff", "guest", "interpreter"]
LANGUAGES = [["ko", "en"], ["ja"], ["ja", "en"], ["ko"], ["en"], ["ko", "ja", "en"]]


def generate(meetings: int, people: int, seed: int = 2024) -> dict:
    rng = random.Random(seed)
    n_orgs = max(10, people // 10)
    n_venues = max(20, meetings // 100)
    days = max(3, meetings // 300)
    start_date = date(2025, 4, 1)  # clear of the daylight-saving changes in Berlin
    organizations = [
        {"key": f"org-{i}", "name": f"Organisation {i}", "country": rng.choice(["KR", "JP"])}
        for i in range(n_orgs)
    ]
    persons = [
        {
            "key": f"person-{i}",
            "name": f"Person {i}",
            "title": "Director",
            "organization": f"org-{rng.randrange(n_orgs)}",
            "role": rng.choice(ROLES),
            "languages": rng.choice(LANGUAGES),
            "email": f"person{i}@example.org",
        }
        for i in range(people)
    ]
    venues = []
    for i in range(n_venues):
        venue = {
            "key": f"venue-{i}",
            "name": f"Venue {i}",
            "timezone": ZONES[i % len(ZONES)],
            "latitude": 35 + rng.random(),
            "longitude": 139 + rng.random(),
            "rooms": [
                {"key": f"room-{j}", "name": f"Room {j}", "capacity": rng.choice([8, 12, 40, 120])}
                for j in range(rng.randint(2, 5))
            ],
        }
        if i % 3 == 0:
            venue["opening_hours"] = {
                d: [["08:00", "20:00"]] for d in ("mon", "tue", "wed", "thu", "fri")
            }
        venues.append(venue)
    travel_times = [
        {
            "from": f"venue-{i}",
            "to": f"venue-{(i + step) % n_venues}",
            "minutes": rng.randint(10, 150),
            "mode": "car",
        }
        for i in range(n_venues)
        for step in (1, 2, 3)
    ]
    meeting_list = []
    for i in range(meetings):
        venue = venues[rng.randrange(n_venues)]
        day = start_date + timedelta(days=rng.randrange(days))
        begin = datetime.combine(day, datetime.min.time()) + timedelta(
            minutes=rng.randrange(8 * 60, 18 * 60, 15)
        )
        end = begin + timedelta(minutes=rng.choice([30, 45, 60, 90, 120]))
        meeting = {
            "key": f"meeting-{i}",
            "title": f"Meeting {i}",
            "kind": rng.choice(KINDS),
            "status": rng.choice(["confirmed"] * 8 + ["tentative", "cancelled"]),
            "start": begin.strftime("%Y-%m-%dT%H:%M"),
            "end": end.strftime("%Y-%m-%dT%H:%M"),
            "venue": venue["key"],
            "organizations": [f"org-{k}" for k in rng.sample(range(n_orgs), rng.randint(0, 2))],
            "attendees": [
                {
                    "person": f"person-{k}",
                    "role": rng.choice(["required"] * 4 + ["chair", "optional"]),
                }
                for k in rng.sample(range(people), rng.randint(3, 6))
            ],
        }
        if rng.random() < 0.7:
            meeting["room"] = rng.choice(venue["rooms"])["key"]
        if rng.random() < 0.3:
            meeting["agenda"] = "Discussion of cooperation. " * 5
        meeting_list.append(meeting)
    return {
        "format": "delegation-itinerary/1",
        "delegation": {
            "key": f"bench-{meetings}",
            "name": f"Benchmark programme of {meetings} meetings",
            "timezone": "Asia/Tokyo",
            "start_date": start_date.isoformat(),
            "end_date": (start_date + timedelta(days=days - 1)).isoformat(),
        },
        "organizations": organizations,
        "people": persons,
        "venues": venues,
        "travel_times": travel_times,
        "meetings": meeting_list,
    }


def changed_copy(document: dict, share: float = 0.05, seed: int = 7) -> dict:
    """The document with a share of the meetings retitled, moved or given other attendees."""
    rng = random.Random(seed)
    copy = json.loads(json.dumps(document))
    people = len(copy["people"])
    for meeting in rng.sample(copy["meetings"], int(len(copy["meetings"]) * share)):
        what = rng.randrange(3)
        if what == 0:
            meeting["title"] += " (revised)"
        elif what == 1:
            meeting["status"] = "tentative" if meeting["status"] != "tentative" else "confirmed"
        else:
            meeting["attendees"] = [
                {"person": f"person-{k}"} for k in rng.sample(range(people), rng.randint(3, 6))
            ]
    return copy


@contextmanager
def counted(engine):
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


@contextmanager
def captured_inserts(engine):
    """The Core-level INSERTs sent (table and Python-side rows), in order."""
    inserts: list[tuple] = []

    def record(conn, clauseelement, multiparams, params, execution_options):
        table = getattr(clauseelement, "table", None)
        if getattr(clauseelement, "is_insert", False) and table is not None:
            if multiparams and isinstance(multiparams[0], list | tuple):
                rows = list(multiparams[0])
            else:
                rows = list(multiparams) if multiparams else [params]
            if table.name != "history_entry" and rows:
                inserts.append((table, [dict(r) for r in rows]))

    event.listen(engine, "before_execute", record)
    try:
        yield inserts
    finally:
        event.remove(engine, "before_execute", record)


def timed_import(app, text: bytes, *, prune: bool = False, history: bool = True) -> dict:
    with app.app_context():
        with counted(db.engine) as statements:
            began, cpu_began = time.perf_counter(), time.process_time()
            document = parse_json(text)
            parsed = time.perf_counter()
            result = import_itinerary(db.session, document, prune=prune, _history=history)
            db.session.commit()
            done, cpu_done = time.perf_counter(), time.process_time()
        db.session.remove()
    return {
        "parse": parsed - began,
        "seconds": done - began,
        "cpu": cpu_done - cpu_began,
        "statements": len(statements),
        "result": result,
    }


def validation_seconds(text: bytes) -> float:
    """Parse and validate only, under the same conditions as the import (collector paused)."""
    from scheduler.itinerary.document import validate_document
    from scheduler.itinerary.memory import cycle_collection_paused

    with cycle_collection_paused():
        began = time.perf_counter()
        validate_document(parse_json(text))
        return time.perf_counter() - began


@contextmanager
def fresh_database(kind: str):
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/bench.sqlite"
        return
    import psycopg

    admin = POSTGRES_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    name = f"bench_import_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_reachable() -> bool:
    try:
        import psycopg

        admin = POSTGRES_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(admin, autocommit=True, connect_timeout=3):
            return True
    except Exception:  # noqa: BLE001 - any failure means "not reachable" here
        return False


def floor_validation_seconds(text: bytes) -> float:
    """Parse and validate only, bare: orjson and the compiled schema, nothing of ours."""
    import orjson

    from scheduler.itinerary.document import _compiled_validator

    validator = _compiled_validator()
    began, cpu_began = time.perf_counter(), time.process_time()
    assert validator.is_valid(orjson.loads(text))
    return time.perf_counter() - began, time.process_time() - cpu_began


def _rows_the_import_writes(kind: str, text: bytes) -> list[tuple]:
    """The tables and rows an import writes in bulk, captured from an untimed import with
    COPY turned off (COPY bypasses SQLAlchemy, so only executemany can be captured)."""
    from scheduler.models import bulk

    threshold, bulk.COPY_THRESHOLD = bulk.COPY_THRESHOLD, 10**9
    try:
        with fresh_database(kind) as url:
            app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
            with app.app_context():
                db.create_all()
                with captured_inserts(db.engine) as inserts:
                    timed_import(app, text, history=False)
                db.engine.dispose()
    finally:
        bulk.COPY_THRESHOLD = threshold
    return inserts


def _bare_insert(kind: str, inserts: list[tuple]) -> tuple[float, float]:
    """The same rows into an empty database, bare: SQLAlchemy Core's executemany."""
    from sqlalchemy import create_engine

    with fresh_database(kind) as url:
        engine = create_engine(url)
        db.metadata.create_all(engine)
        with engine.connect() as connection:
            began, cpu_began = time.perf_counter(), time.process_time()
            for table, rows in inserts:
                connection.execute(table.insert(), rows)
            connection.commit()
            seconds = time.perf_counter() - began, time.process_time() - cpu_began
        engine.dispose()
    return seconds


def without_history_and_floor(kind: str, text: bytes) -> tuple[dict, float]:
    """The first import without history, and the bare Core insert of the rows it wrote."""
    inserts = _rows_the_import_writes(kind, text)
    with fresh_database(kind) as url:
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            db.create_all()
            plain = timed_import(app, text, history=False)
            db.engine.dispose()
    return plain, _bare_insert(kind, inserts)


def run_once(kind: str, text: bytes, changed: bytes, meetings: int) -> dict:
    plain, floor_insert = without_history_and_floor(kind, text)
    with fresh_database(kind) as url:
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            db.create_all()
        first = timed_import(app, text)
        again = timed_import(app, text)
        update = timed_import(app, changed)
        with app.app_context():
            rows = {
                "meetings": db.session.scalar(select(func.count(Meeting.id))),
                "attendances": db.session.scalar(select(func.count(Attendance.id))),
            }
            db.session.remove()
            db.engine.dispose()
    assert rows["meetings"] == meetings, rows
    assert not again["result"].changed_anything
    assert update["result"].changed_anything
    return {
        "attendances": rows["attendances"],
        "first": first,
        "again": again,
        "update": update,
        "plain": plain,
        "floor_insert": floor_insert,
    }


def run(kind: str, meetings: int, people: int, repeat: int) -> dict:
    """The best of `repeat` runs of each phase: the machine is shared, the minimum is the
    least disturbed measurement."""
    document = generate(meetings, people)
    text = json.dumps(document).encode()
    changed = json.dumps(changed_copy(document)).encode()
    runs = [run_once(kind, text, changed, meetings) for _ in range(repeat)]
    best = {
        phase: min((r[phase] for r in runs), key=lambda m: m["seconds"])
        for phase in ("first", "again", "update", "plain")
    }
    return {
        "kind": kind,
        "meetings": meetings,
        "people": people,
        "attendances": runs[0]["attendances"],
        "validate": min(validation_seconds(text) for _ in range(repeat)),
        "floor_validate": min(floor_validation_seconds(text) for _ in range(repeat)),
        "floor_insert": min(r["floor_insert"] for r in runs),
        "plain_cpu": min(r["plain"]["cpu"] for r in runs),
        "first_cpu": min(r["first"]["cpu"] for r in runs),
        **best,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per size and database; the best is shown"
    )
    args = parser.parse_args()
    kinds = ["sqlite"]
    if not args.no_postgres:
        if postgres_reachable():
            kinds.append("postgresql")
        else:
            print(f"(PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: SQLite only)\n")

    print(
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.machine()}; "
        f"best of {args.repeat} runs; times in seconds; statements = SQL statements sent\n"
    )
    header = (
        "| database | meetings | people | attendances | validate s "
        "| import s (incl. validate) | statements "
        "| re-import (no change) s | statements | re-import (5% changed) s | statements |"
    )
    print(header)
    print("|" + " --- |" * (header.count("|") - 1))
    results = []
    for kind in kinds:
        for meetings in args.sizes:
            people = SIZES.get(meetings, max(10, meetings // 10))
            r = run(kind, meetings, people, args.repeat)
            results.append(r)
            print(
                f"| {kind} | {meetings:,} | {people:,} | {r['attendances']:,} "
                f"| {r['validate']:.2f} "
                f"| {r['first']['seconds']:.2f} | {r['first']['statements']} "
                f"| {r['again']['seconds']:.2f} | {r['again']['statements']} "
                f"| {r['update']['seconds']:.2f} | {r['update']['statements']} |",
                flush=True,
            )
    print()
    print("First import beside its floor and without history (same runs, seconds):")
    header = (
        "| database | meetings | floor: parse + validate | floor: Core insert | floor | "
        "import without history | import with history | with / without history "
        "| import / floor |"
    )
    for clock, pick in (("wall", 0), ("CPU of this process", 1)):
        print(f"\n{clock}:\n")
        print(header)
        print("|" + " --- |" * (header.count("|") - 1))
        for r in results:
            validate, insert = r["floor_validate"][pick], r["floor_insert"][pick]
            floor = validate + insert
            if pick:
                plain, first = r["plain_cpu"], r["first_cpu"]
            else:
                plain, first = r["plain"]["seconds"], r["first"]["seconds"]
            print(
                f"| {r['kind']} | {r['meetings']:,} | {validate:.2f} "
                f"| {insert:.2f} | {floor:.2f} | {plain:.2f} | {first:.2f} "
                f"| {first / plain:.2f}x | {first / floor:.2f}x |"
            )
    print()
    for r in results:
        if r["meetings"] == 20000:
            floor = r["floor_validate"][0] + r["floor_insert"][0]
            first, plain = r["first"]["seconds"], r["plain"]["seconds"]
            for goal, ok in (
                (f"at most 3.0 s: {first:.2f} s", first <= 3.0),
                (f"at most 2x the floor: {first / floor:.2f}x", first <= 2 * floor),
                (f"history at most 1.3x: {first / plain:.2f}x", first <= 1.3 * plain),
            ):
                print(f"{r['kind']} 20,000 first import {goal} ({'ok' if ok else 'NOT MET'})")
    for kind in kinds:
        by_size = {r["meetings"]: r for r in results if r["kind"] == kind}
        if 2000 in by_size and 20000 in by_size:
            small, large = by_size[2000], by_size[20000]
            for phase in ("first", "again", "update", "plain"):
                ratio = large[phase]["seconds"] / small[phase]["seconds"]
                verdict = "ok" if ratio <= 12 else "OVER the 12x goal"
                print(f"{kind} {phase:6}: 20,000 / 2,000 = {ratio:.1f}x ({verdict})")


if __name__ == "__main__":
    main()
