"""Which stations may talk to the CSMS: registration policy, passwords, subprotocols."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from ocpp.exceptions import SecurityError
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Subprotocol

from ev_charging_system.application import Application
from tests.conftest import ADMIN_HEADERS, AppFactory, expecting, ocpp_url
from tools.simulated_charge_point import connected_station

PASSWORD = "correct-horse-battery"


async def test_an_unknown_station_waits_pending_until_an_operator_accepts_it(
    app_factory: AppFactory, operator: dict[str, str]
) -> None:
    app = await app_factory(unknown_station_policy="pending")
    async with (
        httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{app.rest_port}", headers=ADMIN_HEADERS
        ) as rest,
        connected_station(ocpp_url(app), "CP-NEW") as station,
    ):
        boot = await station.boot()
        assert boot.status == "Pending"
        assert boot.interval == app.settings.boot_retry_interval_seconds
        with pytest.raises(SecurityError):
            await station.heartbeat()

        listed = (await rest.get("/api/charge-points/CP-NEW")).json()
        assert listed["registration_status"] == "Pending"
        accepted = await rest.post("/api/charge-points/CP-NEW/accept", headers=operator)
        assert accepted.status_code == 200

        assert (await station.boot()).status == "Accepted"
        assert await station.heartbeat() is not None


async def test_the_reject_policy_rejects_unknown_stations_but_keeps_them_for_review(
    app_factory: AppFactory,
) -> None:
    app = await app_factory(unknown_station_policy="reject")
    async with connected_station(ocpp_url(app), "CP-ROGUE") as station:
        assert (await station.boot()).status == "Rejected"
        with pytest.raises(SecurityError):
            await station.authorize("ANY")
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{app.rest_port}", headers=ADMIN_HEADERS
    ) as rest:
        stored = (await rest.get("/api/charge-points/CP-ROGUE")).json()
    assert stored["registration_status"] == "Rejected"


async def test_a_password_protected_station_must_present_its_password(
    app: Application, rest: httpx.AsyncClient, operator: dict[str, str]
) -> None:
    created = await rest.post(
        "/api/charge-points", json={"id": "CP-SEC", "password": PASSWORD}, headers=operator
    )
    assert created.status_code == 201
    assert created.json()["password_protected"] is True

    for password in (None, "wrong-password-123456"):
        with pytest.raises(InvalidStatus) as refused:
            async with connected_station(ocpp_url(app), "CP-SEC", password=password):
                pass
        assert refused.value.response.status_code == 401

    async with connected_station(ocpp_url(app), "CP-SEC", password=PASSWORD) as station:
        assert (await station.boot()).status == "Accepted"
    kinds = [e["kind"] for e in (await rest.get("/api/charge-points/CP-SEC/events")).json()]
    assert kinds.count("auth_failed") == 2


async def test_the_password_is_stored_hashed_never_in_clear(
    app: Application, rest: httpx.AsyncClient, operator: dict[str, str]
) -> None:
    await rest.post(
        "/api/charge-points", json={"id": "CP-SEC", "password": PASSWORD}, headers=operator
    )
    async with app.uow_factory() as uow:
        station = await uow.charge_points.get("CP-SEC")
    assert station is not None and station.password_hash is not None
    assert PASSWORD not in station.password_hash
    assert station.password_hash.startswith("scrypt$")


async def test_a_reconnecting_station_replaces_its_old_connection(
    app: Application, rest: httpx.AsyncClient
) -> None:
    async with expecting(app, "station.disconnected", "CP-1") as disconnected:
        async with connected_station(ocpp_url(app), "CP-1") as first:
            await first.boot()
            async with connected_station(ocpp_url(app), "CP-1") as second:
                assert (await second.boot()).status == "Accepted"
                await asyncio.wait_for(first.websocket.wait_closed(), 5)
                assert first.websocket.close_code == 1000
                assert await second.heartbeat() is not None
                assert (await rest.get("/api/charge-points/CP-1")).json()["online"] is True
        replaced, left = await disconnected(), await disconnected()
    assert replaced.payload()["replaced_by_newer_connection"] is True
    assert left.payload()["replaced_by_newer_connection"] is False
    assert (await rest.get("/api/charge-points/CP-1")).json()["online"] is False
    station_history = (
        await rest.get("/api/charge-points/CP-1/status-history", params={"connector_id": 0})
    ).json()
    # The replaced connection's end is not an outage: one Offline, when the station left.
    assert [h["status"] for h in reversed(station_history)] == ["Online", "Online", "Offline"]


async def test_a_station_offering_both_versions_is_served_with_ocpp201(
    app: Application,
) -> None:
    async with connect(
        f"{ocpp_url(app)}/CP-DUAL", subprotocols=[Subprotocol("ocpp1.6"), Subprotocol("ocpp2.0.1")]
    ) as websocket:
        assert websocket.subprotocol == "ocpp2.0.1"


async def test_an_ocpp16_only_station_is_served_with_ocpp16(app: Application) -> None:
    async with connected_station(ocpp_url(app), "CP-16", subprotocols=("ocpp1.6",)) as station:
        assert station.websocket.subprotocol == "ocpp1.6"
        assert (await station.boot()).status == "Accepted"


async def test_a_client_without_an_ocpp_subprotocol_is_closed_after_the_handshake(
    app: Application,
) -> None:
    # OCPP-J: complete the handshake without Sec-WebSocket-Protocol, then close (issue #13;
    # tests/integration/test_ocpp_framing.py has the details).
    async with connect(f"{ocpp_url(app)}/CP-1") as websocket:
        with pytest.raises(ConnectionClosed):
            await websocket.recv()
    assert websocket.close_code == 1002


async def test_a_connection_without_a_station_id_is_refused(app: Application) -> None:
    with pytest.raises((InvalidStatus, ConnectionClosed)):
        async with connect(f"{ocpp_url(app)}/", subprotocols=[Subprotocol("ocpp1.6")]):
            pass


async def test_a_station_that_stops_answering_pings_is_marked_offline(
    app_factory: AppFactory,
) -> None:
    app = await app_factory(
        ocpp_ping_interval_seconds=0.2,
        ocpp_ping_timeout_seconds=0.3,
        ocpp_close_timeout_seconds=0.3,
    )
    async with (
        httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{app.rest_port}", headers=ADMIN_HEADERS
        ) as rest,
        expecting(app, "station.disconnected", "CP-DEAD") as disconnected,
        connected_station(ocpp_url(app), "CP-DEAD") as station,
    ):
        await station.boot()
        # The network goes quiet: the station no longer reads, so it never answers a ping.
        station.websocket.transport.pause_reading()
        await disconnected(30)
        assert (await rest.get("/api/charge-points/CP-DEAD")).json()["online"] is False
        history = (await rest.get("/api/charge-points/CP-DEAD/status-history")).json()
        assert history[0]["status"] == "Offline"
        station.websocket.transport.resume_reading()
