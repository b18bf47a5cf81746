"""The OCPP WebSocket server: accept, authenticate, pick a handler by subprotocol."""

from __future__ import annotations

import base64
import binascii
import logging
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote, urlsplit

from ocpp import messages as ocpp_messages
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from ev_charging_system.core import v16, v201
from ev_charging_system.core.command_dispatcher import CommandDispatcher, CommandTranslator
from ev_charging_system.core.connection_manager import ConnectionManager, StationConnection
from ev_charging_system.core.services import OcppServices
from ev_charging_system.core.v16_commands import V16Commands
from ev_charging_system.core.v201_commands import V201Commands
from ev_charging_system.models.station_event import EventKind

logger = logging.getLogger(__name__)

SUBPROTOCOL_V16 = Subprotocol("ocpp1.6")
SUBPROTOCOL_V201 = Subprotocol("ocpp2.0.1")
# The server's preference when a station offers several: the newer protocol.
SUBPROTOCOLS = [SUBPROTOCOL_V201, SUBPROTOCOL_V16]
MAX_ID_LENGTH = 48


@dataclass(frozen=True, slots=True)
class OcppServerOptions:
    host: str
    port: int
    ping_interval: float
    ping_timeout: float
    close_timeout: float
    call_timeout: float


def station_id_from_path(path: str) -> str | None:
    """`/CP-1`, `/ocpp/CP-1` -> `CP-1`; None when the path names no valid station."""
    segments = [s for s in urlsplit(path).path.split("/") if s]
    if not segments:
        return None
    station_id = unquote(segments[-1])
    if len(station_id) > MAX_ID_LENGTH or not station_id.isprintable() or " " in station_id:
        return None
    return station_id


def basic_auth_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("Authorization")
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, separator, password = decoded.partition(":")
    return (user, password) if separator else None


def validate_frames_inline() -> None:
    """Validate OCPP payloads on the event loop instead of a thread per message.

    The `ocpp` library hands every schema validation (two per call) to the default thread
    pool. For payloads this small the thread hop costs more than the validation, and the
    pool's threads compete with the database driver's; measured with benchmarks/ocpp_load.
    """
    ocpp_messages.ASYNC_VALIDATION = False


class OcppServer:
    def __init__(
        self, services: OcppServices, connections: ConnectionManager, options: OcppServerOptions
    ) -> None:
        self._services = services
        self._connections = connections
        self._options = options
        self._server: Server | None = None

    @property
    def port(self) -> int:
        assert self._server is not None, "server not started"
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self._server = await serve(
            self._serve_station,
            self._options.host,
            self._options.port,
            subprotocols=SUBPROTOCOLS,
            process_request=self._check_handshake,
            ping_interval=self._options.ping_interval,
            ping_timeout=self._options.ping_timeout,
            close_timeout=self._options.close_timeout,
        )

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close(close_connections=True)
        await self._server.wait_closed()
        self._server = None

    async def _check_handshake(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        station_id = station_id_from_path(request.path)
        if station_id is None:
            return connection.respond(
                HTTPStatus.NOT_FOUND, "Connect to ws://<host>:<port>/<charge_point_id>\n"
            )
        offered = {
            protocol.strip()
            for header in request.headers.get_all("Sec-WebSocket-Protocol")
            for protocol in header.split(",")
        }
        if not offered & set(SUBPROTOCOLS):
            return connection.respond(
                HTTPStatus.BAD_REQUEST,
                f"Offer one of the subprotocols {', '.join(SUBPROTOCOLS)}\n",
            )
        credentials = basic_auth_credentials(request)
        password = None
        if credentials is not None:
            user, password = credentials
            if user != station_id:
                password = None
        if not await self._services.devices.check_station_password(station_id, password):
            await self._services.devices.record_event(
                station_id, EventKind.AUTH_FAILED, {"basic_auth_present": credentials is not None}
            )
            response = connection.respond(HTTPStatus.UNAUTHORIZED, "Invalid station credentials\n")
            response.headers["WWW-Authenticate"] = 'Basic realm="OCPP", charset="UTF-8"'
            return response
        return None

    async def _serve_station(self, websocket: ServerConnection) -> None:
        station_id = station_id_from_path(websocket.request.path if websocket.request else "")
        version = websocket.subprotocol
        if station_id is None or version not in SUBPROTOCOLS:
            await websocket.close(code=1002, reason="unsupported subprotocol")
            return
        handler: Any
        translator: CommandTranslator
        if version == SUBPROTOCOL_V16:
            handler = v16.V16Handler(
                station_id, websocket, self._services, self._options.call_timeout
            )
            translator, ocpp_version = V16Commands(), v16.OCPP_VERSION
        else:
            handler = v201.V201Handler(
                station_id, websocket, self._services, self._options.call_timeout
            )
            translator, ocpp_version = V201Commands(), v201.OCPP_VERSION
        try:
            await self._services.devices.station_connected(station_id, ocpp_version)
        except Exception:
            logger.exception("%s: could not record the connection", station_id)
            await websocket.close(code=1011, reason="CSMS temporarily unavailable")
            return
        dispatcher = CommandDispatcher(station_id, handler, translator, self._options.call_timeout)
        connection = StationConnection(station_id, ocpp_version, websocket, dispatcher)
        self._connections.register(connection)
        logger.info("%s connected (OCPP %s)", station_id, ocpp_version)
        reason = "closed"
        try:
            await handler.start()
        except ConnectionClosed as closed:
            reason = f"closed ({closed.rcvd.code if closed.rcvd else 'no close frame'})"
        finally:
            await dispatcher.close(reason)
            # A connection replaced by the station's newer one is not the station going
            # offline: only the live connection's end is recorded as a disconnection.
            still_live = self._connections.unregister(connection)
            if still_live:
                logger.info("%s disconnected: %s", station_id, reason)
            try:
                await self._services.devices.station_disconnected(
                    station_id, reason, went_offline=still_live
                )
            except Exception:
                logger.exception("%s: could not record the disconnection", station_id)
