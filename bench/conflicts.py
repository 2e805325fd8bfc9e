"""Benchmark of the conflict engine: 2,000 / 20,000 / 100,000 generated meetings.

    python bench/conflicts.py [--sizes 2000 20000 100000] [--brute-limit 60] [--rounds 9]
                              [--instructions]

Times are CPU seconds of the process (``time.process_time``), so that time the process
spends waiting does not count. As with timeit, a sample is the mean of as many checks in a
row as last --min-seconds, after a ``gc.collect()``; the sizes are sampled in interleaved
rounds, one sample of each per round, and the table gives the best and the median sample of
each. On a machine shared with other work a change of load then reaches every size alike
instead of landing on one of them, every size's best is taken from as many samples, and
growth is the ratio of the best times.

``--instructions`` also counts the engine's instructions at each size up to
--instructions-max with valgrind (a child process that checks the pickled snapshot twice,
less one that checks it once, so a warm check like the timed ones): a count that is the same
on every run whatever else the machine does, so the growth of the work itself shows apart
from the noise and from the memory caches.

For each size it also runs the brute-force twin from tests/ (in a child process, stopped
after --brute-limit seconds), checks that both found the same conflicts, and prints a table.
Then it imports the 20,000-meeting programme into a fresh SQLite file and times
``flask --app scheduler check KEY --json`` as a coordinator would run it (a new process:
start-up, loading and checking), plus the in-process split between loading the snapshot and
running the rules.

The generated programme: one delegation in Asia/Tokyo made of tracks of 2,000 meetings, so
that every size looks alike meeting by meeting. A track has 100 people, 20 venues (3 rooms
each, a quarter with weekday opening hours, all with coordinates), travel entries from each
venue to 5 others (the rest estimated), 2-5 attendees per meeting, 15-minute slots between
08:00 and 18:00 over 58 days. People (with an hour to travel) and rooms are booked when free,
but 3% of bookings are not; everyone speaks Korean or Japanese, 97% English too; 5% of the
meetings are cancelled, 10% tentative.
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing
import os
import pickle
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from bruteforce_conflicts import brute_force_conflicts  # noqa: E402

from scheduler.itinerary.conflict_data import (  # noqa: E402
    DelegationSnapshot,
    MeetingInfo,
    PersonInfo,
    RoomInfo,
    TravelEntry,
    VenueInfo,
)
from scheduler.itinerary.conflicts import find_conflicts  # noqa: E402
from scheduler.itinerary.times import parse_document_datetime  # noqa: E402

KEY = "bench-visit"
FIRST_DAY = date(2024, 10, 1)
WEEKDAY_HOURS = {d: [["08:00", "19:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


BLOCK = 2000  # meetings per programme track
DAYS = 58  # about 1.2 meetings a day per person


def generate_document(meetings: int, seed: int = 2024) -> dict:
    """A busy, plausible programme of the given size (deterministic for a seed).

    Made of tracks of 2,000 meetings, each with its own people, venues and rooms, so that a
    programme of any size looks the same meeting by meeting and the timings compare.
    """
    document = {
        "format": "delegation-itinerary/1",
        "delegation": {
            "key": KEY,
            "name": "Benchmark visit",
            "timezone": "Asia/Tokyo",
            "start_date": FIRST_DAY.isoformat(),
            "end_date": (FIRST_DAY + timedelta(days=DAYS - 1)).isoformat(),
        },
        "organizations": [],
        "people": [],
        "venues": [],
        "travel_times": [],
        "meetings": [],
    }
    for track, first in enumerate(range(0, meetings, BLOCK)):
        _add_track(document, f"t{track}", min(BLOCK, meetings - first), random.Random(seed + track))
    return document


def _add_track(document: dict, track: str, meetings: int, rng: random.Random) -> None:
    people = [
        {
            "key": f"{track}-p{n}",
            "name": f"Person {n} of {track}",
            "role": "interpreter" if n % 25 == 0 else rng.choice(["delegation", "host", "staff"]),
            "languages": [rng.choice(["ko", "ja"])] + ([] if n % 33 == 7 else ["en"]),
        }
        for n in range(max(20, meetings // 20))
    ]
    venues = [
        {
            "key": f"{track}-v{n}",
            "name": f"Venue {n} of {track}",
            "timezone": "Asia/Tokyo",
            "latitude": 35.3 + rng.random() * 0.9,
            "longitude": 139.3 + rng.random() * 0.9,
            "rooms": [
                {"key": f"r{r}", "name": f"Room {r}", "capacity": rng.choice([4, 8, 30])}
                for r in range(3)
            ],
            **({"opening_hours": WEEKDAY_HOURS} if n % 4 == 0 else {}),
        }
        for n in range(20)
    ]
    pairs = {(a, b) for a in range(20) for b in rng.sample(range(20), 5) if a != b}
    travel = [
        {"from": venues[a]["key"], "to": venues[b]["key"], "minutes": rng.choice([15, 30, 60, 90])}
        for a, b in sorted(pairs)
    ]
    # Like a coordinator's programme: people and rooms are mostly free when booked (a
    # double booking slips through 3% of the time), so conflicts stay the exception.
    busy: dict[tuple, list[tuple[datetime, datetime]]] = {}

    def free(what, day, start, end) -> bool:
        return all(end <= s or e <= start for s, e in busy.get((what, day), ()))

    def book(what, day, start, end) -> None:
        busy.setdefault((what, day), []).append((start, end))

    items = []
    for n in range(meetings):
        day = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
        start = datetime.combine(day, datetime.min.time()) + timedelta(
            minutes=8 * 60 + 15 * rng.randrange(40)
        )
        end = start + timedelta(minutes=rng.choice([30, 45, 60, 90, 120]))
        place = rng.choice(venues)
        wanted, who = rng.randint(2, 5), []
        for candidate in rng.sample(people, 12):
            if len(who) == wanted:
                break
            # An hour on either side leaves time to travel, most of the time.
            hour = timedelta(hours=1)
            if free(candidate["key"], day, start - hour, end + hour) or rng.random() < 0.03:
                who.append(candidate)
                book(candidate["key"], day, start, end)
        meeting = {
            "key": f"{track}-m{n}",
            "title": f"Meeting {n} on cooperation",
            "status": rng.choices(["confirmed", "tentative", "cancelled"], [85, 10, 5])[0],
            "start": start.isoformat(timespec="minutes"),
            "end": end.isoformat(timespec="minutes"),
            "venue": place["key"],
            "attendees": [{"person": p["key"]} for p in who],
        }
        if rng.random() < 0.7:
            room = rng.choice(place["rooms"])
            if free((place["key"], room["key"]), day, start, end) or rng.random() < 0.03:
                meeting["room"] = room["key"]
                book((place["key"], room["key"]), day, start, end)
        items.append(meeting)
    document["people"] += people
    document["venues"] += venues
    document["travel_times"] += travel
    document["meetings"] += items


def snapshot_of(document: dict) -> DelegationSnapshot:
    """The snapshot the database loader would build, straight from the document."""
    home = document["delegation"]["timezone"]
    people = {
        n: PersonInfo(n, p["key"], p["name"], p["role"], tuple(p["languages"]))
        for n, p in enumerate(document["people"], 1)
    }
    person_ids = {p.key: p.id for p in people.values()}
    venues, rooms, room_ids = {}, {}, {}
    for n, v in enumerate(document["venues"], 1):
        venues[n] = VenueInfo(
            n,
            v["key"],
            v["name"],
            v["timezone"],
            v["latitude"],
            v["longitude"],
            v.get("opening_hours"),
        )
        for r in v["rooms"]:
            room_id = len(rooms) + 1
            rooms[room_id] = RoomInfo(room_id, r["key"], r["name"], n, r.get("capacity"))
            room_ids[(v["key"], r["key"])] = room_id
    venue_ids = {v.key: v.id for v in venues.values()}
    travel = tuple(
        TravelEntry(venue_ids[t["from"]], venue_ids[t["to"]], t["minutes"])
        for t in document["travel_times"]
    )
    meetings = tuple(
        MeetingInfo(
            n,
            m["key"],
            m["title"],
            m["status"],
            parse_document_datetime(m["start"], home),
            parse_document_datetime(m["end"], home),
            venue_ids[m["venue"]],
            room_ids.get((m["venue"], m.get("room"))),
            tuple((person_ids[a["person"]], "required") for a in m["attendees"]),
        )
        # In rank order (start, end, key), as load_snapshot reads them.
        for n, m in sorted(
            enumerate(document["meetings"], 1),
            key=lambda item: (item[1]["start"], item[1]["end"], item[1]["key"]),
        )
    )
    d = document["delegation"]
    return DelegationSnapshot(
        d["key"],
        home,
        date.fromisoformat(d["start_date"]),
        date.fromisoformat(d["end_date"]),
        people,
        venues,
        rooms,
        travel,
        meetings,
    )


def _summary(conflicts) -> set:
    return {(c.kind, c.meetings, c.person, c.room, c.venue) for c in conflicts}


def _brute_child(size: int, connection) -> None:
    snapshot = snapshot_of(generate_document(size))
    started = time.process_time()
    found = brute_force_conflicts(snapshot)
    connection.send((time.process_time() - started, set(found)))
    connection.close()


def time_brute_force(size: int, limit: float):
    """(seconds, conflicts) of the brute-force twin, or (None, None) when it overruns the limit."""
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_brute_child, args=(size, sender))
    child.start()
    sender.close()
    # Generation happens in the child too: allow it on top of the limit.
    if receiver.poll(limit + 30):
        seconds, found = receiver.recv()
        child.join()
        if seconds <= limit:
            return seconds, found
        return None, None
    child.kill()
    child.join()
    return None, None


def _timed_runs(snapshot, loops: int) -> tuple[float, list]:
    """CPU seconds per check, the mean of ``loops`` checks in a row (as timeit's number)."""
    gc.collect()  # no collection left over from building the snapshots or the last sample
    started = time.process_time()
    for _ in range(loops):
        found = find_conflicts(snapshot)
    return (time.process_time() - started) / loops, found


def time_engine(snapshots: dict, rounds: int, min_seconds: float) -> dict:
    """Size -> (best, median, conflicts): one sample of every size per round.

    Each size takes as many checks in a row per sample as last --min-seconds (at least one),
    and every size gets the same number of samples, so that no size's best is the least of
    more noisy samples than another's.
    """
    loops = {}
    for size, snapshot in snapshots.items():
        seconds, _ = _timed_runs(snapshot, 1)
        loops[size] = max(1, round(min_seconds / max(seconds, 1e-6)))
    times: dict[int, list[float]] = {size: [] for size in snapshots}
    found: dict[int, list] = {}
    for _ in range(rounds):
        for size, snapshot in snapshots.items():
            seconds, found[size] = _timed_runs(snapshot, loops[size])
            times[size].append(seconds)
    return {
        size: (min(times[size]), statistics.median(times[size]), found[size]) for size in snapshots
    }


def count_instructions(snapshot) -> int | None:
    """Instructions the engine executes on the snapshot, counted by valgrind (None without it)."""
    if shutil.which("valgrind") is None:
        return None
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "snapshot.pickle"
        path.write_bytes(pickle.dumps(snapshot))
        counts = {}
        for mode in ("load", "check"):
            out = Path(folder) / f"{mode}.out"
            subprocess.run(
                [
                    "valgrind",
                    "--tool=cachegrind",
                    "--cache-sim=no",
                    f"--cachegrind-out-file={out}",
                    sys.executable,
                    __file__,
                    "--child",
                    mode,
                    str(path),
                ],
                env={**os.environ, "PYTHONHASHSEED": "0"},
                capture_output=True,
                check=True,
            )
            summary = next(
                line for line in out.read_text().splitlines() if line.startswith("summary:")
            )
            counts[mode] = int(summary.split()[1])
    return counts["check"] - counts["load"]


def _child(mode: str, path: str) -> None:
    """Load the snapshot and check it once (zones, caches); "check" checks it once more."""
    snapshot = pickle.loads(Path(path).read_bytes())
    find_conflicts(snapshot)
    if mode == "check":
        find_conflicts(snapshot)


def time_check_command(size: int) -> dict:
    """Import the programme into a fresh SQLite file, then time the ``check`` command."""
    from scheduler import create_app
    from scheduler.extensions import db
    from scheduler.itinerary.conflict_data import load_snapshot
    from scheduler.itinerary.document import import_itinerary
    from scheduler.models import Delegation

    document = generate_document(size)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.sqlite"
        app = create_app({"SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            db.create_all()
            started = time.perf_counter()
            import_itinerary(db.session, document)
            db.session.commit()
            imported = time.perf_counter() - started
            delegation = db.session.scalar(db.select(Delegation).where(Delegation.key == KEY))
            started = time.perf_counter()
            snapshot = load_snapshot(db.session, delegation)
            loaded = time.perf_counter() - started
            started = time.perf_counter()
            found = find_conflicts(snapshot)
            checked = time.perf_counter() - started
            db.engine.dispose()
        env = {**os.environ, "DATABASE_URL": url}
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "scheduler", "check", KEY, "--json"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        command = time.perf_counter() - started
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "flask", "--app", "scheduler", "--help"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            check=True,
        )
        startup = time.perf_counter() - started
    printed = json.loads(result.stdout)
    assert len(printed) == len(found), "the command and the engine disagree"
    return {
        "import": imported,
        "load": loaded,
        "rules": checked,
        "command": command,
        "startup": startup,
        "exit": result.returncode,
        "conflicts": len(found),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000, 100000])
    parser.add_argument("--brute-limit", type=float, default=60.0, help="seconds")
    parser.add_argument("--rounds", type=int, default=9, help="interleaved timing rounds")
    parser.add_argument("--min-seconds", type=float, default=0.2, help="least time of one sample")
    parser.add_argument(
        "--instructions", action="store_true", help="count instructions with valgrind, if installed"
    )
    parser.add_argument("--instructions-max", type=int, default=20000)
    parser.add_argument("--command-size", type=int, default=20000)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return

    print(f"Python {platform.python_version()}, {os.cpu_count()} cores, {platform.machine()}")
    print()
    snapshots = {size: snapshot_of(generate_document(size)) for size in args.sizes}
    timed = time_engine(snapshots, args.rounds, args.min_seconds)
    header = [
        "meetings",
        "attendances",
        "conflicts",
        "engine s (best)",
        "median",
        "brute force s",
        "speed-up",
        "growth",
    ]
    if args.instructions:
        header += ["instructions", "growth"]
    rows = []
    first = None
    for size, snapshot in snapshots.items():
        attendances = sum(len(m.attendees) for m in snapshot.meetings)
        engine_s, median_s, found = timed[size]
        brute_s, brute_found = time_brute_force(size, args.brute_limit)
        if brute_found is not None:
            assert brute_found == _summary(found), f"engine and brute force differ at {size}"
        instructions = None
        if args.instructions and size <= args.instructions_max:
            instructions = count_instructions(snapshot)
        first = first or (size, engine_s, instructions)
        row = [
            f"{size:,}",
            f"{attendances:,}",
            f"{len(found):,}",
            f"{engine_s:.3f}",
            f"{median_s:.3f}",
            f"{brute_s:.2f}" if brute_s is not None else f"> {args.brute_limit:.0f} (stopped)",
            f"{brute_s / engine_s:.0f}x"
            if brute_s is not None
            else f"> {args.brute_limit / engine_s:.0f}x",
            f"{engine_s / first[1]:.1f}x vs {first[0]:,}",
        ]
        if args.instructions:
            if instructions is None or not first[2]:
                row += ["-", "-"]
            else:
                row += [f"{instructions / 1e6:,.0f} M", f"{instructions / first[2]:.2f}x"]
        rows.append(row)
        print(" | ".join(rows[-1]), flush=True)
    print()
    widths = [max(len(r[n]) for r in [header, *rows]) for n in range(len(header))]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) + " |")

    if args.command_size:
        timing = time_check_command(args.command_size)
        print()
        print(
            f"`flask --app scheduler check {KEY} --json` on SQLite, {args.command_size:,} meetings:"
        )
        print()
        print("| step | seconds |")
        print("|---|---|")
        print(f"| import (once, not part of check) | {timing['import']:.2f} |")
        print(f"| load snapshot (6 queries) | {timing['load']:.2f} |")
        print(f"| rules | {timing['rules']:.2f} |")
        print(f"| `check` command, new process, wall clock | {timing['command']:.2f} |")
        print(f"| of which process start-up (`flask --help`) | {timing['startup']:.2f} |")
        print()
        print(f"exit status {timing['exit']}, {timing['conflicts']:,} conflicts printed")


if __name__ == "__main__":
    main()
