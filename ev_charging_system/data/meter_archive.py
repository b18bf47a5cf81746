"""Raw meter samples folded into 15-minute rollups once they are old, in small batches;
power charts aggregated by the database over both (one statement, whatever the number of
stations or samples: only the buckets travel to Python)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Float,
    Select,
    and_,
    case,
    cast,
    delete,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ev_charging_system.business_logic.metering import ENERGY_REGISTER
from ev_charging_system.data.orm import MeterRollupRow, MeterSampleRow
from ev_charging_system.data.repositories.transactions import meter_sample_of
from ev_charging_system.data.sql_dialects import (
    as_number,
    bucket_epoch,
    dialect_name,
    large_aggregate,
    latest,
)
from ev_charging_system.models.meter_rollup import (
    BUCKET,
    POWER,
    MeterRollup,
    PowerPoint,
    fold,
)

BUCKETS_PER_HOUR = timedelta(hours=1) / BUCKET

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

    async def power(
        self,
        charge_point_ids: Collection[str],
        connector_id: int | None,
        since: datetime,
        until: datetime,
    ) -> list[PowerPoint]:
        if not charge_point_ids:
            return []
        async with self._sessions() as session, large_aggregate(session):
            query = _power_query(
                dialect_name(session), charge_point_ids, connector_id, since, until
            )
            rows = (await session.execute(query)).all()
        return [
            PowerPoint(
                datetime.fromtimestamp(bucket, UTC), _number(mean), _number(peak), _number(energy)
            )
            for bucket, mean, peak, energy in rows
        ]


def _number(value: object) -> float | None:
    # Sums of floats: to the milliwatt(-hour), so 243392.6 does not read 243392.60000000006.
    return None if value is None else round(float(value), 3)  # type: ignore[arg-type]


def _power_query(
    name: str,
    charge_point_ids: Collection[str],
    connector_id: int | None,
    since: datetime,
    until: datetime,
) -> Select[tuple[int, Any, Any, Any]]:
    """The stations' power per 15-minute bucket from `since`, added up, in one statement.

    The rules (the same for one connector, one station or a site's stations):
    - raw samples and rollups of the same connector, measurand, phase and bucket are one
      piece (count, total, min, max, latest value): a bucket the retention has half folded
      reads as if nothing had been folded;
    - a station's power in a bucket is the sum of its connectors' mean (and peak)
      Power.Active.Import: their totals when it sends one, otherwise the phases added up;
    - a connector's energy in a bucket is its register's latest value less the latest value
      of the register's previous bucket with data (for the first one, the bucket's lowest);
      a decrease (a replaced meter) counts nothing;
    - a station that sends only its register gets the mean power of a bucket from its
      energy, and no peak;
    - the stations add up bucket by bucket: mean power and energy add, the peak is the sum
      of the stations' peaks (an upper bound: they need not peak at the same moment); a
      bucket no station has data for is left out.
    The bucket before `since` is read too, for its register value.
    """
    seconds = int(BUCKET.total_seconds())
    read_from = since - BUCKET
    ids = sorted(charge_point_ids)
    measurands = [POWER, ENERGY_REGISTER]

    s = MeterSampleRow
    raw_rows = select(
        s.charge_point_id.label("station"),
        s.connector_id.label("connector"),
        s.measurand.label("measurand"),
        func.coalesce(s.phase, "").label("phase"),
        bucket_epoch(name, s.timestamp, seconds).label("bucket"),
        s.value.label("value"),
        s.timestamp.label("at"),
    ).where(
        s.charge_point_id.in_(ids),
        s.measurand.in_(measurands),
        s.timestamp >= read_from,
        s.timestamp < until,
        s.value.is_not(None),
    )
    r = MeterRollupRow
    rolled = select(
        r.charge_point_id.label("station"),
        r.connector_id.label("connector"),
        r.measurand.label("measurand"),
        r.phase.label("phase"),
        bucket_epoch(name, r.bucket_start, seconds).label("bucket"),
        r.count.label("count"),
        as_number(r.total).label("total"),
        as_number(r.minimum).label("low"),
        as_number(r.maximum).label("high"),
        (r.last if name == "sqlite" else as_number(r.last)).label("last"),  # as latest() gives it
        r.last_at.label("last_at"),
    ).where(
        r.charge_point_id.in_(ids),
        r.measurand.in_(measurands),
        r.bucket_start >= read_from,
        r.bucket_start < until,
    )
    if connector_id is not None:
        raw_rows = raw_rows.where(s.connector_id == connector_id)
        rolled = rolled.where(r.connector_id == connector_id)
    raw = raw_rows.subquery("raw_rows").c
    folded = select(  # the columns in `rolled`'s order: the union pairs them by position
        raw.station,
        raw.connector,
        raw.measurand,
        raw.phase,
        raw.bucket,
        func.count().label("count"),
        func.sum(as_number(raw.value)).label("total"),
        func.min(as_number(raw.value)).label("low"),
        func.max(as_number(raw.value)).label("high"),
        latest(name, raw.value, raw.at).label("last"),
        func.max(raw.at).label("last_at"),
        # Station and bucket first: the rows come in that order (the index on station and
        # time), so SQLite's sort for the grouping has less to do.
    ).group_by(raw.station, raw.bucket, raw.connector, raw.measurand, raw.phase)
    p = union_all(folded, rolled).subquery("pieces").c
    key = (p.station, p.connector, p.measurand, p.phase, p.bucket)
    merged = (
        select(
            *key,
            func.sum(p.count).label("count"),
            func.sum(p.total).label("total"),
            func.min(p.low).label("low"),
            func.max(p.high).label("high"),
            latest(name, p.last, p.last_at).label("last"),
        )
        .group_by(*key)
        .cte("merged")
    )
    m = merged.c

    per_phase = (
        select(
            m.station,
            m.bucket,
            m.phase,
            (m.total / m.count).label("mean"),
            m.high,
            # Does the station send a total in this bucket? Then its phases are not added.
            func.max(case((m.phase == "", 1), else_=0))
            .over(partition_by=(m.station, m.bucket))
            .label("has_total"),
        )
        .where(m.measurand == POWER)
        .subquery("per_phase")
        .c
    )
    station_power = (
        select(
            per_phase.station,
            per_phase.bucket,
            func.sum(per_phase.mean).label("mean"),
            func.sum(per_phase.high).label("peak"),
            cast(null(), Float).label("energy"),
            literal(1).label("has_power"),
        )
        .where(
            or_(
                and_(per_phase.phase == "", per_phase.has_total == 1),
                and_(per_phase.phase != "", per_phase.has_total == 0),
            )
        )
        .group_by(per_phase.station, per_phase.bucket)
    )

    registers = (
        select(
            m.station,
            m.bucket,
            as_number(m.last).label("last"),
            func.coalesce(
                func.lag(as_number(m.last)).over(
                    partition_by=(m.station, m.connector), order_by=m.bucket
                ),
                m.low,
            ).label("start"),
        )
        .where(m.measurand == ENERGY_REGISTER, m.phase == "")
        .subquery("registers")
        .c
    )
    station_energy = (
        select(
            registers.station,
            registers.bucket,
            cast(null(), Float).label("mean"),
            cast(null(), Float).label("peak"),
            func.sum(registers.last - registers.start).label("energy"),
            literal(0).label("has_power"),
        )
        .where(registers.last >= registers.start)
        .group_by(registers.station, registers.bucket)
    )

    both = union_all(station_power, station_energy).subquery("both_parts").c
    has_power = func.max(both.has_power) == 1
    energy = func.max(both.energy)
    per_station = (
        select(
            both.bucket,
            case((has_power, func.max(both.mean)), else_=energy * BUCKETS_PER_HOUR).label("mean"),
            case((has_power, func.max(both.peak)), else_=null()).label("peak"),
            energy.label("energy"),
        )
        .group_by(both.station, both.bucket)
        .subquery("per_station")
        .c
    )
    return (
        select(
            per_station.bucket,
            func.sum(per_station.mean),
            func.sum(per_station.peak),
            func.sum(per_station.energy),
        )
        .where(per_station.bucket >= int(since.timestamp()))
        .group_by(per_station.bucket)
        .order_by(per_station.bucket)
    )


def _columns(rollup: MeterRollup) -> dict[str, object]:
    return {field.name: getattr(rollup, field.name) for field in fields(MeterRollup)}
