"""A lean WebSocket client for the load generator, on websockets' Sans-I/O protocol.

The library's asyncio client runs a task, locks and futures per message; a load
generator on a 2-core machine spends the CPU the servers need. This one is a plain
asyncio.Protocol around `websockets.client.ClientProtocol` (the same handshake, framing,
close and ping handling, and the same exceptions: InvalidStatus, ConnectionClosed ...),
with one future per awaited message and none otherwise.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Sequence

from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosed, ConnectionClosedError, InvalidMessage
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.protocol import State
from websockets.typing import Subprotocol
from websockets.uri import parse_uri


class Connection(asyncio.Protocol):
    def __init__(self, protocol: ClientProtocol) -> None:
        self.protocol = protocol
        self.transport: asyncio.Transport | None = None
        loop = asyncio.get_running_loop()
        self.handshake: asyncio.Future[None] = loop.create_future()
        self.lost: asyncio.Future[None] = loop.create_future()
        self._messages: collections.deque[str] = collections.deque()
        self._waiter: asyncio.Future[None] | None = None
        self._fragments: list[bytes] = []

    # --- asyncio.Protocol --------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        request = self.protocol.connect()
        self.protocol.send_request(request)
        self._flush()

    def data_received(self, data: bytes) -> None:
        self.protocol.receive_data(data)
        self._process()

    def eof_received(self) -> None:
        self.protocol.receive_eof()
        self._process()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.handshake.done():
            error = self.protocol.handshake_exc or exc or InvalidMessage("connection lost")
            self.handshake.set_exception(error)
        if not self.lost.done():
            self.lost.set_result(None)
        self._wake()

    # --- what the load generator calls -------------------------------------------------

    @property
    def state(self) -> State:
        return self.protocol.state

    async def send(self, text: str) -> None:
        if self.protocol.state is not State.OPEN:
            raise self._closed()
        self.protocol.send_text(text.encode())
        self._flush()

    async def recv(self) -> str:
        while not self._messages:
            if self.lost.done() or self.protocol.state is State.CLOSED:
                raise self._closed()
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._messages.popleft()

    async def close(self) -> None:
        if self.protocol.state is State.OPEN:
            self.protocol.send_close(1000)
            self._flush()
        await self.wait_closed()

    async def wait_closed(self) -> None:
        await asyncio.shield(self.lost)

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    # --- inside ------------------------------------------------------------------------

    def _closed(self) -> ConnectionClosed:
        """What the library raises on a closed connection (close_exc needs the protocol in
        CLOSED, which a socket lost without a closing handshake never reaches)."""
        protocol = self.protocol
        if protocol.state is State.CLOSED:
            return protocol.close_exc
        return ConnectionClosedError(
            protocol.close_rcvd, protocol.close_sent, protocol.close_rcvd_then_sent
        )

    def _process(self) -> None:
        for event in self.protocol.events_received():
            if isinstance(event, Response):
                if self.handshake.done():
                    continue
                if self.protocol.handshake_exc is not None:
                    self.handshake.set_exception(self.protocol.handshake_exc)
                else:
                    self.handshake.set_result(None)
            elif isinstance(event, Frame):
                self._frame(event)
        self._flush()  # pongs, the answer to a close frame
        if self.protocol.close_expected() and self.transport is not None:
            self.transport.close()
        if self.protocol.state is State.CLOSED or self._messages:
            self._wake()

    def _frame(self, frame: Frame) -> None:
        if frame.opcode in (Opcode.TEXT, Opcode.CONT):
            self._fragments.append(bytes(frame.data))
            if frame.fin:
                self._messages.append(b"".join(self._fragments).decode())
                self._fragments = []

    def _flush(self) -> None:
        assert self.transport is not None
        for data in self.protocol.data_to_send():
            if data:
                self.transport.write(data)
            elif self.transport.can_write_eof():
                self.transport.write_eof()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


async def connect(
    url: str, subprotocol: str, open_timeout: float, deflate: bool = False
) -> Connection:
    """Open a connection and complete the handshake within open_timeout, or raise what
    the library's own client would (InvalidStatus for a refusal, TimeoutError, OSError)."""
    uri = parse_uri(url)
    # None, not []: an empty list would send an empty Sec-WebSocket-Extensions (HTTP 400).
    extensions: Sequence[ClientPerMessageDeflateFactory] | None = (
        [ClientPerMessageDeflateFactory()] if deflate else None
    )
    protocol = ClientProtocol(uri, subprotocols=[Subprotocol(subprotocol)], extensions=extensions)
    loop = asyncio.get_running_loop()
    connection: Connection | None = None
    try:
        async with asyncio.timeout(open_timeout):
            _, connection = await loop.create_connection(
                lambda: Connection(protocol), uri.host, uri.port
            )
            await connection.handshake
    except BaseException:
        if connection is not None:
            connection.abort()
        raise
    return connection
