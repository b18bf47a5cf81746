"""SQL repository of station events worth an operator's look (boots, errors, security)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from ev_charging_system.data.orm import StationEventRow
from ev_charging_system.models.station_event import EventKind, StationEvent

_EVENTS_INSERT = insert(cast(Table, StationEventRow.__table__))  # built once, not per batch


class SqlStationEventRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, event: StationEvent) -> None:
        self._session.add(
            StationEventRow(
                charge_point_id=event.charge_point_id,
                kind=event.kind.value,
                occurred_at=event.occurred_at,
                detail=event.detail,
            )
        )
        await self._session.flush()

    async def add_many(self, events: Sequence[StationEvent]) -> None:
        """One multi-row INSERT (Core: no ORM objects for rows nobody reads back)."""
        if not events:
            return
        rows = [
            {
                "charge_point_id": event.charge_point_id,
                "kind": event.kind.value,
                "occurred_at": event.occurred_at,
                "detail": event.detail,
            }
            for event in events
        ]
        await self._session.execute(_EVENTS_INSERT, rows)

    async def recent(self, charge_point_id: str | None, limit: int) -> list[StationEvent]:
        query = select(StationEventRow)
        if charge_point_id is not None:
            query = query.where(StationEventRow.charge_point_id == charge_point_id)
        rows = await self._session.scalars(query.order_by(StationEventRow.id.desc()).limit(limit))
        return [
            StationEvent(
                charge_point_id=row.charge_point_id,
                kind=EventKind(row.kind),
                occurred_at=row.occurred_at,
                detail=row.detail,
                id=row.id,
            )
            for row in rows
        ]
