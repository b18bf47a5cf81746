"""Engine, session factory and schema migration on start."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS_DIR = PROJECT_ROOT / "migrations"
ALEMBIC_INI = PROJECT_ROOT / "alembic.ini"


def create_engine(database_url: str, timeout_seconds: float | None = None) -> AsyncEngine:
    """`timeout_seconds` bounds a pool checkout and (PostgreSQL) opening a connection;
    callers bound their statements themselves (business_logic/bounded.py)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    # UTC sessions, so dates cut from timestamps (usage reports per day) are UTC dates.
    # No pre-ping: it costs a round trip on every checkout, i.e. on every OCPP message that
    # writes; stale connections are recycled instead (benchmarks/ocpp_load measures this).
    connect_args: dict[str, Any] = {"options": "-c timezone=UTC"}
    pool_timeout = 30.0  # SQLAlchemy's default
    if timeout_seconds is not None:
        pool_timeout = timeout_seconds
        # libpq counts whole seconds and takes 2 as its least useful value.
        connect_args["connect_timeout"] = max(2, math.ceil(timeout_seconds))
    return create_async_engine(
        url,
        pool_size=20,
        max_overflow=20,
        pool_recycle=1800,
        pool_timeout=pool_timeout,
        connect_args=connect_args,
    )


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the dashboard read while stations write; FKs are off by default in SQLite.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def create_autocommit_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions in which every statement commits on its own, for writes that are a single
    statement (a batch of meter samples): there BEGIN and COMMIT are two more round trips,
    and were a third of the batch's driver time (py-spy under benchmarks/ocpp_load)."""
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
    return async_sessionmaker(autocommit, expire_on_commit=False)


MIGRATION_LOCK_KEY = 0x65766373_6D696772  # "evcsmigr": one key for every database


def alembic_config(database_url: str | None = None) -> Config:
    config = Config(str(ALEMBIC_INI))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if database_url is not None:
        config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


async def migrate_to_head(engine: AsyncEngine) -> None:
    """Run Alembic on this engine's connection, inside the running event loop."""

    def upgrade(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    async with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            # Several nodes of a cluster start at once: one migrates, the others wait for
            # it (the lock ends with this transaction) and then find the schema at head.
            await connection.execute(text(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})"))
        await connection.run_sync(upgrade)
