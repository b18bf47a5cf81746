"""Two nodes on one PostgreSQL database and one NATS server (issue #16).

A station connected to node B is operated through node A's REST API and MCP server with
the station's real answers and errors; A's event stream shows B's station events; stopping
B moves its station to A; the energy planner runs on exactly one node and moves when that
one stops.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import httpx2
import nats
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from sqlalchemy.ext.asyncio import create_async_engine

from ev_charging_system.application import Application, StartupError
from ev_charging_system.cluster.ownership import StationOwnership
from ev_charging_system.llm_integration.mcp_server import MCP_PATH
from tests.cluster.conftest import LEASE_SECONDS, Cluster, until
from tests.conformance.station import IncomingCall, Operator, RawStation, raw_station
from tests.conftest import API_TOKEN, expecting
from tests.conftest import test_settings as settings_for
from tests.e2e.test_main_smoke import free_port, wait_for_port

CALL_TIMEOUT = 2.0  # seconds a station has to answer (short: the 504 case waits for it)
CONFIGURATION = {
    "configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "77"}]
}


@asynccontextmanager
async def rest_of(node: Application) -> AsyncIterator[Operator]:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{node.rest_port}") as client:
        yield Operator(client)


@asynccontextmanager
async def station_on(
    node: Application, seen_by: Application, station_id: str
) -> AsyncIterator[RawStation]:
    """A 1.6 station connected to `node`, once `seen_by` (another node) heard it boot."""
    async with (
        expecting(seen_by, "station.booted", station_id) as booted,
        raw_station(node, station_id) as station,
    ):
        await booted()
        yield station


async def test_a_station_on_node_b_is_operated_through_node_a(cluster: Cluster) -> None:
    a = await cluster.start("node-a", ocpp_call_timeout_seconds=CALL_TIMEOUT)
    b = await cluster.start("node-b", ocpp_call_timeout_seconds=CALL_TIMEOUT)
    async with rest_of(a) as operator, station_on(b, a, "CP-B") as station:
        # The station's real answer, through A's REST, sent by B.
        request, answered = await operator.command(
            station,
            "get-configuration",
            {"keys": ["HeartbeatInterval"]},
            "GetConfiguration",
            CONFIGURATION,
        )
        assert answered.status_code == 200, answered.text
        assert request.payload == {"key": ["HeartbeatInterval"]}
        assert "77" in answered.text
        assert b.cluster is not None and b.cluster.command_server.served == 1

        # A CALLERROR from the station: 502 with its code, as in one process.
        async def refuse(incoming: IncomingCall) -> None:
            await station.reply_error(incoming, "InternalError", "relay stuck")

        _, refused = await operator.command(station, "reset", {"type": "Soft"}, "Reset", refuse)
        assert refused.status_code == 502, refused.text
        assert "InternalError" in refused.text and "relay stuck" in refused.text

        # No answer at all: B's call times out, A answers 504.
        pending = asyncio.create_task(
            operator.post("/api/charge-points/CP-B/commands/clear-cache", {})
        )
        await station.expect_call("ClearCache")  # ... and never answered
        timed_out = await asyncio.wait_for(pending, CALL_TIMEOUT + 10)
        assert timed_out.status_code == 504, timed_out.text

        # A lists the station as online, and its command log has what B sent.
        assert (await operator.station("CP-B"))["online"] is True

    async with expecting(a, "station.disconnected", "CP-B") as disconnected:
        await disconnected()
    async with rest_of(a) as operator:
        offline = await operator.post("/api/charge-points/CP-B/commands/clear-cache", {})
        assert offline.status_code == 409, offline.text
        assert (await operator.station("CP-B"))["online"] is False


async def test_a_station_on_node_b_answers_an_mcp_tool_on_node_a(cluster: Cluster) -> None:
    a = await cluster.start(
        "node-a", mcp_read_token="test-mcp-read-token", mcp_operate_token="test-mcp-op-token"
    )
    b = await cluster.start("node-b")
    url = f"http://127.0.0.1:{a.mcp_port}{MCP_PATH}"
    async with (
        station_on(b, a, "CP-M") as station,
        httpx2.AsyncClient(headers={"Authorization": "Bearer test-mcp-op-token"}) as http,
        Client(streamable_http_client(url, http_client=http)) as session,
    ):
        asked = asyncio.create_task(
            session.call_tool("get_configuration", {"charge_point_id": "CP-M"})
        )
        await station.reply(await station.expect_call("GetConfiguration"), CONFIGURATION)
        result = await asyncio.wait_for(asked, 10)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    assert "77" in json.dumps(result.structured_content)


async def test_a_station_rejected_through_node_a_is_refused_by_node_b(cluster: Cluster) -> None:
    """Node B caches registrations; A's change reaches it as an event and applies there."""
    a = await cluster.start("node-a")
    b = await cluster.start("node-b")
    async with rest_of(a) as operator, station_on(b, a, "CP-R") as station:
        assert "currentTime" in await station.call("Heartbeat")  # accepted, cached on B
        async with expecting(b, "station.registration_changed", "CP-R") as changed:
            rejected = await operator.post("/api/charge-points/CP-R/reject")
            assert rejected.status_code == 200, rejected.text
            await changed()
        code, _ = await station.call_error("Heartbeat", {})
        assert code == "SecurityError"


