"""MCP tools: thin adapters over the same service calls the REST API makes.

Read tools need the `read` scope. Tools that act on a station need `operate`, are
audited, and (all but trigger_message) are held for explicit confirmation; see
mcp_toolkit.Toolkit.perform and confirmation.py.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import Field

from ev_charging_system.llm_integration.mcp_auth import READ, require
from ev_charging_system.llm_integration.mcp_models import (
    ActionOutcome,
    AvailableConnector,
    AvailableConnectors,
    ChargePointId,
    ChargePointList,
    ChargePointStatus,
    ChargePointSummary,
    ConfigurationEntry,
    ConfigurationOut,
    ConfirmToken,
    ConnectorId,
    EventList,
    EventOut,
    HealthReportOut,
    IdTagOut,
    IdTagValue,
    StationOrConnectorId,
    StatusChangeOut,
    TransactionId,
    TransactionList,
    TransactionOut,
    UsageReport,
    UsageRowOut,
)
from ev_charging_system.llm_integration.mcp_toolkit import (
    Arguments,
    Confirmation,
    Toolkit,
    acting,
    read_only,
    tool_errors,
)
from ev_charging_system.models.charge_point import ChargePointView, RegistrationStatus
from ev_charging_system.models.charging_profile import (
    ChargingProfile,
    ProfileKind,
    ProfilePurpose,
    RateUnit,
    SchedulePeriod,
)
from ev_charging_system.models.commands import (
    ChangeAvailability,
    CommandResult,
    GetConfiguration,
    RemoteStart,
    Reset,
    ResetType,
    SetChargingProfile,
    SetConfiguration,
    TriggerableMessage,
    TriggerMessage,
    UnlockConnector,
)
from ev_charging_system.models.diagnostics import UsageGrouping
from ev_charging_system.models.errors import ConflictError, InvalidInputError, NotFoundError
from ev_charging_system.models.station_event import EventKind, StationEvent
from ev_charging_system.models.transaction import Transaction, TransactionFilter

# Event kinds an operator reads as "something went wrong" (errors_only filters).
ERROR_EVENT_KINDS = frozenset(
    {
        EventKind.PROTOCOL_ERROR,
        EventKind.AUTH_FAILED,
        EventKind.SECURITY_EVENT,
        EventKind.METER_ANOMALY,
        EventKind.UNKNOWN_TRANSACTION_STOP,
        EventKind.UNKNOWN_TRANSACTION_METER_VALUES,
        EventKind.REPEATED_STOP,
    }
)
MAX_AMPERES = 2_000.0
MAX_WATTS = 2_000_000.0
EVENT_SCAN_LIMIT = 1_000  # errors_only filters this many recent events

Limit = Annotated[int, Field(ge=1, le=100, description="how many to return (1-100)")]


def available_connectors(views: list[ChargePointView]) -> AvailableConnectors:
    """Connectors a driver could use now: reporting Available on a connected, accepted station."""
    found = [
        AvailableConnector(
            charge_point_id=view.charge_point.id,
            connector_id=c.connector_id,
            status=c.status,
            since=c.reported_at,
        )
        for view in views
        if view.online and view.charge_point.registration_status is RegistrationStatus.ACCEPTED
        for c in view.charge_point.connectors
        if c.connector_id > 0 and c.status == "Available"
    ]
    return AvailableConnectors(connectors=found, count=len(found))


def event_list(events: list[StationEvent], errors_only: bool, limit: int) -> EventList:
    chosen = [e for e in events if not errors_only or e.kind in ERROR_EVENT_KINDS][:limit]
    return EventList(events=[EventOut.of(e) for e in chosen], count=len(chosen))


def register_tools(kit: Toolkit) -> None:
    register_read_tools(kit)
    register_action_tools(kit)


def register_read_tools(kit: Toolkit) -> None:
    server, s = kit.server, kit.services

    @server.tool(title="List charge points", annotations=read_only())
    async def list_charge_points(online_only: bool = False) -> ChargePointList:
        """List the network's charge points with their connection state and connector status.

        Connector 0 is the station as a whole. Set online_only to see only connected ones.
        """
        require(READ)
        views = await s.devices.list_charge_points()
        items = [ChargePointSummary.of(v) for v in views if v.online or not online_only]
        return ChargePointList(charge_points=items, count=len(items))

    @server.tool(title="Charge point status", annotations=read_only())
    async def get_charge_point_status(
        charge_point_id: ChargePointId,
        history: Annotated[int, Field(ge=0, le=50, description="status changes to include")] = 10,
    ) -> ChargePointStatus:
        """One charge point: connection, connectors, running sessions and recent status changes."""
        require(READ)
        with tool_errors():
            view = await s.devices.get_charge_point(charge_point_id)
            changes = (
                await s.devices.status_history(charge_point_id, None, history) if history else []
            )
            active = await s.transactions.list_transactions(
                TransactionFilter(charge_point_id=charge_point_id, active=True, limit=100)
            )
        return ChargePointStatus(
            charge_point=ChargePointSummary.of(view),
            active_transactions=[TransactionOut.of(t) for t in active.items],
            recent_status_changes=[StatusChangeOut.of(c) for c in changes],
        )

    @server.tool(title="Available connectors", annotations=read_only())
    async def list_available_connectors(
        charge_point_id: ChargePointId | None = None,
    ) -> AvailableConnectors:
        """Connectors free for charging now (Available, on a connected and accepted station).

        Give charge_point_id to look at one station only.
        """
        require(READ)
        with tool_errors():
            if charge_point_id is not None:
                views = [await s.devices.get_charge_point(charge_point_id)]
            else:
                views = await s.devices.list_charge_points()
        return available_connectors(views)

    @server.tool(title="List transactions", annotations=read_only())
    async def list_transactions(
        charge_point_id: ChargePointId | None = None,
        id_tag: IdTagValue | None = None,
        active: Annotated[
            bool | None, Field(description="true: running only; false: finished only")
        ] = None,
        started_from: datetime | None = None,
        started_to: datetime | None = None,
        limit: Limit = 20,
        offset: Annotated[int, Field(ge=0, le=1_000_000)] = 0,
    ) -> TransactionList:
        """Charging sessions, newest first, filtered by station, id tag, state and start time."""
        require(READ)
        if started_from and started_to and started_from >= started_to:
            raise_invalid("started_from must be before started_to")
        with tool_errors():
            if charge_point_id is not None:
                await s.devices.get_charge_point(charge_point_id)
            page = await s.transactions.list_transactions(
                TransactionFilter(
                    charge_point_id=charge_point_id,
                    id_tag=id_tag,
                    started_from=started_from,
                    started_to=started_to,
                    active=active,
                    limit=limit,
                    offset=offset,
                )
            )
        return TransactionList(
            transactions=[TransactionOut.of(t) for t in page.items],
            total=page.total,
            limit=limit,
            offset=offset,
        )

    @server.tool(title="Station events", annotations=read_only())
    async def list_station_events(
        charge_point_id: ChargePointId | None = None,
        errors_only: bool = False,
        limit: Limit = 20,
    ) -> EventList:
        """Recent things worth a look: connects, boots, firmware, security and protocol errors.

        errors_only keeps protocol errors, failed logins, security events and meter anomalies.
        """
        require(READ)
        with tool_errors():
            events = await s.devices.list_events(
                charge_point_id, EVENT_SCAN_LIMIT if errors_only else limit
            )
        return event_list(events, errors_only, limit)

    @server.tool(title="Id tag", annotations=read_only())
    async def get_id_tag(id_tag: IdTagValue) -> IdTagOut:
        """An id tag (RFID card / token): whether it may charge, expiry, parent, name."""
        require(READ)
        with tool_errors():
            return IdTagOut.of(await s.auth.get_id_tag(id_tag))

    @server.tool(title="Diagnose charge point", annotations=read_only())
    async def diagnose_charge_point(
        charge_point_id: ChargePointId,
        days: Annotated[int, Field(ge=1, le=365, description="history to look at")] = 14,
    ) -> HealthReportOut:
        """Health score (100 = healthy) and findings with evidence and suggested actions,
        from the station's stored history: faults, reboots, heartbeat gaps, failed or
        zero-energy sessions, firmware and security events."""
        require(READ)
        with tool_errors():
            return HealthReportOut.of(await s.diagnostics.diagnose(charge_point_id, days))

    @server.tool(title="Usage report", annotations=read_only())
    async def report(
        group_by: UsageGrouping = UsageGrouping.CHARGE_POINT,
        started_from: datetime | None = None,
        started_to: datetime | None = None,
        charge_point_id: ChargePointId | None = None,
        id_tag: IdTagValue | None = None,
    ) -> UsageReport:
        """Finished sessions and energy (Wh) per station, id tag or UTC day over a period."""
        require(READ)
        with tool_errors():
            rows = await s.reporting.usage(
                group_by, started_from, started_to, charge_point_id, id_tag
            )
        return UsageReport(
            group_by=group_by.value,
            rows=[UsageRowOut.of(r) for r in rows],
            total_sessions=sum(r.sessions for r in rows),
            total_energy_wh=sum(r.energy_wh for r in rows),
        )

    @server.tool(title="Read station configuration", annotations=read_only(open_world=True))
    async def get_configuration(
        charge_point_id: ChargePointId,
        keys: Annotated[
            list[Annotated[str, Field(min_length=1, max_length=100)]],
            Field(max_length=100, description="keys to read; empty: all (OCPP 1.6 only)"),
        ] = [],  # noqa: B006 - pydantic copies defaults; the SDK needs a JSON default here
    ) -> ConfigurationOut:
        """Ask the station for configuration values (2.0.1 stations: Component.Variable keys)."""
        caller = require(READ)
        with tool_errors():
            result = await s.commands.execute(
                charge_point_id, GetConfiguration(tuple(keys)), caller.actor
            )
        return configuration_out(charge_point_id, result)


def configuration_out(charge_point_id: str, result: CommandResult) -> ConfigurationOut:
    entries = [
        ConfigurationEntry(
            key=str(item.get("key")),
            value=None if item.get("value") is None else str(item.get("value")),
            readonly=item.get("readonly"),
        )
        for item in result.data.get("configuration", [])
    ]
    unknown = result.data.get("unknown_keys") or result.data.get("unknown_key") or []
    return ConfigurationOut(
        charge_point_id=charge_point_id,
        station_status=result.status,
        entries=entries,
        unknown_keys=[str(k) for k in unknown],
    )


def raise_invalid(message: str) -> None:
    with tool_errors():
        raise InvalidInputError(message)


def _where(arguments: Arguments) -> str:
    connector = arguments.get("connector_id")
    station = arguments["charge_point_id"]
    return f"connector {connector} of {station}" if connector else f"{station}"


def register_action_tools(kit: Toolkit) -> None:
    server, s = kit.server, kit.services

    async def active_transaction(arguments: Arguments) -> Transaction:
        """The running session `transaction_id` on `charge_point_id`, or a domain error."""
        detail = await s.transactions.get_transaction(int(arguments["transaction_id"]))
        transaction = detail.transaction
        if transaction.charge_point_id != arguments["charge_point_id"]:
            raise NotFoundError("transaction", transaction.id)
        if not transaction.active:
            raise ConflictError(f"transaction {transaction.id} has already stopped")
        return transaction

    @kit.action(
        title="Start a charging session",
        annotations=acting(destructive=False, idempotent=False),
        describe=lambda a: f"Start charging on {_where(a)} for id tag {a['id_tag']}",
    )
    async def start_charging_session(
        charge_point_id: ChargePointId,
        id_tag: IdTagValue,
        connector_id: ConnectorId | None = None,
        confirm_token: ConfirmToken = None,
        *,
        confirmation: Confirmation,
    ) -> ActionOutcome:
        """Ask a station to start charging for an id tag (RemoteStartTransaction /
        RequestStartTransaction). Omit connector_id to let the station choose. Needs the
        user's confirmation."""
        args = {"charge_point_id": charge_point_id, "id_tag": id_tag, "connector_id": connector_id}
        return await kit.perform(
            "start_charging_session",
            args,
            confirmation,
            confirm_token,
            lambda actor: s.commands.execute(
                charge_point_id, RemoteStart(id_tag, connector_id), actor
            ),
        )

    async def stop_precheck(arguments: Arguments) -> object:
        await kit.station_exists(arguments)
        return await active_transaction(arguments)

    @kit.action(
        title="Stop a charging session",
        annotations=acting(destructive=True, idempotent=True),
        describe=lambda a: f"Stop session {a['transaction_id']} on {a['charge_point_id']}",
        precheck=stop_precheck,
    )
    async def stop_charging_session(
        charge_point_id: ChargePointId,
        transaction_id: TransactionId,
        confirm_token: ConfirmToken = None,
        *,
        confirmation: Confirmation,
    ) -> ActionOutcome:
        """Stop a running session by its CSMS transaction id (see list_transactions).
        Needs the user's confirmation."""
        return await kit.perform(
            "stop_charging_session",
            {"charge_point_id": charge_point_id, "transaction_id": transaction_id},
            confirmation,
            confirm_token,
            lambda actor: s.commands.stop_transaction(charge_point_id, transaction_id, actor),
        )

    @kit.action(
        title="Reset a charge point",
        annotations=acting(destructive=True, idempotent=False),
        describe=lambda a: f"{a.get('type') or 'Soft'} reset of {a['charge_point_id']}",
    )
    async def send_remote_reset(
        charge_point_id: ChargePointId,
        type: Annotated[
            ResetType, Field(description="Soft: restart software; Hard: power-cycle")
        ] = ResetType.SOFT,
        confirm_token: ConfirmToken = None,
        *,
        confirmation: Confirmation,
    ) -> ActionOutcome:
        """Reboot a station. Running sessions are stopped. Needs the user's confirmation."""
        return await kit.perform(
            "send_remote_reset",
            {"charge_point_id": charge_point_id, "type": type},
            confirmation,
            confirm_token,
            lambda actor: s.commands.execute(charge_point_id, Reset(type), actor),
        )

    @kit.action(
        title="Unlock a connector",
        annotations=acting(destructive=True, idempotent=True),
        describe=lambda a: f"Unlock {_where(a)}",
    )
    async def unlock_connector(
        charge_point_id: ChargePointId,
        connector_id: ConnectorId,
        confirm_token: ConfirmToken = None,
        *,
        confirmation: Confirmation,
    ) -> ActionOutcome:
        """Release a stuck cable. A session running on the connector ends. Needs the user's
        confirmation."""
        return await kit.perform(
            "unlock_connector",
            {"charge_point_id": charge_point_id, "connector_id": connector_id},
            confirmation,
            confirm_token,
            lambda actor: s.commands.execute(charge_point_id, UnlockConnector(connector_id), actor),
        )

    @kit.action(
        title="Change availability",
        annotations=acting(destructive=True, idempotent=True),
        describe=lambda a: (
            f"Make {_where(a)} {'operative' if a['operative'] else 'inoperative (out of service)'}"
        ),
    )
    async def change_availability(
        charge_point_id: ChargePointId,
        operative: Annotated[bool, Field(description="false takes it out of service")],
        connector_id: StationOrConnectorId | None = None,
        confirm_token: ConfirmToken = None,
        *,
        confirmation: Confirmation,
    ) -> ActionOutcome:
        """Put a station (connector_id omitted or 0) or one connector in or out of service.
        Running sessions finish first (answer Scheduled). Needs the user's confirmation."""
        return await kit.perform(
            "change_availability",
            {
                "charge_point_id": charge_point_id,
                "operative": operative,
                "connector_id": connector_id,
            },
            confirmation,
            confirm_token,
            lambda actor: s.commands.execute(
                charge_point_id, ChangeAvailability(operative, connector_id), actor
            ),
        )

    @kit.action(
        title="Change a configuration value",
        annotations=acting(destructive=True, idempotent=True),
        describe=lambda a: f"Set {a['key']} = {a['value']!r} on {a['charge_point_id']}",
    )
    async def set_configuration(
        charge_point_id: ChargePointId,
        key: Annotated[str, Field(min_length=1, max_length=100)],
        value: Annotated[str, Field(max_length=1000)],
        confirm_token: ConfirmToken = None,
        *,
        confirmation: Confirmation,
    ) -> ActionOutcome:
        """Change one configuration key (ChangeConfiguration / SetVariables). Needs the user's
        confirmation; some keys only take effect after a reset (answer RebootRequired)."""
        return await kit.perform(
            "set_configuration",
            {"charge_point_id": charge_point_id, "key": key, "value": value},
            confirmation,
            confirm_token,
            lambda actor: s.commands.execute(charge_point_id, SetConfiguration(key, value), actor),
        )

    async def limit_precheck(arguments: Arguments) -> object:
        await kit.station_exists(arguments)
        check_limit(float(arguments["limit"]), RateUnit(arguments.get("unit") or RateUnit.AMPERES))
        if arguments.get("transaction_id") is not None:
            return await active_transaction(arguments)
        return None

    @kit.action(
        title="Limit charging power",
        annotations=acting(destructive=True, idempotent=True),
        describe=describe_limit,
        precheck=limit_precheck,
    )
    async def set_charging_limit(
        charge_point_id: ChargePointId,
        limit: Annotated[float, Field(gt=0, description="maximum charging rate, in `unit`")],
        unit: RateUnit = RateUnit.AMPERES,
        connector_id: StationOrConnectorId = 0,
        transaction_id: Annotated[
            int | None,
            Field(ge=1, description="limit this running session only (a TxProfile)"),
        ] = None,
        duration_seconds: Annotated[
            int | None, Field(ge=60, le=7 * 86_400, description="omit: until changed")
        ] = None,
        confirm_token: ConfirmToken = None,
        *,
        confirmation: Confirmation,
    ) -> ActionOutcome:
        """Cap the charging rate in A or W from now on: of one running session
        (transaction_id, a TxProfile), or the default for new sessions on a connector
        (0 = every connector; a TxDefaultProfile). Needs the user's confirmation."""
        args: dict[str, Any] = {
            "charge_point_id": charge_point_id,
            "limit": limit,
            "unit": unit,
            "connector_id": connector_id,
            "transaction_id": transaction_id,
            "duration_seconds": duration_seconds,
        }

        async def execute(actor: str) -> CommandResult:
            check_limit(limit, unit)
            target, profile = connector_id, None
            if transaction_id is not None:
                transaction = await active_transaction(args)
                target = transaction.connector_id
                profile = limit_profile(
                    limit, unit, ProfilePurpose.TX, target, duration_seconds, transaction
                )
            else:
                profile = limit_profile(
                    limit, unit, ProfilePurpose.TX_DEFAULT, target, duration_seconds, None
                )
            return await s.commands.execute(
                charge_point_id, SetChargingProfile(profile, target), actor
            )

        return await kit.perform("set_charging_limit", args, confirmation, confirm_token, execute)

    @server.tool(title="Trigger a message", annotations=acting(destructive=False, idempotent=True))
    async def trigger_message(
        charge_point_id: ChargePointId,
        message: TriggerableMessage,
        connector_id: ConnectorId | None = None,
    ) -> ActionOutcome:
        """Ask a station to send a message now (e.g. StatusNotification to refresh connector
        status, MeterValues, Heartbeat). Changes nothing on the station; needs `operate`."""
        args = {
            "charge_point_id": charge_point_id,
            "message": message,
            "connector_id": connector_id,
        }
        return await kit.act_now(
            "trigger_message",
            args,
            f"Ask {_where(args)} to send {message.value}",
            lambda actor: s.commands.execute(
                charge_point_id, TriggerMessage(message, connector_id), actor
            ),
        )


