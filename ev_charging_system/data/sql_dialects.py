"""What differs between SQLite and PostgreSQL, in one place: conflict-ignoring inserts,
telling a duplicate key from a missing reference, and the few expressions time-bucketed
aggregates need (bucket of a timestamp, a stored decimal as a number, the latest value)."""

from __future__ import annotations

import functools
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Float,
    Integer,
    SQLColumnExpression,
    String,
    Table,
    TextClause,
    cast,
    func,
    literal_column,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

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


def upsert(
    session: AsyncSession,
    table: Table,
    key: Sequence[str],
    update: Sequence[str],
    returning: Sequence[str] = (),
) -> Any:
    """INSERT ... ON CONFLICT (key) DO UPDATE SET each column of `update` to the value the
    row would have had [RETURNING `returning`]; execute it with the rows as parameters (one
    multi-row INSERT, as above). A statement must not name one key twice: PostgreSQL
    refuses to update a row twice in one statement. Built once per shape: building it and
    its cache key again on every batch was a few percent of a storm's CPU."""
    return _upsert(dialect_name(session), table, tuple(key), tuple(update), tuple(returning))


@functools.cache
def _upsert(
    name: str,
    table: Table,
    key: tuple[str, ...],
    update: tuple[str, ...],
    returning: tuple[str, ...],
) -> Any:
    statement: Any
    if name == "postgresql":
        statement = postgresql.insert(table)
    elif name == "sqlite":
        statement = sqlite.insert(table)
    else:
        raise NotImplementedError(f"no upsert for {name}")
    excluded = statement.excluded
    statement = statement.on_conflict_do_update(
        index_elements=key, set_={column: excluded[column] for column in update}
    )
    if returning:
        statement = statement.returning(*(table.c[column] for column in returning))
    return statement


@dataclass(frozen=True, slots=True)
class NewRows:
    """Rows for one table, each skipped if its `conflict` key (a unique constraint of text
    or integer columns) is stored already.

    With `after` (the index of an earlier part), a row is inserted only if the row of
    that part whose key (`key_of`) it names under AFTER was inserted by the same call.
    """

    table: Table
    rows: Sequence[dict[str, Any]]
    conflict: tuple[str, ...]
    after: int | None = None

    def key_of(self, row: dict[str, Any]) -> str:
        """A row's conflict key in the form `insert_new_rows_together` answers with."""
        return _KEY_SEPARATOR.join(str(row[name]) for name in self.conflict)


AFTER = "_after"
# Joins the columns of a composite key in answers: no key value of ours contains it.
_KEY_SEPARATOR = "\x1f"


async def insert_new_rows(
    session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]], key: str
) -> set[str]:
    """Insert `rows`, skipping any whose `key` is already stored; the keys inserted."""
    (inserted,) = await insert_new_rows_together(session, [NewRows(table, rows, (key,))])
    return inserted


async def insert_new_rows_together(
    session: AsyncSession, parts: Sequence[NewRows]
) -> list[set[str]]:
    """Insert each part's rows, skipping those already stored; per part, the conflict keys
    (`NewRows.key_of`) of the rows inserted. Rows of one part with equal keys: the first
    is inserted.

    On PostgreSQL every part goes in one statement (a data-modifying CTE per table), so
    it needs no BEGIN/COMMIT around it to be atomic: two round trips fewer. Each part's
    rows go as one JSON document, unpacked by `json_populate_recordset` into the table's
    own row type: the statement's text is the same for any number of rows (parsed and
    prepared once), and its one parameter is written by the C JSON encoder. A multi-row
    VALUES list changes its text with every batch size; one array per column through
    `unnest` had the driver build 17 arrays in Python: 1.7 ms of CPU for 25 meter
    samples against 1.1 ms this way (measured beside each other in one process).
    On SQLite, one statement per part, in the caller's transaction.
    """
    if not any(part.rows for part in parts):
        return [set() for _ in parts]
    if dialect_name(session) == "postgresql":
        return await _insert_in_one_statement(session, parts)
    answers: list[set[str]] = []
    for part in parts:
        rows = list(part.rows)
        if part.after is not None:
            wanted = answers[part.after]
            rows = [_without_after(row) for row in rows if row[AFTER] in wanted]
        keys: set[str] = set()
        if rows:
            columns = [part.table.c[name] for name in part.conflict]
            statement = insert_ignoring_duplicates(session, part.table, part.conflict)
            for row in await session.execute(statement.returning(*columns), rows):
                keys.add(_KEY_SEPARATOR.join(str(value) for value in row))
        answers.append(keys)
    return answers


async def _insert_in_one_statement(
    session: AsyncSession, parts: Sequence[NewRows]
) -> list[set[str]]:
    shapes = tuple(
        (
            part.table,
            tuple(name for name in (part.rows[0] if part.rows else part.conflict) if name != AFTER),
            part.conflict,
            part.after,
        )
        for part in parts
    )
    documents = {f"rows{index}": json_rows(part.rows) for index, part in enumerate(parts)}
    inserted: list[set[str]] = [set() for _ in parts]
    for index, key in await session.execute(_json_insert(shapes), documents):
        inserted[index].add(key)
    return inserted


def _without_after(row: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in row.items() if name != AFTER}


