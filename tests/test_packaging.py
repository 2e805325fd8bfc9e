"""The wheel is the product: installed outside the checkout it upgrades a database and serves.

Templates, static files, migrations and demo data must travel inside the package; a file
left beside it in the checkout works in development and fails for an agency.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Its own SQLite database in a folder of its own, never the database under test: run once.
pytestmark = [pytest.mark.slow, pytest.mark.any_database]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(command, **kwargs):
    done = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    return done


def _assert_package_data_in(wheel: Path) -> None:
    """Templates, static files, migrations and the catalogs (translations/) are all inside."""
    import zipfile

    inside = set(zipfile.ZipFile(wheel).namelist())
    package = ROOT / "scheduler"
    wanted = [
        path.relative_to(ROOT).as_posix()
        for folder in ("templates", "static", "migrations", "translations")
        for path in (package / folder).rglob("*")
        if path.is_file()
        and path.suffix in {".html", ".css", ".js", ".woff2", ".py", ".po", ".mo"}
        and "__pycache__" not in path.parts
    ]
    assert any(name.startswith("scheduler/migrations/versions/") for name in inside)
    assert [name for name in wanted if name not in inside] == []


def test_the_wheel_installed_elsewhere_upgrades_a_database_and_serves_pages(tmp_path):
    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(ROOT)])
    (wheel,) = dist.glob("delegation_scheduler-*.whl")
    _assert_package_data_in(wheel)
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    _run([str(venv / "bin" / "pip"), "install", "-q", str(wheel)])

    # Far from the checkout: nothing can be found beside the package by accident.
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{work / 'prod.sqlite'}",
        "SECRET_KEY": "a-real-secret-for-this-test-only-0123456789",
    }
    flask = [str(venv / "bin" / "flask"), "--app", "scheduler"]
    _run([*flask, "db", "upgrade"], cwd=work, env=env)
    demo = _run(
        [str(venv / "bin" / "python"), "-c", "import scheduler.cli as c; print(c.DEMO_DOCUMENT)"],
        cwd=work,
        env=env,
    ).stdout.strip()
    assert str(ROOT) not in demo
    fonts = _run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "from scheduler.agenda import fonts\n"
            "report = fonts.font_report(); print(report.ok, fonts.VENDOR_DIR, report.summary())",
        ],
        cwd=work,
        env=env,
    ).stdout
    assert fonts.startswith("True ") and str(ROOT) not in fonts, fonts
    _run([*flask, "import-itinerary", demo], cwd=work, env=env)

    port = _free_port()
    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [str(venv / "bin" / "gunicorn"), "--workers", "1", "--bind", f"127.0.0.1:{port}"]
        + ["scheduler.wsgi:app"],
        cwd=work,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        page = None
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as r:
                    page = r.read().decode()
                    css = urllib.request.urlopen(
                        f"http://127.0.0.1:{port}/static/app.css", timeout=5
                    ).read()
                    font = urllib.request.urlopen(
                        f"http://127.0.0.1:{port}/static/vendor/fonts/noto-sans-kr/"
                        "noto-sans-kr-korean-400-normal.woff2",
                        timeout=5,
                    ).read()
                break
            except OSError:
                if server.poll() is not None:
                    break
                time.sleep(0.2)
        assert page is not None, (tmp_path / "gunicorn.log").read_text()
        assert "<form" in page and "password" in page.lower()
        assert len(css) > 100
        assert font[:4] == b"wOF2"  # the vendored fonts travel in the wheel
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()
    assert os.listdir(work) == ["prod.sqlite"]
