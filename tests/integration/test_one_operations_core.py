"""One operation, three channels: a reset through REST, MCP and the chat leaves the same
audit record, differing only in channel and actor; what happens is pushed as events."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from ocpp.v16.enums import ChargePointStatus

from ev_charging_system.application import Application
from tests.conftest import API_TOKEN, AppFactory, ocpp_url
from tests.integration.chat_support import scripted_chat
from tests.integration.test_mcp_server import OPERATE_TOKEN, READ_TOKEN, client
from tests.unit.test_chat_support import ScriptedClaude, message, text, tool_use
from tools.simulated_charge_point import connected_station

OPERATOR = {"Authorization": f"Bearer {API_TOKEN}"}


@pytest.fixture
async def app(app_factory: AppFactory) -> Application:
    return await app_factory(mcp_read_token=READ_TOKEN, mcp_operate_token=OPERATE_TOKEN)


@pytest.fixture
async def claude(app: Application) -> AsyncIterator[ScriptedClaude]:
    async with scripted_chat(app) as scripted:
        yield scripted


async def test_a_reset_leaves_the_same_audit_record_through_rest_mcp_and_chat(
    app: Application, rest: httpx.AsyncClient, claude: ScriptedClaude
) -> None:
    mcp_url = f"http://127.0.0.1:{app.mcp_port}/mcp"
    async with connected_station(ocpp_url(app), "CP-1") as station:
        await station.boot()
        by_rest = await rest.post(
            "/api/charge-points/CP-1/commands/reset", json={"type": "Hard"}, headers=OPERATOR
        )
        async with client(mcp_url, OPERATE_TOKEN) as session:
            asked = await session.call_tool(
                "send_remote_reset", {"charge_point_id": "CP-1", "type": "Hard"}
            )
            assert asked.structured_content is not None
            by_mcp = await session.call_tool(
                "send_remote_reset",
                {
                    "charge_point_id": "CP-1",
                    "type": "Hard",
                    "confirm_token": asked.structured_content["confirm_token"],
                },
            )
        claude.replies = [
            message(
                tool_use("send_remote_reset", {"charge_point_id": "CP-1", "type": "Hard"}),
                stop_reason="tool_use",
            ),
            message(text("CP-1 is resetting.")),
        ]
        held = await rest.post("/api/chat", json={"message": "hard reset CP-1"}, headers=OPERATOR)
        by_chat = await rest.post(
            f"/api/chat/{held.json()['conversation_id']}/confirm",
            json={"confirm": True},
            headers=OPERATOR,
        )
        resets = [m for m in station.received if "Reset" in str(m)]

    assert by_rest.json()["status"] == "Accepted"
    assert (
        by_mcp.structured_content is not None and by_mcp.structured_content["status"] == "Accepted"
    )
    assert by_chat.json()["reply"] == "CP-1 is resetting."
    assert len(resets) == 3

    audit = (await rest.get("/api/audit", params={"tool": "send_remote_reset"})).json()["items"]
    done = {entry["channel"]: entry for entry in audit if entry["outcome"] == "ok"}
    assert set(done) == {"rest", "mcp", "chat"}
    shapes = {
        channel: {k: v for k, v in entry.items() if k not in ("id", "at", "actor", "client")}
        for channel, entry in done.items()
    }
    assert shapes["rest"] == {
        "channel": "rest",
        "tool": "send_remote_reset",
        "arguments": {"charge_point_id": "CP-1", "type": "Hard", "when": "Immediate"},
        "outcome": "ok",
        "result": {"status": "Accepted", "data": {}},
        "error": None,
    }
    for channel in ("mcp", "chat"):
        assert shapes[channel] == {**shapes["rest"], "channel": channel}
    assert done["rest"]["actor"] == "rest:api-token"
    assert done["mcp"]["actor"] == "mcp:operate-token"
    assert done["chat"]["actor"].startswith("chat:")
    assert done["chat"]["client"] == "rest:api-token"  # the person behind the chat
    rest_only = (await rest.get("/api/audit", params={"channel": "rest"})).json()["items"]
    assert {e["channel"] for e in rest_only} == {"rest"}


async def read_events(
    response: httpx.Response, wanted: int, into: list[tuple[str, dict[str, Any]]]
) -> None:
    kind = ""
    async for line in response.aiter_lines():
        if line.startswith("event: "):
            kind = line.removeprefix("event: ")
        elif line.startswith("data: ") and kind:
            into.append((kind, json.loads(line.removeprefix("data: "))))
            if len(into) >= wanted:
                return


async def test_a_station_status_reaches_an_open_event_stream(
    app: Application, rest: httpx.AsyncClient
) -> None:
    received: list[tuple[str, dict[str, Any]]] = []
    params = {"charge_point_id": "CP-1", "type": "connector.status_changed"}
    async with (
        connected_station(ocpp_url(app), "CP-1") as station,
        rest.stream("GET", "/api/events", params=params) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        await station.boot()
        reading = asyncio.create_task(read_events(response, 1, received))
        await station.status(1, ChargePointStatus.charging)
        await asyncio.wait_for(reading, 5)

    [(kind, data)] = received
    assert kind == "connector.status_changed"
    assert data["charge_point_id"] == "CP-1" and data["connector_id"] == 1
    assert data["status"] == "Charging" and "at" in data


async def test_event_filters_must_name_known_types(rest: httpx.AsyncClient) -> None:
    response = await rest.get("/api/events", params={"type": "station.exploded"})
    assert response.status_code == 422
    assert "station.exploded" in response.json()["detail"]


# REST paths users already script against: every one must still answer.
EXISTING_PATHS = [
    ("get", "/api/charge-points"),
    ("post", "/api/charge-points"),
    ("get", "/api/charge-points/{charge_point_id}"),
    ("post", "/api/charge-points/{charge_point_id}/accept"),
    ("post", "/api/charge-points/{charge_point_id}/reject"),
    ("put", "/api/charge-points/{charge_point_id}/password"),
    ("get", "/api/charge-points/{charge_point_id}/status-history"),
    ("get", "/api/charge-points/{charge_point_id}/device-model"),
    ("get", "/api/charge-points/{charge_point_id}/events"),
    ("get", "/api/charge-points/{charge_point_id}/diagnosis"),
    ("get", "/api/charge-points/{charge_point_id}/commands"),
    ("get", "/api/commands"),
    ("get", "/api/id-tags"),
    ("post", "/api/id-tags"),
    ("get", "/api/id-tags/{id_tag}"),
    ("patch", "/api/id-tags/{id_tag}"),
    ("delete", "/api/id-tags/{id_tag}"),
    ("get", "/api/transactions"),
    ("get", "/api/transactions/{transaction_id}"),
    ("get", "/api/reports/usage"),
    ("get", "/api/audit"),
    ("get", "/api/health"),
    ("post", "/energy/coordinate"),
    ("get", "/energy/status"),
    ("get", "/energy/health"),
    ("post", "/energy/solar/production"),
    ("post", "/energy/battery/update"),
    ("post", "/energy/battery/control"),
    ("post", "/energy/vehicle/update"),
    ("post", "/energy/vehicle/control"),
    ("post", "/energy/load/update"),
    ("post", "/energy/load/shed"),
    ("get", "/energy/config"),
    ("put", "/energy/config"),
    ("get", "/energy/tariff"),
    ("put", "/energy/tariff"),
    ("get", "/energy/policy"),
    ("put", "/energy/policy"),
    ("post", "/energy/tick"),
    ("get", "/energy/plan"),
    ("get", "/energy/plans"),
    ("post", "/api/chat"),
    ("post", "/api/chat/stream"),
    ("post", "/api/chat/{conversation_id}/confirm"),
] + [
    ("post", f"/api/charge-points/{{charge_point_id}}/commands/{name}")
    for name in (
        "remote-start",
        "remote-stop",
        "reset",
        "unlock-connector",
        "change-availability",
        "get-configuration",
        "set-configuration",
        "get-base-report",
        "trigger-message",
        "clear-cache",
        "send-local-list",
        "get-local-list-version",
        "reserve-now",
        "cancel-reservation",
        "set-charging-profile",
        "clear-charging-profile",
        "get-charging-profiles",
        "get-composite-schedule",
        "update-firmware",
        "get-diagnostics",
        "data-transfer",
    )
]


async def test_every_existing_rest_path_is_still_served(rest: httpx.AsyncClient) -> None:
    paths = (await rest.get("/openapi.json")).json()["paths"]
    missing = [(m, p) for m, p in EXISTING_PATHS if m not in paths.get(p, {})]
    assert missing == []
