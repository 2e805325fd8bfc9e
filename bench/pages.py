"""Benchmark of the coordinators' pages: queries and time per page as the programme grows.

    python bench/pages.py [--sizes 50 500 2000] [--repeat 7] [--postgres URL] [--pages NAME...]

For each size it imports a generated delegation into a fresh database (a temp SQLite file, and
a throwaway PostgreSQL database when --postgres names a server, e.g.
postgresql+psycopg://postgres@127.0.0.1:5432/postgres), signs in through the login form, then
requests each page --repeat times through the WSGI test client and prints the SQL statements
one request runs and the median and slowest wall time. The query count must not grow with the
meetings; the time grows with the HTML there is to render.

The generated programme starts next week (so the delegation list checks it too): one delegation
in Asia/Tokyo, 6 venues with 2 rooms each and 15-35 minute travel times for every pair, one person
per 6 meetings (at least 12), 3 attendees per meeting booked when free, one-hour meetings in
seven slots every 90 minutes from 08:00, about 1.5 meetings a day per person; 5% tentative, 3%
cancelled. Venues are random, so some travel is too tight: the pages show real conflicts.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import event  # noqa: E402

from scheduler import create_app  # noqa: E402
from scheduler.extensions import db  # noqa: E402

KEY = "bench-visit"
EMAIL, PASSWORD = "bench@example.org", "bench-password"


def generate_document(meetings: int, seed: int = 7) -> dict:
    """A plausible programme of the given size, starting next week (so the list checks it too)."""
    rng = random.Random(seed)
    head_count = max(12, meetings // 6)
    slots = [(8 + 3 * n // 2, 30 * (n % 2)) for n in range(7)]  # every 90 min from 08:00
    per_day = max(1, head_count // 2)  # 3 attendees each: about 1.5 meetings a day per person
    days = max(3, -(-meetings // per_day))
    first = date.today() + timedelta(days=7)
    venues = [
        {
            "key": f"v{n}",
            "name": f"Venue {n}",
            "timezone": "Asia/Tokyo",
            "rooms": [{"key": f"r{r}", "name": f"Room {r}", "capacity": 8} for r in range(2)],
        }
        for n in range(6)
    ]
    travel = [
        {"from": f"v{a}", "to": f"v{b}", "minutes": 15 + 5 * ((a + b) % 5), "mode": "car"}
        for a in range(6)
        for b in range(a + 1, 6)
    ]
    people = [
        {"key": f"p{n}", "name": f"Person {n}", "languages": [rng.choice(["ko", "ja"]), "en"]}
        for n in range(head_count)
    ]
    busy: set[tuple[str, date, int]] = set()
    items = []
    for n in range(meetings):
        day = first + timedelta(days=n % days)
        slot = rng.randrange(len(slots))
        hour, minute = slots[slot]
        free = [p["key"] for p in people if (p["key"], day, slot) not in busy]
        attendees = rng.sample(free if len(free) >= 3 else [p["key"] for p in people], 3)
        busy.update((key, day, slot) for key in attendees)
        items.append(
            {
                "key": f"m{n}",
                "title": f"Meeting {n}",
                "status": rng.choices(["confirmed", "tentative", "cancelled"], [92, 5, 3])[0],
                "start": f"{day}T{hour:02d}:{minute:02d}",
                "end": f"{day}T{hour + 1:02d}:{minute:02d}",
                "venue": f"v{rng.randrange(6)}",
                "attendees": [{"person": key} for key in attendees],
            }
        )
    return {
        "format": "delegation-itinerary/1",
        "delegation": {
            "key": KEY,
            "name": "Benchmark visit",
            "timezone": "Asia/Tokyo",
            "start_date": str(first),
            "end_date": str(first + timedelta(days=days - 1)),
        },
        "organizations": [],
        "people": people,
        "venues": venues,
        "travel_times": travel,
        "meetings": items,
    }


@contextmanager
def postgres_database(admin_url: str):
    import psycopg

    plain = admin_url.replace("postgresql+psycopg://", "postgresql://")
    name = f"bench_pages_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(plain, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# Issue 17: the programme shows one day (the first with meetings) unless asked for all; the
# timetable's grid data is one day too, by room and by person (with travel legs).
TIMETABLE_PAGES = [
    ("programme, all days", f"/delegations/{KEY}?day=all"),
    ("programme, search", f"/delegations/{KEY}?day=all&q=meeting+1"),
    ("timetable page", f"/delegations/{KEY}/timetable"),
    ("timetable data by room", f"/delegations/{KEY}/timetable.json"),
    ("timetable data by person", f"/delegations/{KEY}/timetable.json?mode=person"),
]


def csrf_token(html: str) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', html).group(1)


def measure(url: str, meetings: int, repeat: int, only=()) -> list[dict]:
    from sqlalchemy import select

    from scheduler.cli import create_user, import_document_text
    from scheduler.itinerary.access import grant_role
    from scheduler.models import Delegation

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": False})
    with app.app_context():
        db.create_all()
        account = create_user(EMAIL, PASSWORD)
        result = import_document_text(__import__("json").dumps(generate_document(meetings)))
        delegation = db.session.scalar(
            select(Delegation).where(Delegation.key == result.delegation_key)
        )
        grant_role(db.session, delegation, account, "owner")
        db.session.commit()
    client = app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token})
    pages = [
        ("programme", f"/delegations/{KEY}"),
        ("conflicts", f"/delegations/{KEY}/conflicts"),
        ("person programme", f"/delegations/{KEY}/people/p1"),
        ("meeting form", f"/delegations/{KEY}/meetings/m1"),
        ("delegation list", "/delegations"),
        *TIMETABLE_PAGES,
        # The same programme in Korean and Japanese (issue 14: at most 1.15x the English one).
        ("programme (ko)", f"/delegations/{KEY}", {"Accept-Language": "ko"}),
        ("programme (ja)", f"/delegations/{KEY}", {"Accept-Language": "ja"}),
    ]
    if only:
        pages = [page for page in pages if page[0] in only]
    rows = []
    with app.app_context():
        engine = db.engine  # requests below run in their own app context, as in production
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        # Round robin over the pages, so that a busy machine slows each page alike (the
        # localised programme is compared with the English one).
        timings = {name: [] for name, *_ in pages}
        cpu = {name: [] for name, *_ in pages}
        counts = {name: set() for name, *_ in pages}
        sizes = {}
        for _ in range(repeat):
            for name, path, *headers in pages:
                statements.clear()
                began, began_cpu = time.perf_counter(), time.process_time()
                response = client.get(path, headers=headers[0] if headers else None)
                timings[name].append(time.perf_counter() - began)
                cpu[name].append(time.process_time() - began_cpu)
                assert response.status_code == 200, (path, response.status_code)
                counts[name].add(len(statements))
                sizes[name] = len(response.data)
        for name, *_ in pages:
            rows.append(
                {
                    "page": name,
                    "meetings": meetings,
                    "queries": "/".join(map(str, sorted(counts[name]))),
                    "median_ms": statistics.median(timings[name]) * 1000,
                    "max_ms": max(timings[name]) * 1000,
                    "cpu_ms": statistics.median(cpu[name]) * 1000,
                    "kib": sizes[name] / 1024,
                }
            )
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()
    return rows


def print_table(database: str, rows: list[dict]) -> None:
    print(f"\n{database}")
    print(f"load average {' '.join(f'{n:.1f}' for n in os.getloadavg())}")
    print("| page | meetings | queries | median ms | max ms | median CPU ms | HTML KiB |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in sorted(rows, key=lambda r: (r["page"], r["meetings"])):
        print(
            f"| {row['page']} | {row['meetings']:,} | {row['queries']} | "
            f"{row['median_ms']:.0f} | {row['max_ms']:.0f} | {row['cpu_ms']:.0f} | "
            f"{row['kib']:.0f} |"
        )


def print_language_ratios(rows: list[dict]) -> None:
    """The localised programme's median time over the English one's, per size."""
    english = {r["meetings"]: r["median_ms"] for r in rows if r["page"] == "programme"}
    for row in rows:
        if row["page"].startswith("programme (") and english.get(row["meetings"]):
            ratio = row["median_ms"] / english[row["meetings"]]
            print(f"{row['page']} / programme at {row['meetings']:,} meetings: {ratio:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 500, 2000])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--postgres", help="admin URL of a PostgreSQL server to bench on too")
    parser.add_argument("--pages", nargs="+", default=(), help="only these pages (by name)")
    args = parser.parse_args()
    print(
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"{platform.system()} {platform.release()}; each page requested {args.repeat} times"
    )
    with tempfile.TemporaryDirectory() as folder:
        rows = []
        for size in args.sizes:
            rows += measure(
                f"sqlite:///{folder}/bench-{size}.sqlite", size, args.repeat, args.pages
            )
        print_table("SQLite", rows)
        print_language_ratios(rows)
    if args.postgres:
        rows = []
        for size in args.sizes:
            with postgres_database(args.postgres) as url:
                rows += measure(url, size, args.repeat, args.pages)
        print_table("PostgreSQL", rows)
        print_language_ratios(rows)


if __name__ == "__main__":
    main()
