"""The energy planner's operations act on the leader's planner, whichever node is asked.

Only the leader runs the planner, which keeps its measurements, manual setpoints,
deferrable loads and current plan in memory. A measurement, a setpoint, an appliance job
or a plan request sent to the follower's REST API changes the leader's planner, and GET
on either node shows the same. Without a leader the follower answers 503 at once (with
Retry-After); a leader that takes a call and never answers gives 504 at the bound.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import httpx2
import nats
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from nats.aio.msg import Msg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from ev_charging_system.application import Application
from ev_charging_system.cluster.leader import lock_key
from ev_charging_system.cluster.leader_calls import QUEUE_GROUP
from ev_charging_system.cluster.subjects import Subjects
from ev_charging_system.llm_integration.mcp_server import MCP_PATH
from tests.cluster.conftest import LEASE_SECONDS, Cluster, until
from tests.conftest import ADMIN_HEADERS


def rest(node: Application) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{node.rest_port}", headers=ADMIN_HEADERS, timeout=20
    )


async def leader_and_follower(a: Application, b: Application) -> tuple[Application, Application]:
    async def one_leads() -> bool:
        return [n.cluster is not None and n.cluster.is_leader for n in (a, b)].count(True) == 1

    await until(one_leads, LEASE_SECONDS * 4, "one node leads")
    return (a, b) if a.cluster is not None and a.cluster.is_leader else (b, a)


MCP_OPERATE = "test-mcp-op-token"


@asynccontextmanager
async def mcp_of(node: Application) -> AsyncIterator[Client]:
    url = f"http://127.0.0.1:{node.mcp_port}{MCP_PATH}"
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {MCP_OPERATE}"}) as http,
        Client(streamable_http_client(url, http_client=http)) as session,
    ):
        yield session


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


async def test_energy_changes_through_the_follower_act_on_the_leaders_planner(
    cluster: Cluster,
) -> None:
    tokens = {"mcp_read_token": "test-mcp-read-token", "mcp_operate_token": MCP_OPERATE}
    leader, follower = await leader_and_follower(
        await cluster.start("node-a", **tokens), await cluster.start("node-b", **tokens)
    )
    async with rest(leader) as on_leader, rest(follower) as on_follower:
        # Measurements sent to the follower reach the planner that runs.
        ok(await on_follower.post("/energy/solar/production", json={"production_kw": 3.25}))
        ok(await on_follower.post("/energy/load/update", json={"critical_load_kw": 0.75}))
        assert leader.coordinator.status().solar.production_kw == 3.25
        assert follower.coordinator.status().solar.production_kw == 0.0  # idle, untouched

        # A manual setpoint through the follower, in force on the leader.
        control = {"mode": "charge", "power_kw": 1.5}
        ok(await on_follower.post("/energy/battery/control", json=control))
        assert leader.coordinator.status().battery.mode.value == "charge"
        assert leader.coordinator.status().battery.setpoint_kw == 1.5

        # An appliance job added through the follower is planned by the leader.
        now = datetime.now(UTC)
        job = {
            "load_id": "dishwasher",
            "power_kw": 1.2,
            "energy_kwh": 1.2,
            "earliest_start": now.isoformat(),
            "deadline": (now + timedelta(hours=6)).isoformat(),
        }
        ok(await on_follower.post("/energy/deferrable-loads", json=job), 201)
        assert [s.config.load_id for s in leader.coordinator.deferrable_loads()] == ["dishwasher"]

        # A plan asked of the follower is made by the leader, from what the follower got.
        planned = ok(await on_follower.post("/energy/tick"))
        plan = leader.coordinator.last_plan
        assert plan is not None and plan.created_at.isoformat().startswith(
            planned["created_at"][:19]
        )
        assert follower.coordinator.last_plan is None  # the follower planned nothing
        in_plan = ok(await on_follower.get("/energy/plan"))
        snapshot = in_plan["snapshot"]
        assert snapshot["solar"]["production_kw"] == 3.25, snapshot
        assert [d["load_id"] for d in snapshot["deferrables"]] == ["dishwasher"]

        # GET on both nodes: the same state, the leader's.
        for node in (on_leader, on_follower):
            status = ok(await node.get("/energy/status"))
            assert status["solar"]["production_kw"] == 3.25
            assert status["load"]["critical_load_kw"] == 0.75
            assert status["last_plan"]["created_at"] == planned["created_at"]
            loads = ok(await node.get("/energy/deferrable-loads"))
            assert [load["config"]["load_id"] for load in loads] == ["dishwasher"]
            assert ok(await node.get("/energy/plan")) == in_plan

        # The leader's domain errors reach the caller as they are: an unknown vehicle 404,
        # a job that exists already 409; the follower's own validation still says 422.
        unknown = await on_follower.post(
            "/energy/vehicle/control", json={"vehicle_id": "no-such-car", "mode": "idle"}
        )
        assert unknown.status_code == 404, unknown.text
        assert "no-such-car" in unknown.json()["detail"]
        twice = await on_follower.post("/energy/deferrable-loads", json=job)
        assert twice.status_code == 409, twice.text
        invalid = await on_follower.post("/energy/solar/production", json={"production_kw": -1})
        assert invalid.status_code == 422, invalid.text

        # MCP on the follower: the same state, and the leader's check before confirmation.
        async with mcp_of(follower) as session:
            read = await session.call_tool("get_energy_status", {})
            assert not read.is_error, read.content
            assert read.structured_content is not None
            assert read.structured_content["solar"]["production_kw"] == 3.25
            refused = await session.call_tool(
                "control_vehicle", {"vehicle_id": "no-such-car", "mode": "idle"}
            )
            assert refused.is_error and "no-such-car" in str(refused.content), refused.content

        # Removal through the follower: gone on the leader and in both GETs.
        ok(await on_follower.delete("/energy/deferrable-loads/dishwasher"), 204)
        assert leader.coordinator.deferrable_loads() == []
        for node in (on_leader, on_follower):
            assert ok(await node.get("/energy/deferrable-loads")) == []
    assert follower.cluster is not None and follower.cluster.leader_calls.forwarded >= 10
    assert leader.cluster is not None and leader.cluster.leader_calls.served >= 10


@asynccontextmanager
async def nobody_leads(cluster: Cluster) -> AsyncIterator[None]:
    """Hold the cluster's leadership lock from outside: no node can lead meanwhile."""
    engine = create_async_engine(cluster.database_url)
    try:
        async with engine.connect() as connection:
            key = lock_key(cluster.name, "singletons")
            assert (await connection.execute(text(f"SELECT pg_try_advisory_lock({key})"))).scalar()
            yield
            await connection.execute(text(f"SELECT pg_advisory_unlock({key})"))
    finally:
        await engine.dispose()


