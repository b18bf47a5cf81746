"""The MCP server of the running application, over real streamable HTTP, on the real
services, database and stations."""

from __future__ import annotations

import asyncio
import json
import warnings
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPDeprecationWarning
from mcp.types import ElicitResult, ResourceUpdatedNotification
from ocpp.v16.enums import ChargePointStatus

from ev_charging_system.application import Application
from ev_charging_system.llm_integration.mcp_server import MCP_PATH
from tests.conftest import ADMIN_HEADERS, AppFactory, ocpp_url
from tools.simulated_charge_point import connected_station

READ_TOKEN = "test-mcp-read-token"
OPERATE_TOKEN = "test-mcp-operate-token"


@dataclass
class Served:
    app: Application
    url: str
    rest: httpx.AsyncClient


@pytest.fixture
async def mcp(app_factory: AppFactory) -> AsyncIterator[Served]:
    app = await app_factory(mcp_read_token=READ_TOKEN, mcp_operate_token=OPERATE_TOKEN)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{app.rest_port}", headers=ADMIN_HEADERS
    ) as rest:
        yield Served(app, f"http://127.0.0.1:{app.mcp_port}{MCP_PATH}", rest)


async def until(condition: Callable[[], bool], seconds: float = 5) -> None:
    """Wait for a condition of the server's state (not for a fixed time)."""
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110 - the state has no awaitable signal
            await asyncio.sleep(0.01)


@asynccontextmanager
async def client(url: str, token: str, **options: Any) -> AsyncIterator[Client]:
    """An MCP client sending a bearer token (the SDK's client takes an httpx2 client)."""
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        Client(streamable_http_client(url, http_client=http), **options) as session,
    ):
        yield session


async def test_anonymous_requests_and_foreign_origins_are_refused(mcp: Served) -> None:
    initialize = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {}}
    headers = {"Accept": "application/json, text/event-stream"}
    async with httpx.AsyncClient() as http:
        anonymous = await http.post(mcp.url, json=initialize, headers=headers)
        wrong_token = await http.post(
            mcp.url, json=initialize, headers={**headers, "Authorization": "Bearer nope"}
        )
        foreign = await http.post(
            mcp.url,
            json=initialize,
            headers={
                **headers,
                "Authorization": f"Bearer {READ_TOKEN}",
                "Origin": "https://evil.example",
            },
        )
        rebound = await http.post(
            mcp.url,
            json=initialize,
            headers={**headers, "Authorization": f"Bearer {READ_TOKEN}", "Host": "evil.example"},
        )
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    assert wrong_token.status_code == 401
    assert foreign.status_code == 403
    assert rebound.status_code == 421


async def test_read_token_reads_but_cannot_operate(mcp: Served) -> None:
    async with connected_station(ocpp_url(mcp.app), "CP-1") as station:
        await station.boot(vendor="Acme", model="X1")
        await station.status(1)
        async with client(mcp.url, READ_TOKEN) as session:
            listed = await session.call_tool("list_charge_points", {"online_only": True})
            resource = await session.read_resource("evcs://charge-points/CP-1/status")
            refused = await session.call_tool("send_remote_reset", {"charge_point_id": "CP-1"})

    assert listed.structured_content is not None
    [summary] = listed.structured_content["items"]
    assert summary["id"] == "CP-1" and summary["boot"]["vendor"] == "Acme" and summary["online"]
    assert '"connector_id":1' in resource.contents[0].text  # type: ignore[union-attr]
    assert refused.is_error and "operator role" in refused.content[0].text  # type: ignore[union-attr]
    audit = (await mcp.rest.get("/api/audit", params={"tool": "send_remote_reset"})).json()["items"]
    assert [(a["actor"], a["outcome"]) for a in audit] == [("mcp:read-token", "denied")]


