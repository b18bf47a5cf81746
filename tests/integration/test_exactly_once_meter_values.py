"""Exactly-once meter data (issue #11): a station that resends what it sent before a
reconnect (it never saw the answers) gets the same answers, and nothing is stored or
counted twice: one row per sample, session energy exact, no second "samples stored" event.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy import text

from ev_charging_system.application import Application
from ev_charging_system.business_logic.events import EventFilter, MeterSamplesStored
from ev_charging_system.models.transaction import TransactionFilter
from tests.conformance.station import OCPP16, OCPP201, at, raw_station
from tests.conftest import ADMIN_HEADERS

SAMPLES_STORED = "meter.sample_stored"


def meter_value_16(minutes: float, energy_wh: int, power_w: int) -> list[dict[str, Any]]:
    return [
        {
            "timestamp": at(minutes),
            "sampledValue": [
                {"value": str(energy_wh), "measurand": "Energy.Active.Import.Register"},
                {"value": str(power_w), "measurand": "Power.Active.Import", "unit": "W"},
            ],
        }
    ]


def meter_value_201(minutes: float, energy_wh: int, context: str) -> list[dict[str, Any]]:
    return [
        {
            "timestamp": at(minutes),
            "sampledValue": [
                {
                    "value": energy_wh,
                    "context": context,
                    "measurand": "Energy.Active.Import.Register",
                },
                {"value": 7400, "context": context, "measurand": "Power.Active.Import"},
            ],
        }
    ]


async def stored_samples(app: Application, station_id: str) -> tuple[int, list[Any]]:
    page = await app.services.transactions.list_transactions(
        TransactionFilter(charge_point_id=station_id)
    )
    [transaction] = page.items
    detail = await app.services.transactions.get_transaction(transaction.id)
    return transaction.energy_wh or 0, detail.meter_samples


async def test_a_16_station_resending_after_a_reconnect_stores_nothing_twice(
    app: Application,
) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{app.rest_port}") as rest:
        created = await rest.post("/api/id-tags", json={"id_tag": "CARD"}, headers=ADMIN_HEADERS)
        assert created.status_code == 201, created.text
    start = {"connectorId": 1, "idTag": "CARD", "meterStart": 10_000, "timestamp": at(0)}
    samples = {"connectorId": 1, "meterValue": meter_value_16(5, 12_000, 7_200)}
    subscription = app.events.subscribe(EventFilter.of(["CP-16"], [SAMPLES_STORED]), 10)
    try:
        async with raw_station(app, "CP-16", OCPP16) as station:
            started = await station.call("StartTransaction", start)
            transaction_id = started["transactionId"]
            samples["transactionId"] = transaction_id
            assert await station.call("MeterValues", samples) == {}
        first_event = await asyncio.wait_for(subscription.next(), 5)
        assert isinstance(first_event, MeterSamplesStored) and first_event.count == 2
        # The station never saw the answers: after reconnecting it sends everything again.
        async with raw_station(app, "CP-16", OCPP16) as station:
            assert await station.call("StartTransaction", start) == started
            assert await station.call("MeterValues", samples) == {}
            assert await station.call("MeterValues", samples) == {}
            fresh = {**samples, "meterValue": meter_value_16(20, 14_000, 3_600)}
            assert await station.call("MeterValues", fresh) == {}
            stop = {
                "transactionId": transaction_id,
                "meterStop": 14_500,
                "timestamp": at(30),
                "transactionData": meter_value_16(30, 14_500, 0),
            }
            await station.call("StopTransaction", stop)
            await station.call("StopTransaction", stop)
        # The replays published nothing: the next event is the fresh message's.
        after_replays = await asyncio.wait_for(subscription.next(), 5)
        assert isinstance(after_replays, MeterSamplesStored) and after_replays.count == 2
        assert after_replays.latest["Energy.Active.Import.Register"] == 14_000
    finally:
        subscription.close()
    energy_wh, rows = await stored_samples(app, "CP-16")
    assert energy_wh == 4_500
    assert [(s.measurand, s.value) for s in rows] == [
        ("Energy.Active.Import.Register", 12_000),
        ("Power.Active.Import", 7_200),
        ("Energy.Active.Import.Register", 14_000),
        ("Power.Active.Import", 3_600),
        ("Energy.Active.Import.Register", 14_500),
        ("Power.Active.Import", 0),
    ]


PERIODIC = "Sample.Periodic"


async def test_a_201_sessions_periodic_updates_are_batched_and_stored_once(
    app: Application, rest: httpx.AsyncClient
) -> None:
    """Updated events of a running transaction take the group-committed path; what a
    station resends there (on the same connection) is still stored once."""

    def event(kind: str, seq_no: int, minutes: float, wh: int, context: str) -> dict[str, Any]:
        return {
            "eventType": kind,
            "timestamp": at(minutes),
            "triggerReason": "MeterValuePeriodic" if kind == "Updated" else "CablePluggedIn",
            "seqNo": seq_no,
            "meterValue": meter_value_201(minutes, wh, context),
            "transactionInfo": {"transactionId": "TX-B"},
        }

    before = await batched_event_writes(rest)
    async with raw_station(app, "CP-B", OCPP201) as station:
        await station.call(
            "TransactionEvent",
            {**event("Started", 0, 0, 10_000, "Transaction.Begin"), "evse": {"id": 1}},
        )
        for n in (1, 2):
            await station.call(
                "TransactionEvent", event("Updated", n, n, 10_000 + 500 * n, PERIODIC)
            )
        await station.call("TransactionEvent", event("Updated", 2, 2, 11_000, PERIODIC))  # again
        await station.call(
            "TransactionEvent", event("Updated", 3, 2, 11_000, PERIODIC)
        )  # new seqNo
        await station.call("TransactionEvent", event("Ended", 4, 3, 11_800, "Transaction.End"))
    assert await batched_event_writes(rest) - before == 4  # the Updated ones
    energy_wh, rows = await stored_samples(app, "CP-B")
    assert energy_wh == 1_800
    assert [(s.context, s.value) for s in rows if s.measurand.startswith("Energy")] == [
        ("Transaction.Begin", 10_000),
        ("Sample.Periodic", 10_500),
        ("Sample.Periodic", 11_000),
        ("Transaction.End", 11_800),
    ]


async def batched_event_writes(rest: httpx.AsyncClient) -> float:
    metrics = (await rest.get("/metrics")).text
    [line] = [
        line
        for line in metrics.splitlines()
        if line.startswith('evcs_transaction_event_batches_total{kind="writes"}')
    ]
    return float(line.split()[-1])


async def test_a_201_station_resending_transaction_events_stores_nothing_twice(
    app: Application,
) -> None:
    info = {"transactionInfo": {"transactionId": "TX-1"}}
    started = {
        "eventType": "Started",
        "timestamp": at(0),
        "triggerReason": "CablePluggedIn",
        "seqNo": 0,
        "evse": {"id": 1, "connectorId": 1},
        "meterValue": meter_value_201(0, 20_000, "Transaction.Begin"),
        **info,
    }
    updated = {
        "eventType": "Updated",
        "timestamp": at(10),
        "triggerReason": "MeterValuePeriodic",
        "seqNo": 1,
        "meterValue": meter_value_201(10, 21_000, "Sample.Periodic"),
        **info,
    }
    ended = {
        "eventType": "Ended",
        "timestamp": at(20),
        "triggerReason": "EVCommunicationLost",
        "seqNo": 2,
        "meterValue": meter_value_201(20, 22_250, "Transaction.End"),
        "transactionInfo": {"transactionId": "TX-1", "stoppedReason": "EVDisconnected"},
    }
    async with raw_station(app, "CP-201", OCPP201) as station:
        await station.call("TransactionEvent", started)
        await station.call("TransactionEvent", updated)
    async with raw_station(app, "CP-201", OCPP201) as station:
        await station.call("TransactionEvent", started)
        await station.call("TransactionEvent", updated)
        # Some firmware resends the same readings under a new sequence number.
        await station.call("TransactionEvent", {**updated, "seqNo": 3})
        await station.call("TransactionEvent", ended)
    async with raw_station(app, "CP-201", OCPP201) as station:
        await station.call("TransactionEvent", ended)
        # Meter values outside TransactionEvent (no transaction) are replayed too.
        loose = {"evseId": 1, "meterValue": meter_value_201(25, 22_250, "Sample.Clock")}
        await station.call("MeterValues", loose)
        await station.call("MeterValues", loose)
    energy_wh, rows = await stored_samples(app, "CP-201")
    assert energy_wh == 2_250
    assert [(s.context, s.measurand, s.value) for s in rows] == [
        ("Transaction.Begin", "Energy.Active.Import.Register", 20_000),
        ("Transaction.Begin", "Power.Active.Import", 7_400),
        ("Sample.Periodic", "Energy.Active.Import.Register", 21_000),
        ("Sample.Periodic", "Power.Active.Import", 7_400),
        ("Transaction.End", "Energy.Active.Import.Register", 22_250),
        ("Transaction.End", "Power.Active.Import", 7_400),
    ]
    async with app.engine.connect() as connection:
        every_row = await connection.scalar(
            text("SELECT count(*) FROM meter_samples WHERE charge_point_id = 'CP-201'")
        )
    assert every_row == 6 + 2  # the session's and the loose reading's two
