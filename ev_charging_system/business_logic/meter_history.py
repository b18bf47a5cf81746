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
from collections.abc import Callable, Collection
from datetime import datetime, timedelta

from ev_charging_system.business_logic.device_management_service import DeviceManagementService
from ev_charging_system.business_logic.ports import MeterArchive
from ev_charging_system.models.meter_rollup import BUCKET, PowerPoint, bucket_start

logger = logging.getLogger(__name__)

BATCH = 2_000
BATCHES_PER_RUN = 500  # a run folds at most a million samples, then waits for the next


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
        energy register gets the mean power of each bucket from the register's increase
        (the rules: data/meter_archive.py, where the database applies them).
        """
        await self._devices.get_charge_point(charge_point_id)  # unknown: not found
        return await self._chart([charge_point_id], connector_id, hours)

    async def total_power(self, charge_point_ids: Collection[str], hours: int) -> list[PowerPoint]:
        """The stations' charts added up bucket by bucket (a site's power): mean power and
        energy add up; the peak is the sum of the stations' peaks (an upper bound of the
        site's peak, since they need not peak at the same moment). Same statement as one
        station's chart, so both read raw samples and rollups alike.
        """
        return await self._chart(charge_point_ids, None, hours)

    async def _chart(
        self, charge_point_ids: Collection[str], connector_id: int | None, hours: int
    ) -> list[PowerPoint]:
        until = self._clock()
        since = bucket_start(until - timedelta(hours=hours))
        found = {
            point.bucket_start: point
            for point in await self._archive.power(charge_point_ids, connector_id, since, until)
        }
        # Every bucket of the period; one without data is empty (null), not zero.
        points = []
        moment = since
        while moment < until:
            points.append(found.get(moment) or PowerPoint(moment, None, None, None))
            moment += BUCKET
        return points
