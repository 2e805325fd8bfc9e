"""Time the agenda PDF: the reference visit and a generated 300-meeting visit.

    python bench/agenda.py [--repeat 3] [--database-url URL]

Loads both visits into a throwaway SQLite database (or the PostgreSQL database given, which
is emptied first), then for the whole delegation and for one person times: loading and
assembling the programme (queries included), rendering the HTML, and laying out and writing
the PDF with WeasyPrint (CPU seconds beside the wall clock, as the machine may be busy).
Then through the share link's route (Flask test client, PDF cache in a temporary folder):
the first request with an empty cache (cold: load, assemble, render, store), a repeat
request (served from the cache), and a conditional one (If-None-Match: 304).
Prints the median of --repeat runs as a table (milliseconds) and the load average.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import io  # noqa: E402
import os  # noqa: E402

from pypdf import PdfReader  # noqa: E402

from scheduler import create_app  # noqa: E402
from scheduler.agenda.assemble import SHARED, build_agenda  # noqa: E402
from scheduler.agenda.render import (  # noqa: E402
    STYLESHEET,
    pdf_renders,
    render_agenda_html,
    render_agenda_pdf,
)
from scheduler.extensions import db  # noqa: E402
from scheduler.itinerary.document import import_itinerary, load_delegation  # noqa: E402

TOPICS = ["investment", "licensing", "R&D", "site visit"]
REFERENCE = ROOT / "scheduler" / "demo" / "shonan-ipark-2024.json"

KOREAN_NAMES = ["김민준", "이서연", "박지호", "최수아", "정도윤", "강하은", "조시우", "윤지유"]
JAPANESE_NAMES = ["佐藤 健", "鈴木 花子", "高橋 誠", "田中 美咲", "伊藤 大輔", "渡辺 愛"]
VENUES = [
    ("Shonan iPark", "湘南アイパーク", 35.3386, 139.4988),
    ("Tokyo head office", "東京本社", 35.6812, 139.7671),
    ("Tsukuba research centre", "つくば研究所", 36.0835, 140.1133),
    ("Yokohama hotel", "横浜ホテル", 35.4437, 139.6380),
    ("Kawasaki lab", "川崎ラボ", 35.5308, 139.7029),
    ("Chiba campus", "千葉キャンパス", 35.6074, 140.1065),
    ("Shinagawa office", "品川オフィス", 35.6285, 139.7387),
    ("Kashiwa lab", "柏の葉ラボ", 35.8930, 139.9520),
]


def generated_visit(meetings: int, *, seed: int = 7) -> dict:
    """A five-day visit of that many meetings: 40 people, 8 venues, names in Hangul and kanji."""
    rng = random.Random(seed)
    people = []
    for i in range(40):
        korean = i % 2 == 0
        names = KOREAN_NAMES if korean else JAPANESE_NAMES
        people.append(
            {
                "key": f"p{i}",
                "name": f"Person {i}",
                "native_name": names[i % len(names)],
                "title": rng.choice(["CEO", "Director", "Deputy Minister", "Researcher"]),
                "organization": "mss" if korean else "host",
                "role": "delegation" if korean else "host",
                "email": f"p{i}@example.org",
                "phone": f"+81 90 {1000 + i:04d} {2000 + i:04d}",
            }
        )
    document = {
        "format": "delegation-itinerary/1",
        "delegation": {
            "key": "bench-300",
            "name": "Generated delegation visit",
            "native_name": "생성된 대표단 방문",
            "host": "Bench host",
            "timezone": "Asia/Tokyo",
            "start_date": "2024-09-23",
            "end_date": "2024-09-27",
        },
        "organizations": [
            {
                "key": "mss",
                "name": "Ministry of SMEs and Startups",
                "native_name": "중소벤처기업부",
                "country": "KR",
            },
            {
                "key": "host",
                "name": "Host company",
                "native_name": "ホスト株式会社",
                "country": "JP",
            },
        ],
        "people": people,
        "venues": [
            {
                "key": f"v{i}",
                "name": name,
                "native_name": native,
                "address": f"{i + 1}-1 Example-cho, Japan",
                "timezone": "Asia/Tokyo",
                "latitude": lat,
                "longitude": lon,
                "rooms": [{"key": "a", "name": "Room A"}, {"key": "b", "name": "Room B"}],
            }
            for i, (name, native, lat, lon) in enumerate(VENUES)
        ],
        "travel_times": [
            {"from": f"v{i}", "to": f"v{i + 1}", "minutes": 30 + 5 * i, "mode": "car"}
            for i in range(len(VENUES) - 1)
        ],
        "meetings": [],
    }
    per_day = -(-meetings // 5)
    for n in range(meetings):
        day, slot = divmod(n, per_day)
        minute = 8 * 60 + slot * (12 * 60 // per_day)
        start = f"2024-09-{23 + day:02d}T{minute // 60:02d}:{minute % 60:02d}"
        end_minute = minute + 45
        end = f"2024-09-{23 + day:02d}T{end_minute // 60:02d}:{end_minute % 60:02d}"
        attendees = rng.sample(range(40), rng.randint(3, 7))
        document["meetings"].append(
            {
                "key": f"m{n}",
                "title": f"Meeting {n}: {rng.choice(TOPICS)}",
                "native_title": "협력 회의" if n % 3 == 0 else None,
                "kind": rng.choice(["meeting", "visit", "briefing", "meal"]),
                "status": "cancelled" if n % 25 == 24 else "confirmed",
                "start": start,
                "end": end,
                "venue": f"v{rng.randrange(len(VENUES))}",
                "attendees": [{"person": f"p{i}"} for i in attendees],
                "agenda": "Presentations; questions; next steps. " * rng.randint(1, 4),
                "internal_notes": "Check the guest list." if n % 7 == 0 else None,
            }
        )
        if document["meetings"][-1]["native_title"] is None:
            del document["meetings"][-1]["native_title"]
        if document["meetings"][-1]["internal_notes"] is None:
            del document["meetings"][-1]["internal_notes"]
    return document


def timed(function, repeat: int, before=None):
    times, result = [], None
    for _ in range(repeat):
        if before is not None:
            before()
        started = time.perf_counter()
        result = function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def timed_cpu(function, repeat: int):
    """(median wall ms, median CPU ms, result)."""
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = function()
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return statistics.median(walls), statistics.median(cpus), result


def load_average() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--meetings", type=int, default=300, help="size of the generated visit")
    parser.add_argument("--database-url", help="default: a throwaway SQLite file")
    args = parser.parse_args()

    load_before = load_average()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.sqlite"

        def forget_pdfs():
            """A cold start: no stored copy (issue 20: they are rows of rendered_pdf)."""
            from scheduler.models import RenderedPdf

            with app.app_context():
                db.session.execute(RenderedPdf.__table__.delete())
                db.session.commit()

        app = create_app(
            {"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "AGENDA_PDF_JOB_THREADED": False}
        )
        client = app.test_client()
        rows = []
        with app.app_context():
            db.drop_all()
            db.create_all()
            reference = json.loads(REFERENCE.read_text("utf-8"))
            visits = [
                ("reference", import_itinerary(db.session, reference).delegation_key, "lim"),
                (
                    f"{args.meetings} meetings",
                    import_itinerary(db.session, generated_visit(args.meetings)).delegation_key,
                    "p0",
                ),
            ]
            db.session.commit()
            for label, key, person_key in visits:
                for whom in ("delegation", person_key):

                    def assemble(key=key, whom=whom):
                        db.session.expunge_all()
                        delegation = load_delegation(db.session, key)
                        person = (
                            None
                            if whom == "delegation"
                            else next(p for p in delegation.people if p.key == whom)
                        )
                        return build_agenda(delegation, person=person, audience=SHARED)

                    assemble_ms, agenda = timed(assemble, args.repeat)
                    html_ms, _ = timed(
                        lambda agenda=agenda: render_agenda_html(
                            agenda, stylesheet_href=STYLESHEET
                        ),
                        args.repeat,
                    )
                    pdf_ms, pdf_cpu_ms, pdf = timed_cpu(
                        lambda agenda=agenda: render_agenda_pdf(agenda), args.repeat
                    )
                    pages = len(PdfReader(io.BytesIO(pdf)).pages)
                    delegation = load_delegation(db.session, key)
                    entity = (
                        delegation
                        if whom == "delegation"
                        else next(p for p in delegation.people if p.key == whom)
                    )
                    path = f"/share/{entity.share_token}/agenda.pdf"
                    db.session.rollback()  # the requests open their own sessions

                    def get(path=path, headers=None):
                        response = client.get(path, headers=headers or {})
                        if response.status_code == 202:
                            # Requests here share the open app context, whose end would
                            # run the job: run it now, as a worker would, then ask again.
                            from scheduler import jobs

                            jobs.run_ready(app)
                            response = client.get(path, headers=headers or {})
                        assert response.status_code in (200, 304), response.status_code
                        return response

                    cold_ms, _ = timed(get, args.repeat, before=forget_pdfs)
                    renders_before = pdf_renders.count
                    cached_ms, response = timed(get, args.repeat)
                    conditional = {"If-None-Match": response.headers["ETag"]}
                    not_modified_ms, response = timed(
                        lambda headers=conditional: get(headers=headers), args.repeat
                    )
                    assert response.status_code == 304 and pdf_renders.count == renders_before
                    rows.append(
                        (
                            label,
                            whom,
                            len(agenda.items),
                            pages,
                            len(pdf) // 1024,
                            assemble_ms,
                            html_ms,
                            pdf_ms,
                            pdf_cpu_ms,
                            cold_ms,
                            cached_ms,
                            not_modified_ms,
                        )
                    )
            db.drop_all()
            db.session.remove()
            db.engine.dispose()

    dialect = url.split(":", 1)[0].split("+", 1)[0]
    print(
        f"Agenda PDF (A4), median of {args.repeat}; Python {platform.python_version()}, "
        f"{dialect}, WeasyPrint {__import__('weasyprint').__version__}, "
        f"{os.cpu_count()} CPUs, load average {load_before} before, {load_average()} after"
    )
    header = (
        "visit",
        "agenda of",
        "meetings",
        "pages",
        "PDF KiB",
        "assemble ms",
        "HTML ms",
        "PDF ms",
        "PDF CPU ms",
        "cold request ms",
        "cached request ms",
        "304 ms",
    )
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join(" --- " for _ in header) + "|")
    for label, whom, meetings, pages, kib, *times in rows:
        print(
            f"| {label} | {whom} | {meetings} | {pages} | {kib} | "
            + " | ".join(f"{t:.0f}" for t in times)
            + " |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
