"""The planner's grid: 15 minutes near now, hours beyond, and back to 15-minute slots."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from ev_charging_system.energy.history import slot_index
from ev_charging_system.energy.models import STEP
from ev_charging_system.energy.policies import OptimizePolicy
from ev_charging_system.energy.policies.optimize import OptimizeSettings
from ev_charging_system.energy.policies.time_grid import time_grid

from .factories import FLAT, NOON, flat_forecast, site, snapshot


def test_fine_steps_first_then_hours_that_start_on_the_hour() -> None:
    quarter_past = slot_index(NOON) + 1  # 12:15
    grid = time_grid(quarter_past, 96, fine_slots=24)
    # 24 slots of 15 minutes reach 18:15; three more reach 19:00, then whole hours.
    assert list(grid.length[:27]) == [1] * 27
    assert set(grid.length[27:-1].tolist()) == {4}
    assert np.all((quarter_past + grid.first[27:]) % 4 == 0)
    assert grid.slots == 96 and grid.steps == 27 + 18  # 17 hours and a last quarter
    assert grid.length[-1] == 1
    assert grid.mean(np.arange(96.0))[-2] == pytest.approx(92.5)  # slots 91-94
    assert time_grid(quarter_past, 96, None).uniform


def test_an_hours_charge_runs_in_whole_slots_at_or_above_the_minimum() -> None:
    grid = time_grid(3, 8, fine_slots=0)  # one fine slot (at least one), then by the hour
    assert list(grid.length) == [1, 4, 3]
    shares = np.array([1, 1, 1, 1, 1, 1, 0.5, 0.0])
    # 1 kW average over an hour with a 4.14 kW minimum: one slot at 4 kW, not 4 x 1 kW.
    power = grid.duty_cycle(np.array([0.0, 1.0, 3.0]), shares, minimum=4.14)
    assert list(power[1:5]) == pytest.approx([4.0, 0.0, 0.0, 0.0])
    # The last step's 9 slot-kW go where the car is plugged (slots 5 and 6, 1 and 0.5),
    # in proportion: each at 6 kW x its share, above the minimum.
    assert list(power[5:]) == pytest.approx([6.0, 3.0, 0.0])
    assert float(np.sum(power)) == pytest.approx(1.0 * 4 + 3.0 * 3)


def test_a_plan_with_hourly_steps_keeps_chargers_at_zero_or_their_minimum() -> None:
    config = site()
    # A car needing only a little energy, leaving the next morning: its charge lands in
    # the hourly part of the horizon.
    departure = NOON + timedelta(hours=19, minutes=10)
    state = snapshot(connected=True, ev_soc=44.0, target=46.0, departure=departure)
    settings = OptimizeSettings(fine_hours=2.0)
    plan = OptimizePolicy(settings).plan(state, flat_forecast(critical=0.3), FLAT, config)
    assert len(plan.steps) == 96 and plan.steps[1].start - plan.steps[0].start == STEP
    cfg = config.vehicles[0]
    powers = np.array([step.vehicle_kw[0] for step in plan.steps])
    on = powers[powers > 1e-6]
    leaving = (departure - NOON) / STEP  # 76.67: slot 76 is plugged in for 2/3
    assert np.all(on >= cfg.min_charge_kw * (2 / 3) - 1e-6)
    assert np.all(powers[77:] == 0)
    delivered = float(np.sum(powers) * 0.25 * cfg.charge_efficiency)
    assert 44.0 + delivered >= 46.0 - 1e-6
    assert leaving == pytest.approx(76 + 2 / 3)
