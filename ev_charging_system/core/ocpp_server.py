"""The OCPP WebSocket server: accept, authenticate, pick a handler by subprotocol."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
import ssl
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import cast
from urllib.parse import unquote, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from ev_charging_system.business_logic.bounded import DeadlineExceededError, within
from ev_charging_system.business_logic.device_management_service import (
    CHARGE_POINT_ID_RULE,
    valid_charge_point_id,
)
from ev_charging_system.core import v16, v201
from ev_charging_system.core.admission import AdmissionPolicy, ConnectionAdmission, Ticket
from ev_charging_system.core.command_dispatcher import (
    BeforeSend,
    CommandDispatcher,
    CommandTranslator,
)
from ev_charging_system.core.connection_manager import ConnectionManager, StationConnection
from ev_charging_system.core.rate_limit import RateLimit
from ev_charging_system.core.rpc import UNLIMITED, OcppEndpoint
from ev_charging_system.core.services import OcppServices
from ev_charging_system.core.v16_commands import V16Commands
from ev_charging_system.core.v201_commands import V201Commands, remote_start_recorder
from ev_charging_system.models.charge_point import StationChannel
from ev_charging_system.models.errors import StorageUnavailableError
from ev_charging_system.models.station_event import EventKind

logger = logging.getLogger(__name__)

SUBPROTOCOL_V16 = Subprotocol("ocpp1.6")
SUBPROTOCOL_V201 = Subprotocol("ocpp2.0.1")
# The server's preference when a station offers several: the newer protocol.
SUBPROTOCOLS = [SUBPROTOCOL_V201, SUBPROTOCOL_V16]
DEFAULT_MAX_FRAME_BYTES = 1024 * 1024  # websockets' own default; larger frames close with 1009
# Close code when no offered subprotocol is supported (the handshake itself completes).
CLOSE_UNSUPPORTED_SUBPROTOCOL = 1002
CLOSE_TRY_AGAIN_LATER = 1013  # the connection could not be recorded: database unavailable
HANDSHAKE_RETRY_AFTER_SECONDS = 10  # a handshake refused because the database is down
CLOSE_GOING_AWAY = 1001  # the CSMS is stopping
DEFAULT_DRAIN_SECONDS = 8.0
ABORT_GRACE_SECONDS = 1.0  # after dropping busy connections, for their handlers to end


@dataclass(frozen=True, slots=True)
class TlsListener:
    """The wss:// listener (OCPP security profiles 2 and 3)."""

    port: int
    certificate_file: Path  # the server's certificate chain, PEM
    key_file: Path
    client_ca_file: Path  # client certificates must chain to one of these (profile 3)


NO_ADMISSION_LIMIT = AdmissionPolicy(max_pending=0)


@dataclass(frozen=True, slots=True)
class OcppServerOptions:
    host: str
    port: int
    ping_interval: float
    ping_timeout: float
    close_timeout: float
    call_timeout: float
    max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES
    plain: bool = True  # the ws:// listener (security profile 1); off when only TLS is allowed
    tls: TlsListener | None = None
    admission: AdmissionPolicy = NO_ADMISSION_LIMIT
    # Connections the kernel queues before they are accepted: asyncio's default of 100
    # drops the SYNs of a reconnect storm silently (clients only see timeouts).
    listen_backlog: int = 4096
    station_message_limit: RateLimit = UNLIMITED


def server_tls_context(listener: TlsListener) -> ssl.SSLContext:
    """TLS 1.2 or newer (OCPP security profiles 2/3); a client certificate is asked for
    and, when one is sent, must verify; whether a station needs one is its profile's
    business, decided at the handshake."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(listener.certificate_file, listener.key_file)
    context.load_verify_locations(cafile=listener.client_ca_file)
    context.verify_mode = ssl.CERT_OPTIONAL
    return context


def station_channel(connection: ServerConnection) -> StationChannel:
    """Whether the connection is TLS, and the verified client certificate's common name."""
    ssl_object = connection.transport.get_extra_info("ssl_object")
    if not isinstance(ssl_object, ssl.SSLObject):
        return StationChannel(tls=False)
    # Only a certificate that verified against the client CAs is returned here.
    certificate = ssl_object.getpeercert() or {}
    subject_rdns = cast(tuple[tuple[tuple[str, str], ...], ...], certificate.get("subject", ()))
    subject = next(
        (value for rdn in subject_rdns for name, value in rdn if name == "commonName"), None
    )
    return StationChannel(tls=True, certificate_subject=subject)


def station_id_from_path(path: str) -> str | None:
    """`/CP-1`, `/ocpp/CP-1` -> `CP-1`; None when the path names no valid station id.

    The id is the last path segment, percent-decoded (a station may encode any
    character); what it decodes to must be a valid identity.
    """
    segments = [s for s in urlsplit(path).path.split("/") if s]
    if not segments:
        return None
    station_id = unquote(segments[-1], errors="strict")
    return station_id if valid_charge_point_id(station_id) else None


