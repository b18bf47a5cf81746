"""What crosses the wire between nodes: commands, answers, command errors, domain events.

JSON, typed both ways through pydantic's TypeAdapter over the domain dataclasses, so a
command decoded on the owner is the same value the caller built, and an error raised there
reaches the caller with its class, message and attributes (an HTTP or MCP adapter on the
calling node maps it exactly as it would a local one).
"""

from __future__ import annotations

import json
import typing
from collections.abc import Iterable
from typing import Any, TypeVar

from pydantic import TypeAdapter

from ev_charging_system.business_logic.events import EVENT_TYPES, DomainEvent
from ev_charging_system.business_logic.remote_command_service import plain
from ev_charging_system.models import commands as c
from ev_charging_system.models import errors as e


class CodecError(ValueError):
    """A message from another node that this node cannot read (version skew, a bug)."""


COMMAND_TYPES: dict[str, type[Any]] = {cls.__name__: cls for cls in typing.get_args(c.Command)}
EVENT_CLASSES: dict[str, type[DomainEvent]] = {cls.type: cls for cls in EVENT_TYPES}

# Errors a gateway raises, most specific first; anything else travels as CommandError.
ERROR_TYPES: tuple[type[e.CommandError], ...] = (
    e.StationAnswerInvalidError,
    e.StationCallError,
    e.StationOfflineError,
    e.CommandTimeoutError,
    e.CommandNotSupportedError,
    e.CommandQueueFullError,
    e.CommandError,
)
_ERROR_BY_NAME = {cls.__name__: cls for cls in ERROR_TYPES}
_ERROR_ATTRIBUTES = ("code", "description", "action", "payload")


_ADAPTERS: dict[type[Any], TypeAdapter[Any]] = {}


def _adapter(cls: type[Any]) -> TypeAdapter[Any]:
    adapter = _ADAPTERS.get(cls)
    if adapter is None:
        adapter = _ADAPTERS[cls] = TypeAdapter(cls)
    return adapter


def encode_command(command: c.Command) -> dict[str, Any]:
    name = type(command).__name__
    return {"type": name, "fields": _adapter(type(command)).dump_python(command, mode="json")}


def decode_command(document: object) -> c.Command:
    if not isinstance(document, dict) or document.get("type") not in COMMAND_TYPES:
        raise CodecError(f"not a command: {document!r:.200}")
    cls = COMMAND_TYPES[document["type"]]
    try:
        command: c.Command = _adapter(cls).validate_python(document.get("fields", {}))
    except ValueError as error:
        raise CodecError(f"invalid {cls.__name__}: {error}") from error
    return command


def encode_result(result: c.CommandResult) -> dict[str, Any]:
    # The calling node's service applies plain() and redaction itself; doing plain() here
    # only makes the answer JSON (Decimal -> float, dataclasses -> dicts) as it would anyway.
    return {"status": result.status, "data": plain(result.data)}


def decode_result(document: dict[str, Any]) -> c.CommandResult:
    status, data = document.get("status"), document.get("data", {})
    if not isinstance(status, str) or not isinstance(data, dict):
        raise CodecError(f"not a command result: {document!r:.200}")
    return c.CommandResult(status, data)


def encode_error(error: e.CommandError) -> dict[str, Any]:
    kind = next(cls for cls in ERROR_TYPES if isinstance(error, cls))
    attributes = {name: getattr(error, name) for name in _ERROR_ATTRIBUTES if hasattr(error, name)}
    return {"type": kind.__name__, "message": str(error), "attributes": plain(attributes)}


ErrorT = TypeVar("ErrorT", bound=Exception)


def decode_error(document: dict[str, Any]) -> e.CommandError:
    """The same class and message as raised on the owner (constructors are bypassed: the
    message was already formatted there)."""
    cls = _ERROR_BY_NAME.get(str(document.get("type")), e.CommandError)
    return _rebuilt(cls, document, "the station's node failed", _ERROR_ATTRIBUTES)


def _rebuilt(
    cls: type[ErrorT], document: dict[str, Any], fallback: str, names: Iterable[str]
) -> ErrorT:
    """An instance of `cls` with the sent message and attributes, its constructor bypassed."""
    error = cls.__new__(cls)
    Exception.__init__(error, str(document.get("message", fallback)))
    attributes = document.get("attributes")
    if isinstance(attributes, dict):
        for name in names:
            if name in attributes:
                setattr(error, name, attributes[name])
    return error


# Any other domain error an operation performed on the leader may raise (leader_calls.py),
# most specific first, with the attributes the REST and MCP adapters read.
DOMAIN_ERROR_TYPES: tuple[type[e.DomainError], ...] = (
    e.InputValidationError,
    e.NotFoundError,
    e.ConflictError,
    e.InvalidInputError,
    e.StorageUnavailableError,
    e.PermissionDeniedError,
    e.LeaderUnavailableError,
    e.LeaderTimeoutError,
    e.DomainError,
)
_DOMAIN_ERROR_BY_NAME = {cls.__name__: cls for cls in DOMAIN_ERROR_TYPES}
_DOMAIN_ATTRIBUTES = (
    "kind",
    "key",
    "reason",
    "authenticated",
    "retry_after_seconds",
    "operation",
    "errors",
)


def encode_domain_error(error: e.DomainError) -> dict[str, Any]:
    if isinstance(error, e.CommandError):
        return encode_error(error)
    kind = next(cls for cls in DOMAIN_ERROR_TYPES if isinstance(error, cls))
    attributes = {name: getattr(error, name) for name in _DOMAIN_ATTRIBUTES if hasattr(error, name)}
    return {"type": kind.__name__, "message": str(error), "attributes": plain(attributes)}


def decode_domain_error(document: dict[str, Any]) -> e.DomainError:
    """The class, message and attributes raised on the other node (constructors are
    bypassed: the message was formatted there)."""
    name = str(document.get("type"))
    if name in _ERROR_BY_NAME:
        return decode_error(document)
    cls = _DOMAIN_ERROR_BY_NAME.get(name, e.DomainError)
    error = _rebuilt(cls, document, "the leading node failed", _DOMAIN_ATTRIBUTES)
    if isinstance(error, e.InputValidationError) and isinstance(document.get("attributes"), dict):
        error.errors = _adapter(list[e.FieldProblem]).validate_python(error.errors or [])
    return error


def encode_event(event: DomainEvent) -> bytes:
    fields = _adapter(type(event)).dump_python(event, mode="json")
    return json.dumps({"type": event.type, "fields": fields}, separators=(",", ":")).encode()


def decode_event(data: bytes) -> DomainEvent:
    try:
        document = json.loads(data)
        cls = EVENT_CLASSES[document["type"]]
        event: DomainEvent = _adapter(cls).validate_python(document["fields"])
    except (ValueError, KeyError, TypeError) as error:
        raise CodecError(f"not a domain event: {data[:200]!r}") from error
    return event


def dumps(document: dict[str, Any]) -> bytes:
    return json.dumps(document, separators=(",", ":"), default=str).encode()


def loads(data: bytes) -> dict[str, Any]:
    try:
        document = json.loads(data)
    except ValueError as error:
        raise CodecError(f"not JSON: {data[:200]!r}") from error
    if not isinstance(document, dict):
        raise CodecError(f"not a JSON object: {data[:200]!r}")
    return document
