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
    Offset,
    PageSize,
    Period,
    StationTarget,
    Strict,
)
from ev_charging_system.business_logic.read_models.insight import (
    AuditEntryOut,
    AuditPageOut,
    CommandPageOut,
    CommandRecordOut,
    HealthReportOut,
    UsageRowOut,
)
from ev_charging_system.models.audit import AuditOutcome
from ev_charging_system.models.commands import CommandOutcome
from ev_charging_system.models.diagnostics import UsageGrouping
from ev_charging_system.models.listing import AuditQuery, CommandQuery, SortOrder


class DiagnoseIn(StationTarget):
    days: Annotated[int, Field(ge=1, le=365, description="history to look at")] = 14


class UsageReportIn(Period):
    group_by: UsageGrouping = UsageGrouping.CHARGE_POINT
    charge_point_id: ChargePointId | None = None
    id_tag: IdTagValue | None = None


class AuditLogIn(Strict):
    actor: Annotated[str, Field(max_length=255)] | None = None
    tool: Annotated[str, Field(max_length=64, description="the operation's name")] | None = None
    channel: Annotated[str, Field(pattern="^(rest|mcp|chat|system)$")] | None = None
    outcome: AuditOutcome | None = None
    order: SortOrder = Field(default=SortOrder.DESC, description="desc: newest first")
    limit: PageSize = 100
    offset: Offset = 0


class CommandLogIn(Strict):
    charge_point_id: ChargePointId | None = None
    action: Annotated[str, Field(max_length=48, description="e.g. Reset")] | None = None
    outcome: CommandOutcome | None = None
    order: SortOrder = Field(default=SortOrder.DESC, description="desc: newest first")
    limit: PageSize = 100
    offset: Offset = 0


async def diagnose(ctx: OperationContext, i: DiagnoseIn) -> HealthReportOut:
    return HealthReportOut.of(await ctx.services.diagnostics.diagnose(i.charge_point_id, i.days))


async def usage(ctx: OperationContext, i: UsageReportIn) -> list[UsageRowOut]:
    rows = await ctx.services.reporting.usage(
        i.group_by, i.started_from, i.started_to, i.charge_point_id, i.id_tag
    )
    return [UsageRowOut.of(r) for r in rows]


async def audit_log(ctx: OperationContext, i: AuditLogIn) -> AuditPageOut:
    entries, total = await ctx.services.audit.page(
        AuditQuery(
            actor=i.actor,
            tool=i.tool,
            channel=i.channel,
            outcome=i.outcome.value if i.outcome else None,
            order=i.order,
            limit=i.limit,
            offset=i.offset,
        )
    )
    return AuditPageOut(
        items=[AuditEntryOut.of(e) for e in entries], total=total, limit=i.limit, offset=i.offset
    )


async def command_log(ctx: OperationContext, i: CommandLogIn) -> CommandPageOut:
    records, total = await ctx.services.commands.page(
        CommandQuery(
            charge_point_id=i.charge_point_id,
            action=i.action,
            outcome=i.outcome.value if i.outcome else None,
            order=i.order,
            limit=i.limit,
            offset=i.offset,
        )
    )
    return CommandPageOut(
        items=[CommandRecordOut.of(r) for r in records], total=total, limit=i.limit, offset=i.offset
    )


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
        "arguments (secrets redacted), outcome, newest first, a page at a time.",
        input=AuditLogIn,
        output=AuditPageOut,
        role=Role.VIEWER,
        perform=audit_log,
        http=(Http("GET", "/api/audit"),),
        tool=False,
    ),
    Operation(
        name="list_commands",
        title="Command log",
        description="Commands sent to stations (one station, or all): who asked, what, when, "
        "and the station's answer, newest first, a page at a time (total says how many).",
        input=CommandLogIn,
        output=CommandPageOut,
        role=Role.VIEWER,
        perform=command_log,
        http=(
            Http("GET", "/api/commands"),
            Http("GET", "/api/charge-points/{charge_point_id}/commands"),
        ),
    ),
)
