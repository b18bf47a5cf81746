"""What was per process is shared or invalidated across the nodes (issue #16, item 6).

An MCP confirm token issued through node A is redeemed through node B exactly once; a
caller's action rate limit holds whichever node each call reaches; a change made through
one node (registration, API token revocation, the energy site) applies on the other
within a second.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from ev_charging_system.application import Application
from ev_charging_system.business_logic.operations.confirmation_tokens import ConfirmationError
from ev_charging_system.llm_integration.mcp_server import MCP_PATH
from tests.cluster.conftest import Cluster
from tests.cluster.test_two_nodes import rest_of, station_on
from tests.conftest import API_TOKEN

ADMIN = {"Authorization": f"Bearer {API_TOKEN}"}

MCP = {"mcp_read_token": "test-mcp-read-token", "mcp_operate_token": "test-mcp-op-token"}


async def within_a_second(condition: Callable[[], Awaitable[bool]], what: str) -> None:
    """`condition` holds for every check that starts a second or more after now (a check
    that started earlier may still see the old state, however late its answer comes)."""
    loop = asyncio.get_running_loop()
    since = loop.time()
    while True:
        started = loop.time() - since
        if await condition():
            return
        assert started < 1.0, f"{what}: not within a second"
        await asyncio.sleep(0.05)


@asynccontextmanager
async def mcp_of(node: Application, token: str = "test-mcp-op-token") -> AsyncIterator[Client]:
    url = f"http://127.0.0.1:{node.mcp_port}{MCP_PATH}"
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as http,
        Client(streamable_http_client(url, http_client=http)) as session,
    ):
        yield session


async def test_a_confirm_token_from_node_a_is_redeemed_on_node_b_exactly_once(
    cluster: Cluster,
) -> None:
    a = await cluster.start("node-a", **MCP)
    b = await cluster.start("node-b", **MCP)
    arguments = {"charge_point_id": "CP-T", "type": "Soft"}
    async with station_on(b, a, "CP-T") as station:
        async with mcp_of(a) as on_a:
            asked = await on_a.call_tool("send_remote_reset", arguments)
        assert asked.structured_content is not None, asked.content
        assert asked.structured_content["state"] == "confirmation_required"
        token = asked.structured_content["confirm_token"]

        async with mcp_of(b) as on_b:
            confirmed = asyncio.create_task(
                on_b.call_tool("send_remote_reset", {**arguments, "confirm_token": token})
            )
            await station.reply(await station.expect_call("Reset"), {"status": "Accepted"})
            done = await asyncio.wait_for(confirmed, 10)
            assert not done.is_error, done.content
            assert done.structured_content is not None
            assert done.structured_content["state"] == "executed"
            again = await on_b.call_tool("send_remote_reset", {**arguments, "confirm_token": token})
        assert again.is_error and "already used" in str(again.content)
        async with mcp_of(a) as on_a:
            back_on_a = await on_a.call_tool(
                "send_remote_reset", {**arguments, "confirm_token": token}
            )
        assert back_on_a.is_error and "already used" in str(back_on_a.content)


async def test_two_nodes_redeeming_one_token_at_once_succeed_once(cluster: Cluster) -> None:
    a = await cluster.start("node-a")
    b = await cluster.start("node-b")
    assert a.cluster is not None and b.cluster is not None
    on_a, on_b = a.cluster.confirmation_tokens(60), b.cluster.confirmation_tokens(60)
    for _ in range(20):
        issued = await on_a.issue("reset", {"charge_point_id": "X"}, "mcp:op")
        outcomes = await asyncio.gather(
            *(
                store.redeem(issued.token, "reset", {"charge_point_id": "X"}, "mcp:op")
                for store in (on_a, on_b, on_b, on_a)
            ),
            return_exceptions=True,
        )
        assert outcomes.count(None) == 1, outcomes
        assert all(isinstance(o, ConfirmationError) for o in outcomes if o is not None)

    # Bound to the caller and the call; expiry on the database clock.
    issued = await on_a.issue("reset", {"charge_point_id": "X"}, "mcp:op")
    with pytest.raises(ConfirmationError, match="another caller"):
        await on_b.redeem(issued.token, "reset", {"charge_point_id": "X"}, "mcp:other")
    with pytest.raises(ConfirmationError, match="different call"):
        await on_b.redeem(issued.token, "reset", {"charge_point_id": "Y"}, "mcp:op")
    await on_b.redeem(issued.token, "reset", {"charge_point_id": "X"}, "mcp:op")
    short = a.cluster.confirmation_tokens(0.2)
    late = await short.issue("reset", {}, "mcp:op")
    await asyncio.sleep(0.3)
    with pytest.raises(ConfirmationError, match="expired"):
        await on_b.redeem(late.token, "reset", {}, "mcp:op")


async def test_a_callers_action_limit_holds_across_nodes(cluster: Cluster) -> None:
    a = await cluster.start("node-a", mcp_actions_per_minute=3, **MCP)
    b = await cluster.start("node-b", mcp_actions_per_minute=3, **MCP)
    arguments = {"charge_point_id": "CP-L", "type": "Soft"}
    async with rest_of(a) as admin:
        created = await admin.post("/api/charge-points", {"id": "CP-L"})
        assert created.status_code == 201, created.text
    async with mcp_of(a) as on_a, mcp_of(b) as on_b:
        answers: list[Any] = []
        for session in (on_a, on_b, on_a, on_b):
            answers.append(await session.call_tool("send_remote_reset", arguments))
        # Reading is not limited.
        listed = await on_b.call_tool("list_charge_points", {})
    states = [r.structured_content["state"] for r in answers[:3] if r.structured_content]
    assert states == ["confirmation_required"] * 3, answers
    refused = answers[3]
    assert refused.is_error and "rate limit: at most 3 actions per minute" in str(refused.content)
    assert not listed.is_error


async def test_a_revoked_api_token_is_refused_by_the_other_node_within_a_second(
    cluster: Cluster,
) -> None:
    a = await cluster.start("node-a")
    b = await cluster.start("node-b")
    async with rest_of(a) as admin:
        created = await admin.post("/api/tokens", {"name": "ops", "role": "viewer"})
        assert created.status_code == 201, created.text
        headers = {"Authorization": f"Bearer {created.json()['token']}"}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{b.rest_port}") as on_b:
            seen = await on_b.get("/api/charge-points", headers=headers)
            assert seen.status_code == 200, seen.text  # B now caches the token
            revoked = await admin.rest.delete("/api/tokens/ops", headers=ADMIN)
            assert revoked.status_code == 200, revoked.text

            async def refused() -> bool:
                answer = await on_b.get("/api/charge-points", headers=headers)
                return answer.status_code == 401

            await within_a_second(refused, "node B refuses the token revoked through A")


async def test_an_id_tag_blocked_through_node_a_is_refused_by_a_station_on_node_b(
    cluster: Cluster,
) -> None:
    """Authorisation is read from the database at each use: nothing to invalidate."""
    a = await cluster.start("node-a")
    b = await cluster.start("node-b")
    async with rest_of(a) as operator, station_on(b, a, "CP-I") as station:
        created = await operator.post("/api/id-tags", {"id_tag": "CARD-I"})
        assert created.status_code == 201, created.text
        answer = await station.call("Authorize", {"idTag": "CARD-I"})
        assert answer["idTagInfo"]["status"] == "Accepted"
        blocked = await operator.rest.patch(
            "/api/id-tags/CARD-I", json={"status": "Blocked"}, headers=ADMIN
        )
        assert blocked.status_code == 200, blocked.text
        answer = await station.call("Authorize", {"idTag": "CARD-I"})
        assert answer["idTagInfo"]["status"] == "Blocked"


async def test_a_site_change_through_one_node_applies_on_the_other_within_a_second(
    cluster: Cluster,
) -> None:
    a = await cluster.start("node-a")
    b = await cluster.start("node-b")
    async with (
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{a.rest_port}", headers=ADMIN) as on_a,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{b.rest_port}", headers=ADMIN) as on_b,
    ):
        tariff = {"kind": "flat", "import_price": 0.42, "feed_in_price": 0.05}
        changed = await on_a.put("/energy/tariff", json=tariff)
        assert changed.status_code == 200, changed.text

        async def applied() -> bool:
            return bool((await on_b.get("/energy/tariff")).json().get("import_price") == 0.42)

        await within_a_second(applied, "node B has the tariff set through A")


async def test_the_planner_sites_grid_limit_set_through_one_node_is_planned_with_on_the_other(
    cluster: Cluster,
) -> None:
    a = await cluster.start("node-a")
    b = await cluster.start("node-b")
    async with (
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{a.rest_port}", headers=ADMIN) as on_a,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{b.rest_port}", headers=ADMIN) as on_b,
    ):
        home = (await on_b.get("/api/sites/energy-planner")).json()
        changed = await on_b.put(
            f"/api/sites/{home['id']}", json={"name": home["name"], "grid_limit_kw": 6.5}
        )
        assert changed.status_code == 200, changed.text

        async def applied() -> bool:
            config = (await on_a.get("/energy/config")).json()
            return bool(config["grid"]["import_limit_kw"] == 6.5)

        await within_a_second(applied, "node A plans with the grid limit set through B")