def describe_limit(arguments: Arguments) -> str:
    session, connector = arguments.get("transaction_id"), arguments.get("connector_id")
    target = (
        f"session {session}"
        if session
        else f"new sessions on connector {connector}"
        if connector
        else "new sessions on every connector"
    )
    duration = arguments.get("duration_seconds")
    return (
        f"Limit {target} of {arguments['charge_point_id']} to {arguments['limit']:g} "
        f"{arguments.get('unit') or 'A'}" + (f" for {duration} s" if duration else "")
    )


def check_limit(limit: float, unit: RateUnit) -> None:
    ceiling = MAX_AMPERES if unit is RateUnit.AMPERES else MAX_WATTS
    if not 0 < limit <= ceiling:
        raise InvalidInputError(f"limit must be above 0 and at most {ceiling:g} {unit.value}")


# Profile ids chosen per connector and purpose, so a new limit replaces the previous one
# instead of stacking up profiles on the station.
TX_DEFAULT_PROFILE_BASE = 7_100_000
TX_PROFILE_BASE = 7_200_000


def limit_profile(
    limit: float,
    unit: RateUnit,
    purpose: ProfilePurpose,
    connector_id: int,
    duration_seconds: int | None,
    transaction: Transaction | None,
) -> ChargingProfile:
    base = TX_PROFILE_BASE if purpose is ProfilePurpose.TX else TX_DEFAULT_PROFILE_BASE
    return ChargingProfile(
        id=base + connector_id,
        stack_level=0,
        purpose=purpose,
        kind=ProfileKind.ABSOLUTE,
        rate_unit=unit,
        periods=(SchedulePeriod(0, limit),),
        duration_seconds=duration_seconds,
        start_schedule=datetime.now(UTC).replace(microsecond=0),
        transaction_id=(transaction.ocpp_transaction_id or str(transaction.id))
        if transaction
        else None,
    )
