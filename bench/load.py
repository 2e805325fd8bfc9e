"""Load as an agency would see it: gunicorn with N workers on PostgreSQL, calendar clients
polling person feeds (half with If-None-Match), coordinators editing meetings through the
forms (several on the same meetings, so some saves are stale), and PDF readers opening the
delegation's agenda PDF right after edits.

    python bench/load.py --private-postgres [--workers 4] [--pollers 50] [--editors 5]
                         [--pdf-readers 2] [--seconds 60]
    python bench/load.py --database-url postgresql+psycopg://...   (an empty database you own)

``--private-postgres`` starts a PostgreSQL of its own on a free port (bench/private_postgres.py)
and removes it afterwards; nothing else is touched. Prints a table: requests, 5xx, p50/p99
per kind; saves applied, refused (409), and lost (applied but absent from the history);
worker timeouts in gunicorn's log.

Goal (issue 20): 4 workers, 50 pollers, 5 editors, 60 s + 2 PDF readers: no 5xx, no worker
timeout, feed p99 < 1 s, no lost save, every save applied or refused with 409.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.private_postgres import PrivatePostgres, free_port  # noqa: E402

KEY = "mss-japan-2024-09"
EMAIL = "loadtest@example.org"
PASSWORD = "load-test-password"
BIN = Path(sys.executable).parent


class FormFields(HTMLParser):
    """The fields a browser would send for the page's main form."""

    def __init__(self):
        super().__init__()
        self.forms: list[list[tuple[str, str]]] = []
        self._form = None
        self._select = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = []
        elif self._form is None:
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind in ("submit", "button", "file"):
                return
            self._form.append((a["name"], a.get("value", "y" if kind == "checkbox" else "")))
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
        elif tag == "option" and self._select and "selected" in a:
            self._form.append((self._select, a.get("value", "")))
        elif tag == "textarea" and a.get("name"):
            self._textarea = [a["name"], ""]

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            self._form.append(tuple(self._textarea))
            self._textarea = None
        elif tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None

    @classmethod
    def of(cls, page: str) -> list[tuple[str, str]]:
        parser = cls()
        parser.feed(page)
        # The largest: the header's sign-out form has a csrf_token too.
        return max(parser.forms, key=len)


@dataclass
class Results:
    latencies: dict = field(default_factory=lambda: defaultdict(list))
    statuses: dict = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    applied: list = field(default_factory=list)  # (meeting, title)
    refused: int = 0
    other_saves: dict = field(default_factory=lambda: defaultdict(int))
    errors: dict = field(default_factory=lambda: defaultdict(int))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, status: int, seconds: float) -> None:
        with self.lock:
            self.latencies[kind].append(seconds)
            self.statuses[kind][status] += 1


def timed(results, kind, call, *args, **kwargs):
    started = time.perf_counter()
    try:
        response = call(*args, **kwargs)
    except requests.RequestException as exc:
        with results.lock:
            results.errors[f"{kind}: {type(exc).__name__}"] += 1
        results.record(kind, 0, time.perf_counter() - started)
        return None
    results.record(kind, response.status_code, time.perf_counter() - started)
    return response


def poller(base, path, conditional, results, stop):
    session = requests.Session()
    etag = None
    time.sleep(random.random())
    while not stop.is_set():
        headers = {"If-None-Match": etag} if conditional and etag else {}
        kind = "feed (If-None-Match)" if conditional else "feed"
        response = timed(results, kind, session.get, base + path, headers=headers, timeout=30)
        if response is not None and response.status_code == 200:
            etag = response.headers.get("ETag")
        stop.wait(1.0)


class PlainHttpSession(requests.Session):
    """The service marks its cookies Secure (a real SECRET_KEY); here it is served over plain
    http on 127.0.0.1, as behind a TLS proxy, so keep sending them."""

    def send(self, request, **kwargs):
        response = super().send(request, **kwargs)
        for cookie in self.cookies:
            cookie.secure = False
        return response


def sign_in(base) -> requests.Session:
    session = PlainHttpSession()
    page = session.get(base + "/login", timeout=30)
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    assert found, f"{page.status_code} no sign-in form"
    token = found.group(1)
    response = session.post(
        base + "/login",
        data={"email": EMAIL, "password": PASSWORD, "csrf_token": token},
        allow_redirects=False,
        timeout=30,
    )
    assert response.status_code == 302, f"{response.status_code} " + " ".join(
        re.findall(r"<p>(.*?)</p>", response.text)
    )
    return session


def editor(base, number, meetings, results, stop, edited):
    session = sign_in(base)
    rng = random.Random(number)
    count = 0
    while not stop.is_set():
        meeting = rng.choice(meetings)
        url = f"{base}/delegations/{KEY}/meetings/{meeting}"
        page = timed(results, "edit form (GET)", session.get, url, timeout=30)
        if page is None or page.status_code != 200:
            continue
        fields = FormFields.of(page.text)
        stop.wait(rng.uniform(0.5, 2.0))  # a person reads the form before saving
        count += 1
        title = f"Load test {number}-{count}"
        data = [(k, v) for k, v in fields if k != "title"] + [("title", title)]
        response = timed(
            results,
            "save (POST)",
            session.post,
            url,
            data=data,
            allow_redirects=False,
            timeout=30,
        )
        if response is None:
            continue
        with results.lock:
            if response.status_code == 302:
                results.applied.append((meeting, title))
                edited.set()
            elif response.status_code == 409:
                results.refused += 1
            else:
                results.other_saves[response.status_code] += 1
        stop.wait(rng.uniform(0.5, 1.5))


