"""A reconnect storm against a small admission bound: every station gets in, those that
had to wait were told so (HTTP 503 with Retry-After), and none was dropped silently."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Subprotocol

from ev_charging_system.application import Application
from tests.conformance.station import OPERATOR, raw_station
from tests.conftest import AppFactory, ocpp_url

STATIONS = 40
BOOT = [2, "1", "BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"}]


async def boot_like_a_charger(app: Application, station_id: str, refusals: list[int]) -> None:
    """Connect, retrying after each refusal as the CSMS asks; then boot."""
    deadline = time.monotonic() + 60
    while True:
        try:
            async with connect(
                f"{ocpp_url(app)}/{station_id}",
                subprotocols=[Subprotocol("ocpp1.6")],
                open_timeout=10,
            ) as websocket:
                await websocket.send(json.dumps(BOOT))
                reply = json.loads(await asyncio.wait_for(websocket.recv(), 10))
                assert reply[0] == 3 and reply[2]["status"] == "Accepted", reply
                return
        except InvalidStatus as refused:
            assert refused.response.status_code == 503
            retry_after = int(refused.response.headers["Retry-After"])
            assert 1 <= retry_after <= 60
            refusals.append(retry_after)
            assert time.monotonic() < deadline, "still refused after a minute"
            # A test cannot wait whole seconds per retry: a tenth of what was asked.
            await asyncio.sleep(retry_after / 10)


async def test_a_storm_beyond_the_admission_bound_is_refused_explicitly_then_all_boot(
    app_factory: AppFactory,
) -> None:
    app = await app_factory(ocpp_admission_max_pending=3)
    refusals: list[int] = []
    await asyncio.wait_for(
        asyncio.gather(
            *(boot_like_a_charger(app, f"STORM-{n:03}", refusals) for n in range(STATIONS))
        ),
        90,
    )
    counts = app.ocpp.admission.counts()
    assert refusals, "40 stations at once against a bound of 3: some must have waited"
    assert counts.refused == len(refusals)
    assert counts.admitted == STATIONS
    assert counts.lost == 0


async def test_a_flooding_station_is_held_back_and_loses_nothing(app_factory: AppFactory) -> None:
    app = await app_factory(ocpp_station_message_rate=20, ocpp_station_message_burst=5)
    async with raw_station(app, "FLOOD") as flood, raw_station(app, "CALM") as calm:
        started = time.monotonic()
        for n in range(25):  # all sent at once, not waiting for answers
            await flood.send([2, f"hb-{n}", "Heartbeat", {}])
        # The other station is served meanwhile.
        assert "currentTime" in await calm.call("Heartbeat")
        replies = [await flood.next_reply() for _ in range(25)]
        held_for = time.monotonic() - started

    assert [reply[1] for reply in replies] == [f"hb-{n}" for n in range(25)]
    assert all(reply[0] == 3 for reply in replies)  # every one answered, in order
    # Beyond the burst of 5 (and the boot), 20 messages at 20 per second: a second at least.
    assert held_for >= 0.9
    metrics = (await operator_get(app, "/metrics")).splitlines()
    [throttled] = [
        line for line in metrics if line.startswith("evcs_ocpp_messages_throttled_total")
    ]
    assert float(throttled.split()[1]) >= 15


async def operator_get(app: Application, path: str) -> str:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{app.rest_port}") as client:
        response = await client.get(path, headers=OPERATOR)
    response.raise_for_status()
    return response.text
