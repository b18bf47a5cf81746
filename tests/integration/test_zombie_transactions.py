"""A new session on a connector closes the one the station forgot to stop.

Reproduces issue #13: a new StartTransaction on a connector that still had an active
transaction left the old one open forever (a zombie that later corrupts reports); the same
for a 2.0.1 EVSE. The CSMS now closes it with the last known meter value, a clear stop
reason, and a mark that the CSMS (not the station) closed it.
"""

from __future__ import annotations

from typing import Any

from ev_charging_system.application import Application
from ev_charging_system.models.station_event import EventKind
from ev_charging_system.models.transaction import CLOSED_BY_CSMS_REASON
from tests.conformance.station import OCPP16, OCPP201, at, raw_station


def register(wh: int, minutes: float, context: str = "Sample.Periodic") -> list[dict[str, Any]]:
    """A 2.0.1 energy register reading (1.6 sends the value as a string)."""
    return [
        {
            "timestamp": at(minutes),
            "sampledValue": [
                {"value": wh, "context": context, "measurand": "Energy.Active.Import.Register"}
            ],
        }
    ]


async def test_a_16_start_on_a_busy_connector_closes_the_forgotten_session(
    app: Application,
) -> None:
    async with raw_station(app, "CP-Z16", OCPP16) as station:
        old = await station.call(
            "StartTransaction",
            {"connectorId": 1, "idTag": "ANY", "meterStart": 1000, "timestamp": at(0)},
        )
        await station.call(
            "MeterValues",
            {
                "connectorId": 1,
                "transactionId": old["transactionId"],
                "meterValue": [
                    {"timestamp": at(10), "sampledValue": [{"value": "1500"}]},
                ],
            },
        )
        other_connector = await station.call(
            "StartTransaction",
            {"connectorId": 2, "idTag": "ANY", "meterStart": 0, "timestamp": at(20)},
        )
        new = await station.call(
            "StartTransaction",
            {"connectorId": 1, "idTag": "ANY", "meterStart": 1800, "timestamp": at(60)},
        )
    async with app.uow_factory() as uow:
        closed = await uow.transactions.get(old["transactionId"])
        untouched = await uow.transactions.get(other_connector["transactionId"])
        running = await uow.transactions.get(new["transactionId"])
    assert closed is not None and untouched is not None and running is not None
    assert not closed.active
    assert closed.meter_stop_wh == 1500  # the last value known, not the new meterStart
    assert closed.energy_wh == 500
    assert closed.stop_reason == CLOSED_BY_CSMS_REASON
    assert closed.closed_by_csms is True
    # It ended at the latest when the next session started.
    assert (
        closed.stopped_at is not None
        and closed.stopped_at.isoformat() == "2026-05-01T09:00:00+00:00"
    )
    assert untouched.active and running.active
    assert running.closed_by_csms is False
    events = await app.services.devices.list_events("CP-Z16")
    [event] = [e for e in events if e.kind is EventKind.TRANSACTION_CLOSED_BY_CSMS]
    assert event.detail["transaction_id"] == old["transactionId"]
    assert event.detail["superseded_by"] == new["transactionId"]


async def test_a_late_16_stop_of_the_closed_session_replaces_the_csms_guess(
    app: Application,
) -> None:
    async with raw_station(app, "CP-Z16", OCPP16) as station:
        old = await station.call(
            "StartTransaction",
            {"connectorId": 1, "idTag": "ANY", "meterStart": 1000, "timestamp": at(0)},
        )
        await station.call(
            "StartTransaction",
            {"connectorId": 1, "idTag": "ANY", "meterStart": 1800, "timestamp": at(60)},
        )
        # The station's own stop arrives late (it was queued): its values are the truth.
        await station.call(
            "StopTransaction",
            {
                "transactionId": old["transactionId"],
                "meterStop": 1700,
                "timestamp": at(50),
                "reason": "EVDisconnected",
            },
        )
    async with app.uow_factory() as uow:
        stopped = await uow.transactions.get(old["transactionId"])
    assert stopped is not None and not stopped.active
    assert stopped.meter_stop_wh == 1700 and stopped.stop_reason == "EVDisconnected"
    assert stopped.closed_by_csms is False


async def test_a_201_started_on_a_busy_evse_closes_the_forgotten_transaction(
    app: Application,
) -> None:
    evse = {"id": 1, "connectorId": 1}
    async with raw_station(app, "CP-Z201", OCPP201) as station:
        for seq, (kind, tx, minutes, wh, context) in enumerate(
            [
                ("Started", "TX-OLD", 0, 10_000, "Transaction.Begin"),
                ("Updated", "TX-OLD", 10, 11_000, "Sample.Periodic"),
                ("Started", "TX-NEW", 60, 12_000, "Transaction.Begin"),
            ]
        ):
            await station.call(
                "TransactionEvent",
                {
                    "eventType": kind,
                    "timestamp": at(minutes),
                    "triggerReason": "CablePluggedIn",
                    "seqNo": seq if tx == "TX-OLD" else 0,
                    "transactionInfo": {"transactionId": tx},
                    "evse": evse,
                    "meterValue": register(wh, minutes, context),
                },
            )
    async with app.uow_factory() as uow:
        closed = await uow.transactions.find_by_ocpp_id("CP-Z201", "TX-OLD")
        running = await uow.transactions.find_by_ocpp_id("CP-Z201", "TX-NEW")
    assert closed is not None and running is not None
    assert not closed.active and closed.closed_by_csms is True
    assert closed.energy_wh == 1000
    assert closed.stop_reason == CLOSED_BY_CSMS_REASON
    assert running.active


async def test_an_older_201_transaction_arriving_late_does_not_close_the_newer_one(
    app: Application,
) -> None:
    evse = {"id": 1, "connectorId": 1}
    async with raw_station(app, "CP-Z201", OCPP201) as station:
        for tx, minutes, offline in [("TX-NEW", 60, False), ("TX-OLD", 0, True)]:
            await station.call(
                "TransactionEvent",
                {
                    "eventType": "Started",
                    "timestamp": at(minutes),
                    "triggerReason": "CablePluggedIn",
                    "seqNo": 0,
                    "offline": offline,
                    "transactionInfo": {"transactionId": tx},
                    "evse": evse,
                },
            )
    async with app.uow_factory() as uow:
        newer = await uow.transactions.find_by_ocpp_id("CP-Z201", "TX-NEW")
    assert newer is not None and newer.active and newer.closed_by_csms is False
