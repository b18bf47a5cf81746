"""The application's own MCP port, as wired by bootstrap: auth, every tool, energy tools."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS

from ev_charging_system.application import Application
from ev_charging_system.config.settings import (
    DEVELOPMENT_MCP_OPERATE_TOKEN,
    DEVELOPMENT_MCP_READ_TOKEN,
)


def url(app: Application) -> str:
    return f"http://127.0.0.1:{app.mcp_port}/mcp"


@asynccontextmanager
async def client_with(app: Application, token: str) -> AsyncIterator[Client]:
    async with (
        httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http,
        Client(streamable_http_client(url(app), http_client=http)) as client,
    ):
        yield client


async def test_the_served_endpoint_requires_a_token(app: Application) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.post(
            url(app),
            json={"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}},
            headers={"Accept": "application/json, text/event-stream"},
        )
    assert response.status_code == 401


async def test_energy_tools_answer_from_the_running_coordinator(
    app: Application, rest: httpx.AsyncClient
) -> None:
    async with client_with(app, DEVELOPMENT_MCP_READ_TOKEN) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert {"get_energy_status", "explain_energy_plan", "set_energy_policy"} <= names
        assert {
            "get_charge_point_status",
            "stop_charging_session",
            "diagnose_charge_point",
        } <= names
        status = await client.call_tool("get_energy_status", {})
        assert status.structured_content is not None
        assert status.structured_content["policy"] == "optimize"
        plan = await client.call_tool("explain_energy_plan", {"hours": 2})
        assert plan.structured_content is not None
        assert plan.structured_content["reason"]
        assert len(plan.structured_content["schedule"]) == 8
        refused = await client.call_tool("set_energy_policy", {"policy": "rule"})
        assert refused.is_error

    async with client_with(app, DEVELOPMENT_MCP_OPERATE_TOKEN) as client:
        asked = await client.call_tool("set_energy_policy", {"policy": "pv_surplus"})
        assert asked.structured_content is not None
        assert asked.structured_content["state"] == "confirmation_required"
        assert (await rest.get("/energy/policy")).json()["policy"] == "optimize"
        done = await client.call_tool(
            "set_energy_policy",
            {"policy": "pv_surplus", "confirm_token": asked.structured_content["confirm_token"]},
        )
        assert done.structured_content is not None
        assert done.structured_content["state"] == "executed"
        with pytest.raises(MCPError) as unknown:
            await client.call_tool("set_energy_policy", {"policy": "magic"})
        assert unknown.value.error.code == INVALID_PARAMS

    assert (await rest.get("/energy/policy")).json()["policy"] == "pv_surplus"
    audit = (await rest.get("/api/audit", params={"tool": "set_energy_policy"})).json()["items"]
    assert [entry["outcome"] for entry in reversed(audit)][:3] == [
        "denied",
        "confirmation_required",
        "ok",
    ]


async def test_chat_without_a_key_is_503_and_nothing_else_breaks(
    rest: httpx.AsyncClient, operator: dict[str, str]
) -> None:
    response = await rest.post("/api/chat", json={"message": "hi"}, headers=operator)
    assert response.status_code == 503
    assert "ANTHROPIC_API_KEY" in response.json()["detail"]
    assert (await rest.get("/api/health")).status_code == 200


async def test_a_deferrable_load_is_added_and_listed_through_mcp(
    app: Application, rest: httpx.AsyncClient
) -> None:
    now = datetime.now(UTC)
    job = {
        "load_id": "washer",
        "power_kw": 0.5,
        "energy_kwh": 1.0,
        "earliest_start": now.isoformat(),
        "deadline": (now + timedelta(hours=8)).isoformat(),
        "interruptible": False,
    }
    async with client_with(app, DEVELOPMENT_MCP_READ_TOKEN) as client:
        refused = await client.call_tool("add_deferrable_load", {"load": job})
        assert refused.is_error  # reading is not operating
    async with client_with(app, DEVELOPMENT_MCP_OPERATE_TOKEN) as client:
        added = await client.call_tool("add_deferrable_load", {"load": job})
        assert not added.is_error and added.structured_content is not None
        assert added.structured_content["remaining_kwh"] == 1.0
        listed = await client.call_tool("list_deferrable_loads", {})
        assert listed.structured_content is not None
        assert [j["config"]["load_id"] for j in listed.structured_content["result"]] == ["washer"]
    jobs = (await rest.get("/energy/deferrable-loads")).json()
    assert [j["config"]["load_id"] for j in jobs] == ["washer"]
