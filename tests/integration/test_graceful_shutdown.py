"""Graceful shutdown (issue #11): stopping stops accepting connections, answers every
station call in flight, then closes each socket with 1001, within SHUTDOWN_TIMEOUT_SECONDS;
and it never waits without bound.

Calls are kept in flight by a database held locked by another client, so they are still
being handled when the stop begins."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from ev_charging_system.application import Application
from tests.conformance.station import OCPP16, RawStation, at, boot_payload
from tests.conftest import AppFactory, ocpp_url
from tests.faults import table_locked

STATIONS = 4
BOUND = 10.0  # any single wait of these tests


def meter_values(n: int) -> dict[str, Any]:
    return {
        "connectorId": 1,
        "meterValue": [
            {
                "timestamp": at(n),
                "sampledValue": [{"value": str(100 + n), "measurand": "Power.Active.Import"}],
            }
        ],
    }


async def booted_station(app: Application, station_id: str) -> RawStation:
    websocket = await connect(
        f"{ocpp_url(app)}/{station_id}", subprotocols=[Subprotocol(OCPP16)], open_timeout=BOUND
    )
    station = RawStation(websocket, station_id)
    assert (await station.call("BootNotification", boot_payload(OCPP16)))["status"] == "Accepted"
    return station


async def until(condition: Any, what: str) -> None:
    """Wait, with a bound, for a condition of the running application."""
    deadline = time.monotonic() + BOUND
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        await asyncio.sleep(0.01)


async def test_every_call_in_flight_is_answered_before_the_sockets_close_1001(
    app_factory: AppFactory, migrated_database: str
) -> None:
    app = await app_factory(database_timeout_seconds=8, shutdown_timeout_seconds=12)
    stations = [await booted_station(app, f"CP-STOP-{n}") for n in range(STATIONS)]
    try:
        with table_locked(migrated_database, "meter_samples"):
            for n, station in enumerate(stations):
                await station.send([2, f"mv-{n}", "MeterValues", meter_values(n)])
            await until(lambda: app.ocpp.in_flight() == STATIONS, "every call is in flight")
            address = ocpp_url(app)
            stopping = asyncio.create_task(app.stop())
            await until(lambda: not app.ocpp.accepting, "the server stopped accepting")
            with pytest.raises(OSError):  # no new connections while draining
                await connect(f"{address}/CP-LATE", open_timeout=BOUND)
        # The database is free again: the calls complete and are answered, then goodbye.
        for n, station in enumerate(stations):
            reply = await station.next_reply()
            assert reply == [3, f"mv-{n}", {}], reply
            assert await station.closed() == 1001
        await asyncio.wait_for(stopping, BOUND)
    finally:
        for station in stations:
            await station.close()


async def test_stopping_never_waits_without_bound_for_a_call_that_cannot_finish(
    app_factory: AppFactory, migrated_database: str
) -> None:
    app = await app_factory(database_timeout_seconds=30, shutdown_timeout_seconds=32)
    station = await booted_station(app, "CP-STUCK")
    try:
        with table_locked(migrated_database, "meter_samples"):
            await station.send([2, "mv-stuck", "MeterValues", meter_values(0)])
            await until(lambda: app.ocpp.in_flight() == 1, "the call is in flight")
            # Returns at its own bound (the call would wait 30 s), dropping the connection.
            await asyncio.wait_for(app.ocpp.stop(drain_seconds=1.0), BOUND)
            with contextlib.suppress(Exception):
                await station.closed()
            assert station.websocket.close_code is not None
    finally:
        await station.close()
