"""The project's promises about itself: the README's commands, CI, the contract copies, config."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import require

from scheduler.config import DEV_SECRET_KEY, check_production_config, normalise_database_url

ROOT = Path(__file__).resolve().parent.parent
SHARED_SPEC = ROOT.parent / "shared" / "spec"


def _quickstart_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section)


def test_readme_quickstart_has_exactly_two_commands_and_ci_runs_the_test_one():
    commands = _quickstart_commands()
    assert len(commands) == 2
    serve, test = commands
    assert "quickstart" in serve and "pytest" in test
    ci = (ROOT / ".ci" / "run").read_text("utf-8")
    assert f'TEST_COMMAND="{test}"' in ci


def test_the_schema_the_app_validates_with_is_the_contract():
    ours = (ROOT / "scheduler" / "itinerary" / "itinerary.schema.json").read_text("utf-8")
    assert ours == (ROOT / "docs" / "spec" / "itinerary.schema.json").read_text("utf-8")
    if SHARED_SPEC.exists():
        assert ours == (SHARED_SPEC / "itinerary.schema.json").read_text("utf-8")
        for name in ("README.md",):
            assert (ROOT / "docs" / "spec" / name).read_text("utf-8") == (
                SHARED_SPEC / name
            ).read_text("utf-8")


def test_the_demo_visit_is_the_reference_example():
    require(SHARED_SPEC.exists(), "shared/spec is not beside this clone")
    demo = ROOT / "scheduler" / "demo" / "shonan-ipark-2024.json"
    assert demo.read_bytes() == (SHARED_SPEC / "examples" / "shonan-ipark-2024.json").read_bytes()


def test_production_refuses_the_development_secret_key():
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        check_production_config({"SECRET_KEY": DEV_SECRET_KEY})
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        check_production_config({})
    check_production_config({"SECRET_KEY": "a real one"})


def test_wsgi_entry_point_refuses_to_start_without_a_secret_key(tmp_path):
    """``gunicorn scheduler.wsgi:app`` from any directory, never with the development key."""
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite'}"}
    for secret in (None, DEV_SECRET_KEY):
        refused = subprocess.run(
            [sys.executable, "-c", "import scheduler.wsgi"],
            cwd=tmp_path,
            env=env if secret is None else {**env, "SECRET_KEY": secret},
            capture_output=True,
            text=True,
        )
        assert refused.returncode != 0 and "SECRET_KEY is not set" in refused.stderr
    started = subprocess.run(
        [sys.executable, "-c", "import scheduler.wsgi as w; print(w.app.name)"],
        cwd=tmp_path,
        env={**env, "SECRET_KEY": "x" * 32},
        capture_output=True,
        text=True,
    )
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == "scheduler"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:////tmp/x.sqlite", "sqlite:////tmp/x.sqlite"),
    ],
)
def test_database_urls_from_hosting_providers_use_psycopg_3(given, expected):
    assert normalise_database_url(given) == expected


def test_feed_settings_come_from_the_environment(monkeypatch):
    from scheduler.config import from_environment

    monkeypatch.setenv("PUBLIC_BASE_URL", "https://scheduler.example.org")
    monkeypatch.setenv("CALENDAR_UID_DOMAIN", "scheduler.example.org")
    settings = from_environment()
    assert settings["PUBLIC_BASE_URL"] == "https://scheduler.example.org"
    assert settings["CALENDAR_UID_DOMAIN"] == "scheduler.example.org"


@pytest.mark.any_database
def test_code_is_ruff_clean():
    ruff = Path(sys.executable).with_name("ruff")
    command = [str(ruff)] if ruff.exists() else [sys.executable, "-m", "ruff"]
    lint = subprocess.run([*command, "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout
    style = subprocess.run(
        [*command, "format", "--check", "."], cwd=ROOT, capture_output=True, text=True
    )
    assert style.returncode == 0, style.stdout


def test_tests_skip_only_through_require():
    """``require`` skips on a developer's machine and fails in CI; a bare skip would hide."""
    skipping = re.compile(r"pytest\.skip\(|mark\.skip(if)?\b|importorskip\(")
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in sorted((ROOT / "tests").rglob("*.py"))
        if path.name != "conftest.py"
        for n, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        if skipping.search(line) and "skipping = re.compile" not in line
    ]
    assert offenders == []


def test_no_function_of_the_package_runs_past_ninety_lines():
    """Functions that scroll hide two jobs (STYLE.md); validate_document was 159 lines."""
    import ast

    long = []
    for path in sorted((ROOT / "scheduler").rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > 90:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({length})")
    assert long == []
