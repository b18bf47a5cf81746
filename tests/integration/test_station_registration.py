"""Registration of new stations (issue #11): first connections that race, and stations
that connect without ever sending BootNotification."""

from __future__ import annotations

import asyncio

import httpx
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from ev_charging_system.application import Application
from tests.conformance.station import OCPP16, TIMEOUT, RawStation, boot_payload, raw_station
from tests.conftest import expecting, ocpp_url

CLOSE_INTERNAL_ERROR = 1011


async def test_first_connections_of_a_new_station_at_the_same_moment_all_register(
    app: Application,
) -> None:
    """Each reads "no such station" before any has inserted it: the inserts must not
    collide (an upsert), on either database."""
    copies = 6
    await asyncio.gather(
        *(app.services.devices.station_connected("CP-RACE", "1.6") for _ in range(copies))
    )
    station = await app.services.devices.get_charge_point("CP-RACE")
    assert station.charge_point.ocpp_version == "1.6"
    events = await app.services.devices.list_events("CP-RACE")
    assert [e.kind.value for e in events].count("connected") == copies


async def test_two_sockets_of_a_new_station_at_once_are_never_closed_1011(
    app: Application,
) -> None:
    async def first_connection() -> RawStation:
        websocket = await connect(
            f"{ocpp_url(app)}/CP-TWIN",
            subprotocols=[Subprotocol(OCPP16)],
            open_timeout=TIMEOUT,
        )
        return RawStation(websocket, "CP-TWIN")

    stations = await asyncio.gather(first_connection(), first_connection())
    try:
        # The connection registered last replaces the other (closed 1000), whichever it
        # is; nobody is refused because of the race.
        closes = await asyncio.wait_for(
            asyncio.wait(
                [asyncio.create_task(s.websocket.wait_closed()) for s in stations],
                return_when=asyncio.FIRST_COMPLETED,
            ),
            TIMEOUT,
        )
        assert len(closes[0]) == 1
        [replaced] = [s for s in stations if s.websocket.close_code is not None]
        [live] = [s for s in stations if s is not replaced]
        assert replaced.websocket.close_code == 1000
        assert replaced.websocket.close_code != CLOSE_INTERNAL_ERROR
        answer = await live.call("BootNotification", boot_payload(OCPP16))
        assert answer["status"] == "Accepted"
    finally:
        for station in stations:
            await station.close()


async def test_a_station_that_never_booted_is_shown_connected_but_not_accepted(
    app: Application, rest: httpx.AsyncClient
) -> None:
    async with (
        expecting(app, "station.connected", "CP-QUIET") as connected,
        raw_station(app, "CP-QUIET", OCPP16, boot=False) as station,
    ):
        await connected()
        shown = (await rest.get("/api/charge-points/CP-QUIET")).json()
        assert shown["online"] is True
        assert shown["booted"] is False
        assert shown["registration_status"] is None  # never "Accepted": nobody said so
        assert shown["admission"] == "Accepted"  # what its BootNotification will get
        [listed] = [
            p
            for p in (await rest.get("/api/charge-points")).json()["items"]
            if p["id"] == "CP-QUIET"
        ]
        assert listed["registration_status"] is None and listed["online"] is True

        await station.call("BootNotification", boot_payload(OCPP16))
        shown = (await rest.get("/api/charge-points/CP-QUIET")).json()
        assert shown["booted"] is True
        assert shown["registration_status"] == "Accepted"
