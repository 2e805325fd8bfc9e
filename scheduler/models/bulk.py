"""Many rows of one table in one go: the import's rows and its history.

A batch of at least ``COPY_THRESHOLD`` rows is made into tuples of database values here,
once, and written by the driver: COPY through psycopg on PostgreSQL (one stream instead of
executemany's statement per page of rows), the driver's own executemany on SQLite. Smaller
batches, and other databases, go through Core's ``insert()`` executemany.

Why not Core's executemany for the big batches: at 20,000 meetings it spent most of the
import's time making each row's parameters, passing every value through its type's bind
processing one by one (an instant made UTC, then text, 100,000 times over for a few hundred
distinct times). Here each column's processing is the very function SQLAlchemy uses, applied
once per distinct value; Python-side column defaults are filled as the insert would fill
them; JSON is written by orjson. ``tests/test_bulk_insert.py`` reads the rows back and
compares them with what Core's insert stores.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

import orjson
from sqlalchemy import JSON, Table
from sqlalchemy.engine import Connection

COPY_THRESHOLD = 200


def insert_rows(connection: Connection, table: Table, rows: Sequence[dict]) -> None:
    """Insert ``rows`` (dicts of column keys) into ``table``; no ids come back."""
    if not rows:
        return
    dialect = connection.dialect.name
    if len(rows) < COPY_THRESHOLD or dialect not in ("postgresql", "sqlite"):
        connection.execute(table.insert(), list(rows))
        return
    names, values = _database_values(connection, table, rows)
    if dialect == "postgresql":
        _copy(connection, table, names, values)
    else:
        preparer = connection.dialect.identifier_preparer
        columns = ", ".join(preparer.quote(name) for name in names)
        marks = ", ".join("?" for _ in names)
        statement = f"INSERT INTO {preparer.format_table(table)} ({columns}) VALUES ({marks})"
        connection.exec_driver_sql(statement, values)


def _json_text(value) -> str | None:
    if value is None:
        return None
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # an integer past 64 bits, say: the standard library writes it
        return json.dumps(value)


def _memoised(convert: Callable) -> Callable:
    """``convert`` once per distinct value (times, names and codes repeat across rows)."""
    seen: dict = {}

    def converted(value):
        try:
            return seen[value]
        except KeyError:
            seen[value] = result = convert(value)
            return result
        except TypeError:  # not hashable
            return convert(value)

    return converted


def _database_values(connection: Connection, table: Table, rows: Sequence[dict]):
    """The columns to write and, per row, a tuple of the values the driver takes (made a
    column at a time: a list comprehension and ``map`` per column, then ``zip``)."""
    dialect = connection.dialect
    keys: set[str] = set()
    for row in rows:
        keys.update(row)
    names, columns = [], []
    for column in table.columns:
        given = column.key in keys
        default = column.default
        if not given and (default is None or default.is_sequence or default.is_clause_element):
            continue  # autoincrement id, server default or NULL: the database fills it
        if isinstance(column.type, JSON):
            convert = _json_text
        else:
            processor = column.type.dialect_impl(dialect).bind_processor(dialect)
            convert = _memoised(processor) if processor is not None else None
        names.append(column.name)
        if given:
            key = column.key
            try:
                values = [row[key] for row in rows]
            except KeyError:  # not in every row: the default where it is missing
                values = [row[key] if key in row else _default(default) for row in rows]
            if convert is not None:
                values = list(map(convert, values))
            columns.append(values)
        else:
            value = _default(default)  # once per batch, as one statement's default would be
            columns.append([convert(value) if convert is not None else value] * len(rows))
    return names, list(zip(*columns, strict=True))


def _default(default):
    if default is None:
        return None
    return default.arg if default.is_scalar else default.arg(None)


def _copy(connection: Connection, table: Table, names: list[str], values: list[tuple]) -> None:
    """PostgreSQL's COPY through psycopg, in the connection's transaction."""
    preparer = connection.dialect.identifier_preparer
    columns = ", ".join(preparer.quote(name) for name in names)
    cursor = connection.connection.driver_connection.cursor()
    with cursor, cursor.copy(f"COPY {preparer.format_table(table)} ({columns}) FROM STDIN") as copy:
        for row in values:
            copy.write_row(row)
