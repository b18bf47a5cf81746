"""A charging station made of raw OCPP-J frames over a real WebSocket.

Conformance scenarios need to see exactly what the CSMS sends and to send exactly what a
station would, including frames a library would refuse to build. So this station is a
thin layer over the `websockets` client: it sends JSON arrays and sorts what arrives
into answers to its own calls and calls from the CSMS. Every wait has a timeout.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from ev_charging_system.application import Application
from tests.conftest import API_TOKEN, ocpp_url

TIMEOUT = 5.0  # seconds any single exchange may take before the scenario fails
OCPP16 = "ocpp1.6"
OCPP201 = "ocpp2.0.1"
OPERATOR = {"Authorization": f"Bearer {API_TOKEN}"}
T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


def at(minutes: float = 0) -> str:
    """An OCPP timestamp `minutes` after a fixed start (no wall clock in scenarios)."""
    return (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class IncomingCall:
    """A CALL the CSMS sent to the station."""

    message_id: str
    action: str
    payload: dict[str, Any]


class RawStation:
    def __init__(self, websocket: ClientConnection, station_id: str) -> None:
        self.websocket = websocket
        self.id = station_id
        self._ids = itertools.count(1)
        self._replies: asyncio.Queue[list[Any]] = asyncio.Queue()
        self._calls: asyncio.Queue[IncomingCall] = asyncio.Queue()
        self._reader = asyncio.create_task(self._read(), name=f"raw-station:{station_id}")

    async def _read(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for text in self.websocket:
                frame = json.loads(text)
                if isinstance(frame, list) and frame and frame[0] == 2:
                    await self._calls.put(IncomingCall(frame[1], frame[2], frame[3]))
                else:
                    await self._replies.put(frame)

    async def close(self) -> None:
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
        await self.websocket.close()

    # --- the station's own calls -------------------------------------------------------

    async def send(self, frame: object) -> None:
        """Send a frame as it is: a JSON-able value, or a string sent verbatim."""
        await self.websocket.send(frame if isinstance(frame, str) else json.dumps(frame))

    async def next_reply(self) -> list[Any]:
        """The next CALLRESULT / CALLERROR (or any non-CALL frame) the CSMS sent."""
        return await asyncio.wait_for(self._replies.get(), TIMEOUT)

    async def request(self, action: str, payload: dict[str, Any]) -> list[Any]:
        """Send a CALL and return the CSMS's reply frame, checking it answers this call."""
        message_id = f"station-{next(self._ids)}"
        await self.send([2, message_id, action, payload])
        reply = await self.next_reply()
        assert reply[1] == message_id, f"reply to another message: {reply}"
        return reply

    async def call(self, action: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        """A CALL that must be answered with a CALLRESULT; returns its payload."""
        reply = await self.request(action, payload or {})
        assert reply[0] == 3, f"{action} was answered {reply}"
        result: dict[str, Any] = reply[2]
        return result

    async def call_error(self, action: str, payload: dict[str, Any]) -> tuple[str, str]:
        """A CALL that must be answered with a CALLERROR; returns (code, description)."""
        reply = await self.request(action, payload)
        assert reply[0] == 4, f"{action} was answered {reply}"
        return str(reply[2]), str(reply[3])

    # --- calls from the CSMS -----------------------------------------------------------

    async def expect_call(self, action: str) -> IncomingCall:
        incoming = await asyncio.wait_for(self._calls.get(), TIMEOUT)
        assert incoming.action == action, f"expected {action}, the CSMS sent {incoming}"
        return incoming

    def pending_calls(self) -> int:
        return self._calls.qsize()

    async def reply(self, incoming: IncomingCall, payload: dict[str, Any]) -> None:
        await self.send([3, incoming.message_id, payload])

    async def reply_error(self, incoming: IncomingCall, code: str, description: str = "") -> None:
        await self.send([4, incoming.message_id, code, description, {}])

    async def closed(self) -> int | None:
        """Wait until the CSMS closes the connection; its close code."""
        await asyncio.wait_for(self.websocket.wait_closed(), TIMEOUT)
        return self.websocket.close_code


def boot_payload(version: str) -> dict[str, Any]:
    if version == OCPP16:
        return {"chargePointVendor": "Acme", "chargePointModel": "Raw-1"}
    return {"chargingStation": {"vendorName": "Acme", "model": "Raw-2"}, "reason": "PowerUp"}


@contextlib.asynccontextmanager
async def raw_station(
    app: Application,
    station_id: str,
    version: str = OCPP16,
    *,
    boot: bool = True,
    password: str | None = None,
    username: str | None = None,
    tls: ssl.SSLContext | None = None,
) -> AsyncIterator[RawStation]:
    """A connected station (booted and Accepted unless `boot=False`); with `password`, it
    presents HTTP Basic credentials (user: `username`, by default its own id); with `tls`,
    it connects to the wss:// listener (security profiles 2 and 3)."""
    headers = {}
    if password is not None:
        user = station_id if username is None else username
        credentials = base64.b64encode(f"{user}:{password}".encode()).decode()
        headers["Authorization"] = f"Basic {credentials}"
    url = ocpp_url(app) if tls is None else f"wss://127.0.0.1:{app.ocpp_tls_port}"
    async with connect(
        f"{url}/{station_id}",
        subprotocols=[Subprotocol(version)],
        additional_headers=headers,
        open_timeout=TIMEOUT,
        ssl=tls,
    ) as websocket:
        station = RawStation(websocket, station_id)
        try:
            if boot:
                answer = await station.call("BootNotification", boot_payload(version))
                assert answer["status"] == "Accepted", answer
            yield station
        finally:
            await station.close()


class Operator:
    """The operator side of a scenario: REST calls that make the CSMS call the station."""

    def __init__(self, rest: httpx.AsyncClient) -> None:
        self.rest = rest

    async def post(self, path: str, body: object = None) -> httpx.Response:
        return await self.rest.post(path, json=body, headers=OPERATOR, timeout=TIMEOUT * 2)

    async def get(self, path: str, **params: str | int) -> Any:
        response = await self.rest.get(path, params=params, headers=OPERATOR, timeout=TIMEOUT)
        assert response.status_code == 200, response.text
        return response.json()

    async def csms_root(self) -> str:
        """The CSMS's CA certificate (PEM): what a station installs to trust wss://."""
        certificate: str = (await self.get("/api/certificate-authority"))["certificate_pem"]
        return certificate

    async def security_profile(self, station_id: str, profile: int) -> None:
        answer = await self.rest.put(
            f"/api/charge-points/{station_id}/security-profile",
            json={"security_profile": profile},
            headers=OPERATOR,
        )
        assert answer.status_code == 200, answer.text

    async def create_tag(self, id_tag: str, **fields: object) -> None:
        created = await self.post("/api/id-tags", {"id_tag": id_tag, **fields})
        assert created.status_code == 201, created.text

    async def ensure_tag(self, id_tag: str, **fields: object) -> None:
        """An id tag, created unless an earlier scenario of the module did."""
        created = await self.post("/api/id-tags", {"id_tag": id_tag, **fields})
        assert created.status_code in (201, 409), created.text

    async def transactions(self, station_id: str) -> list[dict[str, Any]]:
        """The station's transactions as the CSMS records them, oldest first."""
        page = await self.get("/api/transactions", charge_point_id=station_id, limit=100)
        return list(reversed(page["items"]))

    async def station(self, station_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.get(f"/api/charge-points/{station_id}")
        return result

    async def command(
        self,
        station: RawStation,
        name: str,
        body: object,
        action: str,
        answer: dict[str, Any] | Callable[[IncomingCall], Awaitable[None]],
    ) -> tuple[IncomingCall, httpx.Response]:
        """Ask for `name` over REST, take the CSMS's `action` call at the station, answer it
        (a payload, or a coroutine that answers), and return (the call, the REST answer)."""
        path = f"/api/charge-points/{station.id}/commands/{name}"
        pending = asyncio.create_task(self.post(path, body))
        expected = asyncio.create_task(station.expect_call(action))
        try:
            await asyncio.wait({pending, expected}, return_when=asyncio.FIRST_COMPLETED)
            if not expected.done():  # the CSMS answered without calling the station
                refused = pending.result()
                raise AssertionError(f"no {action} sent: {refused.status_code} {refused.text}")
            incoming = expected.result()
            if callable(answer):
                await answer(incoming)
            else:
                await station.reply(incoming, answer)
            response = await asyncio.wait_for(pending, TIMEOUT * 2)
        finally:
            for task in (pending, expected):
                if not task.done():
                    task.cancel()
        return incoming, response
