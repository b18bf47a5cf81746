"""The ChargerGateway port for stations connected to this process, any OCPP version."""

from __future__ import annotations

from ev_charging_system.core.connection_manager import ConnectionManager
from ev_charging_system.models.commands import Command, CommandResult
from ev_charging_system.models.errors import StationOfflineError


class OcppGateway:
    def __init__(self, connections: ConnectionManager) -> None:
        self._connections = connections

    async def send(self, charge_point_id: str, command: Command) -> CommandResult:
        connection = self._connections.get(charge_point_id)
        if connection is None:
            raise StationOfflineError(charge_point_id)
        return await connection.dispatcher.submit(command)
