"""Shared fixtures: a real database of each kind, and the whole application on free ports.

Every test that takes `app` runs once on SQLite and once on PostgreSQL. With CI=true an
unreachable PostgreSQL fails the run instead of skipping it.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Protocol

import httpx
import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from ev_charging_system.application import Application
from ev_charging_system.business_logic.events import DomainEvent, EventFilter
from ev_charging_system.config.settings import Settings
from ev_charging_system.data.database import create_engine, migrate_to_head
from ev_charging_system.data.orm import Base
from ev_charging_system.data.secret_box import new_key

TEST_POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
API_TOKEN = "test-operator-token"
ADMIN_HEADERS = {"Authorization": f"Bearer {API_TOKEN}"}  # the bootstrap admin token
TEST_SECRET_KEY = new_key()


def running_in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _admin_dsn(url: str) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgresql_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test session, dropped afterwards."""
    admin = _admin_dsn(TEST_POSTGRES_URL)
    try:
        connection = psycopg.connect(admin, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        message = f"PostgreSQL at {TEST_POSTGRES_URL} is unreachable: {error}"
        if running_in_ci():
            pytest.fail(message + " (CI=true: PostgreSQL tests must run)")
        pytest.skip(message)
    name = f"evcs_test_{uuid.uuid4().hex[:12]}"
    with connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(TEST_POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("db") / "test.db"
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


_MIGRATED: set[str] = set()  # database URLs already migrated in this test session


@pytest.fixture(scope="module")
async def migrated_database(database_kind: str, request: pytest.FixtureRequest) -> str:
    """The database URL of this kind, migrated to head once per session.

    Module scope on purpose: a session-scoped value would keep the kind it was first
    computed with when a directory overrides `database_kind` (tests/browser runs on SQLite
    only), and every later "[postgresql]" test would silently run on SQLite.
    """
    url = str(request.getfixturevalue(f"{database_kind}_database"))
    if url not in _MIGRATED:
        engine = create_engine(url)
        try:
            await migrate_to_head(engine)
        finally:
            await engine.dispose()
        _MIGRATED.add(url)
    return url


async def empty_all_tables(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            for table in reversed(Base.metadata.sorted_tables):
                await connection.execute(text(f"DELETE FROM {table.name}"))
    finally:
        await engine.dispose()


def test_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "migrate_on_start": False,
        "ocpp_server_host": "127.0.0.1",
        "ocpp_server_port": 0,
        "fastapi_host": "127.0.0.1",
        "fastapi_port": 0,
        "mcp_server_host": "127.0.0.1",
        "mcp_server_port": 0,
        "api_token": API_TOKEN,
        "anthropic_api_key": None,
        "last_seen_flush_seconds": 0.2,
        "secret_key": TEST_SECRET_KEY,
    }
    values.update(overrides)
    # model_validate skips the environment and .env: tests depend only on what they pass.
    return Settings.model_validate(values)


class AppFactory(Protocol):
    async def __call__(self, **overrides: object) -> Application: ...


@pytest.fixture
async def app_factory(migrated_database: str) -> AsyncIterator[AppFactory]:
    """Start the application with chosen settings; stopped at the end of the test."""
    await empty_all_tables(migrated_database)
    started: list[Application] = []

    async def start(**overrides: object) -> Application:
        # `database_url` may point elsewhere (e.g. a fault-injecting proxy in front of it).
        url = str(overrides.pop("database_url", migrated_database))
        application = Application(test_settings(url, **overrides))
        await application.start()
        started.append(application)
        return application

    yield start
    for application in started:
        await application.stop()


@pytest.fixture
async def app(app_factory: AppFactory) -> Application:
    return await app_factory()


@pytest.fixture
async def rest(app: Application) -> AsyncIterator[httpx.AsyncClient]:
    """A client signed in with the bootstrap admin token (API_TOKEN)."""
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{app.rest_port}",
        headers={"Authorization": f"Bearer {API_TOKEN}"},
    ) as client:
        yield client


@pytest.fixture
async def anonymous(app: Application) -> AsyncIterator[httpx.AsyncClient]:
    """A client that sends no token."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{app.rest_port}") as client:
        yield client


@pytest.fixture
def operator() -> dict[str, str]:
    """Headers of an operator allowed to change data."""
    return {"Authorization": f"Bearer {API_TOKEN}"}


def ocpp_url(app: Application) -> str:
    return f"ws://127.0.0.1:{app.ocpp_port}"


@asynccontextmanager
async def expecting(
    application: Application, event_type: str, charge_point_id: str | None = None
) -> AsyncIterator[Callable[..., Awaitable[DomainEvent]]]:
    """Listen before acting, then wait (bounded) for the event the action should cause:

    async with expecting(app, "station.disconnected", "CP-1") as disconnected:
        ...  # act
        await disconnected()
    """
    subscription = application.events.subscribe(
        EventFilter.of([charge_point_id] if charge_point_id else (), [event_type]),
        max_queued=100,
    )

    async def arrival(seconds: float = 10) -> DomainEvent:
        return await asyncio.wait_for(subscription.next(), seconds)

    try:
        yield arrival
    finally:
        subscription.close()
