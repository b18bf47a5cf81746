"""What the history says: station health diagnosis and usage reports."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from ev_charging_system.api.dependencies import Services
from ev_charging_system.api.schemas import ErrorOut
from ev_charging_system.models.audit import AuditEntry
from ev_charging_system.models.diagnostics import HealthReport, UsageGrouping, UsageRow

router = APIRouter(tags=["insight"])


class FindingOut(BaseModel):
    severity: str
    title: str
    evidence: dict[str, Any]
    suggested_action: str


class HealthReportOut(BaseModel):
    charge_point_id: str
    score: int
    grade: str
    online: bool
    period_start: datetime
    period_end: datetime
    findings: list[FindingOut]

    @classmethod
    def of(cls, report: HealthReport) -> HealthReportOut:
        return cls(
            charge_point_id=report.charge_point_id,
            score=report.score,
            grade=report.grade,
            online=report.online,
            period_start=report.period_start,
            period_end=report.period_end,
            findings=[
                FindingOut(
                    severity=f.severity.value,
                    title=f.title,
                    evidence=f.evidence,
                    suggested_action=f.suggested_action,
                )
                for f in report.findings
            ],
        )


class AuditEntryOut(BaseModel):
    id: int | None
    at: datetime
    actor: str
    channel: str
    tool: str
    arguments: dict[str, Any]
    outcome: str
    result: dict[str, Any]
    error: str | None

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditEntryOut:
        return cls(
            id=entry.id,
            at=entry.at,
            actor=entry.actor,
            channel=entry.channel,
            tool=entry.tool,
            arguments=entry.arguments,
            outcome=entry.outcome.value,
            result=entry.result,
            error=entry.error,
        )


class UsageRowOut(BaseModel):
    key: str
    sessions: int
    energy_wh: int

    @classmethod
    def of(cls, row: UsageRow) -> UsageRowOut:
        return cls(key=row.key, sessions=row.sessions, energy_wh=row.energy_wh)


@router.get(
    "/api/charge-points/{charge_point_id}/diagnosis",
    response_model=HealthReportOut,
    responses={404: {"model": ErrorOut}},
    summary="Health score and findings from the station's stored history",
)
async def diagnose(
    charge_point_id: str,
    services: Services,
    days: Annotated[int, Query(ge=1, le=365)] = 14,
) -> HealthReportOut:
    return HealthReportOut.of(await services.diagnostics.diagnose(charge_point_id, days))


@router.get(
    "/api/reports/usage",
    response_model=list[UsageRowOut],
    summary="Finished sessions and energy (Wh) per station, id tag or UTC day",
)
async def usage(
    services: Services,
    group_by: UsageGrouping = UsageGrouping.CHARGE_POINT,
    started_from: Annotated[datetime | None, Query(alias="from")] = None,
    started_to: Annotated[datetime | None, Query(alias="to")] = None,
    charge_point_id: str | None = None,
    id_tag: str | None = None,
) -> list[UsageRowOut]:
    rows = await services.reporting.usage(
        group_by, started_from, started_to, charge_point_id, id_tag
    )
    return [UsageRowOut.of(r) for r in rows]


@router.get(
    "/api/audit",
    response_model=list[AuditEntryOut],
    summary="Actions taken through MCP tools and the chat: who, what, arguments, result",
)
async def audit_log(
    services: Services,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    actor: str | None = None,
    tool: str | None = None,
) -> list[AuditEntryOut]:
    return [AuditEntryOut.of(e) for e in await services.audit.recent(limit, actor, tool)]