def pdf_reader(base, path, results, stop, edited):
    session = requests.Session()
    while not stop.is_set():
        edited.wait(5)
        edited.clear()
        if stop.is_set():
            break
        # A copy not rendered yet answers 202 "being prepared" with Retry-After: ask again
        # as a browser following the page's refresh would (the row "agenda PDF (preparing)").
        for _attempt in range(30):
            response = timed(results, "agenda PDF", session.get, base + path, timeout=60)
            if response is None or response.status_code != 202 or stop.is_set():
                break
            stop.wait(float(response.headers.get("Retry-After", "1")))


def percentile(values, p):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def flask(env, *args, stdin=None):
    done = subprocess.run(
        [str(BIN / "flask"), "--app", "scheduler", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)}: {done.stderr}")
    return done.stdout


def prepare(env) -> dict:
    flask(env, "db", "upgrade")
    document = ROOT / "scheduler" / "demo" / "shonan-ipark-2024.json"
    flask(env, "import-itinerary", str(document))
    flask(env, "create-user", EMAIL, "--admin", stdin=f"{PASSWORD}\n{PASSWORD}\n")
    links = json.loads(flask(env, "share-links", KEY, "--json"))
    meetings = [m["key"] for m in json.loads(document.read_text())["meetings"]]
    return {"links": links, "meetings": meetings}


@contextlib.contextmanager
def gunicorn(env, workers, log_path):
    port = free_port()
    log = open(log_path, "w")  # noqa: SIM115 (closed in finally, after the server)
    process = subprocess.Popen(
        [str(BIN / "gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{port}"]
        + ["--timeout", "30", "--graceful-timeout", "5", "scheduler.wsgi:app"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tempfile.gettempdir(),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            with contextlib.suppress(requests.RequestException):
                if requests.get(base + "/readyz", timeout=2).status_code == 200:
                    break
            time.sleep(0.1)
        else:
            raise RuntimeError("gunicorn did not become ready: " + Path(log_path).read_text())
        yield base, process
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def service_env(database_url: str) -> dict:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY="load-test-secret-key-0123456789abcdef",
        PUBLIC_BASE_URL="http://scheduler.test",
        CALENDAR_UID_DOMAIN="scheduler.test",
    )
    env.pop("REDIS_URL", None)
    return env


def lost_saves(env, applied) -> int:
    """Applied saves whose title never appears in the meeting's history."""
    history = json.loads(flask(env, "history", KEY, "--json", "--limit", "100000"))
    written = {
        (entry["key"], entry["changes"]["title"][1])
        for entry in history
        if entry.get("entity") == "meeting" and "title" in (entry.get("changes") or {})
    }
    return sum(1 for save in applied if save not in written)


def run_load(base, prepared, args, results, stop, edited):
    people = prepared["links"]["people"]
    feeds = [links["ics"] for links in people.values()] or [prepared["links"]["delegation"]["ics"]]
    threads = [
        threading.Thread(
            target=poller, args=(base, feeds[i % len(feeds)], i % 2 == 1, results, stop)
        )
        for i in range(args.pollers)
    ]
    hot = prepared["meetings"][:3]  # several editors on the same meetings: some saves are stale
    threads += [
        threading.Thread(target=editor, args=(base, i, hot, results, stop, edited))
        for i in range(args.editors)
    ]
    pdf = prepared["links"]["delegation"]["pdf"]
    threads += [
        threading.Thread(target=pdf_reader, args=(base, pdf, results, stop, edited))
        for _ in range(args.pdf_readers)
    ]
    for thread in threads:
        thread.daemon = True
        thread.start()
    return threads


def print_table(results: Results, title: str) -> None:
    print(f"\n{title}\n")
    print("| kind | requests | 5xx | other statuses | p50 ms | p99 ms |")
    print("| --- | ---: | ---: | --- | ---: | ---: |")
    for kind in sorted(results.latencies):
        statuses = results.statuses[kind]
        errors = sum(n for s, n in statuses.items() if s >= 500)
        other = ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items()) if s < 500)
        values = results.latencies[kind]
        print(
            f"| {kind} | {len(values)} | {errors} | {other} | "
            f"{percentile(values, 50) * 1000:.0f} | {percentile(values, 99) * 1000:.0f} |"
        )
    for error, n in sorted(results.errors.items()):
        print(f"\nconnection errors: {error}: {n}")


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    return f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--pollers", type=int, default=50)
    parser.add_argument("--editors", type=int, default=5)
    parser.add_argument("--pdf-readers", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=60)
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--private-postgres", action="store_true")
    where.add_argument("--database-url")
    args = parser.parse_args()

    with contextlib.ExitStack() as stack:
        if args.private_postgres:
            url = stack.enter_context(PrivatePostgres("scheduler_load")).url
        else:
            url = args.database_url
        env = service_env(url)
        prepared = prepare(env)
        log_path = Path(tempfile.mkdtemp(prefix="load-")) / "gunicorn.log"
        base, _ = stack.enter_context(gunicorn(env, args.workers, log_path))
        results, stop, edited = Results(), threading.Event(), threading.Event()
        threads = run_load(base, prepared, args, results, stop, edited)
        time.sleep(args.seconds)
        stop.set()
        edited.set()
        for thread in threads:
            thread.join(timeout=60)
        timeouts = log_path.read_text().count("WORKER TIMEOUT")
        lost = lost_saves(env, results.applied)

    print(f"bench/load.py on {machine()}")
    print(
        f"{args.workers} gunicorn workers, {args.pollers} pollers, {args.editors} editors, "
        f"{args.pdf_readers} PDF readers, {args.seconds:.0f} s, PostgreSQL"
    )
    print_table(results, "requests")
    print(
        f"\nsaves: applied {len(results.applied)}, refused 409 {results.refused}, "
        f"other {dict(results.other_saves)}, lost {lost}; worker timeouts {timeouts}"
    )


if __name__ == "__main__":
    main()
