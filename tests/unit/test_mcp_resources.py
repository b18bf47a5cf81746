"""MCP resources, prompts, status notifications and confirm tokens, in memory."""

from __future__ import annotations

import asyncio
import json

import pytest
from mcp import Client
from mcp.server.subscriptions import ResourceUpdated, ServerEvent
from mcp.shared.exceptions import MCPError

from ev_charging_system.business_logic.device_management_service import StatusReport
from ev_charging_system.business_logic.operations.confirmation_tokens import (
    ConfirmationError,
    ConfirmationTokens,
)
from ev_charging_system.llm_integration.mcp_status_feed import StationStatusFeed
from ev_charging_system.models.id_token import AuthorizationStatus
from tests.unit.test_mcp_support import READER, World, as_caller


@pytest.fixture
async def world() -> World:
    world = World()
    await world.station("CP-1", "Available", "Charging")
    await world.devices.set_password("CP-1", "a-station-password-1234")
    await world.services.auth.create_id_tag("TAG-1", AuthorizationStatus.ACCEPTED, name="Ana")
    return world


async def read_json(client: Client, uri: str) -> object:
    result = await client.read_resource(uri)
    [content] = result.contents
    assert content.mime_type == "application/json"
    return json.loads(content.text)  # type: ignore[union-attr]


async def test_resources_and_templates_are_listed(world: World) -> None:
    async with Client(world.endpoint().server) as client:
        static = {str(r.uri) for r in (await client.list_resources()).resources}
        templates = {
            t.uri_template for t in (await client.list_resource_templates()).resource_templates
        }
    assert static == {
        "evcs://charge-points",
        "evcs://connectors/available",
        "evcs://transactions/active",
        "evcs://alarms/active",
        "evcs://energy/status",
    }
    assert {
        "evcs://charge-points/{charge_point_id}",
        "evcs://charge-points/{charge_point_id}/status",
        "evcs://charge-points/{charge_point_id}/events{?limit}",
        "evcs://transactions/recent{?limit}",
        "evcs://transactions/{transaction_id}",
        "evcs://id-tags{?limit,offset}",
        "evcs://id-tags/{id_tag}",
        "evcs://events/recent{?limit}",
        "evcs://errors/recent{?limit}",
    } <= templates


async def test_reading_resources_never_shows_secrets(world: World) -> None:
    with as_caller(READER):
        async with Client(world.endpoint().server) as client:
            details = await read_json(client, "evcs://charge-points/CP-1")
            status = await read_json(client, "evcs://charge-points/CP-1/status")
            tags = await read_json(client, "evcs://id-tags?limit=10")
            free = await read_json(client, "evcs://connectors/available")
            events = await read_json(client, "evcs://charge-points/CP-1/events?limit=5")

    assert isinstance(details, dict) and details["password_protected"] is True
    assert "hash" not in json.dumps(details) and "scrypt" not in json.dumps(details)
    assert isinstance(status, dict) and status["charge_point"]["online"] is True
    assert tags == {
        "items": [
            {
                "id_tag": "TAG-1",
                "status": "Accepted",
                "name": "Ana",
                "expiry_date": None,
                "parent_id_tag": None,
                "max_active_transactions": 1,
                "created_at": world.clock().isoformat().replace("+00:00", "Z"),
            }
        ],
        "total": 1,
        "limit": 10,
        "offset": 0,
    }
    assert isinstance(free, dict) and free["count"] == 1
    assert events == []


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("evcs://charge-points/CP-9", "'CP-9' not found"),
        ("evcs://transactions/77", "transaction 77 not found"),
        ("evcs://transactions/abc", "transaction_id must be a whole number"),
        ("evcs://events/recent?limit=1000", "limit must be between 1 and 100"),
        ("evcs://id-tags/NOPE", "id tag 'NOPE' not found"),
    ],
)
async def test_bad_resource_reads_say_why(world: World, uri: str, expected: str) -> None:
    with as_caller(READER):
        async with Client(world.endpoint().server) as client:
            with pytest.raises(MCPError) as raised:
                await client.read_resource(uri)
    assert expected in str(raised.value)


async def test_resources_need_a_caller(world: World) -> None:
    async with Client(world.endpoint().server) as client:
        with pytest.raises(MCPError, match="needs a signed-in viewer"):
            await client.read_resource("evcs://charge-points")


async def test_prompts_guide_the_model(world: World) -> None:
    async with Client(world.endpoint().server) as client:
        names = {p.name for p in (await client.list_prompts()).prompts}
        diagnose = await client.get_prompt("diagnose_station", {"charge_point_id": "CP-1"})
        energy = await client.get_prompt("explain_todays_energy", {})
    assert names == {"operator_assistant", "diagnose_station", "explain_todays_energy"}
    text = diagnose.messages[0].content.text  # type: ignore[union-attr]
    assert "diagnose_charge_point(charge_point_id='CP-1', days=14)" in text
    assert "get_energy_status" in energy.messages[0].content.text  # type: ignore[union-attr]


async def test_a_status_change_notifies_subscribers_without_polling(world: World) -> None:
    feed = StationStatusFeed(world.events)
    received: list[ServerEvent] = []
    both_heard = asyncio.Event()

    def hear(event: ServerEvent) -> None:
        received.append(event)
        if len(received) == 2:
            both_heard.set()

    release = feed.bus.subscribe(hear)
    assert feed.has_subscribers()
    async with feed.running():
        await asyncio.sleep(0)  # let the feed subscribe to the domain events
        await world.devices.status_notification(
            "CP-1", StatusReport(1, "Charging", "NoError", world.clock())
        )
        await asyncio.wait_for(both_heard.wait(), 5)
    release()

    assert received == [
        ResourceUpdated(uri="evcs://charge-points/CP-1/status"),
        ResourceUpdated(uri="evcs://connectors/available"),
    ]
    assert not feed.has_subscribers()


async def test_confirm_tokens_are_single_use_bound_and_bounded() -> None:
    now = [0.0]
    tokens = ConfirmationTokens(60, monotonic=lambda: now[0], max_pending=2)
    first = await tokens.issue("reset", {"charge_point_id": "A"}, "me")
    with pytest.raises(ConfirmationError, match="different call"):
        await tokens.redeem(first.token, "reset", {"charge_point_id": "B"}, "me")
    with pytest.raises(ConfirmationError, match="another caller"):
        await tokens.redeem(first.token, "reset", {"charge_point_id": "A"}, "you")
    await tokens.redeem(first.token, "reset", {"charge_point_id": "A"}, "me")
    with pytest.raises(ConfirmationError, match="already used"):
        await tokens.redeem(first.token, "reset", {"charge_point_id": "A"}, "me")

    second = await tokens.issue("reset", {}, "me")
    await tokens.issue("reset", {}, "me")
    await tokens.issue("reset", {}, "me")  # the oldest pending token is dropped
    with pytest.raises(ConfirmationError, match="already used"):
        await tokens.redeem(second.token, "reset", {}, "me")

    late = await tokens.issue("reset", {}, "me")
    now[0] = 61
    with pytest.raises(ConfirmationError, match="expired"):
        await tokens.redeem(late.token, "reset", {}, "me")
