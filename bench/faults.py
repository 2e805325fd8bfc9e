"""Faults during load: the database stops for 10 s and comes back; a gunicorn worker is
killed with SIGKILL. Always on a PostgreSQL of its own (bench/private_postgres.py): it is the
one stopped, never the machine's.

    python bench/faults.py [--workers 4] [--pollers 20] [--readers 4] [--outage 10]

Timeline: 10 s of load; the database stops for --outage seconds; 10 s after it returns a
worker is killed (kill -9); 10 s more. Prints, per phase, the answers by status; how long
after the database returned the first and the last failure were; what the killed worker cost.

Goal (issue 20): during the outage every answer is a 503 page (with Retry-After); within 2 s
of the database returning every request succeeds; a killed worker costs at most the requests
it held.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load import KEY, gunicorn, machine, prepare, service_env, sign_in  # noqa: E402
from bench.private_postgres import PrivatePostgres  # noqa: E402


class Log:
    def __init__(self):
        # (answered at, kind, status, Retry-After, asked at)
        self.entries: list[tuple[float, str, int, bool, float]] = []
        self.lock = threading.Lock()

    def add(self, kind, status, retry_after=False, asked=None):
        now = time.monotonic()
        with self.lock:
            self.entries.append((now, kind, status, retry_after, now if asked is None else asked))


def _session(base, signed_in, kind, log):
    """A session, signed in if asked; a refused sign-in is logged as an answer and retried."""
    while signed_in:
        try:
            return sign_in(base)
        except AssertionError as refused:
            log.add(kind + " (sign-in)", int(str(refused).split()[0]))
        except requests.RequestException:
            log.add(kind + " (sign-in)", 0)
        time.sleep(0.5)
    return requests.Session()


def client(base, path, kind, log, stop, signed_in=False):
    session = _session(base, signed_in, kind, log)
    while not stop.is_set():
        asked = time.monotonic()
        try:
            response = session.get(base + path, timeout=30)
            status = response.status_code
            log.add(kind, status, "Retry-After" in response.headers, asked)
            if status == 503 and "cannot reach its database" not in response.text:
                log.add(kind + " (503 not our page)", 503)
        except requests.RequestException:
            log.add(kind, 0)  # connection reset or refused: no answer at all
            session = _session(base, signed_in, kind, log)
        stop.wait(0.5)


def workers_of(master: int) -> list[int]:
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == master:
                children.append(int(entry))
    return children


def phase_table(log: Log, marks: dict) -> None:
    phases = [
        ("before", marks["start"], marks["db_stop"]),
        ("database down", marks["db_stop"], marks["db_start"]),
        ("first 2 s back", marks["db_start"], min(marks["db_start"] + 2, marks["kill"])),
        ("after, to kill", min(marks["db_start"] + 2, marks["kill"]), marks["kill"]),
        ("kill, next 10 s", marks["kill"], marks["end"]),
    ]
    print("| phase | kind | answers | by status (0 = no answer) |")
    print("| --- | --- | ---: | --- |")
    for name, start, end in phases:
        by_kind = defaultdict(lambda: defaultdict(int))
        retry, in_flight, coming_back = defaultdict(int), defaultdict(int), defaultdict(int)
        for at, kind, status, has_retry, asked in log.entries:
            if start <= at < end:
                by_kind[kind][status] += 1
                retry[kind] += status == 503 and has_retry
                # a success in the outage: asked before the server was down, or after
                # pg_ctl was told to start it (it is up before pg_ctl sees it and returns)
                if name == "database down" and status == 200:
                    in_flight[kind] += asked < marks["db_down"]
                    coming_back[kind] += asked >= marks["db_starting"]
        for kind in sorted(by_kind):
            statuses = by_kind[kind]
            shown = ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items()))
            if statuses.get(503):
                shown += f" (Retry-After on {retry[kind]})"
            if statuses.get(200) and name == "database down":
                shown += (
                    f"; of the 200s, {in_flight[kind]} asked before the server was down, "
                    f"{coming_back[kind]} after it was told to start"
                )
            print(f"| {name} | {kind} | {sum(statuses.values())} | {shown} |")
    back = marks["db_start"]
    failures = [
        at - back
        for at, _, status, _, _ in log.entries
        if back <= at < marks["kill"] and not 200 <= status < 400
    ]
    if failures:
        print(f"\nafter the database returned: last failure at {max(failures):.2f} s")
    else:
        print("\nafter the database returned: no failure")
    killed = [e for e in log.entries if marks["kill"] <= e[0] < marks["end"] and e[2] == 0]
    errors = [e for e in log.entries if marks["kill"] <= e[0] < marks["end"] and e[2] >= 500]
    print(
        f"killed worker {marks['killed']}: {len(killed)} requests without answer, {len(errors)} 5xx"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--pollers", type=int, default=20)
    parser.add_argument("--readers", type=int, default=4)
    parser.add_argument("--outage", type=float, default=10)
    parser.add_argument("--phase", type=float, default=10, help="seconds of each other phase")
    args = parser.parse_args()

    with PrivatePostgres("scheduler_faults") as pg:
        env = service_env(pg.url)
        prepared = prepare(env)
        log_path = Path(tempfile.mkdtemp(prefix="faults-")) / "gunicorn.log"
        with gunicorn(env, args.workers, log_path) as (base, master):
            log, stop = Log(), threading.Event()
            feeds = [links["ics"] for links in prepared["links"]["people"].values()]
            threads = [
                threading.Thread(
                    target=client, args=(base, feeds[i % len(feeds)], "feed", log, stop)
                )
                for i in range(args.pollers)
            ]
            threads += [
                threading.Thread(
                    target=client,
                    args=(base, f"/delegations/{KEY}", "programme (signed in)", log, stop, True),
                )
                for _ in range(args.readers)
            ]
            for thread in threads:
                thread.daemon = True
                thread.start()
            marks = {"start": time.monotonic()}
            time.sleep(args.phase)
            marks["db_stop"] = time.monotonic()
            pg.stop("fast")
            marks["db_down"] = time.monotonic()  # pg_ctl returns once the server is down
            time.sleep(args.outage)
            marks["db_starting"] = time.monotonic()
            pg.start()
            marks["db_start"] = time.monotonic()
            time.sleep(args.phase)
            victim = workers_of(master.pid)[0]
            marks["kill"], marks["killed"] = time.monotonic(), victim
            os.kill(victim, signal.SIGKILL)
            time.sleep(args.phase)
            marks["end"] = time.monotonic()
            stop.set()
            for thread in threads:
                thread.join(timeout=30)
        print(f"bench/faults.py on {machine()}")
        print(
            f"{args.workers} gunicorn workers, {args.pollers} feed pollers, "
            f"{args.readers} signed-in readers, database down {args.outage:.0f} s\n"
        )
        phase_table(log, marks)


if __name__ == "__main__":
    main()
