"""Release benchmark: releasing and the changes between versions at 2,000 and 20,000 meetings.

    python bench/releases.py [--sizes 2000 20000] [--repeat 1]

For each size: a generated programme (bench/import.py's generator) is imported into a fresh
SQLite database; then timed: the first release (load, conflict check, snapshot, write), a
re-import with 5% of the meetings changed, ``changes`` from the latest release to the draft
(load and diff), the second release, ``changes --since 1 --until 2`` (two stored snapshots),
and the diff alone (``compare`` on two snapshots in memory). Prints a table (seconds) with
the ratio of the largest size to the smallest: near-linear means about the ratio of sizes.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scheduler import create_app  # noqa: E402
from scheduler.extensions import db  # noqa: E402
from scheduler.itinerary.document import import_itinerary, load_delegation  # noqa: E402
from scheduler.itinerary.releases import changes_between, compare  # noqa: E402
from scheduler.operations.releases import release  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_import", ROOT / "bench" / "import.py")
bench_import = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_import)

STEPS = (
    "first release",
    "changes to draft",
    "second release",
    "changes 1..2",
    "diff alone",
)


def timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def run_once(meetings: int) -> dict[str, float]:
    people = max(10, meetings // 10)
    document = bench_import.generate(meetings, people)
    changed = bench_import.changed_copy(document)
    key = document["delegation"]["key"]
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(
            {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.sqlite", "TESTING": True}
        )
        times = {}
        with app.app_context():
            db.create_all()
            import_itinerary(db.session, json.loads(json.dumps(document)))
            db.session.commit()

            def do_release():
                delegation = load_delegation(db.session, key)
                new, _ = release(db.session, delegation)
                db.session.commit()
                return new

            times["first release"], first = timed(do_release)
            import_itinerary(db.session, changed)
            db.session.commit()
            db.session.expire_all()

            def draft_changes():
                return changes_between(db.session, load_delegation(db.session, key))

            times["changes to draft"], found = timed(draft_changes)
            assert found.count > 0
            times["second release"], second = timed(do_release)
            db.session.expire_all()
            delegation = load_delegation(db.session, key)
            times["changes 1..2"], between = timed(
                lambda: changes_between(db.session, delegation, since=1, until=2)
            )
            assert between.count == found.count
            times["diff alone"], _ = timed(lambda: compare(first.snapshot, second.snapshot))
            db.session.remove()
            # A release queues its share PDFs (issue 20); this measures the release alone,
            # and the database goes with the temporary folder: drop them unrun.
            from scheduler import jobs

            app.extensions.pop(jobs.READY, None)
        return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    results = {}
    for size in args.sizes:
        runs = [run_once(size) for _ in range(args.repeat)]
        results[size] = {step: statistics.median(r[step] for r in runs) for step in STEPS}
    sizes = sorted(results)
    print(f"Python {platform.python_version()}, SQLite, median of {args.repeat} (seconds)\n")
    header = "| step | " + " | ".join(f"{s:,} meetings" for s in sizes)
    if len(sizes) > 1:
        header += f" | ratio ({sizes[-1] // sizes[0]}x meetings)"
    print(header + " |")
    print("|" + " --- |" * (len(sizes) + 1 + (len(sizes) > 1)))
    for step in STEPS:
        row = f"| {step} | " + " | ".join(f"{results[s][step]:.3f}" for s in sizes)
        if len(sizes) > 1:
            row += f" | {results[sizes[-1]][step] / max(results[sizes[0]][step], 1e-9):.1f}"
        print(row + " |")


if __name__ == "__main__":
    main()
