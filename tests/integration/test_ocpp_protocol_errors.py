"""Bad frames get the right CALLERROR; the connection and the stored data survive."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from ev_charging_system.application import Application
from tests.conftest import ocpp_url
from tools.simulated_charge_point import now_iso

BOOT = ["BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "X"}]


@pytest.fixture
async def raw_station(app: Application) -> AsyncIterator[ClientConnection]:
    """A station speaking raw OCPP-J frames, already booted."""
    async with connect(
        f"{ocpp_url(app)}/CP-RAW", subprotocols=[Subprotocol("ocpp1.6")]
    ) as websocket:
        assert (await exchange(websocket, [2, "boot", *BOOT]))[2]["status"] == "Accepted"
        yield websocket


async def exchange(websocket: ClientConnection, frame: object) -> list[Any]:
    await websocket.send(frame if isinstance(frame, str) else json.dumps(frame))
    reply: list[Any] = json.loads(await websocket.recv(decode=True))
    return reply


@pytest.mark.parametrize(
    ("frame", "message_id", "error_code"),
    [
        ('[2, "m1", "Heartbeat", {', "-1", "FormatViolation"),
        ('{"not": "a list"}', "-1", "ProtocolError"),
        # OCPP-J: NotImplemented = "not known by receiver", NotSupported = "recognized but
        # not supported" (the ocpp library has the two the other way round).
        ([2, "m2", "FlyToTheMoon", {}], "m2", "NotImplemented"),
        ([2, "m2b", "RemoteStartTransaction", {"idTag": "T"}], "m2b", "NotSupported"),
        ([2, "m3", "Authorize", {}], "m3", "ProtocolError"),
        ([2, "m4", "Authorize", {"idTag": 12345}], "m4", "TypeConstraintViolation"),
        ([2, "m5", "Heartbeat", {"unexpected": True}], "m5", "FormatViolation"),
        (
            [2, "m6", "StatusNotification", {"connectorId": 1, "errorCode": "X", "status": "Y"}],
            "m6",
            "FormatViolation",
        ),
        (
            [
                2,
                "m7",
                "StartTransaction",
                {"connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": "yesterday"},
            ],
            "m7",
            "FormatViolation",
        ),
    ],
)
async def test_a_bad_frame_gets_a_call_error_and_the_connection_keeps_working(
    raw_station: ClientConnection, frame: object, message_id: str, error_code: str
) -> None:
    reply = await exchange(raw_station, frame)
    assert reply[0] == 4
    assert reply[1] == message_id
    assert reply[2] == error_code
    heartbeat = await exchange(raw_station, [2, "hb", "Heartbeat", {}])
    assert heartbeat[0] == 3 and "currentTime" in heartbeat[2]


async def test_a_bad_frame_in_the_middle_of_a_session_does_not_lose_the_session(
    raw_station: ClientConnection, rest: httpx.AsyncClient
) -> None:
    start = [
        2,
        "s",
        "StartTransaction",
        {"connectorId": 1, "idTag": "T", "meterStart": 100, "timestamp": now_iso()},
    ]
    transaction_id = (await exchange(raw_station, start))[2]["transactionId"]
    assert (await exchange(raw_station, "garbage"))[2] == "FormatViolation"
    stop = [
        2,
        "e",
        "StopTransaction",
        {"transactionId": transaction_id, "meterStop": 600, "timestamp": now_iso()},
    ]
    assert (await exchange(raw_station, stop))[0] == 3
    stored = (await rest.get(f"/api/transactions/{transaction_id}")).json()
    assert stored["energy_wh"] == 500