def select_subprotocol(
    connection: ServerConnection, offered: Sequence[Subprotocol]
) -> Subprotocol | None:
    """The server's preferred OCPP version among those offered, or None.

    None completes the handshake without Sec-WebSocket-Protocol; the connection is then
    closed at once (OCPP-J: the CSMS must not refuse the handshake itself).
    """
    return next((protocol for protocol in SUBPROTOCOLS if protocol in offered), None)


def _port_of(server: Server | None) -> int | None:
    return None if server is None else int(server.sockets[0].getsockname()[1])


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


class OcppServer:
    def __init__(
        self, services: OcppServices, connections: ConnectionManager, options: OcppServerOptions
    ) -> None:
        self._services = services
        self._connections = connections
        self._options = options
        self._database_timeout = services.database_timeout_seconds
        self._server: Server | None = None
        self._tls_server: Server | None = None
        self._endpoints: set[OcppEndpoint] = set()
        self.admission = ConnectionAdmission(options.admission)
        self._tickets: weakref.WeakKeyDictionary[ServerConnection, Ticket] = (
            weakref.WeakKeyDictionary()
        )

    @property
    def port(self) -> int | None:
        """The ws:// port, None when only wss:// is served."""
        return _port_of(self._server)

    @property
    def tls_port(self) -> int | None:
        return _port_of(self._tls_server)

    async def start(self) -> None:
        options = self._options
        if options.plain:
            self._server = await self._listen(options.port, None)
        if options.tls is not None:
            self._tls_server = await self._listen(options.tls.port, server_tls_context(options.tls))

    async def _listen(self, port: int, tls: ssl.SSLContext | None) -> Server:
        return await serve(
            self._serve_station,
            self._options.host,
            port,
            ssl=tls,
            subprotocols=SUBPROTOCOLS,
            select_subprotocol=select_subprotocol,
            max_size=self._options.max_frame_bytes,
            process_request=self._check_handshake,
            ping_interval=self._options.ping_interval,
            ping_timeout=self._options.ping_timeout,
            close_timeout=self._options.close_timeout,
            backlog=self._options.listen_backlog,
        )

    @property
    def accepting(self) -> bool:
        return self._server is not None or self._tls_server is not None

    def in_flight(self) -> int:
        """Station calls being answered right now."""
        return sum(1 for endpoint in self._endpoints if endpoint.handling)

    async def stop(self, drain_seconds: float = DEFAULT_DRAIN_SECONDS) -> None:
        """Stop accepting connections (ws:// and wss://), answer every call in flight, then
        close every station's socket with 1001 (going away); all within `drain_seconds`.

        A call is bounded by DATABASE_TIMEOUT_SECONDS, so with longer `drain_seconds` every
        call gets its answer. Connections still busy at the deadline are dropped (logged).
        """
        servers = [server for server in (self._server, self._tls_server) if server is not None]
        if not servers:
            return
        self._server = self._tls_server = None
        for server in servers:
            server.close(close_connections=False)  # no new connections; open ones drain below
        logger.info(
            "OCPP: stopping: %d stations connected, %d calls being answered",
            len(self._endpoints),
            self.in_flight(),
        )
        for endpoint in list(self._endpoints):
            endpoint.drain()

        async def closed() -> None:
            await asyncio.gather(*(server.wait_closed() for server in servers))

        try:
            await asyncio.wait_for(closed(), drain_seconds)
        except TimeoutError:
            busy = [
                connection
                for server in servers
                for connection in server.all_connections
                if connection.transport is not None
            ]
            logger.warning(
                "OCPP: %d station connections still busy after %g s: dropped without an answer",
                len(busy),
                drain_seconds,
            )
            for connection in busy:
                connection.transport.abort()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(closed(), ABORT_GRACE_SECONDS)

    async def _check_handshake(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        admitted = self.admission.try_admit()
        if not isinstance(admitted, Ticket):
            return _service_unavailable(
                connection, "CSMS busy: many stations are connecting; retry later\n", admitted
            )
        try:
            refusal = await within(self._database_timeout, self._refusal(connection, request))
        except (DeadlineExceededError, StorageUnavailableError) as error:
            admitted.done()
            if isinstance(error, DeadlineExceededError):
                self._services.storage.failed(f"a station's handshake waited: {error}")
            return _service_unavailable(
                connection,
                "CSMS database unavailable; retry later\n",
                HANDSHAKE_RETRY_AFTER_SECONDS,
            )
        if refusal is not None:
            admitted.done()
            return refusal
        self._tickets[connection] = admitted  # done once the connection is recorded
        return None

    async def _refusal(self, connection: ServerConnection, request: Request) -> Response | None:
        """The HTTP answer refusing this handshake, or None to accept it."""
        try:
            station_id = station_id_from_path(request.path)
        except UnicodeDecodeError:
            station_id = None
        if station_id is None:
            return connection.respond(
                HTTPStatus.NOT_FOUND,
                f"Connect to ws://<host>:<port>/<charge_point_id>; {CHARGE_POINT_ID_RULE}\n",
            )
        credentials = basic_auth_credentials(request)
        password = None
        if credentials is not None:
            user, password = credentials
            if user != station_id:
                password = None
        channel = station_channel(connection)
        refusal = await self._services.devices.check_station_access(station_id, password, channel)
        if refusal is None:
            return None
        await self._services.devices.record_event(
            station_id,
            EventKind.AUTH_FAILED,
            {
                "reason": refusal.reason,
                "basic_auth_present": credentials is not None,
                "tls": channel.tls,
                "client_certificate": channel.certificate_subject,
            },
        )
        logger.info("%s refused at the handshake: %s", station_id, refusal.reason)
        if refusal.credentials_missing:
            response = connection.respond(HTTPStatus.UNAUTHORIZED, "Invalid station credentials\n")
            response.headers["WWW-Authenticate"] = 'Basic realm="OCPP", charset="UTF-8"'
            return response
        return connection.respond(HTTPStatus.FORBIDDEN, f"Refused: {refusal.reason}\n")

    async def _serve_station(self, websocket: ServerConnection) -> None:
        station_id = station_id_from_path(websocket.request.path if websocket.request else "")
        version = websocket.subprotocol
        if station_id is None or version not in SUBPROTOCOLS:
            await websocket.close(
                code=CLOSE_UNSUPPORTED_SUBPROTOCOL,
                reason=f"offer one of the subprotocols {', '.join(SUBPROTOCOLS)}",
            )
            return
        handler: OcppEndpoint
        translator: CommandTranslator
        before_send: BeforeSend | None = None
        if version == SUBPROTOCOL_V16:
            handler = v16.V16Handler(
                station_id,
                websocket,
                self._services,
                self._options.call_timeout,
                self._options.station_message_limit,
            )
            translator, ocpp_version = V16Commands(), v16.OCPP_VERSION
        else:
            handler = v201.V201Handler(
                station_id,
                websocket,
                self._services,
                self._options.call_timeout,
                self._options.station_message_limit,
            )
            translator, ocpp_version = V201Commands(), v201.OCPP_VERSION
            before_send = remote_start_recorder(station_id, self._services.transaction_events)
        ticket = self._tickets.pop(websocket, None)
        try:
            await within(
                self._database_timeout,
                self._services.devices.station_connected(station_id, ocpp_version),
            )
        except (DeadlineExceededError, StorageUnavailableError) as error:
            if isinstance(error, DeadlineExceededError):
                self._services.storage.failed(f"recording {station_id}'s connection: {error}")
            await websocket.close(code=CLOSE_TRY_AGAIN_LATER, reason="CSMS database unavailable")
            return
        except Exception:
            logger.exception("%s: could not record the connection", station_id)
            await websocket.close(code=1011, reason="CSMS temporarily unavailable")
            return
        finally:
            if ticket is not None:
                ticket.done()
        # What this process remembers of the station's sessions may be older than what
        # it sent elsewhere (another node) while away: read again on first use.
        self._services.transaction_events.station_connected(station_id)
        dispatcher = CommandDispatcher(
            station_id, handler, translator, self._options.call_timeout, before_send=before_send
        )
        connection = StationConnection(station_id, ocpp_version, websocket, dispatcher)
        self._connections.register(connection)
        logger.info("%s connected (OCPP %s)", station_id, ocpp_version)
        reason = "closed"
        self._endpoints.add(handler)
        try:
            await handler.start()
            # Drained: every call that arrived is answered; now say goodbye.
            reason = "CSMS stopping"
            await websocket.close(code=CLOSE_GOING_AWAY, reason="CSMS stopping")
        except ConnectionClosed as closed:
            reason = f"closed ({closed.rcvd.code if closed.rcvd else 'no close frame'})"
        finally:
            handler.cancel_follow_ups()
            self._endpoints.discard(handler)
            await dispatcher.close(reason)
            # A connection replaced by the station's newer one is not the station going
            # offline: only the live connection's end is recorded as a disconnection.
            still_live = self._connections.unregister(connection)
            if still_live:
                logger.info("%s disconnected: %s", station_id, reason)
            try:
                await within(
                    self._database_timeout,
                    self._services.devices.station_disconnected(
                        station_id, reason, went_offline=still_live
                    ),
                )
            except (DeadlineExceededError, StorageUnavailableError) as error:
                logger.warning("%s: disconnection not recorded: %s", station_id, error)
            except Exception:
                logger.exception("%s: could not record the disconnection", station_id)


def _service_unavailable(connection: ServerConnection, text: str, retry_after: int) -> Response:
    response = connection.respond(HTTPStatus.SERVICE_UNAVAILABLE, text)
    response.headers["Retry-After"] = str(retry_after)
    return response