async def test_without_a_leader_the_planners_operations_answer_503_at_once(
    cluster: Cluster,
) -> None:
    async with nobody_leads(cluster):
        node = await cluster.start("node-a")
        async with rest(node) as on_node:
            started = asyncio.get_running_loop().time()
            refused = await on_node.post("/energy/solar/production", json={"production_kw": 1})
            status = await on_node.get("/energy/status")
            elapsed = asyncio.get_running_loop().time() - started
        assert refused.status_code == 503, refused.text
        assert "no node leads" in refused.json()["detail"]
        assert int(refused.headers["Retry-After"]) >= 1
        assert status.status_code == 503, status.text
        assert elapsed < 2, elapsed  # "no responders" comes back at once, no waiting
        # The stored plans are read from the database on any node, leader or not.
        async with rest(node) as on_node:
            assert ok(await on_node.get("/energy/plans")) == []
    # Once the lock is free the node leads and serves the same requests itself.
    await until(lambda: _leads(node), LEASE_SECONDS * 4, "the node took the leadership")
    async with rest(node) as on_node:
        ok(await on_node.post("/energy/solar/production", json={"production_kw": 1}))


async def _leads(node: Application) -> bool:
    return node.cluster is not None and node.cluster.is_leader


async def test_a_leader_that_never_answers_gives_504_at_the_bound(cluster: Cluster) -> None:
    """A leader that took the call and hangs (or died mid-call): 504, not a hang."""
    async with nobody_leads(cluster):
        node = await cluster.start(
            "node-a", ocpp_call_timeout_seconds=0.5, energy_optimize_time_limit_seconds=0.1
        )
        assert node.cluster is not None
        bound = node.cluster.options.leader_call_timeout_seconds
        assert bound == 5.5  # max(plan budget 0.4 s, station call 0.5 s) + 5 s for the hop
        taken: list[Msg] = []

        async def swallow(message: Msg) -> None:
            taken.append(message)  # taken, never answered

        hung = await nats.connect(cluster.nats_url, connect_timeout=3)
        try:
            await hung.subscribe(Subjects(cluster.name).leader_calls, queue=QUEUE_GROUP, cb=swallow)
            await hung.flush()
            async with rest(node) as on_node:
                started = asyncio.get_running_loop().time()
                answer = await on_node.post("/energy/battery/control", json={"mode": "idle"})
                elapsed = asyncio.get_running_loop().time() - started
        finally:
            await hung.close()
    assert answer.status_code == 504, answer.text
    assert "did not answer control_battery" in answer.json()["detail"]
    assert bound <= elapsed < bound + 3, elapsed
    assert len(taken) == 1
