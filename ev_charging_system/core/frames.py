"""OCPP-J frames without I/O: what a received frame is, and what a reply looks like.

The RPC rules of both versions' OCPP-J specifications live here, once (part 4 of 2.0.1,
section 4; the 1.6J specification, section 4): a frame is a JSON array whose first
element names its type; a message id is a string of at most 36 characters; a frame
whose id cannot be read is answered with the id "-1"; a message type the CSMS does not
know is ignored (1.6) or answered MessageTypeNotSupported (2.0.1, section 4.4); replies
that match no call are ignored. `read_frame` decides, `rpc.OcppEndpoint` acts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ocpp.exceptions import FormatViolationError, OCPPError
from ocpp.messages import CallError

UNREADABLE_MESSAGE_ID = "-1"  # the id of a CALLERROR answering a frame whose id is unreadable
MAX_MESSAGE_ID_LENGTH = 36  # string[36]: room for a UUID
MAX_ERROR_DESCRIPTION = 255  # CALLERROR errorDescription is string[255] (2.0.1)

CALL, CALL_RESULT, CALL_ERROR = 2, 3, 4

# Error codes for frames that are not valid RPC messages. 2.0.1 has codes for exactly
# this; 1.6 has not, and its nearest are used (FormatViolation for unparsable JSON, as
# the 1.6 test tools expect, ProtocolError for a frame not shaped like a message).
_UNPARSABLE = {"1.6": "FormatViolation", "2.0.1": "RpcFrameworkError"}
_NOT_A_MESSAGE = {"1.6": "ProtocolError", "2.0.1": "RpcFrameworkError"}
MESSAGE_TYPE_NOT_SUPPORTED = "MessageTypeNotSupported"  # 2.0.1 only


@dataclass(frozen=True, slots=True)
class CallFrame:
    message_id: str
    action: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ResultFrame:
    message_id: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ErrorFrame:
    message_id: str
    code: str
    description: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Refusal:
    """A frame that must be answered with a CALLERROR before any handler sees it."""

    message_id: str
    code: str
    description: str


@dataclass(frozen=True, slots=True)
class Ignored:
    """A frame the specification says to ignore (logged, never answered)."""

    reason: str


Frame = CallFrame | ResultFrame | ErrorFrame | Refusal | Ignored


def valid_message_id(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_MESSAGE_ID_LENGTH


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def read_frame(raw: str | bytes, ocpp_version: str) -> Frame:
    """Classify a received WebSocket message under the OCPP-J rules of `ocpp_version`."""
    try:
        message = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return Refusal(UNREADABLE_MESSAGE_ID, _UNPARSABLE[ocpp_version], "invalid JSON")
    if not isinstance(message, list) or not message:
        return Refusal(
            UNREADABLE_MESSAGE_ID,
            _NOT_A_MESSAGE[ocpp_version],
            "an OCPP-J message is a JSON array [MessageTypeId, MessageId, ...]",
        )
    kind = message[0]
    if kind == CALL and _is_int(kind):
        return _read_call(message, ocpp_version)
    if kind == CALL_RESULT and _is_int(kind):
        if len(message) == 3 and valid_message_id(message[1]) and isinstance(message[2], dict):
            return ResultFrame(message[1], message[2])
        return Ignored("malformed CALLRESULT")
    if kind == CALL_ERROR and _is_int(kind):
        if len(message) in (4, 5) and valid_message_id(message[1]):
            details = message[4] if len(message) == 5 and isinstance(message[4], dict) else {}
            return ErrorFrame(message[1], str(message[2]), str(message[3]), details)
        return Ignored("malformed CALLERROR")
    if ocpp_version == "1.6":
        return Ignored(f"unknown message type {kind!r}")
    message_id = message[1] if len(message) > 1 and valid_message_id(message[1]) else None
    return Refusal(
        message_id or UNREADABLE_MESSAGE_ID,
        MESSAGE_TYPE_NOT_SUPPORTED,
        f"message type {kind!r} is not supported: use CALL, CALLRESULT or CALLERROR",
    )


def _read_call(message: list[Any], ocpp_version: str) -> Frame:
    if len(message) < 2 or not valid_message_id(message[1]):
        return Refusal(
            UNREADABLE_MESSAGE_ID,
            _NOT_A_MESSAGE[ocpp_version],
            f"the message id must be a string of 1 to {MAX_MESSAGE_ID_LENGTH} characters",
        )
    message_id = message[1]
    if len(message) != 4 or not isinstance(message[2], str):
        return Refusal(
            message_id,
            _NOT_A_MESSAGE[ocpp_version],
            "a CALL is [2, MessageId, Action, Payload]",
        )
    if not isinstance(message[3], dict):
        return Refusal(message_id, "FormatViolation", "the payload must be a JSON object")
    return CallFrame(message_id, message[2], message[3])


def readable_message_id(raw: str | bytes) -> str:
    """The message id of a frame, or "-1" when there is none to read."""
    try:
        frame = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return UNREADABLE_MESSAGE_ID
    if isinstance(frame, list) and len(frame) > 1 and valid_message_id(frame[1]):
        return str(frame[1])
    return UNREADABLE_MESSAGE_ID


def error_details(error: OCPPError) -> dict[str, str]:
    """JSON-safe details of a library error (it may attach message objects)."""
    cause = error.details.get("cause") if isinstance(error.details, dict) else None
    return {"cause": str(cause)} if cause is not None else {}


def call_error_frame(
    message_id: str, code: str, description: str, details: dict[str, Any] | None = None
) -> str:
    frame = CallError(message_id, code, description[:MAX_ERROR_DESCRIPTION], details or {})
    return str(frame.to_json())


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
