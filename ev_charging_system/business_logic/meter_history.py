"""A station's power and energy over time, and the retention of raw meter samples.

Raw samples older than the retention period are folded into 15-minute rollups in small
batches (each batch one transaction: folded and deleted together, so nothing is counted
twice or lost), yielding to the event loop between batches so ingestion never waits.
Charts read both: rollups where the raw samples are gone, raw samples where they remain.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Callable, Collection
from datetime import datetime, timedelta

from ev_charging_system.business_logic.device_management_service import DeviceManagementService
from ev_charging_system.business_logic.metering import ENERGY_REGISTER
from ev_charging_system.business_logic.ports import MeterArchive
from ev_charging_system.models.meter_rollup import (
    BUCKET,
    POWER,
    MeterRollup,
    PowerPoint,
    bucket_start,
    fold,
)

logger = logging.getLogger(__name__)

BATCH = 2_000
BATCHES_PER_RUN = 500  # a run folds at most a million samples, then waits for the next
BUCKETS_PER_HOUR = timedelta(hours=1) / BUCKET


class MeterHistoryService:
    def __init__(
        self,
        archive: MeterArchive,
        devices: DeviceManagementService,
        clock: Callable[[], datetime],
        retention: timedelta,
        every: timedelta = timedelta(minutes=15),
    ) -> None:
        self._archive = archive
        self._devices = devices
        self._clock = clock
        self.retention = retention
        self._every = every
        self._task: asyncio.Task[None] | None = None

    # --- retention -----------------------------------------------------------------------

    async def roll_up(self) -> int:
        """Fold every raw sample older than the retention period; how many were folded."""
        before = self._clock() - self.retention
        folded = 0
        for _ in range(BATCHES_PER_RUN):
            count = await self._archive.roll_up(before, BATCH)
            folded += count
            if count < BATCH:
                break
            await asyncio.sleep(0)  # let station messages in between batches
        if folded:
            logger.info("meter retention: %d samples folded into 15-minute rollups", folded)
        return folded

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="meter-retention")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.roll_up()
            except Exception:
                logger.exception("meter retention: a run failed (it is retried)")
            await asyncio.sleep(self._every.total_seconds())

    # --- charts --------------------------------------------------------------------------

    async def power(
        self, charge_point_id: str, connector_id: int | None, hours: int
    ) -> list[PowerPoint]:
        """15-minute buckets of the last `hours`: mean and peak power, energy charged.

        Power comes from Power.Active.Import samples; a station that reports only its
        energy register gets the mean power of each bucket from the register's increase.
        """
        await self._devices.get_charge_point(charge_point_id)  # unknown: not found
        return await self._chart([charge_point_id], connector_id, hours)

    async def total_power(self, charge_point_ids: Collection[str], hours: int) -> list[PowerPoint]:
        """The stations' charts added up bucket by bucket (a site's power).

        Each station's chart is made as `power` makes it, then summed: mean power and energy
        add up; the peak is the sum of the stations' peaks (an upper bound of the site's
        peak, since they need not peak at the same moment). A bucket no station has data
        for stays empty (null), not zero.
        """
        return await self._chart(charge_point_ids, None, hours)

    async def _chart(
        self, charge_point_ids: Collection[str], connector_id: int | None, hours: int
    ) -> list[PowerPoint]:
        until = self._clock()
        since = bucket_start(until - timedelta(hours=hours))
        if not charge_point_ids:
            return _points([], since, until)
        measurands = (POWER, ENERGY_REGISTER)
        pieces = await self._archive.rollups(
            charge_point_ids, connector_id, measurands, since - BUCKET, until
        )
        raw = await self._archive.samples(
            charge_point_ids, connector_id, measurands, since - BUCKET, until
        )
        merged: dict[tuple[str, int, str, str, datetime], MeterRollup] = {}
        for piece in [*pieces, *fold(raw).values()]:
            if piece.key in merged:
                merged[piece.key].merge(piece)
            else:
                merged[piece.key] = piece
        by_station: dict[str, list[MeterRollup]] = defaultdict(list)
        for piece in merged.values():
            by_station[piece.charge_point_id].append(piece)
        if not by_station:
            return _points([], since, until)
        return _added([_points(pieces, since, until) for pieces in by_station.values()])


def _sum(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def _added(charts: list[list[PowerPoint]]) -> list[PowerPoint]:
    """Charts of the same buckets, added bucket by bucket."""
    return [
        PowerPoint(
            bucket[0].bucket_start,
            _sum([p.average_w for p in bucket]),
            _sum([p.maximum_w for p in bucket]),
            _sum([p.energy_wh for p in bucket]),
        )
        for bucket in zip(*charts, strict=True)
    ]


def _points(rollups: list[MeterRollup], since: datetime, until: datetime) -> list[PowerPoint]:
    power_mean: dict[datetime, float] = defaultdict(float)
    power_peak: dict[datetime, float] = defaultdict(float)
    has_power: set[datetime] = set()
    registers: dict[int, dict[datetime, tuple[float, float]]] = defaultdict(dict)
    phased = {r.bucket_start for r in rollups if r.measurand == POWER and r.phase == ""}
    for r in rollups:
        if r.measurand == POWER:
            # A total when the station sends one; otherwise the phases add up.
            if (r.phase == "") != (r.bucket_start in phased):
                continue
            power_mean[r.bucket_start] += float(r.total) / r.count
            power_peak[r.bucket_start] += float(r.maximum)
            has_power.add(r.bucket_start)
        elif r.phase == "":
            registers[r.connector_id][r.bucket_start] = (float(r.minimum), float(r.last))
    energy: dict[datetime, float] = defaultdict(float)
    for readings in registers.values():
        previous: float | None = None
        for moment in sorted(readings):
            lowest, last = readings[moment]
            # From the reading before the bucket; for the first one, within the bucket.
            start = lowest if previous is None else previous
            if last >= start:
                energy[moment] += last - start
            previous = last
    points = []
    moment = since
    while moment < until:
        charged = energy.get(moment)
        if moment in has_power:
            mean: float | None = power_mean[moment]
            peak: float | None = power_peak[moment]
        elif charged is not None:
            mean, peak = charged * BUCKETS_PER_HOUR, None
        else:
            mean = peak = None
        points.append(PowerPoint(moment, mean, peak, charged))
        moment += BUCKET
    return points
