"""A small charging network for the browser tests, built through the real protocols.

The stations are `tools/simulated_charge_point` stations talking OCPP over WebSockets to
the application; id tags and plain station records go through the REST API.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
from ocpp.v16.enums import ChargePointErrorCode, ChargePointStatus

from ev_charging_system.application import Application
from tests.conftest import API_TOKEN, ocpp_url
from tools.simulated_charge_point import SimulatedStation, connected_station

OPERATOR = {"Authorization": f"Bearer {API_TOKEN}"}
LIVE = "CP-LIVE"
FAULTY_OFFLINE = "CP-GONE"
NEVER_SEEN = "CP-NEW"
TAG = "RFID-0001"
SITE = "Depot Norte"


@dataclass
class Network:
    rest: httpx.AsyncClient
    live: SimulatedStation
    running_transaction: int
    finished_transaction: int
    site_id: int  # a site the live station stands at


async def _api(rest: httpx.AsyncClient, method: str, path: str, body: object = None) -> object:
    response = await rest.request(method, path, json=body, headers=OPERATOR)
    assert response.status_code < 300, (path, response.status_code, response.text)
    return response.json() if response.content else None


@contextlib.asynccontextmanager
async def small_network(app: Application) -> AsyncIterator[Network]:
    """One station online with a session running and one finished; one station that went
    offline while Faulted; one registered station that never connected; an id tag; a site
    where the live station stands."""
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{app.rest_port}", headers=OPERATOR
    ) as rest:
        await _api(rest, "POST", "/api/id-tags", {"id_tag": TAG, "name": "Ana Souza"})
        await _api(rest, "POST", "/api/charge-points", {"id": NEVER_SEEN})
        site = await _api(rest, "POST", "/api/sites", {"name": SITE, "address": "Rua A, 100"})
        assert isinstance(site, dict)
        async with connected_station(ocpp_url(app), FAULTY_OFFLINE) as gone:
            await gone.boot(firmware_version="0.9.1")
            await gone.status(1, ChargePointStatus.faulted, ChargePointErrorCode.ground_failure)
        async with connected_station(ocpp_url(app), LIVE) as live:
            await live.boot(firmware_version="1.2.3")
            await _api(rest, "PUT", f"/api/charge-points/{LIVE}/site", {"site_id": site["id"]})
            await live.status(0)
            await live.status(1)
            await live.status(2)
            done = await live.start_transaction(2, TAG, 10_000)
            await live.meter_values(2, done.transaction_id, 17_400)
            await live.stop_transaction(done.transaction_id, 17_400, id_tag=TAG)
            running = await live.start_transaction(1, TAG, 50_000)
            await live.status(1, ChargePointStatus.charging)
            await live.meter_values(1, running.transaction_id, 52_500, power_w=7_400)
            yield Network(
                rest=rest,
                live=live,
                running_transaction=running.transaction_id,
                finished_transaction=done.transaction_id,
                site_id=site["id"],
            )
