"""The energy planner on the leader drives stations held by any node (issue #16).

Node A leads (runs the planner); the vehicle's station is connected to node B, and the
vehicle is bound to it through B's REST API. A's planner learns from B's events that the
car is plugged in and what it meters, and its charging limit reaches the station on B
through the command routing.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from ev_charging_system.application import Application
from tests.cluster.conftest import LEASE_SECONDS, Cluster, until
from tests.conftest import ADMIN_HEADERS, ocpp_url
from tools.simulated_charge_point import connected_station

PROFILE_ID = 9001  # the planner's profile on connector 1 (smart_charging_service)


async def _leads(node: Application) -> bool:
    return node.cluster is not None and node.cluster.is_leader


def rest(node: Application) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{node.rest_port}", headers=ADMIN_HEADERS, timeout=10
    )


async def test_the_leaders_planner_sets_the_limit_of_a_station_on_another_node(
    cluster: Cluster,
) -> None:
    a = await cluster.start("node-a", energy_tick_seconds=1)
    await until(lambda: _leads(a), LEASE_SECONDS * 4, "node A leads")
    b = await cluster.start("node-b", energy_tick_seconds=1)
    assert b.cluster is not None and not b.cluster.is_leader
    async with rest(a) as on_a, rest(b) as on_b:
        assert (await on_b.post("/api/id-tags", json={"id_tag": "CARD"})).status_code == 201
        # Bound through the follower: the leader's planner must hear of it (site sync).
        config = (await on_b.get("/energy/config")).json()
        config["vehicles"][0] |= {"charge_point_id": "CP-P", "connector_id": 1}
        changed = await on_b.put("/energy/config", json=config)
        assert changed.status_code == 200, changed.text

        async def bound_on_a() -> bool:
            vehicle = (await on_a.get("/energy/status")).json()["vehicle"]
            return bool(vehicle["bound"])

        await until(bound_on_a, 5, "the leader applied the binding made through B")

        async with connected_station(ocpp_url(b), "CP-P") as connected:
            station: Any = connected
            await station.boot()
            await station.start_transaction(1, "CARD", 0)

            async def plugged_in_on_a() -> bool:
                return bool((await on_a.get("/energy/status")).json()["vehicle"]["connected"])

            await until(plugged_in_on_a, 2, "the leader saw the session start on B")
            # What B's station meters is what A's vehicle agent knows.
            transaction = station.transactions[1]
            await station.meter_values(1, transaction.transaction_id, 2_500)

            async def metered_on_a() -> bool:
                vehicle = (await on_a.get("/energy/status")).json()["vehicle"]
                return bool(vehicle["session_energy_kwh"] == pytest.approx(2.5))

            await until(metered_on_a, 2, "the leader saw B's meter values")

            # The leader's next tick sends the limit; it travels A -> NATS -> B -> station.
            async def limited() -> bool:
                return PROFILE_ID in station.charging_profiles

            await until(limited, 10, "the planner's charging limit reached the station on B")

            async def relayed_by_b() -> bool:  # counted once B has the station's answer
                return b.cluster is not None and b.cluster.command_server.served >= 1

            await until(relayed_by_b, 5, "B relayed A's command")

        commands = (await on_a.get("/api/charge-points/CP-P/commands")).json()["items"]
        assert any(
            c["requested_by"] == "energy:coordinator" and c["action"] == "SetChargingProfile"
            for c in commands
        ), commands
    assert a.cluster is not None and a.cluster.is_leader
    await asyncio.sleep(0)
