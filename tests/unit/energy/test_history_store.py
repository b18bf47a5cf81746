"""The 15-minute history survives a restart, so forecasts do not start cold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ev_charging_system.energy.history import MeasuredSlot, SlotHistory, slot_index
from ev_charging_system.energy.history_store import HistoryKeepingRecorder, restore_history
from ev_charging_system.energy.models import DeferrableLoadState
from ev_charging_system.energy.recorder import InMemoryPlanRecorder

from .factories import plan_at

NOON = datetime(2026, 6, 1, 12, tzinfo=UTC)


class MemoryStore:
    def __init__(self) -> None:
        self.slots: dict[int, MeasuredSlot] = {}
        self.progress: tuple[DeferrableLoadState, ...] | None = None

    async def save_progress(self, jobs: tuple[DeferrableLoadState, ...]) -> None:
        self.progress = jobs

    async def save(self, slots: list[MeasuredSlot]) -> None:
        self.slots.update({s[0]: s for s in slots})

    async def load(self, since_slot: int) -> list[MeasuredSlot]:
        return sorted(s for k, s in self.slots.items() if k >= since_slot)


def fill(history: SlotHistory, start: datetime, minutes: int, pv_kw: float) -> None:
    for minute in range(minutes):
        history.record(start + timedelta(minutes=minute), pv_kw, 0.5, 0.2)


async def test_completed_slots_are_stored_once_and_a_new_history_is_seeded_from_them() -> None:
    store = MemoryStore()
    recorder = HistoryKeepingRecorder(InMemoryPlanRecorder(), store)
    before_restart = SlotHistory(days=2)
    recorder.attach(before_restart)
    fill(before_restart, NOON, 46, pv_kw=6.0)  # three slots completed, a fourth open
    await recorder.record(plan_at(NOON))
    await recorder.record(plan_at(NOON))
    assert sorted(store.slots) == [slot_index(NOON) + k for k in range(3)]

    after_restart = SlotHistory(days=2)
    restored = await restore_history(after_restart, store, NOON + timedelta(hours=1), days=2)
    assert restored == 3
    pv, critical, _ = after_restart.series(before=NOON + timedelta(hours=1))
    assert list(pv[-4:-1]) == [6.0, 6.0, 6.0]
    assert critical[-2] == 0.5


def test_seeding_keeps_newer_measurements_and_the_size_limit() -> None:
    history = SlotHistory(days=1)
    fill(history, NOON, 16, pv_kw=3.0)  # slot at NOON completed with 3 kW
    history.series(before=NOON + timedelta(minutes=30))
    stored = [(slot_index(NOON), 9.9, 0.0, 0.0)]  # an older copy of the same slot
    stored += [(slot_index(NOON) - k, 1.0, 1.0, 1.0) for k in range(1, 200)]
    history.seed(stored)
    pv, _, _ = history.series(before=NOON + timedelta(minutes=30))
    assert pv[-2] == 3.0
    assert len(pv) <= 96 + 1
