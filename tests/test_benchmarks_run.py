"""Every benchmark script still runs (at a tiny size) and prints its table.

The benchmarks are not timed here; they are run so that a refactor cannot break one
unnoticed, as happened once when a private helper they imported moved.
"""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Each script makes its own databases (SQLite, or a PostgreSQL of its own): run once.
pytestmark = pytest.mark.any_database

TINY_RUNS = {
    "import.py": ["--sizes", "100", "200", "--no-postgres", "--repeat", "1"],
    "conflicts.py": ["--sizes", "100", "200", "--brute-limit", "5", "--command-size", "100"],
    "pages.py": ["--sizes", "10", "--repeat", "1"],
    "feeds.py": ["--events", "20", "--repeat", "1"],
    "agenda.py": ["--meetings", "6", "--repeat", "1"],
    "validators.py": ["--sizes", "100", "--repeat", "1"],
    "releases.py": ["--sizes", "100", "200"],
    # Both start their own PostgreSQL (bench/private_postgres.py) and gunicorn.
    "load.py": ["--private-postgres", "--seconds", "2", "--workers", "1"]
    + ["--pollers", "2", "--editors", "1", "--pdf-readers", "0"],
    "faults.py": ["--workers", "2", "--pollers", "2", "--readers", "1"]
    + ["--outage", "1", "--phase", "1"],
    "api.py": [
        "--meetings",
        "0",
        "--seconds",
        "0.5",
        "--clients",
        "1",
        "--workers",
        "1",
        "--no-postgres",
    ],
    "suggest.py": ["--sizes", "8", "--time-limit", "2", "--no-demo"],
}
HELPERS = {"private_postgres.py", "suite.py"}  # a helper they import; the runner of them all
NEEDS_POSTGRES_SERVER = {"load.py", "faults.py"}


def test_every_benchmark_is_covered():
    assert {p.name for p in (ROOT / "bench").glob("*.py")} == set(TINY_RUNS) | HELPERS


@pytest.mark.parametrize(
    "script",
    [
        pytest.param(s, marks=pytest.mark.slow) if s in NEEDS_POSTGRES_SERVER else s
        for s in sorted(TINY_RUNS)
    ],
)
def test_benchmark_runs_and_prints_a_table(script, tmp_path):
    if script in NEEDS_POSTGRES_SERVER:
        from bench.private_postgres import binaries
        from tests.conftest import require

        require(binaries() is not None, "PostgreSQL server binaries (initdb, pg_ctl)")
    run = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *TINY_RUNS[script]],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Traceback" not in run.stderr
    assert any(line.startswith("|") for line in run.stdout.splitlines()), run.stdout[-2000:]
