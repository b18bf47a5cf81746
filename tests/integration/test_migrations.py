"""Alembic revisions build the schema on an empty database of each kind and match the models."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import column, insert, inspect, table, text
from sqlalchemy.engine import make_url

from ev_charging_system.data.database import (
    PROJECT_ROOT,
    create_engine,
    create_session_factory,
    migrate_to_head,
)
from ev_charging_system.data.orm import Base
from ev_charging_system.data.types import ExactDecimal, UTCDateTime
from ev_charging_system.data.unit_of_work import SqlAlchemyUnitOfWork
from ev_charging_system.models.transaction import MeterSample
from tests.conftest import TEST_POSTGRES_URL, _admin_dsn, running_in_ci


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    admin = _admin_dsn(TEST_POSTGRES_URL)
    try:
        connection = psycopg.connect(admin, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        if running_in_ci():
            pytest.fail(f"PostgreSQL unreachable with CI=true: {error}")
        pytest.skip(f"PostgreSQL unreachable: {error}")
    name = f"evcs_migrate_{uuid.uuid4().hex[:12]}"
    with connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(TEST_POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def alembic(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run Alembic by hand, as an operator would, with DATABASE_URL in the environment."""
    return subprocess.run(
        [sys.executable, "-m", "alembic", *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=120,
    )


async def table_names(database_url: str) -> set[str]:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            names = await connection.run_sync(lambda c: inspect(c).get_table_names())
    finally:
        await engine.dispose()
    return set(names) - {"alembic_version"}


async def test_upgrade_head_builds_the_schema_and_alembic_check_finds_no_drift(
    empty_database: str,
) -> None:
    upgraded = alembic(empty_database, "upgrade", "head")
    assert upgraded.returncode == 0, upgraded.stderr
    assert await table_names(empty_database) == set(Base.metadata.tables)

    check = alembic(empty_database, "check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "No new upgrade operations detected" in check.stdout + check.stderr


async def test_downgrade_to_base_and_back_up(empty_database: str) -> None:
    assert alembic(empty_database, "upgrade", "head").returncode == 0
    downgraded = alembic(empty_database, "downgrade", "base")
    assert downgraded.returncode == 0, downgraded.stderr
    assert await table_names(empty_database) == set()
    assert alembic(empty_database, "upgrade", "head").returncode == 0


async def test_meter_dedupe_deletes_stored_copies_and_keys_agree_with_the_repository(
    empty_database: str,
) -> None:
    """0009 deletes replayed samples stored before it (the lowest id stays) and computes
    the same key the repository does, so a later replay of an old sample is ignored."""
    assert alembic(empty_database, "upgrade", "0008").returncode == 0
    t0 = datetime(2026, 3, 1, 8, tzinfo=UTC)
    engine = create_engine(empty_database)
    sample_row = {
        "charge_point_id": "CP-1",
        "connector_id": 1,
        "transaction_id": None,
        "timestamp": t0,
        "measurand": "Energy.Active.Import.Register",
        "raw_value": "100",
        "value": Decimal(100),
        "unit": "Wh",
        "phase": None,
        "context": "Sample.Periodic",
        "location": None,
        "format": None,
    }
    rows = [
        sample_row,  # id 1
        {**sample_row, "raw_value": "101"},  # id 2: a replay (NULLs in the key)
        {**sample_row, "phase": "L1"},  # id 3: another sample
        {**sample_row, "phase": "L1"},  # id 4: its replay
        {**sample_row, "format": "SignedData", "raw_value": "sig"},  # id 5: another sample
        {**sample_row, "timestamp": t0 + timedelta(minutes=1)},  # id 6
    ]
    samples = table(
        "meter_samples",
        *(column(name) for name in sample_row if name not in ("timestamp", "value")),
        column("timestamp", UTCDateTime()),
        column("value", ExactDecimal()),
    )
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO charge_points (id, registration_status, created_at) "
                    "VALUES ('CP-1', 'Accepted', :at)"
                ),
                {"at": t0},
            )
            for row in rows:  # the 0008 table: no key column yet
                await connection.execute(insert(samples).values(**row))
    finally:
        await engine.dispose()

    upgraded = alembic(empty_database, "upgrade", "head")
    assert upgraded.returncode == 0, upgraded.stderr

    engine = create_engine(empty_database)
    try:
        async with engine.connect() as connection:
            kept = (
                await connection.execute(text("SELECT id FROM meter_samples ORDER BY id"))
            ).scalars()
            assert list(kept) == [1, 3, 5, 6]
        sessions = create_session_factory(engine)
        async with SqlAlchemyUnitOfWork(sessions) as uow:
            old = MeterSample(
                charge_point_id="CP-1",
                connector_id=1,
                transaction_id=None,
                timestamp=t0,
                measurand="Energy.Active.Import.Register",
                raw_value="100",
                value=Decimal(100),
                unit="Wh",
                context="Sample.Periodic",
            )
            new = replace(old, timestamp=t0 + timedelta(minutes=2))
            assert await uow.transactions.add_meter_samples([old, new]) == [new]
            await uow.commit()
    finally:
        await engine.dispose()


@pytest.mark.parametrize("empty_database", ["postgresql"], indirect=True)
async def test_nodes_migrating_at_once_take_turns(empty_database: str) -> None:
    """Cluster nodes start together and each migrates on start: one at a time on
    PostgreSQL (an advisory lock), and the later ones find the schema at head. (Several
    nodes need PostgreSQL; SQLite serves one process.)"""
    engines = [create_engine(empty_database) for _ in range(3)]
    try:
        # Without the lock they deadlock on each other's DDL: bounded, so that fails.
        await asyncio.wait_for(asyncio.gather(*(migrate_to_head(engine) for engine in engines)), 60)
    finally:
        for engine in engines:
            await engine.dispose()
    assert await table_names(empty_database) == set(Base.metadata.tables)