async def test_a_reset_runs_only_after_confirmation_and_is_audited(mcp: Served) -> None:
    async with connected_station(ocpp_url(mcp.app), "CP-1") as station:
        await station.boot()
        async with client(mcp.url, OPERATE_TOKEN) as session:
            first = await session.call_tool("send_remote_reset", {"charge_point_id": "CP-1"})
            assert first.structured_content is not None
            assert first.structured_content["state"] == "confirmation_required"
            resets_before = [m for m in station.received if "Reset" in str(m)]
            token = first.structured_content["confirm_token"]
            done = await session.call_tool(
                "send_remote_reset", {"charge_point_id": "CP-1", "confirm_token": token}
            )

    assert resets_before == []
    assert done.structured_content is not None
    assert done.structured_content["state"] == "executed"
    assert done.structured_content["status"] == "Accepted"
    assert any("Reset" in str(m) for m in station.received)
    audit = (await mcp.rest.get("/api/audit", params={"tool": "send_remote_reset"})).json()["items"]
    assert [a["outcome"] for a in reversed(audit)] == ["confirmation_required", "ok"]
    assert audit[0]["arguments"] == {"charge_point_id": "CP-1", "type": "Soft", "when": "Immediate"}
    assert audit[0]["result"]["status"] == "Accepted"
    assert audit[0]["client"].startswith("127.0.0.1:")  # 2026-07-28 has no session id
    commands = (await mcp.rest.get("/api/charge-points/CP-1/commands")).json()["items"]
    assert commands[0]["action"] == "Reset" and commands[0]["requested_by"] == "mcp:operate-token"


async def test_a_handshake_era_client_confirms_through_elicitation(mcp: Served) -> None:
    asked: list[str] = []

    async def confirm(_context: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        return ElicitResult(action="accept", content={"confirm": True})

    async with connected_station(ocpp_url(mcp.app), "CP-1") as station:
        await station.boot()
        async with client(
            mcp.url, OPERATE_TOKEN, mode="legacy", elicitation_callback=confirm
        ) as session:
            result = await session.call_tool(
                "unlock_connector", {"charge_point_id": "CP-1", "connector_id": 1}
            )

    assert asked == ["Unlock connector 1 of CP-1. Do you want to do this now?"]
    assert result.structured_content is not None
    assert result.structured_content["status"] == "Unlocked"


async def test_subscribers_hear_when_a_station_status_changes(mcp: Served) -> None:
    uri = "evcs://charge-points/CP-1/status"
    async with connected_station(ocpp_url(mcp.app), "CP-1") as station:
        await station.boot()
        await station.status(1)
        async with (
            client(mcp.url, READ_TOKEN) as session,
            session.listen(resource_subscriptions=[uri]) as subscription,
        ):
            await until(mcp.app.mcp.status_feed.has_subscribers)
            await station.status(1, ChargePointStatus.charging)

            async def first_event() -> object:
                async for event in subscription:
                    return event
                return None

            event = await asyncio.wait_for(first_event(), 5)
    assert getattr(event, "uri", None) == uri


async def test_subscribers_hear_of_alarms_and_read_them(mcp: Served) -> None:
    uri = "evcs://alarms/active"
    async with connected_station(ocpp_url(mcp.app), "CP-ALARM") as station:
        await station.boot()
        async with (
            client(mcp.url, READ_TOKEN) as session,
            session.listen(resource_subscriptions=[uri]) as subscription,
        ):
            await until(mcp.app.mcp.status_feed.has_subscribers)
            await station.status(1, ChargePointStatus.faulted)

            async def first_event() -> object:
                async for event in subscription:
                    return event
                return None

            event = await asyncio.wait_for(first_event(), 5)
            assert getattr(event, "uri", None) == uri
            contents = (await session.read_resource(uri)).contents
    [alarm] = json.loads(getattr(contents[0], "text", ""))["items"]
    assert (alarm["rule"], alarm["charge_point_id"]) == ("connector_faulted", "CP-ALARM")


async def test_handshake_era_clients_subscribe_with_resources_subscribe(mcp: Served) -> None:
    uri = "evcs://charge-points/CP-1/status"
    updated = asyncio.Event()

    async def on_message(message: object) -> None:
        if isinstance(message, ResourceUpdatedNotification) and message.params.uri == uri:
            updated.set()

    async with connected_station(ocpp_url(mcp.app), "CP-1") as station:
        await station.boot()
        await station.status(1)
        async with client(
            mcp.url, READ_TOKEN, mode="legacy", message_handler=on_message
        ) as session:
            assert session.server_capabilities.resources is not None
            assert session.server_capabilities.resources.subscribe is True
            with warnings.catch_warnings():  # deprecated in the SDK for 2026-07-28 only
                warnings.simplefilter("ignore", MCPDeprecationWarning)
                await session.subscribe_resource(uri)
            await until(mcp.app.mcp.status_feed.has_subscribers)
            await station.status(1, ChargePointStatus.faulted)
            await asyncio.wait_for(updated.wait(), 5)
        # A client that leaves without unsubscribing is forgotten (no endless polling).
        assert mcp.app.mcp.status_feed.legacy.active() == 0
        assert not mcp.app.mcp.status_feed.has_subscribers()
