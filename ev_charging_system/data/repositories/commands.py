"""SQL repository of the log of commands sent to stations."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ev_charging_system.data.orm import CommandRow
from ev_charging_system.models.commands import CommandOutcome, CommandRecord
from ev_charging_system.models.listing import CommandQuery, SortOrder


class SqlCommandLogRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, record: CommandRecord) -> CommandRecord:
        row = CommandRow(
            charge_point_id=record.charge_point_id,
            action=record.action,
            parameters=record.parameters,
            requested_by=record.requested_by,
            requested_at=record.requested_at,
            completed_at=record.completed_at,
            outcome=record.outcome.value,
            status=record.status,
            response=record.response,
            error_code=record.error_code,
            error_description=record.error_description,
        )
        self._session.add(row)
        await self._session.flush()
        return _command(row)

    async def recent(self, charge_point_id: str | None, limit: int) -> list[CommandRecord]:
        query = select(CommandRow)
        if charge_point_id is not None:
            query = query.where(CommandRow.charge_point_id == charge_point_id)
        rows = await self._session.scalars(query.order_by(CommandRow.id.desc()).limit(limit))
        return [_command(row) for row in rows]

    async def search(self, query: CommandQuery) -> tuple[list[CommandRecord], int]:
        conditions = []
        if query.charge_point_id is not None:
            conditions.append(CommandRow.charge_point_id == query.charge_point_id)
        if query.action is not None:
            conditions.append(CommandRow.action == query.action)
        if query.outcome is not None:
            conditions.append(CommandRow.outcome == query.outcome)
        total = await self._session.scalar(
            select(func.count()).select_from(CommandRow).where(*conditions)
        )
        order = CommandRow.id.desc() if query.order is SortOrder.DESC else CommandRow.id.asc()
        rows = await self._session.scalars(
            select(CommandRow)
            .where(*conditions)
            .order_by(order)
            .limit(query.limit)
            .offset(query.offset)
        )
        return [_command(row) for row in rows], total or 0


def _command(row: CommandRow) -> CommandRecord:
    return CommandRecord(
        id=row.id,
        charge_point_id=row.charge_point_id,
        action=row.action,
        parameters=row.parameters,
        requested_by=row.requested_by,
        requested_at=row.requested_at,
        completed_at=row.completed_at,
        outcome=CommandOutcome(row.outcome),
        status=row.status,
        response=row.response,
        error_code=row.error_code,
        error_description=row.error_description,
    )
