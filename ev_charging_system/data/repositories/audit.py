"""SQL repository of the audit log of operator actions."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ev_charging_system.data.orm import AuditRow
from ev_charging_system.models.audit import AuditEntry, AuditOutcome
from ev_charging_system.models.listing import AuditQuery, SortOrder


class SqlAuditLogRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, entry: AuditEntry) -> AuditEntry:
        row = AuditRow(
            at=entry.at,
            actor=entry.actor,
            channel=entry.channel,
            tool=entry.tool,
            arguments=entry.arguments,
            outcome=entry.outcome.value,
            result=entry.result,
            error=entry.error,
            client=entry.client,
        )
        self._session.add(row)
        await self._session.flush()
        return _audit(row)

    async def recent(
        self,
        limit: int,
        actor: str | None = None,
        tool: str | None = None,
        channel: str | None = None,
    ) -> list[AuditEntry]:
        query = select(AuditRow)
        if channel is not None:
            query = query.where(AuditRow.channel == channel)
        if actor is not None:
            query = query.where(AuditRow.actor == actor)
        if tool is not None:
            query = query.where(AuditRow.tool == tool)
        rows = await self._session.scalars(query.order_by(AuditRow.id.desc()).limit(limit))
        return [_audit(row) for row in rows]

    async def search(self, query: AuditQuery) -> tuple[list[AuditEntry], int]:
        conditions = []
        if query.actor is not None:
            conditions.append(AuditRow.actor == query.actor)
        if query.tool is not None:
            conditions.append(AuditRow.tool == query.tool)
        if query.channel is not None:
            conditions.append(AuditRow.channel == query.channel)
        if query.outcome is not None:
            conditions.append(AuditRow.outcome == query.outcome)
        total = await self._session.scalar(
            select(func.count()).select_from(AuditRow).where(*conditions)
        )
        order = AuditRow.id.desc() if query.order is SortOrder.DESC else AuditRow.id.asc()
        rows = await self._session.scalars(
            select(AuditRow)
            .where(*conditions)
            .order_by(order)
            .limit(query.limit)
            .offset(query.offset)
        )
        return [_audit(row) for row in rows], total or 0


def _audit(row: AuditRow) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        at=row.at,
        actor=row.actor,
        channel=row.channel,
        tool=row.tool,
        arguments=row.arguments,
        outcome=AuditOutcome(row.outcome),
        result=row.result,
        error=row.error,
        client=row.client,
    )
