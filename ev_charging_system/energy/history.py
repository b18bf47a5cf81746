"""A bounded history of 15-minute averages of PV and load, fed by the coordinator's ticks.

Ticks come every minute or so; forecasts want one value per 15-minute slot. Samples
falling in the same slot are averaged; slots without any sample become NaN, which the
forecast functions skip. Only `days` days are kept (memory stays constant).
"""

from __future__ import annotations

from collections import deque
from datetime import datetime

import numpy as np
from numpy.typing import NDArray

from ev_charging_system.energy.models import STEP, STEPS_PER_DAY

FloatArray = NDArray[np.float64]
# (slot index since the epoch, pv kW, critical load kW, flexible load kW), 15-minute means
MeasuredSlot = tuple[int, float, float, float]


def slot_index(at: datetime) -> int:
    """Number of whole 15-minute steps since the epoch (slots align with the clock)."""
    return int(at.timestamp() // STEP.total_seconds())


class SlotHistory:
    def __init__(self, days: int = 8) -> None:
        self._max_slots = days * STEPS_PER_DAY
        self._slots: deque[tuple[int, float, float, float]] = deque(maxlen=self._max_slots)
        self._current: int | None = None
        self._sums = [0.0, 0.0, 0.0]
        self._count = 0
        self._unsaved: list[MeasuredSlot] = []

    def record(self, at: datetime, pv_kw: float, critical_kw: float, flexible_kw: float) -> None:
        slot = slot_index(at)
        if self._current is not None and slot < self._current:
            return  # a clock step backwards: ignore rather than corrupt older slots
        if self._current is not None and slot != self._current:
            self._close()
        self._current = slot
        self._sums[0] += pv_kw
        self._sums[1] += critical_kw
        self._sums[2] += flexible_kw
        self._count += 1

    def _close(self) -> None:
        if self._current is None or self._count == 0:
            return
        pv, critical, flexible = (s / self._count for s in self._sums)
        self._slots.append((self._current, pv, critical, flexible))
        self._unsaved.append((self._current, pv, critical, flexible))
        self._sums = [0.0, 0.0, 0.0]
        self._count = 0

    def series(self, before: datetime) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(pv, critical, flexible) per completed slot, ending with the slot before `before`."""
        end = slot_index(before)  # exclusive
        if self._current is not None and self._current < end:
            self._close()
            self._current = None
        completed = [s for s in self._slots if s[0] < end]
        if not completed:
            empty = np.empty(0, dtype=np.float64)
            return empty, empty, empty
        first = max(completed[0][0], end - self._max_slots)
        out = np.full((3, end - first), np.nan)
        for slot, pv, critical, flexible in completed:
            if slot >= first:
                out[:, slot - first] = (pv, critical, flexible)
        return out[0], out[1], out[2]

    def drain_closed(self) -> list[MeasuredSlot]:
        """Slots completed since the last call (for storage, so a restart starts warm)."""
        closed, self._unsaved = self._unsaved, []
        return closed

    def seed(self, slots: list[MeasuredSlot]) -> None:
        """Stored slots from before a restart, oldest first; newer ones already here win."""
        known = {s[0] for s in self._slots}
        merged = sorted([s for s in slots if s[0] not in known] + list(self._slots))
        self._slots = deque(merged[-self._max_slots :], maxlen=self._max_slots)

    def load_series(
        self,
        start: datetime,
        pv_kw: list[float],
        critical_kw: list[float],
        flexible_kw: list[float],
    ) -> None:
        """Seed the history with stored 15-minute averages (e.g. after a restart)."""
        first = slot_index(start)
        for k, values in enumerate(zip(pv_kw, critical_kw, flexible_kw, strict=True)):
            self._slots.append((first + k, *values))
