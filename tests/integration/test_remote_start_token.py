"""A 2.0.1 transaction started remotely keeps the token the operator asked for.

Reproduces issue #13: TransactionEvent(Started) may carry only `remoteStartId` (the spec
allows the station to omit the idToken); the session was then recorded without a token.
"""

from __future__ import annotations

import httpx

from ev_charging_system.application import Application
from tests.conformance.station import OCPP201, Operator, at, raw_station


async def test_a_remote_start_without_token_in_started_gets_the_requested_token(
    app: Application, rest: httpx.AsyncClient
) -> None:
    operator = Operator(rest)
    await operator.post("/api/id-tags", {"id_tag": "CARD-REMOTE"})
    async with raw_station(app, "CP-RS", OCPP201) as station:
        request, response = await operator.command(
            station,
            "remote-start",
            {"id_tag": "CARD-REMOTE", "connector_id": 1},
            "RequestStartTransaction",
            {"status": "Accepted"},
        )
        assert response.status_code == 200, response.text
        assert request.payload["idToken"] == {"idToken": "CARD-REMOTE", "type": "Central"}
        remote_start_id = request.payload["remoteStartId"]
        answer = await station.call(
            "TransactionEvent",
            {
                "eventType": "Started",
                "timestamp": at(0),
                "triggerReason": "RemoteStart",
                "seqNo": 0,
                "transactionInfo": {"transactionId": "TX-R", "remoteStartId": remote_start_id},
                "evse": {"id": 1, "connectorId": 1},
            },
        )
        # No idToken in the request: the answer must not carry idTokenInfo either.
        assert "idTokenInfo" not in answer
    async with app.uow_factory() as uow:
        transaction = await uow.transactions.find_by_ocpp_id("CP-RS", "TX-R")
    assert transaction is not None
    assert transaction.id_tag == "CARD-REMOTE"
    assert transaction.remote_start_id == remote_start_id
    assert transaction.authorization_status.value == "Accepted"


async def test_a_remote_start_id_of_another_station_does_not_lend_its_token(
    app: Application, rest: httpx.AsyncClient
) -> None:
    operator = Operator(rest)
    async with raw_station(app, "CP-A", OCPP201) as station_a:
        request, _ = await operator.command(
            station_a,
            "remote-start",
            {"id_tag": "CARD-A", "connector_id": 1},
            "RequestStartTransaction",
            {"status": "Accepted"},
        )
    async with raw_station(app, "CP-B", OCPP201) as station_b:
        await station_b.call(
            "TransactionEvent",
            {
                "eventType": "Started",
                "timestamp": at(0),
                "triggerReason": "RemoteStart",
                "seqNo": 0,
                "transactionInfo": {
                    "transactionId": "TX-B",
                    "remoteStartId": request.payload["remoteStartId"],
                },
                "evse": {"id": 1, "connectorId": 1},
            },
        )
    async with app.uow_factory() as uow:
        transaction = await uow.transactions.find_by_ocpp_id("CP-B", "TX-B")
    assert transaction is not None and transaction.id_tag == ""
