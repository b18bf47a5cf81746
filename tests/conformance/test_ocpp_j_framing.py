"""The OCPP-J rules every CSMS must follow, for both versions (OCPP 2.0.1 part 4 and the
1.6J specification): the WebSocket connection and the RPC framework. These have no OCA
test case ids; they are numbered here (WS-n, RPC-n) and listed in docs/conformance.md.

Reproduces issue #13: a handshake without a supported subprotocol got HTTP 400 (the spec
says: complete it without Sec-WebSocket-Protocol, then close); station ids outside the
identity charset were accepted and then unreachable through REST; unknown message types
were answered; numeric and overlong message ids were accepted; the frame size limit was
neither documented nor configurable.
"""

from __future__ import annotations

import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.extensions.permessage_deflate import PerMessageDeflate
from websockets.typing import Subprotocol

from ev_charging_system.application import Application
from tests.conformance.cases import Suite
from tests.conformance.station import OCPP16, OCPP201, Operator, raw_station
from tests.conftest import AppFactory, ocpp_url

CONNECTION = "WebSocket connection (part 4, section 3)"
RPC = "RPC framework (part 4, section 4)"
SUITE = Suite("OCPP-J", blocks=(CONNECTION, RPC))


@SUITE.case(
    "WS-01",
    "Without a supported subprotocol the handshake completes without "
    "Sec-WebSocket-Protocol, then the CSMS closes the connection",
    CONNECTION,
)
@pytest.mark.parametrize("offered", [[], ["ocpp1.5"], ["ocpp2.1", "wamp"]])
async def test_without_a_supported_subprotocol_the_handshake_completes_then_closes(
    csms: Application, offered: list[str]
) -> None:
    async with connect(
        f"{ocpp_url(csms)}/CP-OLD", subprotocols=[Subprotocol(p) for p in offered] or None
    ) as websocket:
        assert websocket.response is not None
        assert websocket.response.status_code == 101
        assert "Sec-WebSocket-Protocol" not in websocket.response.headers
        with pytest.raises(ConnectionClosed):
            await websocket.recv()
        assert websocket.close_code == 1002


@SUITE.case(
    "WS-02",
    "The station identity is an identifierString of at most 48 characters without ':'; "
    "any other id is refused with HTTP 404",
    CONNECTION,
)
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
    csms: Application, path: str
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        async with connect(f"{ocpp_url(csms)}{path}", subprotocols=[Subprotocol(OCPP16)]):
            pass
    assert refused.value.response.status_code == 404
    assert b"identifierString" in refused.value.response.body


@SUITE.case(
    "WS-02",
    "The station identity is an identifierString of at most 48 characters without ':'; "
    "any other id is refused with HTTP 404",
    CONNECTION,
)
async def test_every_identity_character_is_accepted_and_reachable_through_rest(
    csms: Application, operator: Operator
) -> None:
    station_id = "aZ09*-_=+|@." + "x" * 36  # 48 characters, the whole charset
    async with raw_station(csms, station_id, OCPP16):
        pass
    assert (await operator.station(station_id))["id"] == station_id
    for invalid in ["CP(1)", "CP:1", "CP/1", "C" * 49]:
        created = await operator.post("/api/charge-points", {"id": invalid})
        assert created.status_code == 422, invalid


@SUITE.case("WS-03", "WebSocket compression (RFC 7692) is negotiated when offered", CONNECTION)
async def test_compression_is_negotiated(csms: Application) -> None:
    async with connect(
        f"{ocpp_url(csms)}/WS-03", subprotocols=[Subprotocol(OCPP201)], compression="deflate"
    ) as websocket:
        assert any(isinstance(e, PerMessageDeflate) for e in websocket.protocol.extensions)


