"""Charging profiles in version-neutral form (OCPP 1.6 and 2.0.1 map onto this)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class ProfilePurpose(StrEnum):
    STATION_MAX = "ChargingStationMaxProfile"  # 1.6: ChargePointMaxProfile
    TX_DEFAULT = "TxDefaultProfile"
    TX = "TxProfile"


class ProfileKind(StrEnum):
    ABSOLUTE = "Absolute"
    RECURRING = "Recurring"
    RELATIVE = "Relative"


class RateUnit(StrEnum):
    WATTS = "W"
    AMPERES = "A"


@dataclass(frozen=True, slots=True)
class SchedulePeriod:
    start_period_seconds: int
    limit: float
    number_phases: int | None = None


@dataclass(frozen=True, slots=True)
class ChargingProfile:
    id: int
    stack_level: int
    purpose: ProfilePurpose
    kind: ProfileKind
    rate_unit: RateUnit
    periods: tuple[SchedulePeriod, ...]
    duration_seconds: int | None = None
    start_schedule: datetime | None = None
    min_charging_rate: float | None = None
    recurrency: str | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    transaction_id: str | None = field(
        default=None, metadata={"doc": "the OCPP transaction id, for TxProfile"}
    )
