"""Raw meter samples folded into 15-minute rollups once they are old, in small batches."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import fields
from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ev_charging_system.data.orm import MeterRollupRow, MeterSampleRow
from ev_charging_system.data.repositories.transactions import meter_sample_of
from ev_charging_system.models.meter_rollup import MeterRollup, bucket_start, fold
from ev_charging_system.models.transaction import MeterSample

# Readings that are evidence of a session's energy: never folded away.
KEPT_CONTEXTS = ("Transaction.Begin", "Transaction.End")


def _rollup(row: MeterRollupRow) -> MeterRollup:
    return MeterRollup(**{field.name: getattr(row, field.name) for field in fields(MeterRollup)})


class SqlMeterArchive:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def roll_up(self, before: datetime, limit: int) -> int:
        foldable = (
            MeterSampleRow.timestamp < before,
            MeterSampleRow.signed_meter_data.is_(None),
            MeterSampleRow.value.is_not(None),
            or_(MeterSampleRow.context.is_(None), MeterSampleRow.context.not_in(KEPT_CONTEXTS)),
        )
        async with self._sessions() as session, session.begin():
            rows = list(
                await session.scalars(
                    select(MeterSampleRow).where(*foldable).order_by(MeterSampleRow.id).limit(limit)
                )
            )
            if not rows:
                return 0
            folded = fold(meter_sample_of(row) for row in rows)
            for rollup in folded.values():
                stored = await session.get(MeterRollupRow, rollup.key)
                if stored is None:
                    session.add(MeterRollupRow(**_columns(rollup)))
                    continue
                merged = _rollup(stored)
                merged.merge(rollup)
                for name, value in _columns(merged).items():
                    setattr(stored, name, value)
            await session.execute(
                delete(MeterSampleRow).where(MeterSampleRow.id.in_([row.id for row in rows]))
            )
        return len(rows)

    async def rollups(
        self,
        charge_point_ids: Collection[str],
        connector_id: int | None,
        measurands: Collection[str],
        since: datetime,
        until: datetime,
    ) -> list[MeterRollup]:
        query = select(MeterRollupRow).where(
            MeterRollupRow.charge_point_id.in_(sorted(charge_point_ids)),
            MeterRollupRow.measurand.in_(list(measurands)),
            MeterRollupRow.bucket_start >= bucket_start(since),
            MeterRollupRow.bucket_start < until,
        )
        if connector_id is not None:
            query = query.where(MeterRollupRow.connector_id == connector_id)
        async with self._sessions() as session:
            rows = await session.scalars(query.order_by(MeterRollupRow.bucket_start))
            return [_rollup(row) for row in rows]

    async def samples(
        self,
        charge_point_ids: Collection[str],
        connector_id: int | None,
        measurands: Collection[str],
        since: datetime,
        until: datetime,
    ) -> list[MeterSample]:
        query = select(MeterSampleRow).where(
            MeterSampleRow.charge_point_id.in_(sorted(charge_point_ids)),
            MeterSampleRow.measurand.in_(list(measurands)),
            MeterSampleRow.timestamp >= since,
            MeterSampleRow.timestamp < until,
        )
        if connector_id is not None:
            query = query.where(MeterSampleRow.connector_id == connector_id)
        async with self._sessions() as session:
            rows = await session.scalars(query.order_by(MeterSampleRow.timestamp))
            return [meter_sample_of(row) for row in rows]


def _columns(rollup: MeterRollup) -> dict[str, object]:
    return {field.name: getattr(rollup, field.name) for field in fields(MeterRollup)}
