"""A station's WebSocket and the read loop that serves it."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ssl
from collections.abc import AsyncIterator
from typing import Any, TypeVar

from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from tools.station_sim.adapter import StationAdapter
from tools.station_sim.behaviour import ScriptedChargePoint

OPEN_TIMEOUT_SECONDS = 10

StationT = TypeVar("StationT", bound=StationAdapter[Any])


@contextlib.asynccontextmanager
async def connected(
    station_class: type[StationT],
    url: str,
    station_id: str,
    password: str | None,
    subprotocols: tuple[str, ...],
    response_timeout: float,
    connectors: int,
    tls: ssl.SSLContext | None = None,
) -> AsyncIterator[StationT]:
    """Open a WebSocket to `url/station_id` and run a station of `station_class` on it."""
    async with open_websocket(url, station_id, password, subprotocols, tls) as websocket:
        station = station_class(station_id, websocket, response_timeout, connectors)
        station.websocket = websocket
        async with running(station):
            yield station


@contextlib.asynccontextmanager
async def open_websocket(
    url: str,
    station_id: str,
    password: str | None,
    subprotocols: tuple[str, ...],
    tls: ssl.SSLContext | None = None,
) -> AsyncIterator[ClientConnection]:
    """A station's WebSocket to `url/station_id`, with Basic auth when a password is given
    and, for wss://, `tls` (the CSMS root it trusts, its client certificate)."""
    headers = {}
    if password is not None:
        token = base64.b64encode(f"{station_id}:{password}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    async with connect(
        f"{url.rstrip('/')}/{station_id}",
        subprotocols=[Subprotocol(p) for p in subprotocols],
        additional_headers=headers,
        open_timeout=OPEN_TIMEOUT_SECONDS,
        ssl=tls if url.startswith("wss://") else None,
    ) as websocket:
        yield websocket


@contextlib.asynccontextmanager
async def running(station: ScriptedChargePoint) -> AsyncIterator[None]:
    """Run the station's read loop (and its follow-ups) for the duration of the block."""
    loop = asyncio.create_task(station.start())
    try:
        yield
    finally:
        await station.stop_follow_ups()
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await loop
