"""An OCPP 2.0.1 station over a real WebSocket: the same services and records as 1.6."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from ocpp.v201 import ChargePoint, call
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from ev_charging_system.application import Application
from tests.conftest import ocpp_url

T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


def at(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def energy(wh: float, context: str = "Sample.Periodic", minutes: float = 0) -> list[dict[str, Any]]:
    return [
        {
            "timestamp": at(minutes),
            "sampled_value": [
                {
                    "value": wh / 1000,
                    "measurand": "Energy.Active.Import.Register",
                    "context": context,
                    "unit_of_measure": {"unit": "kWh"},
                }
            ],
        }
    ]


@contextlib.asynccontextmanager
async def station_201(app: Application, station_id: str) -> AsyncIterator[ChargePoint]:
    async with connect(
        f"{ocpp_url(app)}/{station_id}", subprotocols=[Subprotocol("ocpp2.0.1")]
    ) as websocket:
        station = ChargePoint(station_id, websocket)
        task = __import__("asyncio").create_task(station.start())
        try:
            boot = await station.call(
                call.BootNotification(
                    charging_station={
                        "model": "M201",
                        "vendor_name": "Acme",
                        "firmware_version": "3.1",
                    },
                    reason="PowerUp",
                ),
                suppress=False,
            )
            assert boot.status == "Accepted"
            yield station
        finally:
            task.cancel()


def event(
    event_type: str, seq_no: int, minutes: float, *, tx: str = "TX-1", **fields: Any
) -> call.TransactionEvent:
    info = {"transaction_id": tx, **fields.pop("info", {})}
    return call.TransactionEvent(
        event_type=event_type,
        timestamp=at(minutes),
        trigger_reason=fields.pop("trigger_reason", "Authorized"),
        seq_no=seq_no,
        transaction_info=info,
        **fields,
    )


async def test_a_201_session_is_stored_like_a_16_one(
    app: Application, rest: httpx.AsyncClient, operator: dict[str, str]
) -> None:
    await rest.post("/api/id-tags", json={"id_tag": "CARD-201"}, headers=operator)
    token = {"id_token": "CARD-201", "type": "ISO14443"}
    async with station_201(app, "CP-201") as station:
        await station.call(
            call.StatusNotification(
                timestamp=at(0), connector_status="Available", evse_id=1, connector_id=1
            ),
            suppress=False,
        )
        authorized = await station.call(call.Authorize(id_token=token), suppress=False)
        assert authorized.id_token_info["status"] == "Accepted"
        started = await station.call(
            event(
                "Started",
                0,
                0,
                id_token=token,
                evse={"id": 1, "connector_id": 1},
                meter_value=energy(10_000, "Transaction.Begin"),
            ),
            suppress=False,
        )
        assert started.id_token_info["status"] == "Accepted"
        await station.call(
            event(
                "Updated",
                1,
                30,
                meter_value=energy(13_000, minutes=30),
                trigger_reason="MeterValuePeriodic",
            ),
            suppress=False,
        )
        await station.call(
            event(
                "Ended",
                2,
                60,
                meter_value=energy(16_500, "Transaction.End", minutes=60),
                trigger_reason="EVCommunicationLost",
                info={"stopped_reason": "EVDisconnected"},
            ),
            suppress=False,
        )

    page = (await rest.get("/api/transactions", params={"charge_point_id": "CP-201"})).json()
    [transaction] = page["items"]
    assert transaction["id_tag"] == "CARD-201"
    assert transaction["connector_id"] == 1
    assert transaction["meter_start_wh"] == 10_000
    assert transaction["energy_wh"] == 6_500
    assert transaction["stop_reason"] == "EVDisconnected"
    assert datetime.fromisoformat(transaction["started_at"]) == T0
    assert datetime.fromisoformat(transaction["stopped_at"]) == T0 + timedelta(hours=1)
    detail = (await rest.get("/api/charge-points/CP-201")).json()
    assert detail["ocpp_version"] == "2.0.1"
    assert detail["boot"]["vendor"] == "Acme" and detail["boot"]["firmware_version"] == "3.1"
    assert detail["connectors"][0]["status"] == "Available"


async def test_replayed_and_reordered_events_give_one_transaction_with_the_right_energy(
    app: Application, rest: httpx.AsyncClient
) -> None:
    token = {"id_token": "ANY", "type": "NoAuthorization"}
    async with station_201(app, "CP-OFF") as station:
        # Queued offline: the station sends Ended first, then Started, and replays Updated.
        ended = event(
            "Ended", 2, 60, offline=True, meter_value=energy(5_000, "Transaction.End", 60)
        )
        started = event(
            "Started",
            0,
            0,
            offline=True,
            id_token=token,
            evse={"id": 2},
            meter_value=energy(1_000, "Transaction.Begin"),
        )
        updated = event("Updated", 1, 30, offline=True, meter_value=energy(3_000, minutes=30))
        for message in (ended, started, updated, updated, ended):
            await station.call(message, suppress=False)

    page = (await rest.get("/api/transactions", params={"charge_point_id": "CP-OFF"})).json()
    assert page["total"] == 1
    [transaction] = page["items"]
    assert transaction["energy_wh"] == 4_000
    assert transaction["connector_id"] == 2
    assert transaction["active"] is False
    detail = (await rest.get(f"/api/transactions/{transaction['id']}")).json()
    assert len(detail["meter_values"]) == 3  # replays stored nothing twice


async def test_an_ended_without_started_is_still_a_complete_record(
    app: Application, rest: httpx.AsyncClient
) -> None:
    async with station_201(app, "CP-LOST") as station:
        await station.call(
            event(
                "Ended",
                7,
                45,
                tx="LOST-1",
                evse={"id": 1},
                id_token={"id_token": "NOBODY", "type": "ISO14443"},
                meter_value=energy(2_000, "Transaction.End", 45),
                info={"stopped_reason": "Local"},
            ),
            suppress=False,
        )
    [transaction] = (await rest.get("/api/transactions")).json()["items"]
    assert transaction["active"] is False
    assert transaction["id_tag"] == "NOBODY"
    assert transaction["authorization_status"] == "Invalid"
    assert transaction["energy_wh"] == 0


async def test_notify_report_is_stored_as_the_device_model(
    app: Application, rest: httpx.AsyncClient
) -> None:
    async with station_201(app, "CP-DM") as station:
        await station.call(
            call.NotifyReport(
                request_id=1,
                generated_at=at(0),
                seq_no=0,
                report_data=[
                    {
                        "component": {"name": "OCPPCommCtrlr"},
                        "variable": {"name": "HeartbeatInterval"},
                        "variable_attribute": [
                            {"type": "Actual", "value": "300", "mutability": "ReadWrite"}
                        ],
                        "variable_characteristics": {
                            "data_type": "integer",
                            "unit": "s",
                            "supports_monitoring": False,
                        },
                    },
                    {
                        "component": {"name": "EVSE", "evse": {"id": 1}},
                        "variable": {"name": "AvailabilityState"},
                        "variable_attribute": [{"value": "Available", "mutability": "ReadOnly"}],
                    },
                ],
            ),
            suppress=False,
        )
    model = (await rest.get("/api/charge-points/CP-DM/device-model")).json()
    assert {(v["component"], v["variable"], v["value"]) for v in model} == {
        ("OCPPCommCtrlr", "HeartbeatInterval", "300"),
        ("EVSE", "AvailabilityState", "Available"),
    }
    heartbeat = next(v for v in model if v["variable"] == "HeartbeatInterval")
    assert heartbeat["characteristics"]["unit"] == "s"
    assert heartbeat["mutability"] == "ReadWrite"