async def test_an_event_stream_on_node_a_shows_node_b_stations_in_order(
    cluster: Cluster,
) -> None:
    a = await cluster.start("node-a")
    b = await cluster.start("node-b")
    headers = {"Authorization": f"Bearer {API_TOKEN}"}
    async with (
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{a.rest_port}", timeout=10) as client,
        client.stream(
            "GET", "/api/events", params={"charge_point_id": "CP-S"}, headers=headers
        ) as stream,
    ):
        lines = stream.aiter_lines()
        assert (await anext(lines)).startswith("retry:")  # subscribed on A
        async with raw_station(b, "CP-S") as station:
            for status in ("Preparing", "Charging", "Finishing"):
                await station.call(
                    "StatusNotification",
                    {"connectorId": 1, "errorCode": "NoError", "status": status},
                )
            seen: list[tuple[str, dict[str, Any]]] = []
            async with asyncio.timeout(10):
                kind = ""
                async for line in lines:
                    if line.startswith("event: "):
                        kind = line.removeprefix("event: ")
                    elif line.startswith("data: "):
                        seen.append((kind, json.loads(line.removeprefix("data: "))))
                        if kind == "connector.status_changed" and (
                            seen[-1][1]["status"] == "Finishing"
                        ):
                            break
    kinds = [kind for kind, _ in seen]
    assert kinds == [
        "station.connected",
        "station.booted",
        "connector.status_changed",
        "connector.status_changed",
        "connector.status_changed",
    ], kinds  # each once (no echo of A's own copy), in the order B published them
    assert [p["status"] for k, p in seen if k == "connector.status_changed"] == [
        "Preparing",
        "Charging",
        "Finishing",
    ]
    assert all(p["charge_point_id"] == "CP-S" for _, p in seen)


async def test_stopping_node_b_moves_its_station_to_node_a(cluster: Cluster) -> None:
    a = await cluster.start("node-a")
    b = await cluster.start("node-b")
    assert a.cluster is not None
    async with station_on(b, a, "CP-F") as station:
        assert await a.cluster.ownership.owner_of("CP-F") in ("node-b", None)  # being written
        await cluster.stop(b)
        assert await station.closed() is not None  # B closed the socket as it stopped
    assert await a.cluster.ownership.live_nodes() == {"node-a"}

    # The station reconnects (a load balancer sends it to the node that is left).
    async with rest_of(a) as operator, raw_station(a, "CP-F") as station:
        await until(lambda: _owner_is(a, "CP-F", "node-a"), 5, "node A recorded that it holds CP-F")
        _, answered = await operator.command(
            station, "get-configuration", {}, "GetConfiguration", CONFIGURATION
        )
        assert answered.status_code == 200 and "77" in answered.text
        assert (await operator.station("CP-F"))["online"] is True


async def _owner_is(node: Application, station: str, owner: str) -> bool:
    assert node.cluster is not None
    return await node.cluster.ownership.owner_of(station) == owner


async def test_a_dead_nodes_stations_expire_with_its_lease(cluster: Cluster) -> None:
    a = await cluster.start("node-a")
    assert a.cluster is not None
    engine = create_async_engine(cluster.database_url)
    try:
        # A node that took its lease, holds a station, and then died (never renews).
        ghost = StationOwnership(engine, "ghost", lease_seconds=1.0)
        await ghost.renew()
        ghost.claim("CP-G", datetime.now(UTC))
        await ghost.flush()
        assert await a.cluster.ownership.owner_of("CP-G") == "ghost"
        await a.cluster.refresh_presence()
        assert a.cluster.presence.is_online("CP-G")

        async def expired() -> bool:
            assert a.cluster is not None
            return await a.cluster.ownership.owner_of("CP-G") is None

        await until(expired, 3, "the dead node's station lost its owner")
        await a.cluster.refresh_presence()
        assert not a.cluster.presence.is_online("CP-G")
        async with rest_of(a) as operator:
            created = await operator.post("/api/charge-points", {"id": "CP-G"})
            assert created.status_code == 201, created.text
            offline = await operator.post("/api/charge-points/CP-G/commands/clear-cache", {})
            assert offline.status_code == 409, offline.text
    finally:
        await engine.dispose()


