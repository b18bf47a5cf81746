"""Domain errors: adapters translate these into HTTP codes, MCP tool errors or CALLERRORs."""

from __future__ import annotations


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


class StationNotAcceptedError(DomainError):
    """A station that is not (yet) accepted sent something other than BootNotification."""

    def __init__(self, charge_point_id: str, status: str) -> None:
        super().__init__(
            f"charge point {charge_point_id!r} is {status}: only BootNotification is allowed "
            "until an operator accepts it"
        )
