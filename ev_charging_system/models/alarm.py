"""Alarms: conditions an operator should know about, raised and cleared by rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class AlarmRule(StrEnum):
    STATION_OFFLINE = "station_offline"
    CONNECTOR_FAULTED = "connector_faulted"
    BOOT_REJECTED = "boot_rejected"
    IMPLAUSIBLE_METER_VALUE = "implausible_meter_value"
    COMMAND_FAILED = "command_failed"
    PLANNER_FALLBACK = "planner_fallback"
    DATABASE_UNREACHABLE = "database_unreachable"


class Severity(StrEnum):
    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"
    WARNING = "warning"


SEVERITY_OF: dict[AlarmRule, Severity] = {
    AlarmRule.STATION_OFFLINE: Severity.MAJOR,
    AlarmRule.CONNECTOR_FAULTED: Severity.MAJOR,
    AlarmRule.BOOT_REJECTED: Severity.WARNING,
    AlarmRule.IMPLAUSIBLE_METER_VALUE: Severity.MINOR,
    AlarmRule.COMMAND_FAILED: Severity.MINOR,
    AlarmRule.PLANNER_FALLBACK: Severity.WARNING,
    AlarmRule.DATABASE_UNREACHABLE: Severity.CRITICAL,
}


def alarm_key(rule: AlarmRule, charge_point_id: str | None, connector_id: int | None) -> str:
    """What makes two alarms the same alarm: at most one of each is active at a time."""
    return f"{rule.value}|{charge_point_id or ''}|{'' if connector_id is None else connector_id}"


@dataclass(slots=True)
class Alarm:
    rule: AlarmRule
    severity: Severity
    message: str
    raised_at: datetime
    charge_point_id: str | None = None
    connector_id: int | None = None
    last_raised_at: datetime | None = None  # the condition seen again while active
    occurrences: int = 1
    cleared_at: datetime | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    id: int | None = None

    @property
    def key(self) -> str:
        return alarm_key(self.rule, self.charge_point_id, self.connector_id)

    @property
    def active(self) -> bool:
        return self.cleared_at is None
