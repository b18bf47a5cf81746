"""MCP resources: the network's state as JSON documents an MCP client can read or attach.

Each resource is a catalogue read operation with fixed arguments, run through the same
OperationRunner as the tools and REST. URIs (RFC 6570 templates):

    evcs://charge-points                                   the first 500 stations by id
                                                           (`total` says how many exist)
    evcs://charge-points/{charge_point_id}                 one station's details
    evcs://charge-points/{charge_point_id}/status          connectors + running sessions
                                                           (subscribable: updated on change)
    evcs://charge-points/{charge_point_id}/events{?limit}  the station's recent events
    evcs://connectors/available                            free connectors (subscribable)
    evcs://transactions/active                             running sessions
    evcs://transactions/recent{?limit}                     latest sessions
    evcs://transactions/{transaction_id}                   one session
    evcs://id-tags{?limit,offset}                          id tags
    evcs://id-tags/{id_tag}                                one id tag
    evcs://events/recent{?limit}                           recent events of all stations
    evcs://errors/recent{?limit}                           error events + faulted connectors
    evcs://energy/status                                   the site's energy now
"""

from __future__ import annotations

import json
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError

from ev_charging_system.business_logic.operations.runner import OperationRunner, jsonable
from ev_charging_system.llm_integration.mcp_auth import current_actor
from ev_charging_system.llm_integration.mcp_operations import actionable
from ev_charging_system.models.errors import DomainError, NotFoundError

JSON = "application/json"
SCHEME = "evcs://"
AVAILABLE_CONNECTORS_URI = f"{SCHEME}connectors/available"
ACTIVE_ALARMS_URI = f"{SCHEME}alarms/active"
MAX_LIMIT = 100


def station_status_uri(charge_point_id: str) -> str:
    return f"{SCHEME}charge-points/{charge_point_id}/status"


def parse_bound(name: str, value: str, low: int, high: int) -> int:
    """Query values arrive as text; a bad one gets a clear message, not a validation dump."""
    try:
        number = int(value)
    except ValueError:
        raise ResourceError(f"{name} must be a whole number, got {value!r}") from None
    if not low <= number <= high:
        raise ResourceError(f"{name} must be between {low} and {high}, got {number}")
    return number


class Reader:
    """Runs a read operation for a resource and returns its JSON text."""

    def __init__(self, runner: OperationRunner) -> None:
        self._runner = runner

    async def __call__(self, name: str, **arguments: Any) -> str:
        operation = self._runner.operation(name)
        try:
            validated = self._runner.validate(operation, arguments)
            result = await self._runner.execute(operation, validated, current_actor())
        except NotFoundError as error:
            raise ResourceNotFoundError(actionable(error)) from None
        except DomainError as error:
            raise ResourceError(actionable(error)) from None
        return json.dumps(jsonable(result), separators=(",", ":"))


def register_resources(server: MCPServer[Any], runner: OperationRunner) -> None:
    read = Reader(runner)

    @server.resource(f"{SCHEME}charge-points", title="Charge points", mime_type=JSON)
    async def charge_points() -> str:
        """Charge points (up to 500, by id) with connection state and connector status;
        `total` says how many there are (the list_charge_points tool pages through all)."""
        return await read("list_charge_points", limit=500)

    @server.resource(
        f"{SCHEME}charge-points/{{charge_point_id}}", title="Charge point", mime_type=JSON
    )
    async def charge_point(charge_point_id: str) -> str:
        """A charge point's details: boot information, firmware, registration, connectors."""
        return await read("get_charge_point", charge_point_id=charge_point_id)

    @server.resource(
        f"{SCHEME}charge-points/{{charge_point_id}}/status",
        title="Charge point status",
        mime_type=JSON,
    )
    async def charge_point_status(charge_point_id: str) -> str:
        """Connection, connector status and running sessions; subscribe to hear of changes."""
        return await read("get_charge_point_status", charge_point_id=charge_point_id, history=0)

    @server.resource(
        f"{SCHEME}charge-points/{{charge_point_id}}/events{{?limit}}",
        title="Charge point events",
        mime_type=JSON,
    )
    async def charge_point_events(charge_point_id: str, limit: str = "20") -> str:
        """The station's recent events (connects, boots, errors ...), newest first."""
        count = parse_bound("limit", limit, 1, MAX_LIMIT)
        await read("get_charge_point", charge_point_id=charge_point_id)  # unknown: not found
        return await read("list_station_events", charge_point_id=charge_point_id, limit=count)

    @server.resource(AVAILABLE_CONNECTORS_URI, title="Available connectors", mime_type=JSON)
    async def connectors_available() -> str:
        """Connectors reporting Available on connected, accepted stations."""
        return await read("list_available_connectors")

    @server.resource(f"{SCHEME}transactions/active", title="Running sessions", mime_type=JSON)
    async def transactions_active() -> str:
        """Sessions that have not stopped yet, newest first."""
        return await read("list_transactions", active=True, limit=MAX_LIMIT)

    @server.resource(
        f"{SCHEME}transactions/recent{{?limit}}", title="Recent sessions", mime_type=JSON
    )
    async def transactions_recent(limit: str = "20") -> str:
        """The latest sessions, running or finished, newest first."""
        count = parse_bound("limit", limit, 1, MAX_LIMIT)
        return await read("list_transactions", limit=count)

    @server.resource(f"{SCHEME}transactions/{{transaction_id}}", title="Session", mime_type=JSON)
    async def transaction(transaction_id: str) -> str:
        """One session by its CSMS transaction id, with its meter values."""
        number = parse_bound("transaction_id", transaction_id, 1, 2**53)
        return await read("get_transaction", transaction_id=number)

    @server.resource(f"{SCHEME}id-tags{{?limit,offset}}", title="Id tags", mime_type=JSON)
    async def id_tags(limit: str = "50", offset: str = "0") -> str:
        """Id tags (RFID cards, tokens) and whether they may charge."""
        count = parse_bound("limit", limit, 1, MAX_LIMIT)
        start = parse_bound("offset", offset, 0, 10_000_000)
        return await read("list_id_tags", limit=count, offset=start)

    @server.resource(f"{SCHEME}id-tags/{{id_tag}}", title="Id tag", mime_type=JSON)
    async def id_tag(id_tag: str) -> str:
        """One id tag."""
        return await read("get_id_tag", id_tag=id_tag)

    @server.resource(f"{SCHEME}events/recent{{?limit}}", title="Recent events", mime_type=JSON)
    async def events_recent(limit: str = "50") -> str:
        """Recent events of every station, newest first."""
        count = parse_bound("limit", limit, 1, MAX_LIMIT)
        return await read("list_station_events", limit=count)

    @server.resource(f"{SCHEME}errors/recent{{?limit}}", title="Recent errors", mime_type=JSON)
    async def errors_recent(limit: str = "50") -> str:
        """Error events (protocol errors, failed logins, security events, meter anomalies)
        and connectors of connected stations reporting a fault now."""
        count = parse_bound("limit", limit, 1, MAX_LIMIT)
        return await read("list_recent_errors", limit=count)

    @server.resource(ACTIVE_ALARMS_URI, title="Active alarms", mime_type=JSON)
    async def alarms_active() -> str:
        """What is wrong in the network now (offline stations, faults, failed commands ...),
        newest first; subscribe to hear when one is raised or cleared."""
        return await read("list_alarms", active=True, limit=MAX_LIMIT)

    @server.resource(f"{SCHEME}energy/status", title="Site energy", mime_type=JSON)
    async def energy_status() -> str:
        """PV, battery, vehicles, household load, the planning policy and the last plan."""
        return await read("get_energy_status")