@SUITE.case(
    "RPC-01",
    "A message type other than 2, 3, 4 is ignored (1.6) or answered with "
    "MessageTypeNotSupported (2.0.1, section 4.4)",
    RPC,
)
async def test_unknown_message_types(csms: Application) -> None:
    async with raw_station(csms, "RPC-01-16", OCPP16) as station:
        await station.send([7, "odd-1", "Heartbeat", {}])
        await station.send([5, "odd-2", {}])
        # Frames are answered in order: the first reply is the Heartbeat's.
        assert (await station.request("Heartbeat", {}))[0] == 3
    async with raw_station(csms, "RPC-01-201", OCPP201) as station:
        await station.send([7, "odd-1", "Heartbeat", {}])
        reply = await station.next_reply()
        assert reply[:3] == [4, "odd-1", "MessageTypeNotSupported"]
        assert reply[4] == {}
        await station.send([9])
        assert (await station.next_reply())[:3] == [4, "-1", "MessageTypeNotSupported"]
        assert (await station.call("Heartbeat"))["currentTime"]


@SUITE.case(
    "RPC-02",
    "A CALL whose message id is not a string of 1 to 36 characters is refused with the "
    "id -1 (ProtocolError in 1.6, RpcFrameworkError in 2.0.1); 36 characters are fine",
    RPC,
)
@pytest.mark.parametrize(
    ("version", "code"), [(OCPP16, "ProtocolError"), (OCPP201, "RpcFrameworkError")]
)
async def test_message_ids(csms: Application, version: str, code: str) -> None:
    async with raw_station(csms, "RPC-02", version) as station:
        for message_id in (123, None, "x" * 37, ""):
            await station.send([2, message_id, "Heartbeat", {}])
            reply = await station.next_reply()
            assert reply[:3] == [4, "-1", code], message_id
            assert "message id" in reply[3]
        await station.send([2, "y" * 36, "Heartbeat", {}])
        assert (await station.next_reply())[:2] == [3, "y" * 36]


@SUITE.case("RPC-03", "A CALLRESULT or CALLERROR that answers no call is ignored", RPC)
async def test_replies_to_no_call_are_ignored(csms: Application) -> None:
    async with raw_station(csms, "RPC-03", OCPP201) as station:
        await station.send([3, "never-asked", {}])
        await station.send([3, 42, {}])
        await station.send([4, "never-asked", "GenericError", "", {}])
        assert (await station.request("Heartbeat", {}))[0] == 3


@SUITE.case(
    "RPC-04",
    "A frame that is not JSON, or not an array, is answered with the id -1 "
    "(FormatViolation / ProtocolError in 1.6, RpcFrameworkError in 2.0.1)",
    RPC,
)
async def test_unparsable_frames(csms: Application) -> None:
    for version, bad_json, not_array in [
        (OCPP16, "FormatViolation", "ProtocolError"),
        (OCPP201, "RpcFrameworkError", "RpcFrameworkError"),
    ]:
        async with raw_station(csms, "RPC-04", version) as station:
            await station.send('[2, "m1", "Heartbeat", {')
            assert (await station.next_reply())[:3] == [4, "-1", bad_json]
            await station.send('{"not": "a list"}')
            assert (await station.next_reply())[:3] == [4, "-1", not_array]


@SUITE.case(
    "RPC-05",
    "An action the version does not define is NotImplemented; one it defines that a CSMS "
    "does not accept from a station is NotSupported (RPC error codes as the spec defines "
    "them)",
    RPC,
)
async def test_unknown_and_unaccepted_actions(csms: Application) -> None:
    for version, csms_action in [
        (OCPP16, "RemoteStartTransaction"),
        (OCPP201, "RequestStartTransaction"),
    ]:
        async with raw_station(csms, "RPC-05", version) as station:
            code, _ = await station.call_error("FlyToTheMoon", {})
            assert code == "NotImplemented"
            code, _ = await station.call_error(csms_action, {})
            assert code == "NotSupported"


@SUITE.case(
    "WS-04",
    "A frame larger than OCPP_MAX_FRAME_BYTES (default 1 MiB) closes the connection with "
    "1009 (message too big)",
    CONNECTION,
)
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
