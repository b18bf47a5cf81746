"""What differs between SQLite and PostgreSQL, in one place: conflict-ignoring inserts and
telling a duplicate key from a missing reference."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

_POSTGRES_UNIQUE_VIOLATION = "23505"
_SQLITE_UNIQUE_VIOLATIONS = frozenset({"SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"})


def dialect_name(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def insert_ignoring_duplicates(session: AsyncSession, table: Table, key: Sequence[str]) -> Any:
    """INSERT ... ON CONFLICT (key) DO NOTHING; execute it with the rows as parameters.

    Only a conflict on `key` is ignored: a missing foreign key still raises. With
    `.returning(...)` it yields the rows actually inserted, on both databases. The rows go
    as parameters, not `.values(rows)`: the statement is then compiled once and cached,
    and many rows are sent as one multi-row INSERT (SQLAlchemy's "insertmanyvalues").
    """
    name = dialect_name(session)
    if name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=key)
    if name == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=key)
    raise NotImplementedError(f"no conflict-ignoring insert for {name}")


async def insert_new_rows(
    session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]], key: str
) -> list[Any]:
    """Insert `rows`, skipping any whose `key` is already stored; the keys inserted.

    On PostgreSQL the rows go as one array per column through `unnest`: the statement's
    text is the same for any number of rows, so it is parsed once, instead of a
    multi-row VALUES list whose text (and parsing, in the driver: most of the time a batch
    of meter values took) changes with every batch size.
    """
    if not rows:
        return []
    if dialect_name(session) == "postgresql":
        statement, arrays = _unnest_insert(session, table, rows, key)
        return list(await session.scalars(statement, arrays))
    inserted = insert_ignoring_duplicates(session, table, (key,)).returning(table.c[key])
    return list(await session.scalars(inserted, list(rows)))


def _unnest_insert(
    session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]], key: str
) -> tuple[Any, dict[str, list[Any]]]:
    dialect = session.get_bind().dialect
    columns = [column for column in table.columns if column.name in rows[0]]
    arrays: dict[str, list[Any]] = {}
    casts = []
    for column in columns:
        values = [row[column.name] for row in rows]
        process = column.type.bind_processor(dialect)  # e.g. timestamps to UTC
        arrays[column.name] = [process(v) for v in values] if process else values
        casts.append(f"CAST(:{column.name} AS {column.type.compile(dialect=dialect)}[])")
    names = ", ".join(column.name for column in columns)
    statement = text(
        f"INSERT INTO {table.name} ({names}) SELECT * FROM unnest({', '.join(casts)}) "
        f"ON CONFLICT ({key}) DO NOTHING RETURNING {key}"
    )
    return statement, arrays


def is_unique_violation(error: IntegrityError) -> bool:
    """True for a duplicate key; False for a missing reference, NOT NULL or CHECK."""
    original = error.orig
    sqlstate = getattr(original, "sqlstate", None)
    if sqlstate is not None:  # psycopg
        return bool(sqlstate == _POSTGRES_UNIQUE_VIOLATION)
    errorname = getattr(original, "sqlite_errorname", None)
    if errorname is not None:
        return errorname in _SQLITE_UNIQUE_VIOLATIONS
    return "UNIQUE constraint failed" in str(original)
