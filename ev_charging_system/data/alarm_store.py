"""Alarms and their history in the database."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ev_charging_system.data.orm import AlarmRow
from ev_charging_system.models.alarm import Alarm, AlarmRule, Severity

MESSAGE_LENGTH = 500


def _alarm(row: AlarmRow) -> Alarm:
    return Alarm(
        id=row.id,
        rule=AlarmRule(row.rule),
        severity=Severity(row.severity),
        message=row.message,
        charge_point_id=row.charge_point_id,
        connector_id=row.connector_id,
        raised_at=row.raised_at,
        last_raised_at=row.last_raised_at,
        occurrences=row.occurrences,
        cleared_at=row.cleared_at,
        acknowledged_at=row.acknowledged_at,
        acknowledged_by=row.acknowledged_by,
    )


def _copy(alarm: Alarm, row: AlarmRow) -> None:
    row.rule = alarm.rule.value
    row.severity = alarm.severity.value
    row.message = alarm.message[:MESSAGE_LENGTH]
    row.charge_point_id = alarm.charge_point_id
    row.connector_id = alarm.connector_id
    row.raised_at = alarm.raised_at
    row.last_raised_at = alarm.last_raised_at
    row.occurrences = alarm.occurrences
    row.cleared_at = alarm.cleared_at
    row.acknowledged_at = alarm.acknowledged_at
    row.acknowledged_by = alarm.acknowledged_by


class SqlAlarmStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def active(self) -> list[Alarm]:
        async with self._sessions() as session:
            rows = await session.scalars(select(AlarmRow).where(AlarmRow.cleared_at.is_(None)))
            return [_alarm(row) for row in rows]

    async def add(self, alarm: Alarm) -> Alarm:
        async with self._sessions() as session:
            row = AlarmRow()
            _copy(alarm, row)
            session.add(row)
            await session.commit()
            return _alarm(row)

    async def update(self, alarm: Alarm) -> None:
        async with self._sessions() as session:
            row = await session.get(AlarmRow, alarm.id)
            if row is None:
                return
            _copy(alarm, row)
            await session.commit()

    async def get(self, alarm_id: int) -> Alarm | None:
        async with self._sessions() as session:
            row = await session.get(AlarmRow, alarm_id)
            return None if row is None else _alarm(row)

    async def page(
        self, *, active_only: bool, charge_point_id: str | None, limit: int, offset: int
    ) -> tuple[list[Alarm], int]:
        query = select(AlarmRow)
        if active_only:
            query = query.where(AlarmRow.cleared_at.is_(None))
        if charge_point_id is not None:
            query = query.where(AlarmRow.charge_point_id == charge_point_id)
        async with self._sessions() as session:
            total = await session.scalar(select(func.count()).select_from(query.subquery()))
            rows = await session.scalars(
                query.order_by(AlarmRow.raised_at.desc(), AlarmRow.id.desc())
                .limit(limit)
                .offset(offset)
            )
            return [_alarm(row) for row in rows], int(total or 0)
