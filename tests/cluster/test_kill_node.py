"""kill -9 of a node (issue #16): a real `python main.py` process, SIGKILLed with stations
connected and the energy planner running on it.

Its stations see their sockets close and reconnect (here straight to the other node, as
the load balancer would send them), where they are operable through the REST API; its
lease, and with it its hold on its stations, expires within CLUSTER_LEASE_SECONDS; the
planner moves to the surviving node (the advisory lock dies with the killed process's
database session).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from ev_charging_system.application import Application
from ev_charging_system.cluster.leader import lock_key
from ev_charging_system.data.database import PROJECT_ROOT
from tests.cluster.conftest import LEASE_SECONDS, Cluster, until
from tests.cluster.test_two_nodes import CONFIGURATION, rest_of
from tests.conformance.station import OCPP16, RawStation, boot_payload
from tests.conftest import API_TOKEN, TEST_SECRET_KEY
from tests.e2e.test_main_smoke import free_port, wait_for_port

STATIONS = ("CP-K1", "CP-K2", "CP-K3")


@asynccontextmanager
async def node_process(
    cluster: Cluster,
    node_id: str,
    ocpp_port: int,
    log: Path,
    rest_port: int | None = None,
    mcp_port: int | None = None,
    **settings: str,
) -> AsyncIterator[subprocess.Popen[str]]:
    """`python main.py` as node `node_id`; `settings` adds environment variables."""
    environment = {
        **os.environ,
        "DATABASE_URL": cluster.database_url,
        "MIGRATE_ON_START": "false",
        "CLUSTER_NATS_URL": cluster.nats_url,
        "CLUSTER_NAME": cluster.name,
        "NODE_ID": node_id,
        "CLUSTER_LEASE_SECONDS": str(LEASE_SECONDS),
        "OCPP_SERVER_HOST": "127.0.0.1",
        "OCPP_SERVER_PORT": str(ocpp_port),
        "FASTAPI_HOST": "127.0.0.1",
        "FASTAPI_PORT": str(rest_port or free_port()),
        "MCP_SERVER_HOST": "127.0.0.1",
        "MCP_SERVER_PORT": str(mcp_port or free_port()),
        "API_TOKEN": API_TOKEN,
        "SECRET_KEY": TEST_SECRET_KEY,
        "DATA_DIR": str(log.parent),
        **settings,
    }
    with log.open("a") as output:
        process = subprocess.Popen(  # noqa: ASYNC220
            [sys.executable, "main.py"],
            cwd=PROJECT_ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            await asyncio.to_thread(wait_for_port, ocpp_port, process)
            yield process
        finally:
            if process.poll() is None:
                process.kill()
            await asyncio.to_thread(process.wait, 30)


@asynccontextmanager
async def station_at(port: int, station_id: str) -> AsyncIterator[RawStation]:
    async with connect(
        f"ws://127.0.0.1:{port}/{station_id}", subprotocols=[Subprotocol(OCPP16)], open_timeout=10
    ) as websocket:
        raw = RawStation(websocket, station_id)
        answer = await raw.call("BootNotification", boot_payload(OCPP16))
        assert answer["status"] == "Accepted"
        yield raw


async def _owner(node: Application, station: str) -> str | None:
    assert node.cluster is not None
    return await node.cluster.ownership.owner_of(station)


async def test_a_killed_node_loses_its_stations_and_the_planner_to_the_other(
    cluster: Cluster, tmp_path: Path
) -> None:
    engine = create_async_engine(cluster.database_url)
    key = lock_key(cluster.name, "singletons")

    async def lock_held_elsewhere() -> bool:
        async with engine.connect() as connection:
            won = (await connection.execute(text(f"SELECT pg_try_advisory_lock({key})"))).scalar()
            if won:
                await connection.execute(text(f"SELECT pg_advisory_unlock({key})"))
            return not won

    b_port = free_port()
    try:
        async with AsyncExitStack() as stack:
            process = await stack.enter_async_context(
                node_process(cluster, "node-b", b_port, tmp_path / "node-b.log")
            )
            await until(lock_held_elsewhere, 20, "node B (a process) took the planner")
            a = await cluster.start("node-a")
            assert a.cluster is not None and not a.cluster.is_leader
            stations = [await stack.enter_async_context(station_at(b_port, s)) for s in STATIONS]
            await until(lambda: _all_held(a, "node-b"), 5, "B holds its stations")
            # Operated through A while B lives: routed to the process.
            async with rest_of(a) as operator:
                _, answered = await operator.command(
                    stations[0], "get-configuration", {}, "GetConfiguration", CONFIGURATION
                )
                assert answered.status_code == 200, answered.text

            loop = asyncio.get_running_loop()
            process.kill()  # SIGKILL: no orderly stop, no rows deleted, no goodbye on NATS
            killed_at = loop.time()
            for station in stations:
                assert await asyncio.wait_for(station.closed(), 10) is not None

            # The dead node's hold on its stations ends with its lease, unaided.
            async def b_expired() -> bool:
                assert a.cluster is not None
                return await a.cluster.ownership.live_nodes() == {"node-a"}

            await until(b_expired, LEASE_SECONDS + 2, "node B's lease expired")
            lease_gone_after = loop.time() - killed_at
            for station_id in STATIONS:
                assert await _owner(a, station_id) is None

            # The planner moves: B's database session died with it.
            await until(lambda: _leads(a), LEASE_SECONDS * 4, "node A took the planner")
            planner_moved_after = loop.time() - killed_at
            assert a.coordinator.health().running

        # The stations reconnect (the balancer now only has A) and are operable there.
        async with AsyncExitStack() as stack:
            back = [await stack.enter_async_context(station_at(a.ocpp_port, s)) for s in STATIONS]
            await until(lambda: _all_held(a, "node-a"), 5, "A holds the stations")
            async with rest_of(a) as operator:
                for station in back:
                    _, answered = await operator.command(
                        station, "get-configuration", {}, "GetConfiguration", CONFIGURATION
                    )
                    assert answered.status_code == 200 and "77" in answered.text
                    assert (await operator.station(station.id))["online"] is True
            served_after = loop.time() - killed_at
    finally:
        await engine.dispose()
    print(  # shown with -s: the figures docs/scaling.md quotes
        f"kill -9 -> lease gone {lease_gone_after:.2f} s, planner moved "
        f"{planner_moved_after:.2f} s, stations served on A {served_after:.2f} s "
        f"(lease {LEASE_SECONDS} s)"
    )
    assert lease_gone_after <= LEASE_SECONDS + 1.0, lease_gone_after


async def _all_held(node: Application, owner: str) -> bool:
    return all([await _owner(node, station) == owner for station in STATIONS])


async def _leads(node: Application) -> bool:
    return node.cluster is not None and node.cluster.is_leader
