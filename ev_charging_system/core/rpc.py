"""One station connection's OCPP-J RPC: station calls to handlers, CSMS calls to the station.

This replaces the `ocpp` library's ChargePoint base class; the library still provides the
JSON schemas, the payload dataclasses and the camelCase <-> snake_case mapping. What is
decided here, for both versions:

- every frame is classified by `frames.read_frame` (ids, message types, shapes), so a
  malformed frame is answered or ignored as the specification says, never silently;
- a station that is not Accepted may only send BootNotification (SecurityError);
- an action the version does not define is NotImplemented ("not known by receiver"),
  one it defines that the CSMS does not handle is NotSupported (OCPP-J RPC error codes);
- a request the CSMS would send that breaks the version's schema is refused before it is
  sent (CommandNotSupportedError), and an answer that breaks it is reported as such with
  its payload (StationAnswerInvalidError), never as if the station had sent a CALLERROR.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from types import ModuleType
from typing import Any, ClassVar

from ocpp.charge_point import remove_nones, serialize_as_dict
from ocpp.exceptions import InternalError, NotSupportedError, OCPPError
from ocpp.exceptions import NotImplementedError as ActionNotImplementedError
from ocpp.messages import Call, CallResult
from websockets.asyncio.connection import Connection

from ev_charging_system.business_logic.bounded import DeadlineExceededError, within
from ev_charging_system.core import frames
from ev_charging_system.core.key_case import camel_case_keys, snake_case_keys
from ev_charging_system.core.payload_schemas import validate_payload
from ev_charging_system.core.rate_limit import RateLimit, TokenBucket
from ev_charging_system.core.routing import routes_of
from ev_charging_system.core.services import OcppServices
from ev_charging_system.models.errors import (
    CommandNotSupportedError,
    StationAnswerInvalidError,
    StationCallError,
    StationNotAcceptedError,
    StorageUnavailableError,
)

logger = logging.getLogger(__name__)

BOOT_NOTIFICATION = "BootNotification"  # the same action name in every OCPP version
# While draining for shutdown: how long to wait for calls already on their way.
DRAIN_GRACE_SECONDS = 0.1
UNLIMITED = RateLimit(per_second=0, burst=1)
THROTTLE_LOG_INTERVAL_SECONDS = 60.0


class OcppEndpoint:
    """Base of the per-version handler classes; one instance per station connection."""

    ocpp_version: ClassVar[str]
    call_results: ClassVar[ModuleType]  # the library's call_result module of the version
    actions: ClassVar[frozenset[str]]  # every action the version defines, both directions
    routes: ClassVar[Mapping[str, str]] = {}  # action -> handler method name

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.routes = routes_of(cls)

    def __init__(
        self,
        charge_point_id: str,
        connection: Connection,
        services: OcppServices,
        call_timeout: float,
        message_limit: RateLimit = UNLIMITED,
    ) -> None:
        self.id = charge_point_id
        self._connection = connection
        self._services = services
        self._call_timeout = call_timeout
        self._pending: dict[str, asyncio.Future[frames.ResultFrame | frames.ErrorFrame]] = {}
        self._after_reply: list[Callable[[], Awaitable[None]]] = []
        self._follow_ups: set[asyncio.Task[None]] = set()
        self._handling = False  # a station's call is being answered
        self._draining = False
        self._reader: asyncio.Task[Any] | None = None
        self._messages = TokenBucket(message_limit)
        self._throttled = 0  # messages held back since the last log line
        self._throttle_logged_at = -math.inf

    def after_reply(self, follow_up: Callable[[], Awaitable[None]]) -> None:
        """Run `follow_up` once the answer to the call being handled has been sent.

        For calls the CSMS makes in reply to a station's request (CertificateSigned after
        SignCertificate): OCPP wants the answer first, and this connection reads the
        station's reply only after the handler has returned.
        """
        self._after_reply.append(follow_up)

    def cancel_follow_ups(self) -> None:
        for task in self._follow_ups:
            task.cancel()

    def _start_follow_ups(self) -> None:
        follow_ups, self._after_reply = self._after_reply, []
        for follow_up in follow_ups:
            task = asyncio.create_task(self._follow_up(follow_up))
            self._follow_ups.add(task)
            task.add_done_callback(self._follow_ups.discard)

    async def _follow_up(self, follow_up: Callable[[], Awaitable[None]]) -> None:
        try:
            await follow_up()
        except Exception:
            logger.exception("%s: a follow-up call failed", self.id)

    @property
    def handling(self) -> bool:
        return self._handling

    async def start(self) -> None:
        """Serve the connection until it closes (raises websockets' ConnectionClosed) or,
        after drain(), until every call that reached the CSMS is answered (returns)."""
        self._reader = asyncio.current_task()
        try:
            await self._serve()
        finally:
            self._reader = None  # drain() must never cancel what runs after serving

    async def _serve(self) -> None:
        while not self._draining:
            try:
                raw = await self._connection.recv()
            except asyncio.CancelledError:
                if not self._draining:
                    raise
                # drain() woke the idle reader; websockets' recv() loses nothing on cancel.
                if self._reader is not None:
                    self._reader.uncancel()
                break
            await self._pace()
            await self._route(raw)
        # Calls the station sent before it could learn that the CSMS is stopping are
        # answered too; the grace ends when nothing more arrives.
        while True:
            try:
                raw = await asyncio.wait_for(self._connection.recv(), DRAIN_GRACE_SECONDS)
            except TimeoutError:
                return
            await self._route(raw)

    async def _pace(self) -> None:
        """Hold a station that sends faster than its rate limit: nothing it sends is
        lost, its next frames are read later (TCP pushes back), and a flood from one
        station cannot take the process's time from the others."""
        wait = self._messages.reserve()
        if wait <= 0:
            return
        self._throttled += 1
        self._services.observer.ocpp_message_throttled(self.id)
        now = time.monotonic()
        if now - self._throttle_logged_at >= THROTTLE_LOG_INTERVAL_SECONDS:
            logger.warning(
                "%s: sends faster than its rate limit: %d messages held back (this one %.2f s)",
                self.id,
                self._throttled,
                wait,
            )
            self._throttled = 0
            self._throttle_logged_at = now
        await asyncio.sleep(wait)

    def drain(self) -> None:
        """Stop serving once the call in hand (and any already on its way) is answered."""
        if self._draining:
            return
        self._draining = True
        if not self._handling and self._reader is not None:
            self._reader.cancel()

    async def _route(self, raw: str | bytes) -> None:
        self._handling = True
        try:
            await self.route_message(raw)
        finally:
            self._handling = False

    async def _send(self, text: str) -> None:
        await self._connection.send(text)

    # --- frames from the station ---------------------------------------------------------

    async def route_message(self, raw: str | bytes) -> None:
        frame = frames.read_frame(raw, self.ocpp_version)
        match frame:
            case frames.CallFrame():
                await self._route_call(frame)
            case frames.ResultFrame() | frames.ErrorFrame():
                self._settle(frame)
            case frames.Refusal():
                logger.warning("%s: refused frame (%s): %.200r", self.id, frame.code, raw)
                await self._send(
                    frames.call_error_frame(frame.message_id, frame.code, frame.description)
                )
            case frames.Ignored():
                logger.warning("%s: ignored frame (%s): %.200r", self.id, frame.reason, raw)

    def _settle(self, frame: frames.ResultFrame | frames.ErrorFrame) -> None:
        future = self._pending.get(frame.message_id)
        if future is None or future.done():
            logger.warning("%s: a reply to no pending call: %r", self.id, frame)
            return
        future.set_result(frame)

    async def _route_call(self, frame: frames.CallFrame) -> None:
        """Answer every call, within DATABASE_TIMEOUT_SECONDS even if the database hangs."""
        started = time.perf_counter()
        timeout = self._services.database_timeout_seconds
        try:
            reply = await within(timeout, self._reply_to(frame))
        except DeadlineExceededError:
            self._after_reply.clear()
            self._services.storage.failed(f"{frame.action} waited more than {timeout:g} s")
            reply = frames.call_error_frame(
                frame.message_id,
                "InternalError",
                f"the CSMS could not handle {frame.action} in time (its database is not "
                "answering); retry later",
            )
        await self._send(reply)
        self._start_follow_ups()  # none after an error: those paths drop them
        # An action the version does not define is counted as one label, whatever its name.
        action = frame.action if frame.action in self.actions else "unknown"
        self._services.observer.ocpp_call_handled(
            self.ocpp_version,
            action,
            _outcome_of(reply),
            time.perf_counter() - started,
            self.id,
            frame.message_id,
        )

    async def _reply_to(self, frame: frames.CallFrame) -> str:
        """The CALLRESULT or CALLERROR frame for a station's call."""
        try:
            await self._ensure_registered(frame.action)
        except StationNotAcceptedError as refused:
            return frames.call_error_frame(frame.message_id, "SecurityError", str(refused))
        except StorageUnavailableError:
            return _database_unavailable(frame)
        try:
            payload = await self._handle(frame)
        except OCPPError as error:
            self._after_reply.clear()
            logger.info("%s: %s answered %s: %s", self.id, frame.action, error.code, error)
            return frames.call_error_frame(
                frame.message_id,
                str(error.code),
                str(error.description or ""),
                frames.error_details(error),
            )
        except StorageUnavailableError:
            self._after_reply.clear()
            # Logged once per outage by the database's health, not once per message.
            return _database_unavailable(frame)
        except Exception:
            self._after_reply.clear()
            logger.exception("%s: %s failed", self.id, frame.action)
            return frames.call_error_frame(
                frame.message_id, "InternalError", f"the CSMS could not handle {frame.action}"
            )
        return str(CallResult(frame.message_id, payload).to_json())

    async def _ensure_registered(self, action: str) -> None:
        """Raise StationNotAcceptedError unless the station may send `action` now."""
        if action != BOOT_NOTIFICATION:
            await self._services.devices.ensure_accepted(self.id)
        self._services.devices.seen(self.id)

    async def _handle(self, frame: frames.CallFrame) -> dict[str, Any]:
        """Validate, run the handler, and return the validated answer payload."""
        name = self.routes.get(frame.action)
        if name is None:
            if frame.action in self.actions:
                raise NotSupportedError(
                    description=f"the CSMS does not accept {frame.action} from a station"
                )
            raise ActionNotImplementedError(
                description=f"{frame.action} is not an OCPP {self.ocpp_version} action"
            )
        validate_payload(Call(frame.message_id, frame.action, frame.payload), self.ocpp_version)
        arguments = snake_case_keys(frame.payload)
        # 2.0.1 lets any message carry a vendor's customData: accepted, not interpreted.
        arguments.pop("custom_data", None)
        response = await getattr(self, name)(**arguments)
        payload: dict[str, Any] = camel_case_keys(remove_nones(serialize_as_dict(response)))
        try:
            validate_payload(CallResult(frame.message_id, payload, frame.action), self.ocpp_version)
        except OCPPError as error:
            # The CSMS's own answer is wrong: a bug, reported as such, never sent.
            logger.error("%s: invalid %s answer %r: %s", self.id, frame.action, payload, error)
            raise InternalError(description=f"the CSMS could not answer {frame.action}") from error
        return payload

    # --- calls to the station -------------------------------------------------------------

    async def call(self, request: Any) -> Any:
        """Send a CSMS-initiated request (a library `call` dataclass) and return the answer
        (the matching `call_result` dataclass). The caller bounds the wait."""
        action = type(request).__name__
        payload = camel_case_keys(remove_nones(serialize_as_dict(request)))
        message = Call(str(uuid.uuid4()), action, payload)
        try:
            validate_payload(message, self.ocpp_version)
        except OCPPError as error:
            raise CommandNotSupportedError(
                f"OCPP {self.ocpp_version} cannot carry this {action}: {_cause(error)}"
            ) from error
        future: asyncio.Future[frames.ResultFrame | frames.ErrorFrame]
        future = asyncio.get_running_loop().create_future()
        self._pending[message.unique_id] = future
        try:
            await self._send(str(message.to_json()))
            reply = await future
        finally:
            del self._pending[message.unique_id]
        if isinstance(reply, frames.ErrorFrame):
            raise StationCallError(self.id, action, reply.code, reply.description)
        return await self._answer(action, reply)

    async def _answer(self, action: str, reply: frames.ResultFrame) -> Any:
        result = CallResult(reply.message_id, reply.payload, action)
        try:
            validate_payload(result, self.ocpp_version)
            return getattr(self.call_results, action)(**snake_case_keys(result.payload))
        except OCPPError as error:
            raise StationAnswerInvalidError(
                self.id, action, self.ocpp_version, reply.payload, str(error.code), _cause(error)
            ) from error
        except TypeError as error:  # a field the schema allows but the dataclass lacks
            raise StationAnswerInvalidError(
                self.id, action, self.ocpp_version, reply.payload, "FormatViolation", str(error)
            ) from error


def _database_unavailable(frame: frames.CallFrame) -> str:
    return frames.call_error_frame(
        frame.message_id,
        "InternalError",
        f"the CSMS could not handle {frame.action}: its database is unavailable; retry later",
    )


def _outcome_of(reply: str) -> str:
    """ "ok" for a CALLRESULT, else the CALLERROR's code (read only for errors: rare)."""
    if reply.startswith("[3"):
        return "ok"
    try:
        return str(json.loads(reply)[2])
    except (ValueError, IndexError, TypeError):
        return "InternalError"


def _cause(error: OCPPError) -> str:
    cause = error.details.get("cause") if isinstance(error.details, dict) else None
    return str(cause or error.description or error.code)