async def test_an_owner_that_stops_answering_gives_a_bounded_clear_error(
    cluster: Cluster,
) -> None:
    """The owner's process hangs or dies mid-call: NATS request times out at the bound."""
    a = await cluster.start("node-a", ocpp_call_timeout_seconds=0.5)
    assert a.cluster is not None
    engine = create_async_engine(cluster.database_url)
    client = await nats.connect(cluster.nats_url)
    try:
        async with rest_of(a) as operator, raw_station(a, "CP-Z"):
            pass  # the station is known (registered), now disconnected from A
        zombie = StationOwnership(engine, "zombie", lease_seconds=60)
        await zombie.renew()
        zombie.claim("CP-Z", datetime.now(UTC))
        await zombie.flush()
        # Gone without a trace: no subscriber on its subject, NATS says so at once.
        async with rest_of(a) as operator:
            gone = await operator.post("/api/charge-points/CP-Z/commands/clear-cache", {})
        assert gone.status_code == 409, gone.text
        assert "zombie" in gone.text and "not reachable" in gone.text
        # Alive on NATS but never answering: a 504 naming the node, after the bound.
        received = asyncio.Event()

        async def swallow(_message: Any) -> None:
            received.set()

        await client.subscribe(a.cluster.subjects.commands_of("zombie"), cb=swallow)
        await client.flush()
        async with rest_of(a) as operator:
            hung = await asyncio.wait_for(
                operator.post("/api/charge-points/CP-Z/commands/clear-cache", {}), 15
            )
        assert received.is_set()
        assert hung.status_code == 504, hung.text
        assert "zombie" in hung.text and "did not answer" in hung.text
    finally:
        await client.close()
        await engine.dispose()


async def test_the_planner_runs_on_one_node_and_moves_when_it_stops(cluster: Cluster) -> None:
    a = await cluster.start("node-a")
    b = await cluster.start("node-b")
    assert a.cluster is not None and b.cluster is not None

    async def one_leader() -> bool:
        return [a.cluster.is_leader, b.cluster.is_leader].count(True) == 1  # type: ignore[union-attr]

    await until(one_leader, 5, "one node leads")
    leader, follower = (a, b) if a.cluster.is_leader else (b, a)
    # Leadership is seen a moment before the leader's coordinator has started.
    await until(lambda: _plans(leader), 5, "the leader runs the planner")
    assert not follower.coordinator.health().running
    assert follower.cluster is not None and follower.cluster.leader is not None

    await cluster.stop(leader)
    await until(lambda: _leads(follower), LEASE_SECONDS * 4, "the remaining node took the planner")
    await until(lambda: _plans(follower), 5, "the remaining node runs the planner")


async def _plans(node: Application) -> bool:
    return node.coordinator.health().running


async def _leads(node: Application) -> bool:
    return node.cluster is not None and node.cluster.is_leader


@pytest.mark.parametrize("url", ["nats://127.0.0.1:1"])
async def test_an_unreachable_nats_is_a_clear_startup_error(cluster: Cluster, url: str) -> None:
    settings = cluster.settings_of(
        "node-x", cluster_nats_url=url, cluster_connect_timeout_seconds=1
    )
    node = Application(settings_for(cluster.database_url, **settings))
    with pytest.raises(StartupError, match=r"cannot reach NATS at nats://127\.0\.0\.1:1"):
        await node.run_until_signalled()


async def test_a_nats_without_jetstream_is_a_clear_startup_error(
    cluster: Cluster, tmp_path: Path
) -> None:
    """The event log is a JetStream stream: a server started without -js is named."""
    server = shutil.which("nats-server") or "/usr/sbin/nats-server"
    port = free_port()
    process = subprocess.Popen(  # noqa: ASYNC220
        [server, "-a", "127.0.0.1", "-p", str(port), "-l", str(tmp_path / "nats.log")], text=True
    )
    try:
        await asyncio.to_thread(wait_for_port, port, process, 10)
        settings = cluster.settings_of("node-x", cluster_nats_url=f"nats://127.0.0.1:{port}")
        node = Application(settings_for(cluster.database_url, **settings))
        with pytest.raises(StartupError, match=r"JetStream must be enabled \(nats-server -js\)"):
            await node.run_until_signalled()
    finally:
        process.kill()
        await asyncio.to_thread(process.wait, 10)
