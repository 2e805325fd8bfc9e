"""Every benchmark script still runs (at a tiny size) and prints its table.

The benchmarks are not timed here; they are run so that a refactor cannot break one
unnoticed, as happened once when a private helper they imported moved.
"""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

TINY_RUNS = {
    "import.py": ["--sizes", "100", "200", "--no-postgres", "--repeat", "1"],
    "conflicts.py": ["--sizes", "100", "200", "--brute-limit", "5", "--command-size", "100"],
    "pages.py": ["--sizes", "10", "--repeat", "1"],
    "feeds.py": ["--events", "20", "--repeat", "1"],
    "agenda.py": ["--meetings", "6", "--repeat", "1"],
    "validators.py": ["--sizes", "100", "--repeat", "1"],
    "releases.py": ["--sizes", "100", "200"],
}


def test_every_benchmark_is_covered():
    assert {p.name for p in (ROOT / "bench").glob("*.py")} == set(TINY_RUNS)


@pytest.mark.parametrize("script", sorted(TINY_RUNS))
def test_benchmark_runs_and_prints_a_table(script, tmp_path):
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
