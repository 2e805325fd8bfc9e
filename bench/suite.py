"""The whole bench/ suite for one or more checkouts, run alternately, one script at a time.

    python bench/suite.py                              # this checkout
    python bench/suite.py /path/to/before /path/to/after --quick

Each checkout needs its own .venv (``python3 -m venv .venv && .venv/bin/pip install -e
'.[test]'``). For every benchmark the checkouts take turns (before, after, before, ...), so
a machine that gets busier part-way through slows both alike; each run's output is printed
whole with the load average beside it, and saved under ``--out`` (one file per checkout and
benchmark) for docs/benchmarks.md. Benchmarks a checkout does not have are skipped for it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent

# name: arguments (the full run, then --quick's)
BENCHMARKS = {
    "import": (["--repeat", "3"], ["--repeat", "2"]),
    "pages": (
        ["--sizes", "50", "500", "2000", "--repeat", "7"],
        ["--sizes", "500", "2000", "--repeat", "5"],
    ),
    "agenda": (["--repeat", "3"], ["--repeat", "2"]),
    "conflicts": (
        ["--sizes", "2000", "20000", "--rounds", "3"],
        ["--sizes", "2000", "20000", "--rounds", "3"],
    ),
    "feeds": (["--repeat", "3"], ["--repeat", "3"]),
    "validators": (["--repeat", "5"], ["--repeat", "3"]),
    "releases": ([], []),
}


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkouts", nargs="*", type=Path, default=[HERE])
    parser.add_argument("--only", nargs="+", choices=sorted(BENCHMARKS))
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--out", type=Path, default=Path("/tmp/bench-suite"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.only or BENCHMARKS:
        arguments = BENCHMARKS[name][1 if args.quick else 0]
        for n, checkout in enumerate(args.checkouts):
            script = checkout / "bench" / f"{name}.py"
            if not script.exists():
                print(f"\n## {name} — {checkout}: no such benchmark there, skipped")
                continue
            before = load()
            began = time.perf_counter()
            result = subprocess.run(
                [str(checkout / ".venv" / "bin" / "python"), str(script), *arguments],
                cwd=checkout,
                capture_output=True,
                text=True,
                check=False,
            )
            seconds = time.perf_counter() - began
            output = result.stdout + (
                f"\n[stderr]\n{result.stderr[-2000:]}" if result.returncode else ""
            )
            header = (
                f"## {name} — {checkout} (run {n + 1} of {len(args.checkouts)}), "
                f"exit {result.returncode}, {seconds:.0f} s, "
                f"load average {before} before, {load()} after"
            )
            (args.out / f"{checkout.name}-{name}.txt").write_text(f"{header}\n{output}", "utf-8")
            print(f"\n{header}\n{output}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
