"""Who is connected to this process, one live connection per charge point."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Protocol

from ev_charging_system.core.command_dispatcher import CommandDispatcher

logger = logging.getLogger(__name__)


class Closable(Protocol):
    async def close(self, code: int = 1000, reason: str = "") -> None: ...


@dataclass(eq=False, slots=True)
class StationConnection:
    charge_point_id: str
    ocpp_version: str
    websocket: Closable
    dispatcher: CommandDispatcher


class ConnectionManager:
    """Implements the StationPresence port for stations connected to this process."""

    def __init__(self) -> None:
        self._connections: dict[str, StationConnection] = {}
        self._closing: set[asyncio.Task[None]] = set()

    def register(self, connection: StationConnection) -> None:
        """Make `connection` the station's live one; an older one is closed."""
        previous = self._connections.get(connection.charge_point_id)
        self._connections[connection.charge_point_id] = connection
        if previous is not None:
            logger.info("%s reconnected: closing its previous connection", previous.charge_point_id)
            task = asyncio.create_task(
                previous.websocket.close(code=1000, reason="replaced by a newer connection")
            )
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    def unregister(self, connection: StationConnection) -> bool:
        """Forget `connection` unless a newer one already replaced it."""
        if self._connections.get(connection.charge_point_id) is connection:
            del self._connections[connection.charge_point_id]
            return True
        return False

    def get(self, charge_point_id: str) -> StationConnection | None:
        return self._connections.get(charge_point_id)

    def is_online(self, charge_point_id: str) -> bool:
        return charge_point_id in self._connections

    def online_ids(self) -> frozenset[str]:
        return frozenset(self._connections)

    def __len__(self) -> int:
        return len(self._connections)

    def count_by_version(self) -> dict[str, int]:
        """Connected stations per OCPP version (for metrics)."""
        counts: dict[str, int] = {}
        for connection in self._connections.values():
            counts[connection.ocpp_version] = counts.get(connection.ocpp_version, 0) + 1
        return counts

    async def close_all(self, reason: str) -> None:
        connections = list(self._connections.values())
        await asyncio.gather(
            *(c.websocket.close(code=1001, reason=reason) for c in connections),
            return_exceptions=True,
        )
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
