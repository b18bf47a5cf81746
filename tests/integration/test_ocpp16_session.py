"""A real OCPP 1.6J station (the `ocpp` library's ChargePoint) over a real WebSocket."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from ocpp.v16.enums import ChargePointErrorCode, ChargePointStatus

from ev_charging_system.application import Application
from tests.conftest import ocpp_url
from tools.simulated_charge_point import connected_station, now_iso


async def create_tag(rest: httpx.AsyncClient, operator: dict[str, str], **body: object) -> None:
    response = await rest.post("/api/id-tags", json=body, headers=operator)
    assert response.status_code == 201, response.text


async def test_a_full_charging_session_is_stored(
    app: Application, rest: httpx.AsyncClient, operator: dict[str, str]
) -> None:
    await create_tag(rest, operator, id_tag="RFID-1", name="Alice")

    async with connected_station(ocpp_url(app), "CP-1") as station:
        boot = await station.boot(
            vendor="Acme",
            model="Wallbox 22",
            charge_point_serial_number="SN-42",
            firmware_version="2.3.1",
        )
        assert boot.status == "Accepted"
        assert boot.interval == app.settings.heartbeat_interval_seconds
        await station.heartbeat()
        await station.status(0)
        await station.status(1, ChargePointStatus.preparing)

        authorized = await station.authorize("RFID-1")
        assert authorized.id_tag_info["status"] == "Accepted"

        started = await station.start_transaction(1, "RFID-1", meter_start=12_000)
        assert started.id_tag_info["status"] == "Accepted"
        transaction_id = started.transaction_id
        await station.status(1, ChargePointStatus.charging)
        await station.meter_values(1, transaction_id, energy_wh=13_500, power_w=7200)
        # Some stations report kWh: stored energy must still be Wh.
        await station.meter_values(1, transaction_id, energy_wh=15_250, unit="kWh")
        stopped = await station.stop_transaction(
            transaction_id, meter_stop=16_000, reason="EVDisconnected", id_tag="RFID-1"
        )
        assert stopped.id_tag_info["status"] == "Accepted"
        await station.status(1, ChargePointStatus.available)

        detail = (await rest.get("/api/charge-points/CP-1")).json()
        assert detail["online"] is True
        assert detail["boot"]["vendor"] == "Acme"
        assert detail["boot"]["serial_number"] == "SN-42"
        assert detail["boot"]["firmware_version"] == "2.3.1"
        assert detail["ocpp_version"] == "1.6"
        assert {c["connector_id"]: c["status"] for c in detail["connectors"]} == {
            0: "Available",
            1: "Available",
        }

    transaction = (await rest.get(f"/api/transactions/{transaction_id}")).json()
    assert transaction["charge_point_id"] == "CP-1"
    assert transaction["energy_wh"] == 4_000
    assert transaction["stop_reason"] == "EVDisconnected"
    assert transaction["active"] is False
    energy = [
        Decimal(str(v["value"]))
        for v in transaction["meter_values"]
        if v["measurand"] == "Energy.Active.Import.Register"
    ]
    assert energy == [Decimal("13500"), Decimal("15250")]
    assert all(
        v["unit"] == "Wh"
        for v in transaction["meter_values"]
        if v["measurand"].startswith("Energy")
    )
    power = [v for v in transaction["meter_values"] if v["measurand"] == "Power.Active.Import"]
    assert power[0]["unit"] == "W" and Decimal(str(power[0]["value"])) == Decimal("7200")

    history = (await rest.get("/api/charge-points/CP-1/status-history?connector_id=1")).json()
    assert [h["status"] for h in history] == ["Available", "Charging", "Preparing"]


async def test_a_replayed_start_returns_the_same_transaction_and_creates_one_row(
    app: Application, rest: httpx.AsyncClient, operator: dict[str, str]
) -> None:
    await create_tag(rest, operator, id_tag="RFID-1")
    async with connected_station(ocpp_url(app), "CP-1") as station:
        await station.boot()
        timestamp = now_iso()
        first = await station.start_transaction(1, "RFID-1", 500, timestamp=timestamp)
        replay = await station.start_transaction(1, "RFID-1", 500, timestamp=timestamp)

    assert replay.transaction_id == first.transaction_id
    assert replay.id_tag_info["status"] == "Accepted"  # not ConcurrentTx with itself
    page = (await rest.get("/api/transactions", params={"charge_point_id": "CP-1"})).json()
    assert page["total"] == 1


async def test_a_repeated_stop_is_accepted_and_energy_counted_once(
    app: Application, rest: httpx.AsyncClient, operator: dict[str, str]
) -> None:
    await create_tag(rest, operator, id_tag="RFID-1")
    async with connected_station(ocpp_url(app), "CP-1") as station:
        await station.boot()
        started = await station.start_transaction(1, "RFID-1", 1_000)
        stop_time = now_iso()
        await station.stop_transaction(started.transaction_id, 3_000, timestamp=stop_time)
        again = await station.stop_transaction(started.transaction_id, 9_999, timestamp=stop_time)
        assert again is not None  # answered, so the station stops retrying

    transaction = (await rest.get(f"/api/transactions/{started.transaction_id}")).json()
    assert transaction["meter_stop_wh"] == 3_000
    assert transaction["energy_wh"] == 2_000
    events = (await rest.get("/api/charge-points/CP-1/events")).json()
    assert "repeated_stop" in [e["kind"] for e in events]


async def test_stop_and_meter_values_for_an_unknown_transaction_are_answered_and_recorded(
    app: Application, rest: httpx.AsyncClient
) -> None:
    async with connected_station(ocpp_url(app), "CP-1") as station:
        await station.boot()
        await station.meter_values(1, transaction_id=424242, energy_wh=100)
        stopped = await station.stop_transaction(424242, 5_000, id_tag="NOBODY")
        assert stopped.id_tag_info["status"] == "Invalid"
        assert (await station.heartbeat()) is not None

    kinds = [e["kind"] for e in (await rest.get("/api/charge-points/CP-1/events")).json()]
    assert "unknown_transaction_stop" in kinds
    assert "unknown_transaction_meter_values" in kinds


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ({"id_tag": "BLOCKED", "status": "Blocked"}, "Blocked"),
        (
            {
                "id_tag": "OLD",
                "expiry_date": (datetime.now(UTC) - timedelta(days=1)).isoformat(),
            },
            "Expired",
        ),
        ({"id_tag": "UNKNOWN-ONLY-IN-TEST"}, "Invalid"),
    ],
)
async def test_authorize_reports_blocked_expired_and_unknown_tags(
    app: Application,
    rest: httpx.AsyncClient,
    operator: dict[str, str],
    tag: dict[str, str],
    expected: str,
) -> None:
    if expected != "Invalid":
        await create_tag(rest, operator, **tag)
    async with connected_station(ocpp_url(app), "CP-1") as station:
        await station.boot()
        answer = await station.authorize(tag["id_tag"])
        assert answer.id_tag_info["status"] == expected
        if expected == "Expired":
            assert "expiry_date" in answer.id_tag_info


async def test_a_child_tag_is_blocked_when_its_parent_is_blocked(
    app: Application, rest: httpx.AsyncClient, operator: dict[str, str]
) -> None:
    await create_tag(rest, operator, id_tag="FLEET", status="Blocked")
    await create_tag(rest, operator, id_tag="DRIVER-7", parent_id_tag="FLEET")
    async with connected_station(ocpp_url(app), "CP-1") as station:
        await station.boot()
        answer = await station.authorize("DRIVER-7")
    assert answer.id_tag_info == {"status": "Blocked", "parent_id_tag": "FLEET"}


async def test_a_second_start_for_the_same_tag_is_concurrent_tx(
    app: Application, rest: httpx.AsyncClient, operator: dict[str, str]
) -> None:
    await create_tag(rest, operator, id_tag="RFID-1")
    async with connected_station(ocpp_url(app), "CP-1") as station:
        await station.boot()
        await station.start_transaction(1, "RFID-1", 0)
        # Authorize only says the tag may charge; ConcurrentTx answers the start (issue #13).
        assert (await station.authorize("RFID-1")).id_tag_info["status"] == "Accepted"
        second = await station.start_transaction(2, "RFID-1", 0)
        assert second.id_tag_info["status"] == "ConcurrentTx"


async def test_firmware_diagnostics_and_data_transfer_are_answered_and_kept(
    app: Application, rest: httpx.AsyncClient
) -> None:
    from ocpp.v16 import call

    async with connected_station(ocpp_url(app), "CP-1") as station:
        await station.boot()
        await station.call(call.FirmwareStatusNotification(status="Downloading"), suppress=False)
        await station.call(call.DiagnosticsStatusNotification(status="Uploaded"), suppress=False)
        transfer = await station.call(
            call.DataTransfer(vendor_id="com.acme", message_id="hello", data="{}"), suppress=False
        )
        assert transfer.status == "UnknownVendorId"
        await station.status(
            1,
            ChargePointStatus.faulted,
            ChargePointErrorCode.ground_failure,
            vendor_error_code="E42",
        )

    detail = (await rest.get("/api/charge-points/CP-1")).json()
    assert detail["firmware_status"] == "Downloading"
    assert detail["diagnostics_status"] == "Uploaded"
    assert detail["connectors"][0]["error_code"] == "GroundFailure"
    assert detail["connectors"][0]["vendor_error_code"] == "E42"
    kinds = [e["kind"] for e in (await rest.get("/api/charge-points/CP-1/events")).json()]
    assert {"firmware_status", "diagnostics_status", "data_transfer"} <= set(kinds)
