"""The planner's model steps over the horizon: 15 minutes near now, whole hours further out.

Only the first step of a plan is executed; the rest of the horizon is there to value what
that step does (store now for the evening peak, wait for tomorrow's sun). Hours ahead
the forecasts are too uncertain for 15-minute detail to change that decision, while every
step costs solver time (variables, a semi-continuous charger decision per car). So the
model keeps `fine_slots` 15-minute steps (extended to the next whole hour, so hourly
blocks align with the clock and with tariff windows), then one step per hour.

Series are averaged onto the grid; decisions are expanded back onto 15-minute slots for
the plan's schedule.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ev_charging_system.energy.models import STEP_HOURS

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

SLOTS_PER_BLOCK = 4  # an hour of 15-minute slots


@dataclass(frozen=True, slots=True)
class TimeGrid:
    first: IntArray  # the first 15-minute slot of each model step
    length: IntArray  # how many slots each step spans

    @property
    def steps(self) -> int:
        return len(self.first)

    @property
    def slots(self) -> int:
        return int(self.first[-1] + self.length[-1]) if len(self.first) else 0

    @property
    def uniform(self) -> bool:
        return bool(np.all(self.length == 1))

    @property
    def hours(self) -> FloatArray:
        hours: FloatArray = self.length.astype(np.float64) * STEP_HOURS
        return hours

    @property
    def step_of_slot(self) -> IntArray:
        """For each 15-minute slot, the model step it lies in."""
        return np.repeat(np.arange(self.steps, dtype=np.int64), self.length)

    def mean(self, series: FloatArray) -> FloatArray:
        """Average of a per-slot series over each step."""
        values = np.asarray(series, dtype=np.float64)[: self.slots]
        sums = np.add.reduceat(values, self.first) if len(values) else values
        averaged: FloatArray = sums / self.length
        return averaged

    def expand(self, values: FloatArray) -> FloatArray:
        """A per-step value repeated on each of its slots."""
        expanded: FloatArray = np.repeat(np.asarray(values, dtype=np.float64), self.length)
        return expanded

    def duty_cycle(self, averages: FloatArray, shares: FloatArray, minimum: float) -> FloatArray:
        """A charger's per-step average powers as 15-minute powers it can run at: 0, or at
        least `minimum` x the slot's plugged share. An hour's energy goes into as many of
        its plugged slots as can carry it at or above the minimum, the most plugged (then
        the earliest) first, each at the same fraction of its share."""
        share = np.clip(np.asarray(shares, dtype=np.float64)[: self.slots], 0.0, 1.0)
        out = np.zeros(self.slots)
        for k in range(self.steps):
            first, length = int(self.first[k]), int(self.length[k])
            energy = float(averages[k]) * length  # in slot-kW: kW x 15 minutes
            if energy <= 1e-9:
                continue
            s = share[first : first + length]
            order = np.argsort(-s, kind="stable")
            chosen = order[s[order] > 1e-12]
            while len(chosen) > 1 and energy / float(np.sum(s[chosen])) < minimum - 1e-9:
                chosen = chosen[:-1]
            if not len(chosen):  # no plugged slot (round-off): keep the step's average
                out[first : first + length] = averages[k]
                continue
            ratio = energy / float(np.sum(s[chosen]))
            out[first + chosen] = ratio * s[chosen]
        return out


def time_grid(first_slot: int, slots: int, fine_slots: int | None) -> TimeGrid:
    """Steps for `slots` 15-minute slots from slot `first_slot` (slots since the epoch):
    the first `fine_slots` (at least one, then up to a whole hour) of 15 minutes, the rest
    by the hour. None: 15 minutes throughout."""
    if fine_slots is None or fine_slots >= slots:
        return TimeGrid(np.arange(slots, dtype=np.int64), np.ones(slots, dtype=np.int64))
    fine = max(1, fine_slots)
    fine += (-(first_slot + fine)) % SLOTS_PER_BLOCK  # coarse blocks start on the hour
    fine = min(fine, slots)
    starts = list(range(fine)) + list(range(fine, slots, SLOTS_PER_BLOCK))
    first = np.array(starts, dtype=np.int64)
    length = np.diff(np.append(first, slots)).astype(np.int64)
    return TimeGrid(first, length)
