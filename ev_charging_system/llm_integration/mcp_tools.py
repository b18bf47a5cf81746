"""MCP tools: thin adapters over the same services the REST API calls."""

from __future__ import annotations

from datetime import datetime

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field

from ev_charging_system.business_logic.device_management_service import DeviceManagementService
from ev_charging_system.models.charge_point import ChargePointView

READ_ONLY = ToolAnnotations(read_only_hint=True, idempotent_hint=True, destructive_hint=False)


class ConnectorSummary(BaseModel):
    connector_id: int
    status: str
    error_code: str


class ChargePointSummary(BaseModel):
    id: str
    online: bool
    registration_status: str
    ocpp_version: str | None
    vendor: str | None
    model: str | None
    firmware_version: str | None
    last_heartbeat_at: datetime | None
    connectors: list[ConnectorSummary]

    @classmethod
    def of(cls, view: ChargePointView) -> ChargePointSummary:
        station = view.charge_point
        return cls(
            id=station.id,
            online=view.online,
            registration_status=station.registration_status.value,
            ocpp_version=station.ocpp_version,
            vendor=station.boot.vendor if station.boot else None,
            model=station.boot.model if station.boot else None,
            firmware_version=station.boot.firmware_version if station.boot else None,
            last_heartbeat_at=station.last_seen_at,
            connectors=[
                ConnectorSummary(
                    connector_id=c.connector_id, status=c.status, error_code=c.error_code
                )
                for c in station.connectors
            ],
        )


class ChargePointList(BaseModel):
    charge_points: list[ChargePointSummary]
    count: int = Field(description="number of charge points listed")


def register_tools(server: MCPServer, devices: DeviceManagementService) -> None:
    @server.tool(title="List charge points", annotations=READ_ONLY)
    async def list_charge_points(online_only: bool = False) -> ChargePointList:
        """List the network's charge points with their connection state and connector status.

        Connector 0 is the station as a whole. Set online_only to see only connected ones.
        """
        views = await devices.list_charge_points()
        items = [ChargePointSummary.of(v) for v in views if v.online or not online_only]
        return ChargePointList(charge_points=items, count=len(items))
