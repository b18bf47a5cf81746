"""A typed view of the `ocpp` library's ChargePoint classes.

The library ships no type information, so mypy sees its classes as `Any` and refuses
subclasses of them. Type checkers read the declarations below instead: only what the
simulators use, with the library's own signatures (ocpp 2.1, charge_point.py). At run
time the names are the library's classes themselves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:

    class LibraryChargePoint:
        id: str
        route_map: dict[str, dict[str, Any]]
        _connection: Any

        def __init__(self, id: str, connection: Any, response_timeout: float = 30) -> None: ...

        async def start(self) -> None: ...

        async def route_message(self, raw_msg: str | bytes) -> None: ...

        async def call(
            self,
            payload: Any,
            suppress: bool = True,
            unique_id: str | None = None,
            skip_schema_validation: bool = False,
        ) -> Any: ...

        async def _send(self, message: str) -> None: ...

    # The per-version classes only name their message modules and schema version.
    V16ChargePoint = LibraryChargePoint
    V201ChargePoint = LibraryChargePoint
else:
    from ocpp.charge_point import ChargePoint as LibraryChargePoint
    from ocpp.v16 import ChargePoint as V16ChargePoint
    from ocpp.v201 import ChargePoint as V201ChargePoint

__all__ = ["LibraryChargePoint", "V16ChargePoint", "V201ChargePoint"]
