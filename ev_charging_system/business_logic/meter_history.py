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
from collections.abc import Callable
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
        until = self._clock()
        since = bucket_start(until - timedelta(hours=hours))
        measurands = (POWER, ENERGY_REGISTER)
        pieces = await self._archive.rollups(
            charge_point_id, connector_id, measurands, since - BUCKET, until
        )
        raw = await self._archive.samples(
            charge_point_id, connector_id, measurands, since - BUCKET, until
        )
        merged: dict[tuple[str, int, str, str, datetime], MeterRollup] = {}
        for piece in [*pieces, *fold(raw).values()]:
            if piece.key in merged:
                merged[piece.key].merge(piece)
            else:
                merged[piece.key] = piece
        return _points(list(merged.values()), since, until)


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
