"""Render the first pages of the reference visit's agenda PDFs to PNG, to look at them.

    python scripts/render_agenda_pages.py [--pages 4] [--out tests/artifacts/agenda-pages]

Loads the reference visit (scheduler/demo/shonan-ipark-2024.json) into a throwaway SQLite
database, renders the delegation's shared PDF (A4), the deputy minister's (US Letter) and the
coordinator copy (A4), and turns their first pages into PNGs with poppler's pdftoppm. The
output folder is gitignored: images are for eyes, not for the repository.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scheduler import create_app  # noqa: E402
from scheduler.agenda.assemble import COORDINATOR, SHARED, build_agenda  # noqa: E402
from scheduler.agenda.render import render_agenda_pdf  # noqa: E402
from scheduler.extensions import db  # noqa: E402
from scheduler.itinerary.conflicts import check_delegation  # noqa: E402
from scheduler.itinerary.document import import_itinerary, load_delegation  # noqa: E402

REFERENCE = ROOT / "scheduler" / "demo" / "shonan-ipark-2024.json"
DEFAULT_OUT = ROOT / "tests" / "artifacts" / "agenda-pages"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=4, help="pages per PDF (default 4)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for PDFs and PNGs")
    parser.add_argument("--dpi", type=int, default=80, help="resolution of the PNGs (default 80)")
    parser.add_argument("--person", default="lim", help="person key for the personal agenda")
    args = parser.parse_args()
    if shutil.which("pdftoppm") is None:
        print("pdftoppm not found: apt-get install poppler-utils", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/agenda.sqlite", "TESTING": True}
        )
        with app.app_context():
            db.create_all()
            document = json.loads(REFERENCE.read_text("utf-8"))
            key = import_itinerary(db.session, document).delegation_key
            db.session.commit()
            delegation = load_delegation(db.session, key)
            person = next(p for p in delegation.people if p.key == args.person)
            jobs = {
                "delegation-a4": (build_agenda(delegation, audience=SHARED), "a4"),
                f"{person.key}-letter": (build_agenda(delegation, person=person), "letter"),
                "coordinator-a4": (
                    build_agenda(
                        delegation,
                        audience=COORDINATOR,
                        conflicts=check_delegation(db.session, delegation),
                    ),
                    "a4",
                ),
            }
            for name, (agenda, paper) in jobs.items():
                pdf_path = args.out / f"{name}.pdf"
                pdf_path.write_bytes(render_agenda_pdf(agenda, paper=paper))
                for old in args.out.glob(f"{name}-*.png"):
                    old.unlink()
                subprocess.run(
                    ["pdftoppm", "-png", "-r", str(args.dpi), "-f", "1", "-l", str(args.pages)]
                    + [str(pdf_path), str(args.out / name)],
                    check=True,
                )
            db.session.remove()
            db.engine.dispose()
    for png in sorted(args.out.glob("*.png")):
        print(png.relative_to(ROOT) if png.is_relative_to(ROOT) else png)
    return 0


if __name__ == "__main__":
    sys.exit(main())
