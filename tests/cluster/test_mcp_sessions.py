"""MCP streamable-HTTP sessions in a cluster: the session id names the node holding it.

A handshake-era session lives in one node's memory. Its id starts with that node's
NODE_ID (what the load balancer routes on, deploy/cluster/nginx.conf); another node does
not know it and answers 404, as the MCP specification asks, so the client opens a new
session. tests/cluster/test_nginx.py runs the same through nginx.
"""

from __future__ import annotations

from typing import Any

import httpx
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import ElicitRequestParams, ElicitResult

from ev_charging_system.llm_integration.mcp_server import MCP_PATH
from tests.cluster.conftest import Cluster
from tests.cluster.test_nginx import MCP_OPERATE, MCP_READ, listed, mcp_session

LIST_TOOLS = {"jsonrpc": "2.0", "id": 7, "method": "tools/list", "params": {}}


async def test_a_session_opened_on_node_a_is_unknown_on_node_b(cluster: Cluster) -> None:
    tokens = {"mcp_read_token": MCP_READ, "mcp_operate_token": MCP_OPERATE}
    a = await cluster.start("node-a", **tokens)
    b = await cluster.start("node-b", **tokens)
    session_ids: list[str] = []
    async with mcp_session(f"http://127.0.0.1:{a.mcp_port}{MCP_PATH}", "legacy", session_ids):
        assert session_ids and session_ids[0].startswith("node-a.")
        headers = {
            "Authorization": f"Bearer {MCP_OPERATE}",
            "Accept": "application/json, text/event-stream",
            "MCP-Protocol-Version": "2025-11-25",
            "Mcp-Session-Id": session_ids[0],
        }
        async with httpx.AsyncClient(timeout=10) as http:
            on_a = await http.post(
                f"http://127.0.0.1:{a.mcp_port}{MCP_PATH}", json=LIST_TOOLS, headers=headers
            )
            on_b = await http.post(
                f"http://127.0.0.1:{b.mcp_port}{MCP_PATH}", json=LIST_TOOLS, headers=headers
            )
        assert on_a.status_code == 200, on_a.text
        assert "list_charge_points" in on_a.text
        assert on_b.status_code == 404, on_b.text
        assert on_b.json()["error"]["message"] == "Session not found"
    # The client starts over on B: a new session there, named after B.
    async with mcp_session(
        f"http://127.0.0.1:{b.mcp_port}{MCP_PATH}", "legacy", session_ids
    ) as again:
        assert await listed(again) == set()
    assert session_ids[-1].startswith("node-b.")


class AlternatingNodes(httpx2.AsyncBaseTransport):
    """A balancer in the client: each request goes to the next node's MCP port."""

    def __init__(self, ports: list[int]) -> None:
        self._ports = ports
        self._inner = httpx2.AsyncHTTPTransport()
        self.sent_to: list[int] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        port = self._ports[len(self.sent_to) % len(self._ports)]
        self.sent_to.append(port)
        request.url = request.url.copy_with(port=port)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


async def test_a_2026_client_confirms_an_action_across_nodes(cluster: Cluster) -> None:
    """The confirmation's sealed request state, minted by one node, opens on the other."""
    tokens = {"mcp_read_token": MCP_READ, "mcp_operate_token": MCP_OPERATE}
    a = await cluster.start("node-a", **tokens)
    b = await cluster.start("node-b", **tokens)
    asked: list[str] = []

    async def confirm(context: Any, params: ElicitRequestParams) -> ElicitResult:
        asked.append(params.message)
        return ElicitResult(action="accept", content={"confirm": True})

    balancer = AlternatingNodes([a.mcp_port, b.mcp_port])
    async with (
        httpx2.AsyncClient(
            transport=balancer, headers={"Authorization": f"Bearer {MCP_OPERATE}"}, timeout=20
        ) as http,
        Client(
            streamable_http_client(f"http://127.0.0.1:{a.mcp_port}{MCP_PATH}", http_client=http),
            elicitation_callback=confirm,
        ) as session,
    ):
        result = await session.call_tool("control_battery", {"mode": "charge", "power_kw": 1})
    assert not result.is_error, result.content
    assert asked == [
        "Set the home battery to charge at 1 kW until the next plan. Do you want to do this now?"
    ]
    assert result.structured_content is not None
    assert result.structured_content["state"] == "executed"
    assert {a.mcp_port, b.mcp_port} <= set(balancer.sent_to)
    leader = a if a.cluster is not None and a.cluster.is_leader else b
    assert leader.coordinator.status().battery.setpoint_kw == 1
