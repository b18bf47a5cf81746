"""15-minute aggregates of meter samples: what charts and reports read once the raw
samples have aged out (METER_SAMPLE_RETENTION_DAYS)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from ev_charging_system.models.transaction import MeterSample

BUCKET = timedelta(minutes=15)
RollupKey = tuple[str, int, str, str, datetime]
POWER = "Power.Active.Import"


def bucket_start(moment: datetime) -> datetime:
    """The start of the 15-minute bucket holding `moment` (UTC-aligned)."""
    minute = moment.minute - moment.minute % 15
    return moment.replace(minute=minute, second=0, microsecond=0)


@dataclass(slots=True)
class MeterRollup:
    """One measurand (and phase) of one connector over one 15-minute bucket."""

    charge_point_id: str
    connector_id: int
    measurand: str
    phase: str  # "" when the samples had none
    bucket_start: datetime
    count: int
    total: Decimal  # sum of the values (mean = total / count)
    minimum: Decimal
    maximum: Decimal
    last: Decimal
    last_at: datetime

    @property
    def key(self) -> RollupKey:
        return (
            self.charge_point_id,
            self.connector_id,
            self.measurand,
            self.phase,
            self.bucket_start,
        )

    def merge(self, other: MeterRollup) -> None:
        """Fold `other` (same key) into this one."""
        self.count += other.count
        self.total += other.total
        self.minimum = min(self.minimum, other.minimum)
        self.maximum = max(self.maximum, other.maximum)
        if other.last_at >= self.last_at:
            self.last, self.last_at = other.last, other.last_at


@dataclass(frozen=True, slots=True)
class PowerPoint:
    """A station's (or connector's) charging in one 15-minute bucket."""

    bucket_start: datetime
    average_w: float | None
    maximum_w: float | None
    energy_wh: float | None  # register increase over the bucket


def fold(samples: Iterable[MeterSample]) -> dict[RollupKey, MeterRollup]:
    """Samples with a value, folded into rollups by connector, measurand, phase, bucket."""
    folded: dict[RollupKey, MeterRollup] = {}
    for sample in samples:
        if sample.value is None:
            continue
        piece = MeterRollup(
            charge_point_id=sample.charge_point_id,
            connector_id=sample.connector_id,
            measurand=sample.measurand,
            phase=sample.phase or "",
            bucket_start=bucket_start(sample.timestamp),
            count=1,
            total=sample.value,
            minimum=sample.value,
            maximum=sample.value,
            last=sample.value,
            last_at=sample.timestamp,
        )
        if piece.key in folded:
            folded[piece.key].merge(piece)
        else:
            folded[piece.key] = piece
    return folded
