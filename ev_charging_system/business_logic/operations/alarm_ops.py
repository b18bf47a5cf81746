"""Alarms: what is wrong in the network now, and what was."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from ev_charging_system.business_logic.operations.actor import Role
from ev_charging_system.business_logic.operations.catalogue import (
    AnyOperation,
    Effect,
    Http,
    Operation,
    OperationContext,
)
from ev_charging_system.business_logic.operations.fields import (
    MAX_ID,
    ChargePointId,
    Offset,
    Strict,
)
from ev_charging_system.business_logic.read_models.alarms import AlarmOut, AlarmPageOut


class ListAlarmsIn(Strict):
    active: bool = Field(default=True, description="false: the history too, cleared ones")
    charge_point_id: ChargePointId | None = None
    limit: Annotated[int, Field(ge=1, le=500)] = 100
    offset: Offset = 0


class AlarmTarget(Strict):
    alarm_id: Annotated[int, Field(ge=1, le=MAX_ID)]


async def list_alarms(ctx: OperationContext, i: ListAlarmsIn) -> AlarmPageOut:
    alarms, total = await ctx.services.alarms.page(
        active_only=i.active, charge_point_id=i.charge_point_id, limit=i.limit, offset=i.offset
    )
    return AlarmPageOut(
        items=[AlarmOut.of(a) for a in alarms], total=total, limit=i.limit, offset=i.offset
    )


async def acknowledge_alarm(ctx: OperationContext, i: AlarmTarget) -> AlarmOut:
    return AlarmOut.of(await ctx.services.alarms.acknowledge(i.alarm_id, ctx.actor.name))


ALARM_OPERATIONS: tuple[AnyOperation, ...] = (
    Operation(
        name="list_alarms",
        title="Alarms",
        description="Alarms the rules raised (station offline, connector Faulted, boot "
        "rejected, implausible meter value, command failed, planner fallback, database "
        "unreachable), newest first; active ones by default.",
        input=ListAlarmsIn,
        output=AlarmPageOut,
        role=Role.VIEWER,
        perform=list_alarms,
        http=(Http("GET", "/api/alarms"),),
    ),
    Operation(
        name="acknowledge_alarm",
        title="Acknowledge an alarm",
        description="Say that someone is on it. The alarm stays active until its condition "
        "ends; one that reports a past event (an implausible meter value) clears.",
        input=AlarmTarget,
        output=AlarmOut,
        role=Role.OPERATOR,
        perform=acknowledge_alarm,
        effect=Effect.ACT,
        destructive=False,
        describe=lambda i: f"Acknowledge alarm {i.alarm_id}",
        http=(Http("POST", "/api/alarms/{alarm_id}/acknowledge"),),
    ),
)
