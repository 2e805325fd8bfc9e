"""The Quickstart serves the reference visit: start it as a user would, sign in, see the visit."""

import http.cookiejar
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

from scheduler.cli import DEMO_EMAIL, DEMO_PASSWORD
from tests.conftest import csrf_token_from

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_quickstart_serves_the_reference_visit_to_the_demo_account(tmp_path):
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'quickstart.sqlite'}"}
    server = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "scheduler", "quickstart", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    opener = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    try:
        login_page = None
        for _ in range(150):
            try:
                with opener.open(f"{base}/login", timeout=2) as response:
                    login_page = response.read().decode()
                break
            except OSError:
                assert server.poll() is None, server.stdout.read()
                time.sleep(0.2)
        assert login_page is not None, "the quickstart did not start serving"
        form = urllib.parse.urlencode(
            {
                "email": DEMO_EMAIL,
                "password": DEMO_PASSWORD,
                "csrf_token": csrf_token_from(login_page),
            }
        ).encode()
        with opener.open(f"{base}/login", data=form, timeout=10) as response:
            delegations = response.read().decode()
            assert response.url.endswith("/delegations")
        assert "MSS bio delegation to Shonan iPark and Tsukuba" in delegations
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=10)
        server.stdout.close()
    assert f"Open http://127.0.0.1:{port}/login" in output
    assert f"Sign in as {DEMO_EMAIL} with password {DEMO_PASSWORD}" in output
