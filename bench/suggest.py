"""Suggested schedules: CP-SAT against a first-come greedy on instances known to be solvable.

An instance is generated as a full schedule first (every request placed at a random feasible
time, checked by the conflict engine), then its times are removed: so 100% is achievable.
Companies meet 6 partners each over three days at three venues (two on one campus, one 60 to
75 minutes away), with 2 to 6 interpreters, a plenary each morning and rooms with capacities.

    python bench/suggest.py                      # 48, 96, 180 requests
    python bench/suggest.py --sizes 8 --time-limit 2 --no-demo
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scheduler.itinerary.conflict_data import (  # noqa: E402
    DelegationSnapshot,
    MeetingInfo,
    PersonInfo,
    RoomInfo,
    TravelEntry,
    VenueInfo,
)
from scheduler.suggest.solver import (  # noqa: E402
    STEP,
    Problem,
    RequestInfo,
    _Bookings,
    new_problems,
    solve,
    with_placements,
)
from scheduler.suggest.solver import _Choice as Choice  # noqa: E402
from scheduler.suggest.solver import _placement as placement_of  # noqa: E402

ZONE = "Asia/Tokyo"
START = date(2024, 9, 25)
HOURS = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
SIZES = {8: 2, 16: 4, 30: 6}  # companies: interpreters


def instance(companies: int, interpreters: int, seed: int):
    rng = random.Random(seed)
    partners = max(6, companies // 3)
    venues = {
        1: VenueInfo(1, "campus-a", "Campus A", ZONE, opening_hours=HOURS),
        2: VenueInfo(2, "campus-b", "Campus B", ZONE, opening_hours=HOURS),
        3: VenueInfo(3, "tokyo", "Tokyo office", ZONE, opening_hours=HOURS),
    }
    rooms = {}
    for v in venues:
        for n in range(2 + companies // 12):
            rid = 10 * v + n
            rooms[rid] = RoomInfo(rid, f"r{n}", f"Room {n}", v, rng.choice((4, 6, 10)))
    travel = (TravelEntry(1, 2, 15), TravelEntry(1, 3, 75), TravelEntry(2, 3, 60))
    people = {}
    pid = 100
    reps, hosts, partner_venue = [], [], {}
    for c in range(companies):
        langs = ("ko", "en") if rng.random() < 0.5 else ("ko",)
        people[pid] = PersonInfo(pid, f"rep-{c}", f"Company {c} rep", "delegation", langs)
        reps.append(pid)
        pid += 1
    for p in range(partners):
        langs = ("ja", "en") if rng.random() < 0.5 else ("ja",)
        people[pid] = PersonInfo(pid, f"host-{p}", f"Partner {p} rep", "host", langs)
        hosts.append(pid)
        partner_venue[pid] = rng.choice((1, 1, 2, 3))
        pid += 1
    for i in range(interpreters):
        people[pid] = PersonInfo(
            pid, f"interp-{i}", f"Interpreter {i}", "interpreter", ("ko", "ja")
        )
        pid += 1
    meetings = []
    for day in range(3):
        start = datetime.fromisoformat(f"{START + timedelta(days=day)}T09:00+09:00")
        meetings.append(
            MeetingInfo(
                len(meetings) + 1,
                f"plenary-{day}",
                "Plenary",
                "confirmed",
                start,
                start + timedelta(minutes=45),
                1,
                None,
                tuple((r, "required") for r in reps),
            )
        )
    snapshot = DelegationSnapshot(
        "bench",
        ZONE,
        START,
        START + timedelta(days=2),
        people=people,
        venues=venues,
        rooms=rooms,
        travel_times=travel,
        meetings=tuple(meetings),
    )
    requests = []
    for c, rep in enumerate(reps):
        for host in rng.sample(hosts, 6):
            requests.append(
                RequestInfo(
                    f"m-{c}-{host}",
                    f"Company {c} meets partner {host}",
                    ((rep, "required"), (host, "required")),
                    rng.choice((30, 30, 45)),
                    (partner_venue[host],),
                    priority=rng.choice(("must", "should", "should", "could")),
                )
            )
    solvable = _solvable(snapshot, requests, rng)
    if len(solvable) < len(requests):
        return None  # the random schedule left one out: try another seed
    return snapshot, solvable


def _solvable(snapshot, requests, rng):
    """Place every request at a random feasible time (the full schedule), then forget times."""
    problem = Problem(snapshot, requests)
    book = _Bookings(problem)
    placed = []
    order = list(range(len(requests)))
    rng.shuffle(order)
    for r in order:
        request = problem.requests[r]
        duration = request.info.duration_minutes * 60
        options = []
        for n, alt in enumerate(request.alternatives):
            for lo, hi in alt.steps:
                options += [(n, s) for s in range(lo, hi + 1, 3)]  # 15-minute grid
        rng.shuffle(options)
        for n, step in options:
            alt = request.alternatives[n]
            start, end = step * STEP, step * STEP + duration
            if not all(book.person_ok(p, start, end, alt.venue_id) for p in request.people):
                continue
            room = next((x for x in alt.rooms if book.room_ok(x, start, end)), "none")
            if room == "none":
                continue
            interp = None
            if request.needs_interpreter:
                free = [
                    i
                    for i, own in alt.interpreters.items()
                    if any(a <= step <= b for a, b in own)
                    and book.person_ok(i, start, end, alt.venue_id)
                ]
                if not free:
                    continue
                interp = rng.choice(free)
            people = request.people + ([interp] if interp else [])
            book.add(people, room, start, end, alt.venue_id)
            placed.append(placement_of(problem, Choice(r, n, step, room, interp)))
            break
    assert not new_problems(snapshot, placed), "the generated schedule is not valid"
    kept = {p.request for p in placed}
    solvable = [r for r in requests if r.key in kept]
    rng.shuffle(solvable)
    return solvable


def demo_row():
    from scheduler import create_app
    from scheduler.demo import demo_document
    from scheduler.extensions import db
    from scheduler.itinerary.document import import_itinerary
    from scheduler.models import Delegation
    from scheduler.suggest import propose

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with app.app_context():
        db.create_all()
        import_itinerary(db.session, demo_document())
        db.session.commit()
        began = time.monotonic()
        proposal = propose(db.session, db.session.query(Delegation).one(), time_limit=10)
        took = time.monotonic() - began
    return len(proposal["placed"]), len(proposal["placed"]) + len(proposal["unplaced"]), took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=sorted(SIZES))
    parser.add_argument("--time-limit", type=float, help="default: 10 s, 30 s at 30 companies")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-demo", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = []
    for companies in args.sizes:
        interpreters = SIZES.get(companies, 2)
        seed = args.seed * 1000 + companies
        made = None
        while made is None:
            made = instance(companies, interpreters, seed)
            seed += 1
        snapshot, requests = made
        limit = args.time_limit or (30.0 if companies >= 30 else 10.0)
        greedy = solve(snapshot, requests, method="greedy", time_limit=limit)
        began = time.monotonic()
        cp = solve(snapshot, requests, method="cp-sat", time_limit=limit)
        wall = time.monotonic() - began
        assert not new_problems(snapshot, cp.placed), "a proposal adds a conflict"
        assert len(with_placements(snapshot, cp.placed).meetings) >= len(snapshot.meetings)
        rows.append(
            {
                "companies": companies,
                "interpreters": interpreters,
                "requests": len(requests),
                "greedy": len(greedy.placed),
                "greedy_s": greedy.seconds,
                "cp_sat": len(cp.placed),
                "cp_sat_s": round(wall, 2),
                "status": cp.status,
                "limit": limit,
                "used": cp.method,
            }
        )
    if args.json:
        print(json.dumps(rows, indent=2))
    print(
        "| companies | interpreters | requests | greedy placed | greedy s | CP-SAT placed "
        "| CP-SAT s | status (result from) | limit s |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:

        def pct(n, r=r):
            return f"{n} ({100 * n / max(1, r['requests']):.0f}%)"

        print(
            f"| {r['companies']} | {r['interpreters']} | {r['requests']} | {pct(r['greedy'])} | "
            f"{r['greedy_s']:.2f} | {pct(r['cp_sat'])} | {r['cp_sat_s']:.2f} | "
            f"{r['status']} ({r['used']}) | {r['limit']:g} |"
        )
    if not args.no_demo:
        placed, total, took = demo_row()
        print()
        print("| demo (reference visit) | placed | seconds |")
        print("| --- | --- | --- |")
        print(f"| 8 companies x 4 partners | {placed}/{total} | {took:.2f} |")


if __name__ == "__main__":
    main()
