"""What the history says: diagnosis, usage, the audit trail and the command log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from ev_charging_system.models.audit import AuditEntry
from ev_charging_system.models.commands import CommandOutcome, CommandRecord, CommandResult
from ev_charging_system.models.diagnostics import HealthReport, UsageRow


class FindingOut(BaseModel):
    severity: str
    title: str
    evidence: dict[str, Any]
    suggested_action: str


class HealthReportOut(BaseModel):
    charge_point_id: str
    score: int = Field(description="100 healthy .. 0 unusable")
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


class UsageRowOut(BaseModel):
    key: str = Field(description="station id, id tag or UTC day, by the grouping")
    sessions: int
    energy_wh: int

    @classmethod
    def of(cls, row: UsageRow) -> UsageRowOut:
        return cls(key=row.key, sessions=row.sessions, energy_wh=row.energy_wh)


class AuditEntryOut(BaseModel):
    id: int | None
    at: datetime
    actor: str = Field(description="the credential or conversation that acted")
    channel: str = Field(description="rest, mcp, chat or system")
    client: str | None = Field(description="the other end: an address, an MCP session")
    tool: str = Field(description="the operation's name")
    arguments: dict[str, Any] = Field(description="as validated; secrets replaced by ***")
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
            client=entry.client,
            tool=entry.tool,
            arguments=entry.arguments,
            outcome=entry.outcome.value,
            result=entry.result,
            error=entry.error,
        )


class CommandResultOut(BaseModel):
    status: str = Field(description="the station's own answer: Accepted, Rejected, ...")
    data: dict[str, Any] = {}

    @classmethod
    def of(cls, result: CommandResult) -> CommandResultOut:
        return cls(status=result.status, data=result.data)


class CommandRecordOut(BaseModel):
    id: int | None
    charge_point_id: str
    action: str
    parameters: dict[str, Any]
    requested_by: str
    requested_at: datetime
    completed_at: datetime
    outcome: CommandOutcome
    status: str | None
    response: dict[str, Any]
    error_code: str | None
    error_description: str | None

    @classmethod
    def of(cls, record: CommandRecord) -> CommandRecordOut:
        return cls(
            id=record.id,
            charge_point_id=record.charge_point_id,
            action=record.action,
            parameters=record.parameters,
            requested_by=record.requested_by,
            requested_at=record.requested_at,
            completed_at=record.completed_at,
            outcome=record.outcome,
            status=record.status,
            response=record.response,
            error_code=record.error_code,
            error_description=record.error_description,
        )


class AuditPageOut(BaseModel):
    items: list[AuditEntryOut]
    total: int = Field(description="matching records in all pages")
    limit: int
    offset: int


class CommandPageOut(BaseModel):
    items: list[CommandRecordOut]
    total: int = Field(description="matching commands in all pages")
    limit: int
    offset: int
