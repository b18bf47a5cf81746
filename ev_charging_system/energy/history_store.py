"""What the coordinator learns while it runs, kept across restarts.

- The 15-minute PV/load history, so forecasts do not start cold: without it a restarted
  site has no daily profile, and the optimiser sees little PV ahead and may buy from the
  grid what the afternoon sun would have given for free.
- Each deferrable job's progress (energy delivered, started or not): without it a
  restarted site would run a half-done water heater's whole energy again, or restart a
  dishwasher programme. Stored after each plan when it changed; restored with the site's
  configuration (`SiteSettingsService.restore`). Energy counted between the last plan
  and the stop (at most one tick) is not kept.
- The forecast error scores (`ForecastTracker`, shown on the dashboard): without them a
  restart would show no forecast error for a day. Stored when a slot was scored, at most
  every `ForecastErrorKeeper` call (the application calls it every minute) and at stop;
  restored at start. Forecasts made between the last store and the stop are not scored.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any, Protocol

from ev_charging_system.energy.forecasting import ForecastTracker
from ev_charging_system.energy.history import MeasuredSlot, SlotHistory, slot_index
from ev_charging_system.energy.models import DeferrableLoadState, Plan
from ev_charging_system.energy.recorder import PlanRecorder

logger = logging.getLogger(__name__)


class HistoryStore(Protocol):
    async def save(self, slots: list[MeasuredSlot]) -> None: ...

    async def load(self, since_slot: int) -> list[MeasuredSlot]: ...

    async def save_progress(self, jobs: tuple[DeferrableLoadState, ...]) -> None:
        """Replace the stored progress of the deferrable jobs with `jobs`."""
        ...


class ForecastErrorStore(Protocol):
    async def save_forecast_errors(self, document: dict[str, Any]) -> None: ...

    async def load_forecast_errors(self) -> dict[str, Any] | None: ...


class ForecastErrorKeeper:
    """Stores the tracker's document when it has scored something since the last store."""

    def __init__(self, tracker: ForecastTracker, store: ForecastErrorStore) -> None:
        self._tracker = tracker
        self._store = store
        self._stored = tracker.observations

    async def restore(self) -> bool:
        """Take over the stored scores; False when there are none or they are unreadable
        (logged: the tracker then starts empty, as before a first start)."""
        document = await self._store.load_forecast_errors()
        if document is None:
            return False
        try:
            self._tracker.restore(document)
        except ValueError:
            logger.exception("energy: the stored forecast errors could not be read; not used")
            return False
        self._stored = self._tracker.observations
        return True

    async def keep(self) -> bool:
        """Store the scores if anything was scored since the last store; True if stored."""
        observations = self._tracker.observations
        if observations == self._stored:
            return False
        await self._store.save_forecast_errors(self._tracker.document())
        self._stored = observations
        return True


class HistoryKeepingRecorder:
    """A PlanRecorder that also stores the history slots completed since the last plan."""

    def __init__(self, plans: PlanRecorder, store: HistoryStore) -> None:
        self._plans = plans
        self._store = store
        self._history: SlotHistory | None = None
        self._saved_progress: tuple[DeferrableLoadState, ...] | None = None

    def attach(self, history: SlotHistory) -> None:
        self._history = history

    async def record(self, plan: Plan) -> None:
        await self._plans.record(plan)
        progress = job_progress(plan)
        if progress != self._saved_progress:
            try:
                await self._store.save_progress(progress)
                self._saved_progress = progress
            except Exception:  # retried after the next plan; the plan is stored
                logger.exception("energy: could not store the progress of deferrable jobs")
        if self._history is None:
            return
        closed = self._history.drain_closed()
        if closed:
            try:
                await self._store.save(closed)
            except Exception:  # the forecast can live without it; the plan is stored
                logger.exception("energy: could not store %d history slots", len(closed))


def job_progress(plan: Plan) -> tuple[DeferrableLoadState, ...]:
    """Each job's progress after `plan`: delivered as measured at the plan, started once
    the plan switched it on. The setpoint itself is not kept (after a restart the next
    plan sets it again), so the power is 0 and no time counts from before the restart."""
    progress = []
    for state in plan.snapshot.deferrables:
        action = plan.actions.deferrable(state.load_id)
        switched_on = action is not None and action.power_kw > 0
        progress.append(
            DeferrableLoadState(
                load_id=state.load_id,
                delivered_kwh=state.delivered_kwh,
                started=state.started or switched_on,
            )
        )
    return tuple(progress)


async def restore_history(
    history: SlotHistory, store: HistoryStore, now: datetime, days: int
) -> int:
    """Seed `history` with the stored slots of the last `days` days; returns how many."""
    slots = await store.load(slot_index(now - timedelta(days=days)))
    history.seed(slots)
    return len(slots)
