"""The migrations build exactly the models' schema, on SQLite and on PostgreSQL, and undo it.

`flask db check` (alembic autogenerate) is the contract's test of "no drift"; it does not look
at CHECK constraints or (on SQLite) at every foreign key, so the schema is also compared
table by table, through the inspector, with the one `create_all()` builds from the models.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from scheduler import create_app
from scheduler.extensions import db

MIGRATIONS = Path(__file__).resolve().parent.parent / "scheduler" / "migrations"


def _app(url: str):
    return create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request, tmp_path):
    """An empty database URL of each kind; PostgreSQL through the conftest fixture."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'migrated.sqlite'}"
    return request.getfixturevalue("postgres_database")


@pytest.fixture
def migrated_app(empty_database):
    app = _app(empty_database)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _flask_db(app, *args):
    result = app.test_cli_runner().invoke(args=["db", *args])
    return result


def _schema_snapshot(connection) -> dict:
    """Each table's columns, keys, indexes and checks, comparable across two databases."""
    inspector = inspect(connection)
    snapshot = {}
    for table in sorted(inspector.get_table_names()):
        if table == "alembic_version":
            continue
        columns = [
            (c["name"], str(c["type"]).upper(), c["nullable"]) for c in inspector.get_columns(table)
        ]
        snapshot[table] = {
            "columns": sorted(columns),
            "primary_key": sorted(inspector.get_pk_constraint(table)["constrained_columns"]),
            "foreign_keys": sorted(
                (
                    fk["name"] or "",
                    tuple(fk["constrained_columns"]),
                    fk["referred_table"],
                    tuple(fk["referred_columns"]),
                )
                for fk in inspector.get_foreign_keys(table)
            ),
            "unique": sorted(
                (u["name"] or "", tuple(u["column_names"]))
                for u in inspector.get_unique_constraints(table)
            ),
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                for i in inspector.get_indexes(table)
                # SQLite reports the unique constraints' automatic indexes too.
                if not (i["name"] or "").startswith("sqlite_autoindex")
            ),
            "checks": sorted(
                (c["name"] or "", " ".join(c["sqltext"].replace('"', "").split()))
                for c in inspector.get_check_constraints(table)
            ),
        }
    return snapshot


def test_there_is_exactly_one_head():
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    script = ScriptDirectory.from_config(config)
    assert len(script.get_heads()) == 1, script.get_heads()
    assert len(script.get_bases()) == 1, script.get_bases()


def test_upgrade_gives_exactly_the_models_schema_and_downgrade_undoes_it(migrated_app):
    result = _flask_db(migrated_app, "upgrade")
    assert result.exit_code == 0, result.output

    check = _flask_db(migrated_app, "check")
    assert check.exit_code == 0, check.output + check.stderr

    with migrated_app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []
        assert connection.execute(text("SELECT version_num FROM alembic_version")).all() != []
        migrated = _schema_snapshot(connection)
    assert set(migrated) == set(db.metadata.tables)

    result = _flask_db(migrated_app, "downgrade", "base")
    assert result.exit_code == 0, result.output
    with migrated_app.app_context():
        with db.engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
        # The same database built straight from the models: the schema must be identical.
        db.create_all()
        with db.engine.connect() as connection:
            assert _schema_snapshot(connection) == migrated


def test_db_check_notices_drift(migrated_app):
    """The check above can fail: a schema that lost an index is reported, exit 1."""
    assert _flask_db(migrated_app, "upgrade").exit_code == 0
    with migrated_app.app_context(), db.engine.begin() as connection:
        connection.execute(text("DROP INDEX ix_meeting_start"))
    result = _flask_db(migrated_app, "check")
    assert result.exit_code == 1
    assert "ix_meeting_start" in result.output + result.stderr


def test_upgrade_is_idempotent_and_the_schema_takes_an_import(migrated_app, reference_document):
    """A second upgrade is a no-op, and the migrated schema accepts the reference visit."""
    from scheduler.itinerary.document import export_itinerary, import_itinerary

    assert _flask_db(migrated_app, "upgrade").exit_code == 0
    assert _flask_db(migrated_app, "upgrade").exit_code == 0
    with migrated_app.app_context():
        import_itinerary(db.session, reference_document)
        db.session.commit()
        exported = export_itinerary(db.session, reference_document["delegation"]["key"])
    assert [m["key"] for m in exported["meetings"]] == [
        m["key"] for m in reference_document["meetings"]
    ]
