"""A station's health as the diagnostics service judges it from stored history."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True, slots=True)
class Finding:
    severity: Severity
    title: str
    evidence: dict[str, Any]
    suggested_action: str


@dataclass(frozen=True, slots=True)
class HealthReport:
    charge_point_id: str
    score: int  # 100 healthy .. 0 unusable
    period_start: datetime
    period_end: datetime
    online: bool
    findings: list[Finding] = field(default_factory=list)

    @property
    def grade(self) -> str:
        if self.score >= 85:
            return "healthy"
        if self.score >= 60:
            return "degraded"
        return "failing"


class UsageGrouping(StrEnum):
    CHARGE_POINT = "charge_point"
    ID_TAG = "id_tag"
    DAY = "day"
    SITE = "site"  # the site the station is at now; "" for stations without one


@dataclass(frozen=True, slots=True)
class UsageRow:
    key: str  # station id, id tag, day or site name, depending on the grouping
    sessions: int
    energy_wh: int
