"""Frame-level behaviour shared by every OCPP version's handler.

The `ocpp` library leaves a few decisions to the server: it sends no reply to frames it
cannot parse, puts unserialisable objects into CALLERROR details, and does not check that a
station is registered. Those decisions live here, once, for both versions.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from ocpp.exceptions import FormatViolationError, OCPPError, SecurityError
from ocpp.messages import Call, CallError, MessageType, unpack

from ev_charging_system.core.services import OcppServices
from ev_charging_system.models.errors import StationNotAcceptedError

logger = logging.getLogger(__name__)

UNREADABLE_MESSAGE_ID = "-1"  # OCPP 2.0.1 4.2.3: the id to use when none can be read


def readable_message_id(raw: str | bytes) -> str:
    """The unique id of a frame that failed to unpack, or "-1" when there is none."""
    try:
        frame = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return UNREADABLE_MESSAGE_ID
    if isinstance(frame, list) and len(frame) > 1 and isinstance(frame[1], str):
        return str(frame[1])[:36]
    return UNREADABLE_MESSAGE_ID


def serialisable_error(error: OCPPError) -> OCPPError:
    """The same error with only JSON-safe details (the library may attach message objects)."""
    cause = error.details.get("cause") if isinstance(error.details, dict) else None
    details = {"cause": str(cause)} if cause is not None else {}
    safe: OCPPError = type(error)(description=error.description, details=details)
    return safe


def call_error_frame(message_id: str, error: OCPPError) -> str:
    safe = serialisable_error(error)
    return str(CallError(message_id, safe.code, safe.description, safe.details).to_json())


def parse_timestamp(value: str) -> datetime:
    """OCPP timestamps are RFC 3339; a station that omits the offset means UTC."""
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError) as error:
        raise FormatViolationError(
            description=f"invalid timestamp {value!r}", details={"cause": "not RFC 3339"}
        ) from error
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_timestamp(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


BOOT_NOTIFICATION = "BootNotification"  # the same action name in every OCPP version


class FrameRouter:
    """Mixin for the library's ChargePoint (any version): strict, always-answering routing,
    and the registration check every station message passes first."""

    id: str
    _response_queue: Any
    _send: Any
    _handle_call: Any

    def __init__(
        self, charge_point_id: str, connection: Any, services: OcppServices, call_timeout: float
    ) -> None:
        super().__init__(charge_point_id, connection, response_timeout=call_timeout)  # type: ignore[call-arg]
        self._services = services

    async def ensure_registered(self, action: str) -> None:
        """Raise StationNotAcceptedError unless the station may send `action` now."""
        if action != BOOT_NOTIFICATION:
            await self._services.devices.ensure_accepted(self.id)
        self._services.devices.seen(self.id)

    async def route_message(self, raw_msg: str | bytes) -> None:
        try:
            message = unpack(raw_msg)
        except OCPPError as error:
            logger.warning("%s: unreadable frame (%s): %.200r", self.id, error.code, raw_msg)
            await self._send(call_error_frame(readable_message_id(raw_msg), error))
            return
        if message.message_type_id != MessageType.Call:
            self._response_queue.put_nowait(message)
            return
        await self._route_call(message)

    async def _route_call(self, message: Call) -> None:
        try:
            await self.ensure_registered(message.action)
        except StationNotAcceptedError as refused:
            await self._send(
                call_error_frame(message.unique_id, SecurityError(description=str(refused)))
            )
            return
        try:
            await self._handle_call(message)
        except OCPPError as error:
            logger.info("%s: %s answered %s: %s", self.id, message.action, error.code, error)
            await self._send(call_error_frame(message.unique_id, error))
