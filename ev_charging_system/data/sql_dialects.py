"""What differs between SQLite and PostgreSQL, in one place: conflict-ignoring inserts and
telling a duplicate key from a missing reference."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
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
