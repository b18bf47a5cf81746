"""MCP resources: the network's state as JSON documents an MCP client can read or attach.

Same service calls as the tools and REST. URIs (RFC 6570 templates):

    evcs://charge-points                                   all stations, summarised
    evcs://charge-points/{charge_point_id}                 one station's details
    evcs://charge-points/{charge_point_id}/status          connectors + running sessions
                                                           (subscribable: updated on change)
    evcs://charge-points/{charge_point_id}/events{?limit}  the station's recent events
    evcs://connectors/available                            free connectors (subscribable)
    evcs://transactions/active                             running sessions
    evcs://transactions/recent{?limit}                     latest sessions
    evcs://transactions/{transaction_id}                   one session
    evcs://id-tags{?limit,offset}                          id tags (no secrets exist on them)
    evcs://id-tags/{id_tag}                                one id tag
    evcs://events/recent{?limit}                           recent events of all stations
    evcs://errors/recent{?limit}                           error events + faulted connectors
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from pydantic import BaseModel

from ev_charging_system.llm_integration.mcp_auth import READ, require_for_resource
from ev_charging_system.llm_integration.mcp_models import (
    ChargePointDetails,
    ChargePointList,
    ChargePointStatus,
    ChargePointSummary,
    ConnectorOut,
    EventList,
    IdTagList,
    IdTagOut,
    TransactionList,
    TransactionOut,
)
from ev_charging_system.llm_integration.mcp_toolkit import Toolkit, actionable
from ev_charging_system.llm_integration.mcp_tools import (
    EVENT_SCAN_LIMIT,
    available_connectors,
    event_list,
)
from ev_charging_system.models.errors import DomainError, NotFoundError
from ev_charging_system.models.transaction import Transaction, TransactionFilter

JSON = "application/json"
SCHEME = "evcs://"
AVAILABLE_CONNECTORS_URI = f"{SCHEME}connectors/available"
MAX_LIMIT = 100


def station_status_uri(charge_point_id: str) -> str:
    return f"{SCHEME}charge-points/{charge_point_id}/status"


class FaultedConnector(BaseModel):
    charge_point_id: str
    connector: ConnectorOut


class RecentErrors(BaseModel):
    events: EventList
    faulted_connectors: list[FaultedConnector]


@contextmanager
def resource_errors() -> Iterator[None]:
    """Unknown ids read as 'resource not found' with the reason; other domain errors too."""
    try:
        yield
    except NotFoundError as error:
        raise ResourceNotFoundError(actionable(error)) from None
    except DomainError as error:
        raise ResourceError(actionable(error)) from None


def parse_bound(name: str, value: str, low: int, high: int) -> int:
    """Query values arrive as text; a bad one gets a clear message, not a validation dump."""
    try:
        number = int(value)
    except ValueError:
        raise ResourceError(f"{name} must be a whole number, got {value!r}") from None
    if not low <= number <= high:
        raise ResourceError(f"{name} must be between {low} and {high}, got {number}")
    return number


def as_json(model: BaseModel) -> str:
    return model.model_dump_json()


def register_resources(kit: Toolkit) -> None:
    server, s = kit.server, kit.services

    @server.resource(f"{SCHEME}charge-points", title="Charge points", mime_type=JSON)
    async def charge_points() -> str:
        """Every known charge point with connection state and connector status."""
        require_for_resource(READ)
        items = [ChargePointSummary.of(v) for v in await s.devices.list_charge_points()]
        return as_json(ChargePointList(charge_points=items, count=len(items)))

    @server.resource(
        f"{SCHEME}charge-points/{{charge_point_id}}", title="Charge point", mime_type=JSON
    )
    async def charge_point(charge_point_id: str) -> str:
        """A charge point's details: boot information, firmware, registration, connectors."""
        require_for_resource(READ)
        with resource_errors():
            return as_json(ChargePointDetails.of(await s.devices.get_charge_point(charge_point_id)))

    @server.resource(
        f"{SCHEME}charge-points/{{charge_point_id}}/status",
        title="Charge point status",
        mime_type=JSON,
    )
    async def charge_point_status(charge_point_id: str) -> str:
        """Connection, connector status and running sessions; subscribe to hear of changes."""
        require_for_resource(READ)
        with resource_errors():
            view = await s.devices.get_charge_point(charge_point_id)
            active = await s.transactions.list_transactions(
                TransactionFilter(charge_point_id=charge_point_id, active=True, limit=100)
            )
        return as_json(
            ChargePointStatus(
                charge_point=ChargePointSummary.of(view),
                active_transactions=[TransactionOut.of(t) for t in active.items],
                recent_status_changes=[],
            )
        )

    @server.resource(
        f"{SCHEME}charge-points/{{charge_point_id}}/events{{?limit}}",
        title="Charge point events",
        mime_type=JSON,
    )
    async def charge_point_events(charge_point_id: str, limit: str = "20") -> str:
        """The station's recent events (connects, boots, errors ...), newest first."""
        require_for_resource(READ)
        count = parse_bound("limit", limit, 1, MAX_LIMIT)
        with resource_errors():
            events = await s.devices.list_events(charge_point_id, count)
        return as_json(event_list(events, False, count))

    @server.resource(AVAILABLE_CONNECTORS_URI, title="Available connectors", mime_type=JSON)
    async def connectors_available() -> str:
        """Connectors reporting Available on connected, accepted stations."""
        require_for_resource(READ)
        return as_json(available_connectors(await s.devices.list_charge_points()))

    @server.resource(f"{SCHEME}transactions/active", title="Running sessions", mime_type=JSON)
    async def transactions_active() -> str:
        """Sessions that have not stopped yet, newest first."""
        require_for_resource(READ)
        page = await s.transactions.list_transactions(
            TransactionFilter(active=True, limit=MAX_LIMIT)
        )
        return as_json(transaction_list(page.items, page.total, MAX_LIMIT))

    @server.resource(
        f"{SCHEME}transactions/recent{{?limit}}", title="Recent sessions", mime_type=JSON
    )
    async def transactions_recent(limit: str = "20") -> str:
        """The latest sessions, running or finished, newest first."""
        require_for_resource(READ)
        count = parse_bound("limit", limit, 1, MAX_LIMIT)
        page = await s.transactions.list_transactions(TransactionFilter(limit=count))
        return as_json(transaction_list(page.items, page.total, count))

    @server.resource(f"{SCHEME}transactions/{{transaction_id}}", title="Session", mime_type=JSON)
    async def transaction(transaction_id: str) -> str:
        """One session by its CSMS transaction id."""
        require_for_resource(READ)
        number = parse_bound("transaction_id", transaction_id, 1, 2**63 - 1)
        with resource_errors():
            detail = await s.transactions.get_transaction(number)
        return as_json(TransactionOut.of(detail.transaction))

    @server.resource(f"{SCHEME}id-tags{{?limit,offset}}", title="Id tags", mime_type=JSON)
    async def id_tags(limit: str = "50", offset: str = "0") -> str:
        """Id tags (RFID cards, tokens) and whether they may charge."""
        require_for_resource(READ)
        count = parse_bound("limit", limit, 1, MAX_LIMIT)
        start = parse_bound("offset", offset, 0, 10_000_000)
        tags, total = await s.auth.list_id_tags(count, start)
        return as_json(
            IdTagList(
                id_tags=[IdTagOut.of(t) for t in tags], total=total, limit=count, offset=start
            )
        )

    @server.resource(f"{SCHEME}id-tags/{{id_tag}}", title="Id tag", mime_type=JSON)
    async def id_tag(id_tag: str) -> str:
        """One id tag."""
        require_for_resource(READ)
        with resource_errors():
            return as_json(IdTagOut.of(await s.auth.get_id_tag(id_tag)))

    @server.resource(f"{SCHEME}events/recent{{?limit}}", title="Recent events", mime_type=JSON)
    async def events_recent(limit: str = "50") -> str:
        """Recent events of every station, newest first."""
        require_for_resource(READ)
        count = parse_bound("limit", limit, 1, MAX_LIMIT)
        return as_json(event_list(await s.devices.list_events(None, count), False, count))

    @server.resource(f"{SCHEME}errors/recent{{?limit}}", title="Recent errors", mime_type=JSON)
    async def errors_recent(limit: str = "50") -> str:
        """Error events (protocol errors, failed logins, security events, meter anomalies)
        and connectors currently reporting a fault."""
        require_for_resource(READ)
        count = parse_bound("limit", limit, 1, MAX_LIMIT)
        events = event_list(await s.devices.list_events(None, EVENT_SCAN_LIMIT), True, count)
        faulted = [
            FaultedConnector(charge_point_id=view.charge_point.id, connector=ConnectorOut.of(c))
            for view in await s.devices.list_charge_points()
            for c in view.charge_point.connectors
            if c.status == "Faulted" or c.error_code not in ("NoError", "")
        ]
        return as_json(RecentErrors(events=events, faulted_connectors=faulted))


def transaction_list(items: list[Transaction], total: int, limit: int) -> TransactionList:
    return TransactionList(
        transactions=[TransactionOut.of(t) for t in items], total=total, limit=limit, offset=0
    )
