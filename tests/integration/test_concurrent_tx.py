"""ConcurrentTx only answers a start, and a refused start does not hold the id tag.

Reproduces issue #13: Authorize was answered ConcurrentTx (meaningful only for a 1.6
StartTransaction), and 1.6 starts answered ConcurrentTx stayed active and kept counting
against the tag, so its owner could not charge again.
"""

from __future__ import annotations

import httpx

from ev_charging_system.application import Application
from ev_charging_system.models.transaction import CONNECTOR_AVAILABLE_REASON
from tests.conformance.station import OCPP16, OCPP201, Operator, at, raw_station


async def test_authorize_is_accepted_while_the_tag_charges_elsewhere(
    app: Application, rest: httpx.AsyncClient
) -> None:
    await Operator(rest).post("/api/id-tags", {"id_tag": "CARD-1"})
    async with raw_station(app, "CP-16", OCPP16) as station:
        started = await station.call(
            "StartTransaction",
            {"connectorId": 1, "idTag": "CARD-1", "meterStart": 0, "timestamp": at(0)},
        )
        assert started["idTagInfo"]["status"] == "Accepted"
        authorized = await station.call("Authorize", {"idTag": "CARD-1"})
        assert authorized["idTagInfo"]["status"] == "Accepted"
    async with raw_station(app, "CP-201", OCPP201) as station:
        authorized = await station.call(
            "Authorize", {"idToken": {"idToken": "CARD-1", "type": "ISO14443"}}
        )
        assert authorized["idTokenInfo"]["status"] == "Accepted"


async def test_a_start_refused_with_concurrent_tx_does_not_hold_the_tag(
    app: Application, rest: httpx.AsyncClient
) -> None:
    await Operator(rest).post("/api/id-tags", {"id_tag": "CARD-1"})
    async with raw_station(app, "CP-16", OCPP16) as station:
        first = await station.call(
            "StartTransaction",
            {"connectorId": 1, "idTag": "CARD-1", "meterStart": 0, "timestamp": at(0)},
        )
        assert first["idTagInfo"]["status"] == "Accepted"
        second = await station.call(
            "StartTransaction",
            {"connectorId": 2, "idTag": "CARD-1", "meterStart": 500, "timestamp": at(1)},
        )
        assert second["idTagInfo"]["status"] == "ConcurrentTx"
        # The station aborted the refused start and never stops it; the first one ends.
        await station.call(
            "StopTransaction",
            {"transactionId": first["transactionId"], "meterStop": 1000, "timestamp": at(30)},
        )
        again = await station.call(
            "StartTransaction",
            {"connectorId": 1, "idTag": "CARD-1", "meterStart": 1000, "timestamp": at(40)},
        )
        assert again["idTagInfo"]["status"] == "Accepted"


async def test_a_refused_start_the_station_abandoned_ends_when_its_connector_is_available(
    app: Application, rest: httpx.AsyncClient
) -> None:
    await Operator(rest).post("/api/id-tags", {"id_tag": "CARD-1"})
    async with raw_station(app, "CP-16", OCPP16) as station:
        await station.call(
            "StartTransaction",
            {"connectorId": 1, "idTag": "CARD-1", "meterStart": 0, "timestamp": at(0)},
        )
        refused = await station.call(
            "StartTransaction",
            {"connectorId": 2, "idTag": "CARD-1", "meterStart": 500, "timestamp": at(1)},
        )
        assert refused["idTagInfo"]["status"] == "ConcurrentTx"
        # No StopTransaction ever comes; the connector is free again.
        available = {"connectorId": 2, "errorCode": "NoError", "status": "Available"}
        await station.call("StatusNotification", {**available, "timestamp": at(2)})
    async with app.uow_factory() as uow:
        abandoned = await uow.transactions.get(refused["transactionId"])
    assert abandoned is not None and not abandoned.active
    assert abandoned.closed_by_csms is True
    assert abandoned.stop_reason == CONNECTOR_AVAILABLE_REASON
    assert abandoned.energy_wh == 0
    assert abandoned.stopped_at is not None and abandoned.stopped_at.isoformat().startswith(
        "2026-05-01T08:02"
    )
