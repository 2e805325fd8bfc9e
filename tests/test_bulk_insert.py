"""The import's bulk writer (COPY on PostgreSQL, the driver's executemany on SQLite) stores
what Core's insert stores."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import psycopg
from sqlalchemy import select, text

from scheduler import create_app
from scheduler.extensions import db
from scheduler.itinerary.document import dump_document, export_itinerary, import_itinerary
from scheduler.models import HistoryEntry, bulk
from tests.conftest import POSTGRES_ADMIN_URL

ROOT = Path(__file__).resolve().parent.parent
# Enough meetings that every bulk table (meetings, attendances, organisation links, people,
# history) passes the COPY threshold.
MEETINGS = 400


def _generated() -> dict:
    spec = importlib.util.spec_from_file_location("bench_import", ROOT / "bench" / "import.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.generate(MEETINGS, 40)


def _import_and_read(url: str, document: dict) -> tuple[str, list[tuple], dict]:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        db.create_all()
        import_itinerary(db.session, document)
        db.session.commit()
        db.session.expire_all()
        exported = dump_document(export_itinerary(db.session, document["delegation"]["key"]))
        raw = {
            table: [
                tuple(_comparable(name, value) for name, value in row._mapping.items())
                for row in db.session.execute(text(f"SELECT * FROM {table} ORDER BY 1, 2"))
            ]
            for table in (
                "meeting",
                "attendance",
                "meeting_organization",
                "person",
                "history_entry",
            )
        }
        history = [
            (e.action, e.entity, e.key, e.changes, e.at.utcoffset() is not None, e.user_id)
            for e in db.session.scalars(select(HistoryEntry).order_by(HistoryEntry.id))
        ]
        db.session.remove()
        db.engine.dispose()
    return exported, history, raw


def _comparable(name: str, value):
    """A stored value as the database holds it; moments and random credentials by their form."""
    if name in ("created_at", "updated_at", "at", "share_selector", "share_secret"):
        return (name, type(value).__name__, len(str(value)))  # a moment, or random
    if name == "changes" and isinstance(value, str):  # SQLite's JSON: text, spacing aside
        return (name, json.loads(value))
    return (name, value)


def test_copy_and_executemany_store_the_same_programme_and_history(postgres_database, monkeypatch):
    document = _generated()
    copied = _import_and_read(postgres_database, document)

    # The same import into a second database, with COPY turned off.
    monkeypatch.setattr(bulk, "COPY_THRESHOLD", 10**9)
    admin = POSTGRES_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    name = postgres_database.rsplit("/", 1)[1] + "_b"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        inserted = _import_and_read(postgres_database + "_b", document)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    assert len(copied[1]) > MEETINGS  # the history really went through the bulk path
    assert copied[0] == inserted[0]
    assert copied[1] == inserted[1]
    assert copied[2] == inserted[2]


def test_the_driver_executemany_stores_what_core_stores_on_sqlite(tmp_path, monkeypatch):
    document = _generated()
    direct = _import_and_read(f"sqlite:///{tmp_path}/direct.sqlite", document)
    monkeypatch.setattr(bulk, "COPY_THRESHOLD", 10**9)
    through_core = _import_and_read(f"sqlite:///{tmp_path}/core.sqlite", document)

    assert len(direct[1]) > MEETINGS
    assert direct[0] == through_core[0]
    assert direct[1] == through_core[1]
    assert direct[2] == through_core[2]


def _people_filter_finds_bulk_entries(url: str) -> None:
    from scheduler.itinerary.history import history_query
    from scheduler.models import Attendance, Delegation, Meeting, Person

    document = _generated()
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        db.create_all()
        import_itinerary(db.session, document)
        db.session.commit()
        delegation = db.session.scalar(select(Delegation))
        person = db.session.scalar(select(Person).order_by(Person.key))
        attended = set(
            db.session.scalars(
                select(Meeting.key).join(Attendance).where(Attendance.person_id == person.id)
            )
        )
        found = db.session.scalars(history_query(delegation.id, person=person.key)).all()
        mentioned = {e.key for e in found if e.entity == "meeting"}
        db.session.remove()
        db.engine.dispose()
    assert len(attended) > 5
    assert mentioned == attended  # every creation naming them, written in bulk, is found


def test_the_history_person_filter_finds_what_the_bulk_writer_wrote_sqlite(tmp_path):
    # found on the history page: orjson writes '"person":"x"', the filter looked for
    # json.dumps' '"person": "x"', so an import's meetings were missing from a person's view
    _people_filter_finds_bulk_entries(f"sqlite:///{tmp_path}/bulk.sqlite")


def test_the_history_person_filter_finds_what_the_bulk_writer_wrote_postgres(postgres_database):
    _people_filter_finds_bulk_entries(postgres_database)
