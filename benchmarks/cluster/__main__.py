"""Cluster benchmark: what the hop to another node costs, and how fast a node's stations
are served again after it stops.

    .venv/bin/python -m benchmarks.cluster --commands 300 --stations 200

Two nodes (in this process, on free ports) on a fresh PostgreSQL database and the NATS
server at 127.0.0.1:4222. Part 1 sends the same command (ClearCache, answered at once by a
raw-frame station on node B) through node B's service (local: the baseline, measured in
the same run) and through node A's (forwarded over NATS request/reply); the table shows
what routing adds. Part 2 connects N stations to node B, stops B, reconnects them all to A
at once, and reports how long until A holds every one (ownership rows written) and a
command reaches the last of them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import statistics
import time
import uuid
from collections.abc import AsyncIterator

import nats
import psycopg
from nats.js.errors import NotFoundError
from sqlalchemy.engine import make_url
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from ev_charging_system.application import Application
from ev_charging_system.config.settings import Settings
from ev_charging_system.data.database import create_engine, migrate_to_head
from ev_charging_system.data.secret_box import new_key
from ev_charging_system.models.commands import ClearCache

POSTGRES = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
NATS = os.environ.get("TEST_NATS_URL", "nats://127.0.0.1:4222")


@contextlib.asynccontextmanager
async def fresh_database() -> AsyncIterator[str]:
    admin = make_url(POSTGRES).set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"evcs_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
    engine = create_engine(url)
    await migrate_to_head(engine)
    await engine.dispose()
    try:
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


SECRET_KEY = new_key()  # one for every node of the run, as a cluster needs


def node_settings(url: str, cluster: str, node_id: str) -> Settings:
    return Settings.model_validate(
        {
            "database_url": url,
            "migrate_on_start": False,
            "ocpp_server_host": "127.0.0.1",
            "ocpp_server_port": 0,
            "fastapi_host": "127.0.0.1",
            "fastapi_port": 0,
            "mcp_server_host": "127.0.0.1",
            "mcp_server_port": 0,
            "cluster_nats_url": NATS,
            "cluster_name": cluster,
            "node_id": node_id,
            "cluster_lease_seconds": 3,
            "data_dir": "/tmp/evcs-bench",
            "secret_key": SECRET_KEY,
        }
    )


async def station(node: Application, station_id: str) -> ClientConnection:
    """A 1.6 station of raw frames that boots and then accepts every CSMS call at once."""
    ws = await connect(
        f"ws://127.0.0.1:{node.ocpp_port}/{station_id}",
        subprotocols=[Subprotocol("ocpp1.6")],
        open_timeout=30,
    )
    await ws.send(
        json.dumps(
            [
                2,
                "boot",
                "BootNotification",
                {"chargePointVendor": "Bench", "chargePointModel": "B1"},
            ]
        )
    )
    await asyncio.wait_for(ws.recv(), 30)

    async def answer() -> None:
        with contextlib.suppress(Exception):
            async for text in ws:
                frame = json.loads(text)
                if frame[0] == 2:
                    await ws.send(json.dumps([3, frame[1], {"status": "Accepted"}]))

    asyncio.get_running_loop().create_task(answer())
    return ws


async def latencies(node: Application, station_id: str, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        await node.services.commands.execute(station_id, ClearCache(), "benchmark")
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def row(name: str, samples: list[float], baseline: float) -> str:
    p50 = statistics.median(samples)
    p99 = sorted(samples)[max(0, int(len(samples) * 0.99) - 1)]
    return f"| {name} | {len(samples)} | {p50:.2f} | {p99:.2f} | {p50 / baseline:.2f} |"


async def main(commands: int, stations: int) -> None:
    async with fresh_database() as url:
        cluster = f"bench{uuid.uuid4().hex[:8]}"
        a = Application(node_settings(url, cluster, "node-a"))
        b = Application(node_settings(url, cluster, "node-b"))
        await a.start()
        await b.start()
        try:
            probe = await station(b, "CP-PROBE")
            assert a.cluster is not None
            while not a.cluster.presence.is_online("CP-PROBE"):  # noqa: ASYNC110
                await asyncio.sleep(0.01)
            await latencies(a, "CP-PROBE", 10)  # warm-up of both paths
            await latencies(b, "CP-PROBE", 10)
            local: list[float] = []
            forwarded: list[float] = []
            for _ in range(commands):  # interleaved: both see the same machine load
                local += await latencies(b, "CP-PROBE", 1)
                forwarded += await latencies(a, "CP-PROBE", 1)
            await probe.close()
            baseline = statistics.median(local)
            print("\n## Command round trip (ClearCache, station answers at once), ms\n")
            print("| path | n | p50 | p99 | p50 / local |")
            print("|---|---|---|---|---|")
            print(row("local (node B, station on B)", local, baseline))
            print(row("forwarded (node A -> NATS -> B)", forwarded, baseline))

            sockets = await asyncio.gather(*(station(b, f"CP-{i}") for i in range(stations)))
            while len(await a.cluster.ownership.live_owners()) < stations:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            stopped = time.perf_counter()
            await b.stop()
            for ws in sockets:
                await ws.close()
            sockets = await asyncio.gather(*(station(a, f"CP-{i}") for i in range(stations)))
            connected = time.perf_counter() - stopped
            while len(await a.cluster.ownership.live_owners()) < stations:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
            owned = time.perf_counter() - stopped
            await a.services.commands.execute(f"CP-{stations - 1}", ClearCache(), "benchmark")
            operable = time.perf_counter() - stopped
            print(f"\n## Node B stops with {stations} stations; all reconnect to node A\n")
            print("| milestone | seconds after B's stop began |")
            print("|---|---|")
            print(f"| B stopped, all {stations} booted on A | {connected:.2f} |")
            print(f"| A recorded as owner of all | {owned:.2f} |")
            print(f"| a command reaches the last station | {operable:.2f} |")
            for ws in sockets:
                await ws.close()
        finally:
            await a.stop()
            with contextlib.suppress(Exception):
                await b.stop()
            await forget_event_log(cluster)


async def forget_event_log(cluster: str) -> None:
    """The run's cluster made a JetStream stream (its event log) on the shared server."""
    client = await nats.connect(NATS, connect_timeout=3, allow_reconnect=False)
    try:
        with contextlib.suppress(NotFoundError):
            await client.jetstream().delete_stream(f"{cluster}_events")
    finally:
        await client.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=300)
    parser.add_argument("--stations", type=int, default=200)
    arguments = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main(arguments.commands, arguments.stations))
