"""Cheap liveness bookkeeping: heartbeats touch memory, a periodic flush writes batches."""

from __future__ import annotations

from datetime import datetime

from ev_charging_system.business_logic.ports import UnitOfWorkFactory


class LastSeenTracker:
    def __init__(self) -> None:
        self._pending: dict[str, datetime] = {}

    def record(self, charge_point_id: str, at: datetime) -> None:
        previous = self._pending.get(charge_point_id)
        if previous is None or at > previous:
            self._pending[charge_point_id] = at

    def pending(self, charge_point_id: str) -> datetime | None:
        return self._pending.get(charge_point_id)

    async def flush(self, uow_factory: UnitOfWorkFactory) -> int:
        """Write what was seen since the last flush; keep it for the next try on failure."""
        if not self._pending:
            return 0
        batch, self._pending = self._pending, {}
        try:
            async with uow_factory() as uow:
                await uow.charge_points.record_last_seen(batch)
                await uow.commit()
        except BaseException:
            for charge_point_id, at in batch.items():
                self.record(charge_point_id, at)
            raise
        return len(batch)
