"""Alarms as every channel shows them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from ev_charging_system.models.alarm import Alarm, AlarmRule, Severity


class AlarmOut(BaseModel):
    id: int | None = Field(description="null only while the database is unreachable")
    rule: AlarmRule
    severity: Severity
    message: str
    charge_point_id: str | None
    connector_id: int | None
    raised_at: datetime
    last_raised_at: datetime | None = Field(description="the condition seen again since")
    occurrences: int
    active: bool
    cleared_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None

    @classmethod
    def of(cls, alarm: Alarm) -> AlarmOut:
        return cls(
            id=alarm.id,
            rule=alarm.rule,
            severity=alarm.severity,
            message=alarm.message,
            charge_point_id=alarm.charge_point_id,
            connector_id=alarm.connector_id,
            raised_at=alarm.raised_at,
            last_raised_at=alarm.last_raised_at,
            occurrences=alarm.occurrences,
            active=alarm.active,
            cleared_at=alarm.cleared_at,
            acknowledged_at=alarm.acknowledged_at,
            acknowledged_by=alarm.acknowledged_by,
        )


class AlarmPageOut(BaseModel):
    items: list[AlarmOut]
    total: int
    limit: int
    offset: int
