"""Keeping the 15-minute PV/load history across restarts, so forecasts do not start cold.

Without it a restarted site has no daily profile: the optimiser then sees little PV ahead
and may buy from the grid what the afternoon sun would have given for free.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Protocol

from ev_charging_system.energy.history import MeasuredSlot, SlotHistory, slot_index
from ev_charging_system.energy.models import Plan
from ev_charging_system.energy.recorder import PlanRecorder

logger = logging.getLogger(__name__)


class HistoryStore(Protocol):
    async def save(self, slots: list[MeasuredSlot]) -> None: ...

    async def load(self, since_slot: int) -> list[MeasuredSlot]: ...


class HistoryKeepingRecorder:
    """A PlanRecorder that also stores the history slots completed since the last plan."""

    def __init__(self, plans: PlanRecorder, store: HistoryStore) -> None:
        self._plans = plans
        self._store = store
        self._history: SlotHistory | None = None

    def attach(self, history: SlotHistory) -> None:
        self._history = history

    async def record(self, plan: Plan) -> None:
        await self._plans.record(plan)
        if self._history is None:
            return
        closed = self._history.drain_closed()
        if closed:
            try:
                await self._store.save(closed)
            except Exception:  # the forecast can live without it; the plan is stored
                logger.exception("energy: could not store %d history slots", len(closed))


async def restore_history(
    history: SlotHistory, store: HistoryStore, now: datetime, days: int
) -> int:
    """Seed `history` with the stored slots of the last `days` days; returns how many."""
    slots = await store.load(slot_index(now - timedelta(days=days)))
    history.seed(slots)
    return len(slots)