@functools.cache
def _json_insert(
    parts: tuple[tuple[Table, tuple[str, ...], tuple[str, ...], int | None], ...],
) -> TextClause:
    ctes = []
    for index, (table, columns, conflict, after) in enumerate(parts):
        names = ", ".join(table.c[name].name for name in columns)  # unknown names raise here
        key = ", ".join(table.c[name].name for name in conflict)
        document = f"CAST(:rows{index} AS json)"
        if after is None:
            rows = f"SELECT {names} FROM json_populate_recordset(NULL::{table.name}, {document})"
        else:
            rows = (
                f"SELECT {', '.join(f'r.{name}' for name in names.split(', '))} "
                f"FROM json_array_elements({document}) AS element "
                f"CROSS JOIN LATERAL json_populate_record(NULL::{table.name}, element) AS r "
                f"WHERE element->>'{AFTER}' IN (SELECT key FROM part{after})"
            )
        ctes.append(
            f"part{index} AS (INSERT INTO {table.name} ({names}) {rows} "
            f"ON CONFLICT ({key}) DO NOTHING "
            f"RETURNING {index} AS part, concat_ws(chr(31), {key}) AS key)"
        )
    answers = " UNION ALL ".join(f"SELECT part, key FROM part{i}" for i in range(len(parts)))
    return text(f"WITH {', '.join(ctes)} {answers}")


def json_rows(rows: Sequence[dict[str, Any]]) -> str:
    """Rows as one JSON document for `json_populate_recordset` (PostgreSQL): one bound
    parameter, written by the C JSON encoder, for a statement whose text never changes."""
    return json.dumps(rows, default=_json_value, separators=(",", ":"))


def _json_value(value: object) -> str:
    """What JSON lacks, written as PostgreSQL reads it: exact decimals as text, instants
    as ISO 8601 with their offset (a naive one is UTC, as everywhere in this project)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    raise TypeError(f"no JSON form for {type(value).__name__}")


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


# --- time-bucketed aggregates (data/meter_archive.py) ------------------------------------


def bucket_epoch(name: str, moment: SQLColumnExpression[Any], seconds: int) -> ColumnElement[int]:
    """The start of the `seconds`-long bucket holding `moment`, as seconds since 1970 UTC.

    Buckets are aligned on the epoch, so 900 s buckets start at :00, :15, :30 and :45 as
    models.meter_rollup.bucket_start's do. Integers, not timestamps: they compare and group
    the same way on both databases and come back without time-zone handling.
    """
    if name == "sqlite":  # naive UTC text (data/types.py); strftime reads it as UTC
        epoch = cast(func.strftime("%s", moment), Integer)
        return epoch.op("/")(seconds).op("*")(seconds)  # integer division, as SQLite does
    if name == "postgresql":
        # date_bin (PostgreSQL 14+) is exact integer arithmetic on the timestamp; the
        # numeric EXTRACT(EPOCH ...) / 900 it replaces cost seconds over millions of rows.
        start = func.date_bin(
            literal_column(f"INTERVAL '{seconds} seconds'"),
            moment,
            literal_column("TIMESTAMPTZ '1970-01-01 00:00:00+00'"),
        )
        return cast(func.date_part("epoch", start), BigInteger)
    raise NotImplementedError(f"no time buckets for {name}")


def as_number(decimal: SQLColumnExpression[Any]) -> ColumnElement[float]:
    """A stored decimal (data/types.py ExactDecimal) as a float SQL adds and compares fast:
    SQLite keeps it as text, whose min() and max() would compare letters ("9" > "10"), and
    PostgreSQL's NUMERIC arithmetic is several times slower than double precision (charts
    end as floats anyway)."""
    return cast(decimal, Float)


def latest(
    name: str, value: SQLColumnExpression[Any], at: SQLColumnExpression[Any]
) -> ColumnElement[Any]:
    """Aggregate: `value` of the row with the latest `at` in the group.

    SQLite: the largest "timestamp|value" text is the latest row's (timestamps are stored
    as fixed-format text that sorts by time); the value, still text, is cut from behind the
    separator, which no timestamp contains. PostgreSQL: the largest [epoch, value] array,
    as a float. Neither is an ordered aggregate, so grouping can hash instead of sorting.
    """
    if name == "sqlite":
        joined = func.max(cast(at, String) + "|" + cast(value, String))
        return func.substr(joined, func.instr(joined, "|") + 1)
    if name == "postgresql":
        pair = postgresql.array((func.date_part("epoch", at), as_number(value)))
        return func.max(pair, type_=postgresql.ARRAY(Float))[2]
    raise NotImplementedError(f"no latest-value aggregate for {name}")


@asynccontextmanager
async def large_aggregate(session: AsyncSession) -> AsyncIterator[None]:
    """Settings for one large reporting statement run inside the block.

    PostgreSQL: no JIT (compiling a long statement took 2 s of 20) and memory to group
    and sort in (its default 4 MB sent millions of rows to disk); SET LOCAL ends with the
    transaction. SQLite: grouping and sorting in memory with a larger page cache (a third
    less time over millions of rows); pragmas outlive transactions, so the connection's
    own values are put back (it returns to the pool).
    """
    name = dialect_name(session)
    if name == "postgresql":
        await session.execute(text("SET LOCAL jit = off"))
        await session.execute(text("SET LOCAL work_mem = '64MB'"))
        yield
        return
    if name != "sqlite":
        yield
        return
    store = (await session.execute(text("PRAGMA temp_store"))).scalar_one()
    cache = (await session.execute(text("PRAGMA cache_size"))).scalar_one()
    await session.execute(text("PRAGMA temp_store = MEMORY"))
    await session.execute(text("PRAGMA cache_size = -65536"))  # 64 MiB
    try:
        yield
    finally:
        await session.execute(text(f"PRAGMA temp_store = {int(store)}"))
        await session.execute(text(f"PRAGMA cache_size = {int(cache)}"))
