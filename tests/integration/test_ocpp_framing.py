"""The OCPP-J framing rules a CSMS must follow, checked with raw frames and handshakes.

Reproduces issue #13: a handshake without a supported subprotocol got HTTP 400 (the spec
says: complete it without Sec-WebSocket-Protocol, then close); station ids outside the
identity charset were accepted and then unreachable through REST; unknown message types
were answered; numeric and overlong message ids were accepted; the frame size limit was
neither documented nor configurable.
"""

from __future__ import annotations

import json

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Subprotocol

from ev_charging_system.application import Application
from tests.conformance.station import OCPP16, OCPP201, Operator, raw_station
from tests.conftest import AppFactory, ocpp_url


@pytest.mark.parametrize("offered", [[], ["ocpp1.5"], ["ocpp2.1", "wamp"]])
async def test_without_a_supported_subprotocol_the_handshake_completes_then_closes(
    app: Application, offered: list[str]
) -> None:
    async with connect(
        f"{ocpp_url(app)}/CP-OLD", subprotocols=[Subprotocol(p) for p in offered] or None
    ) as websocket:
        assert websocket.response is not None
        assert websocket.response.status_code == 101
        assert "Sec-WebSocket-Protocol" not in websocket.response.headers
        with pytest.raises(ConnectionClosed):
            await websocket.recv()
        assert websocket.close_code == 1002


@pytest.mark.parametrize(
    "path",
    [
        "/CP%2F1",  # decodes to "CP/1": REST could never address it
        "/CP%20ONE",
        "/CP%3A1",  # ':' separates user and password in HTTP Basic auth
        "/CP%231",
        "/" + "X" * 49,  # identifierString[48]
        "/St%C3%A4tion",
    ],
)
async def test_a_station_id_outside_the_identity_charset_is_refused(
    app: Application, path: str
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"{ocpp_url(app)}{path}", subprotocols=[Subprotocol(OCPP16)]):
            pass
    assert refused.value.response.status_code == 404
    assert b"identifierString" in refused.value.response.body


async def test_every_identity_character_is_accepted_and_reachable_through_rest(
    app: Application, rest: httpx.AsyncClient
) -> None:
    station_id = "aZ09*-_=+|@." + "x" * 36  # 48 characters, the whole charset
    async with raw_station(app, station_id, OCPP16):
        pass
    assert (await rest.get(f"/api/charge-points/{station_id}")).status_code == 200


@pytest.mark.parametrize("station_id", ["CP(1)", "CP:1", "CP/1", "C" * 49])
async def test_rest_refuses_to_create_a_station_with_an_invalid_identity(
    rest: httpx.AsyncClient, station_id: str
) -> None:
    created = await Operator(rest).post("/api/charge-points", {"id": station_id})
    assert created.status_code == 422


async def test_an_unknown_message_type_is_ignored_by_a_16_csms(app: Application) -> None:
    async with raw_station(app, "CP-16", OCPP16) as station:
        await station.send([7, "odd-1", "Heartbeat", {}])
        await station.send([5, "odd-2", {}])
        # Frames are answered in order: the first reply is the Heartbeat's.
        reply = await station.request("Heartbeat", {})
        assert reply[0] == 3


async def test_an_unknown_message_type_gets_message_type_not_supported_from_201(
    app: Application,
) -> None:
    async with raw_station(app, "CP-201", OCPP201) as station:
        await station.send([7, "odd-1", "Heartbeat", {}])
        reply = await station.next_reply()
        assert reply[:3] == [4, "odd-1", "MessageTypeNotSupported"]
        assert reply[4] == {}
        await station.send([9])
        assert (await station.next_reply())[:3] == [4, "-1", "MessageTypeNotSupported"]
        assert (await station.call("Heartbeat"))["currentTime"]


@pytest.mark.parametrize(
    ("version", "code"), [(OCPP16, "ProtocolError"), (OCPP201, "RpcFrameworkError")]
)
@pytest.mark.parametrize("message_id", [123, None, "x" * 37, ""])
async def test_a_call_with_an_invalid_message_id_is_refused_with_id_minus_one(
    app: Application, version: str, code: str, message_id: object
) -> None:
    async with raw_station(app, "CP-IDS", version) as station:
        await station.send([2, message_id, "Heartbeat", {}])
        reply = await station.next_reply()
        assert reply[:3] == [4, "-1", code]
        assert "message id" in reply[3]
        assert (await station.call("Heartbeat"))["currentTime"]


async def test_a_36_character_message_id_is_fine(app: Application) -> None:
    async with raw_station(app, "CP-IDS", OCPP201) as station:
        await station.send([2, "y" * 36, "Heartbeat", {}])
        reply = await station.next_reply()
        assert reply[:2] == [3, "y" * 36]


async def test_replies_with_an_unknown_or_invalid_id_are_ignored(app: Application) -> None:
    async with raw_station(app, "CP-IDS", OCPP201) as station:
        await station.send([3, "never-asked", {}])
        await station.send([3, 42, {}])
        await station.send([4, "never-asked", "GenericError", "", {}])
        assert (await station.request("Heartbeat", {}))[0] == 3


async def test_the_frame_size_limit_is_configurable_and_closes_with_1009(
    app_factory: AppFactory,
) -> None:
    app = await app_factory(ocpp_max_frame_bytes=4096)
    async with raw_station(app, "CP-BIG", OCPP16) as station:
        small = json.dumps([2, "ok", "DataTransfer", {"vendorId": "V", "data": "x" * 3000}])
        await station.send(small)
        assert (await station.next_reply())[0] == 3
        await station.send([2, "big", "DataTransfer", {"vendorId": "V", "data": "x" * 5000}])
        assert await station.closed() == 1009
