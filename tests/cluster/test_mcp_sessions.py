"""MCP streamable-HTTP sessions in a cluster: the session id names the node holding it.

A handshake-era session lives in one node's memory. Its id starts with that node's
NODE_ID (what the load balancer routes on, deploy/cluster/nginx.conf); another node does
not know it and answers 404, as the MCP specification asks, so the client opens a new
session. tests/cluster/test_nginx.py runs the same through nginx.
"""

from __future__ import annotations

import httpx

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
