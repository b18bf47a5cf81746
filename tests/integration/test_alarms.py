"""Alarms as an operator meets them: raised by what stations do, shown by the API and the
event stream, acknowledged, cleared by themselves, kept across restarts, sent to webhooks."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from ocpp.v16.enums import ChargePointErrorCode, ChargePointStatus

from ev_charging_system.application import Application
from ev_charging_system.business_logic.events import DomainEvent
from tests.conftest import ADMIN_HEADERS, AppFactory, expecting, ocpp_url
from tests.integration.test_roles import token_for
from tools.simulated_charge_point import connected_station
from tools.station_sim.behaviour import Behaviour

OFFLINE_AFTER_MINUTES = 0.005  # 0.3 s: the rule, not the clock, is under test


async def alarms(rest: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    answer = await rest.get("/api/alarms", params=params)
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


async def test_a_faulted_connector_raises_an_alarm_that_clears_when_it_recovers(
    app: Application, rest: httpx.AsyncClient
) -> None:
    async with connected_station(ocpp_url(app), "CP-FAULT") as station:
        await station.boot()
        async with expecting(app, "alarm.raised", "CP-FAULT") as raised:
            await station.status(2, ChargePointStatus.faulted, ChargePointErrorCode.ground_failure)
            event: DomainEvent = await raised()
        [alarm] = await alarms(rest, charge_point_id="CP-FAULT")
        assert (alarm["rule"], alarm["severity"], alarm["connector_id"]) == (
            "connector_faulted",
            "major",
            2,
        )
        assert "GroundFailure" in alarm["message"] and alarm["active"]
        assert event.payload()["alarm_id"] == str(alarm["id"])

        # The same fault reported again is the same alarm, seen twice.
        await station.status(2, ChargePointStatus.faulted, ChargePointErrorCode.ground_failure)
        async with expecting(app, "alarm.cleared", "CP-FAULT") as cleared:
            await station.status(2, ChargePointStatus.available)
            await cleared()
    assert await alarms(rest, charge_point_id="CP-FAULT") == []
    [history] = await alarms(rest, charge_point_id="CP-FAULT", active="false")
    assert history["occurrences"] == 2 and history["cleared_at"] is not None


async def test_a_station_offline_longer_than_the_limit_raises_an_alarm(
    app_factory: AppFactory,
) -> None:
    app = await app_factory(alarm_offline_minutes=OFFLINE_AFTER_MINUTES)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{app.rest_port}", headers=ADMIN_HEADERS
    ) as rest:
        async with expecting(app, "alarm.raised", "CP-GONE") as raised:
            async with connected_station(ocpp_url(app), "CP-GONE") as station:
                await station.boot()
            await raised()
        [alarm] = await alarms(rest)
        assert alarm["rule"] == "station_offline" and "CP-GONE is offline" in alarm["message"]

        async with (
            expecting(app, "alarm.cleared", "CP-GONE") as cleared,
            connected_station(ocpp_url(app), "CP-GONE") as station,
        ):
            await station.boot()
            await cleared()
        assert await alarms(rest) == []


async def test_an_operator_acknowledges_an_alarm_and_a_viewer_may_not(
    app: Application, rest: httpx.AsyncClient
) -> None:
    viewer = await token_for(rest, "alarm-viewer", "viewer")
    operator = await token_for(rest, "alarm-operator", "operator")
    await rest.post("/api/id-tags", json={"id_tag": "TAG-ACK"})
    async with connected_station(ocpp_url(app), "CP-ACK") as station:
        await station.boot()
        station.behave("Reset", Behaviour.CALL_ERROR, times=1)
        async with expecting(app, "alarm.raised", "CP-ACK") as raised:
            answer = await rest.post(
                "/api/charge-points/CP-ACK/commands/reset", json={"type": "Soft"}
            )
            assert answer.status_code == 502
            await raised()
        [alarm] = await alarms(rest, charge_point_id="CP-ACK")
        assert alarm["rule"] == "command_failed" and "Reset" in alarm["message"]
        path = f"/api/alarms/{alarm['id']}/acknowledge"
        assert (await rest.post(path, headers=viewer)).status_code == 403
        acknowledged = await rest.post(path, headers=operator)
        assert acknowledged.status_code == 200, acknowledged.text
        body = acknowledged.json()
        assert body["acknowledged_by"] and body["active"]  # on it, but not over
        assert (await rest.post("/api/alarms/999999/acknowledge")).status_code == 404

        # The next command the station answers shows the failure is over.
        async with expecting(app, "alarm.cleared", "CP-ACK") as cleared:
            again = await rest.post(
                "/api/charge-points/CP-ACK/commands/reset", json={"type": "Soft"}
            )
            assert again.status_code == 200
            await cleared()
    cleared_alarm = (await alarms(rest, charge_point_id="CP-ACK", active="false"))[0]
    assert not cleared_alarm["active"]
    assert (await rest.post(path, headers=operator)).status_code == 409


async def test_an_implausible_meter_value_is_an_alarm_until_acknowledged(
    app: Application, rest: httpx.AsyncClient
) -> None:
    await rest.post("/api/id-tags", json={"id_tag": "TAG-METER"})
    async with connected_station(ocpp_url(app), "CP-METER") as station:
        await station.boot()
        started = await station.start_transaction(1, "TAG-METER", meter_start=5_000)
        async with expecting(app, "alarm.raised", "CP-METER") as raised:
            await station.stop_transaction(started.transaction_id, meter_stop=4_000)
            await raised()
    [alarm] = await alarms(rest, charge_point_id="CP-METER")
    assert alarm["rule"] == "implausible_meter_value" and "below" in alarm["message"]
    acknowledged = await rest.post(f"/api/alarms/{alarm['id']}/acknowledge")
    assert acknowledged.json()["active"] is False  # a past event: acknowledging ends it
    assert await alarms(rest, charge_point_id="CP-METER") == []


async def test_active_alarms_survive_a_restart(app_factory: AppFactory) -> None:
    first = await app_factory()
    async with connected_station(ocpp_url(first), "CP-KEEP") as station:
        await station.boot()
        async with expecting(first, "alarm.raised", "CP-KEEP") as raised:
            await station.status(1, ChargePointStatus.faulted, ChargePointErrorCode.other_error)
            await raised()
    await first.stop()
    second = await app_factory()
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{second.rest_port}", headers=ADMIN_HEADERS
    ) as rest:
        [alarm] = await alarms(rest, charge_point_id="CP-KEEP")
        assert alarm["rule"] == "connector_faulted"
        # Still the same alarm once the station reports the fault again after the restart.
        async with connected_station(ocpp_url(second), "CP-KEEP") as station:
            await station.boot()
            await station.status(1, ChargePointStatus.faulted, ChargePointErrorCode.other_error)
            async with expecting(second, "alarm.cleared", "CP-KEEP") as cleared:
                await station.status(1, ChargePointStatus.available)
                await cleared()
        history = await alarms(rest, charge_point_id="CP-KEEP", active="false")
        assert len(history) == 1 and history[0]["occurrences"] == 2


@asynccontextmanager
async def webhook_receiver() -> AsyncIterator[tuple[str, asyncio.Queue[dict[str, Any]]]]:
    """A plain HTTP server on this machine that records the JSON bodies POSTed to it."""
    received: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        received.put_nowait(json.loads(await reader.readexactly(length)))
        writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/hooks/alarms?key=s3cret-hook", received
    finally:
        server.close()
        await server.wait_closed()


async def test_webhooks_hear_of_raised_and_cleared_alarms(app_factory: AppFactory) -> None:
    async with webhook_receiver() as (url, received):
        app = await app_factory(alarm_webhooks={"connector_faulted": url})
        async with connected_station(ocpp_url(app), "CP-HOOK") as station:
            await station.boot()
            await station.status(
                1, ChargePointStatus.faulted, ChargePointErrorCode.power_meter_failure
            )
            raised = await asyncio.wait_for(received.get(), 10)
            await station.status(1, ChargePointStatus.available)
            cleared = await asyncio.wait_for(received.get(), 10)
        assert raised["event"] == "alarm.raised" and cleared["event"] == "alarm.cleared"
        assert raised["alarm"]["charge_point_id"] == "CP-HOOK"
        assert raised["alarm"]["rule"] == "connector_faulted"
        assert cleared["alarm"]["active"] is False
