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
import logging
import time
import uuid
from collections.abc import Mapping
from types import ModuleType
from typing import Any, ClassVar

from ocpp.charge_point import (
    camel_to_snake_case,
    remove_nones,
    serialize_as_dict,
    snake_to_camel_case,
)
from ocpp.exceptions import InternalError, NotSupportedError, OCPPError
from ocpp.exceptions import NotImplementedError as ActionNotImplementedError
from ocpp.messages import Call, CallResult, validate_payload
from websockets.asyncio.connection import Connection

from ev_charging_system.core import frames
from ev_charging_system.core.routing import routes_of
from ev_charging_system.core.services import OcppServices
from ev_charging_system.models.errors import (
    CommandNotSupportedError,
    StationAnswerInvalidError,
    StationCallError,
    StationNotAcceptedError,
)

logger = logging.getLogger(__name__)

BOOT_NOTIFICATION = "BootNotification"  # the same action name in every OCPP version


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
    ) -> None:
        self.id = charge_point_id
        self._connection = connection
        self._services = services
        self._call_timeout = call_timeout
        self._pending: dict[str, asyncio.Future[frames.ResultFrame | frames.ErrorFrame]] = {}

    async def start(self) -> None:
        """Serve the connection until it closes (raises websockets' ConnectionClosed)."""
        while True:
            await self.route_message(await self._connection.recv())

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
        started = time.perf_counter()
        outcome = await self._answer_call(frame)
        # An action the version does not define is counted as one label, whatever its name.
        action = frame.action if frame.action in self.actions else "unknown"
        self._services.observer.ocpp_call_handled(
            self.ocpp_version,
            action,
            outcome,
            time.perf_counter() - started,
            self.id,
            frame.message_id,
        )

    async def _answer_call(self, frame: frames.CallFrame) -> str:
        """Answer a CALL; returns "ok" or the CALLERROR code sent."""
        try:
            await self._ensure_registered(frame.action)
        except StationNotAcceptedError as refused:
            await self._send(
                frames.call_error_frame(frame.message_id, "SecurityError", str(refused))
            )
            return "SecurityError"
        try:
            payload = await self._handle(frame)
        except OCPPError as error:
            logger.info("%s: %s answered %s: %s", self.id, frame.action, error.code, error)
            await self._send(
                frames.call_error_frame(
                    frame.message_id,
                    str(error.code),
                    str(error.description or ""),
                    frames.error_details(error),
                )
            )
            return str(error.code)
        except Exception:
            logger.exception("%s: %s failed", self.id, frame.action)
            await self._send(
                frames.call_error_frame(
                    frame.message_id, "InternalError", f"the CSMS could not handle {frame.action}"
                )
            )
            return "InternalError"
        await self._send(str(CallResult(frame.message_id, payload).to_json()))
        return "ok"

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
        await validate_payload(
            Call(frame.message_id, frame.action, frame.payload), self.ocpp_version
        )
        arguments = camel_to_snake_case(frame.payload)
        # 2.0.1 lets any message carry a vendor's customData: accepted, not interpreted.
        arguments.pop("custom_data", None)
        response = await getattr(self, name)(**arguments)
        payload: dict[str, Any] = snake_to_camel_case(remove_nones(serialize_as_dict(response)))
        try:
            await validate_payload(
                CallResult(frame.message_id, payload, frame.action), self.ocpp_version
            )
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
        payload = snake_to_camel_case(remove_nones(serialize_as_dict(request)))
        message = Call(str(uuid.uuid4()), action, payload)
        try:
            await validate_payload(message, self.ocpp_version)
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
            await validate_payload(result, self.ocpp_version)
            return getattr(self.call_results, action)(**camel_to_snake_case(result.payload))
        except OCPPError as error:
            raise StationAnswerInvalidError(
                self.id, action, self.ocpp_version, reply.payload, str(error.code), _cause(error)
            ) from error
        except TypeError as error:  # a field the schema allows but the dataclass lacks
            raise StationAnswerInvalidError(
                self.id, action, self.ocpp_version, reply.payload, "FormatViolation", str(error)
            ) from error


def _cause(error: OCPPError) -> str:
    cause = error.details.get("cause") if isinstance(error.details, dict) else None
    return str(cause or error.description or error.code)
