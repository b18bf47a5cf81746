"""Domain errors: adapters translate these into HTTP codes, MCP tool errors or CALLERRORs."""

from __future__ import annotations

import json
from dataclasses import dataclass


class DomainError(Exception):
    """Base class; the message is meant for the operator, never a traceback."""


class NotFoundError(DomainError):
    def __init__(self, kind: str, key: object) -> None:
        super().__init__(f"{kind} {key!r} not found")
        self.kind = kind
        self.key = key


class ConflictError(DomainError):
    pass


class InvalidInputError(DomainError):
    pass


class StorageUnavailableError(DomainError):
    """The database did not answer in time or could not be reached: retry later.

    The message is the same for everyone who sees it (stations, API and MCP clients); the
    cause, which names hosts and drivers, is `reason`, for the log.
    """

    def __init__(self, reason: str) -> None:
        super().__init__("the database is unavailable; retry later")
        self.reason = reason


class LeaderUnavailableError(DomainError):
    """What only the cluster's leader holds (the energy planner) cannot be reached now:
    leadership is moving or the leader left. Retry after `retry_after_seconds`."""

    def __init__(self, message: str, retry_after_seconds: int = 5) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class LeaderTimeoutError(DomainError):
    """The leader took the request but did not answer within the bound (it may have died
    mid-call): whether the change happened is unknown until read back."""


class StationNotAcceptedError(DomainError):
    """A station that is not (yet) accepted sent something other than BootNotification."""

    def __init__(self, charge_point_id: str, status: str) -> None:
        super().__init__(
            f"charge point {charge_point_id!r} is {status}: only BootNotification is allowed "
            "until an operator accepts it"
        )


class CommandError(DomainError):
    """A station operation did not get an answer the caller can use."""


class StationOfflineError(CommandError):
    def __init__(self, charge_point_id: str, detail: str = "is not connected") -> None:
        super().__init__(f"charge point {charge_point_id!r} {detail}")


class CommandTimeoutError(CommandError):
    def __init__(self, charge_point_id: str, action: str, seconds: float) -> None:
        super().__init__(
            f"charge point {charge_point_id!r} did not answer {action} within {seconds:g} s"
        )


class StationCallError(CommandError):
    """The station answered with a CALLERROR."""

    def __init__(self, charge_point_id: str, action: str, code: str, description: str) -> None:
        super().__init__(
            f"charge point {charge_point_id!r} answered {action} with CALLERROR {code}: "
            f"{description}"
        )
        self.code = code
        self.description = description


class StationAnswerInvalidError(StationCallError):
    """The station answered with a CALLRESULT whose payload breaks the OCPP schema.

    `payload` is what the station sent, so the operator can show it to the vendor;
    `code` is the OCPP error class of the violation (e.g. TypeConstraintViolation).
    """

    MAX_SHOWN = 1000  # characters of the payload quoted in the message

    def __init__(
        self,
        charge_point_id: str,
        action: str,
        ocpp_version: str,
        payload: object,
        code: str,
        reason: str,
    ) -> None:
        shown = _json_preview(payload, self.MAX_SHOWN)
        CommandError.__init__(
            self,
            f"charge point {charge_point_id!r} answered {action} with an invalid payload "
            f"(not valid OCPP {ocpp_version}: {reason}): {shown}",
        )
        self.code = code
        self.description = reason
        self.action = action
        self.payload = payload


def _json_preview(payload: object, limit: int) -> str:
    try:
        text = json.dumps(payload, default=str, ensure_ascii=False)
    except ValueError:
        text = repr(payload)
    return text if len(text) <= limit else text[:limit] + "..."


class CommandNotSupportedError(CommandError):
    """The operation cannot be expressed in the station's OCPP version."""


class CommandQueueFullError(CommandError):
    pass


class PermissionDeniedError(DomainError):
    """The caller may not do this: not signed in (`authenticated` False) or role too low."""

    def __init__(self, message: str, *, authenticated: bool) -> None:
        super().__init__(message)
        self.authenticated = authenticated


class InputValidationError(InvalidInputError):
    """Arguments that do not fit an operation's input model, field by field."""

    def __init__(self, operation: str, errors: list[FieldProblem]) -> None:
        listed = "; ".join(f"{e.field or '(input)'}: {e.message}" for e in errors)
        super().__init__(f"invalid arguments for {operation}: {listed}")
        self.operation = operation
        self.errors = errors


@dataclass(frozen=True, slots=True)
class FieldProblem:
    field: str  # dotted path, e.g. "profile.periods.0.limit"
    message: str
    type: str


class CertificateRequestRejectedError(InvalidInputError):
    """A station's certificate signing request that the CSMS's authority will not sign."""
