"""What the history says: diagnosis, usage reports, the audit trail, the command log."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from ev_charging_system.business_logic.operations.actor import Role
from ev_charging_system.business_logic.operations.catalogue import (
    AnyOperation,
    CsvRows,
    Http,
    Operation,
    OperationContext,
)
from ev_charging_system.business_logic.operations.fields import (
    PERIOD_ALIASES,
    ChargePointId,
    IdTagValue,
    Period,
    StationTarget,
    Strict,
)
from ev_charging_system.business_logic.read_models.insight import (
    AuditEntryOut,
    CommandRecordOut,
    HealthReportOut,
    UsageRowOut,
)
from ev_charging_system.models.diagnostics import UsageGrouping

Limit = Annotated[int, Field(ge=1, le=1000, description="how many to return")]


class DiagnoseIn(StationTarget):
    days: Annotated[int, Field(ge=1, le=365, description="history to look at")] = 14


class UsageReportIn(Period):
    group_by: UsageGrouping = UsageGrouping.CHARGE_POINT
    charge_point_id: ChargePointId | None = None
    id_tag: IdTagValue | None = None


class AuditLogIn(Strict):
    limit: Limit = 100
    actor: Annotated[str, Field(max_length=255)] | None = None
    tool: Annotated[str, Field(max_length=64, description="the operation's name")] | None = None
    channel: Annotated[str, Field(pattern="^(rest|mcp|chat|system)$")] | None = None


class CommandLogIn(Strict):
    charge_point_id: ChargePointId | None = None
    limit: Limit = 100


async def diagnose(ctx: OperationContext, i: DiagnoseIn) -> HealthReportOut:
    return HealthReportOut.of(await ctx.services.diagnostics.diagnose(i.charge_point_id, i.days))


async def usage(ctx: OperationContext, i: UsageReportIn) -> list[UsageRowOut]:
    rows = await ctx.services.reporting.usage(
        i.group_by, i.started_from, i.started_to, i.charge_point_id, i.id_tag
    )
    return [UsageRowOut.of(r) for r in rows]


async def audit_log(ctx: OperationContext, i: AuditLogIn) -> list[AuditEntryOut]:
    entries = await ctx.services.audit.recent(i.limit, i.actor, i.tool, i.channel)
    return [AuditEntryOut.of(e) for e in entries]


async def command_log(ctx: OperationContext, i: CommandLogIn) -> list[CommandRecordOut]:
    records = await ctx.services.commands.recent(i.charge_point_id, i.limit)
    return [CommandRecordOut.of(r) for r in records]


INSIGHT_OPERATIONS: tuple[AnyOperation, ...] = (
    Operation(
        name="diagnose_charge_point",
        title="Diagnose charge point",
        description="Health score (100 = healthy) and findings with evidence and suggested "
        "actions, from the station's stored history: faults, reboots, heartbeat gaps, failed "
        "or zero-energy sessions, firmware and security events.",
        input=DiagnoseIn,
        output=HealthReportOut,
        role=Role.VIEWER,
        perform=diagnose,
        http=(Http("GET", "/api/charge-points/{charge_point_id}/diagnosis"),),
    ),
    Operation(
        name="report",
        title="Usage report",
        description="Finished sessions and energy (Wh) per station, id tag or UTC day over a "
        "period.",
        input=UsageReportIn,
        output=list[UsageRowOut],
        role=Role.VIEWER,
        perform=usage,
        http=(
            Http("GET", "/api/reports/usage", query_aliases=PERIOD_ALIASES),
            Http(
                "GET",
                "/api/reports/usage.csv",
                query_aliases=PERIOD_ALIASES,
                csv=CsvRows(filename="usage.csv"),
            ),
        ),
    ),
    Operation(
        name="list_audit_log",
        title="Audit log",
        description="Operator actions through REST, MCP, the chat and the system: who, what, "
        "arguments (secrets redacted), outcome, newest first.",
        input=AuditLogIn,
        output=list[AuditEntryOut],
        role=Role.VIEWER,
        perform=audit_log,
        http=(Http("GET", "/api/audit"),),
        tool=False,
    ),
    Operation(
        name="list_commands",
        title="Command log",
        description="Commands sent to stations (one station, or all): who asked, what, when, "
        "and the station's answer, newest first.",
        input=CommandLogIn,
        output=list[CommandRecordOut],
        role=Role.VIEWER,
        perform=command_log,
        http=(
            Http("GET", "/api/commands"),
            Http("GET", "/api/charge-points/{charge_point_id}/commands"),
        ),
    ),
)
