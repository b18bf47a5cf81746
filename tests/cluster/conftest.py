"""Two or more nodes of one cluster in this process: one PostgreSQL database, one NATS.

Every test gets its own cluster name (its own NATS subjects and advisory lock), so runs
sharing the NATS server do not hear each other. With CI=true an unreachable NATS fails
the run instead of skipping it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol
from urllib.parse import urlsplit

import nats
import pytest
from nats.js.errors import NotFoundError

from ev_charging_system.application import Application
from tests.conftest import empty_all_tables, running_in_ci, test_settings

TEST_NATS_URL = os.environ.get("TEST_NATS_URL", "nats://127.0.0.1:4222")
LEASE_SECONDS = 1.5  # short leases: leadership and dead-node expiry within seconds


@pytest.fixture(scope="session", params=["postgresql"])
def database_kind(request: pytest.FixtureRequest) -> str:
    """A cluster needs PostgreSQL (shared state, advisory locks): no SQLite variant."""
    return str(request.param)


@pytest.fixture(scope="session")
def nats_url() -> str:
    parts = urlsplit(TEST_NATS_URL)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 4222), 3).close()
    except OSError as error:
        message = f"NATS at {TEST_NATS_URL} is unreachable: {error}"
        if running_in_ci():
            pytest.fail(message + " (CI=true: cluster tests must run)")
        pytest.skip(message)
    return TEST_NATS_URL


class NodeFactory(Protocol):
    async def __call__(self, node_id: str, **overrides: object) -> Application: ...


class Cluster:
    def __init__(self, database_url: str, nats: str) -> None:
        self.database_url = database_url
        self.nats_url = nats
        self.name = f"t{uuid.uuid4().hex[:12]}"
        self.nodes: list[Application] = []

    def settings_of(self, node_id: str, **overrides: object) -> dict[str, object]:
        return {
            "cluster_nats_url": self.nats_url,
            "cluster_name": self.name,
            "node_id": node_id,
            "cluster_lease_seconds": LEASE_SECONDS,
            **overrides,
        }

    async def start(self, node_id: str, **overrides: object) -> Application:
        node = Application(
            test_settings(self.database_url, **self.settings_of(node_id, **overrides))
        )
        await node.start()
        self.nodes.append(node)
        return node

    async def stop(self, node: Application) -> None:
        self.nodes.remove(node)
        await node.stop()


WATCHDOG_SECONDS = 90.0  # no test here takes this long: print where every task waits


async def _watchdog() -> None:
    await asyncio.sleep(WATCHDOG_SECONDS)
    print(f"--- cluster test still running after {WATCHDOG_SECONDS:g} s; tasks:", file=sys.stderr)
    for task in asyncio.all_tasks():
        task.print_stack(file=sys.stderr)


@pytest.fixture
async def cluster(migrated_database: str, nats_url: str) -> AsyncIterator[Cluster]:
    watchdog = asyncio.create_task(_watchdog())
    await empty_all_tables(migrated_database)
    running = Cluster(migrated_database, nats_url)
    try:
        yield running
        for node in list(running.nodes):
            await running.stop(node)
    finally:
        watchdog.cancel()
        await _forget_event_log(nats_url, running.name)


async def _forget_event_log(url: str, cluster_name: str) -> None:
    """Each test's cluster made its own JetStream stream on the shared server: delete it."""
    client = await nats.connect(url, connect_timeout=3, allow_reconnect=False)
    try:
        with contextlib.suppress(NotFoundError):
            await client.jetstream().delete_stream(f"{cluster_name}_events")
    finally:
        await client.close()


async def until(condition: Callable[[], Awaitable[bool]], seconds: float, what: str) -> None:
    """Wait (bounded) for a condition of another process's state (a database row, a
    lease) that sends no event this test could wait on; re-check every 50 ms."""
    try:
        async with asyncio.timeout(seconds):
            while not await condition():  # noqa: ASYNC110 (no event to wait on)
                await asyncio.sleep(0.05)
    except TimeoutError:
        pytest.fail(f"{what}: not within {seconds:g} s")
