"""The MCP endpoint over real streamable HTTP, answering from the same service as REST."""

from __future__ import annotations

import httpx
from mcp import Client

from ev_charging_system.bootstrap import Application
from tests.conftest import ocpp_url
from tools.simulated_charge_point import connected_station


def mcp_url(app: Application) -> str:
    return f"http://127.0.0.1:{app.mcp_port}/mcp"


async def test_list_charge_points_over_http_matches_the_rest_api(
    app: Application, rest: httpx.AsyncClient
) -> None:
    async with connected_station(ocpp_url(app), "CP-1") as station:
        await station.boot(vendor="Acme", model="X1")
        await station.status(1)
        async with Client(mcp_url(app)) as client:
            tools = {tool.name: tool for tool in (await client.list_tools()).tools}
            assert tools["list_charge_points"].annotations is not None
            assert tools["list_charge_points"].annotations.read_only_hint is True
            result = await client.call_tool("list_charge_points", {"online_only": True})

    assert result.is_error is False
    assert result.structured_content is not None
    listed = result.structured_content["charge_points"]
    assert [cp["id"] for cp in listed] == ["CP-1"]
    assert listed[0]["vendor"] == "Acme" and listed[0]["online"] is True
    assert listed[0]["connectors"] == [
        {"connector_id": 1, "status": "Available", "error_code": "NoError"}
    ]
    rest_view = (await rest.get("/api/charge-points")).json()
    assert [cp["id"] for cp in rest_view] == ["CP-1"]


async def test_a_foreign_host_header_is_refused(app: Application) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.post(
            mcp_url(app),
            headers={"Host": "evil.example", "Content-Type": "application/json"},
            content=b"{}",
        )
    assert response.status_code == 421
