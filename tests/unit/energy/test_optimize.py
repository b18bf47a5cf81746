"""The receding-horizon optimiser on hand-checkable cases, and its fallback to the rule."""

from __future__ import annotations

import dataclasses
from datetime import time
from typing import Any

import numpy as np
import pytest

from ev_charging_system.energy.models import (
    STEP_HOURS,
    Forecast,
    Plan,
    PowerMode,
    SiteConfig,
    TimeOfUseTariff,
    TimeOfUseWindow,
)
from ev_charging_system.energy.policies import OptimizePolicy
from ev_charging_system.energy.policies.milp_model import SiteModel, Solution, solve

from .factories import FLAT, NOON, flat_forecast, hours, site, snapshot

CONFIG = site()
MIN_KW = 6 * 3 * 230 / 1000


def optimise(
    config: SiteConfig = CONFIG,
    forecast: Forecast | None = None,
    policy: OptimizePolicy | None = None,
    tariff: Any = FLAT,
    **kwargs: Any,
) -> Plan:
    snap = snapshot(**kwargs)
    if forecast is None:
        forecast = flat_forecast(
            pv=snap.solar.production_kw,
            critical=snap.load.critical_load_kw,
            flexible=snap.load.flexible_load_kw,
        )
    return (policy or OptimizePolicy()).plan(snap, forecast, tariff, config)


def test_all_surplus_stores_pv_and_imports_nothing() -> None:
    result = optimise(pv=6.0, critical=1.0, battery_soc=5.0)
    assert not result.fell_back and result.policy == "optimize"
    assert result.actions.battery.mode is PowerMode.CHARGE
    assert result.actions.battery.power_kw == pytest.approx(5.0)
    assert result.actions.grid_kw <= 1e-6
    assert len(result.steps) == 96
    assert max(step.battery_soc_kwh for step in result.steps) <= 10.0 + 1e-6


def test_all_deficit_battery_covers_load_before_importing() -> None:
    result = optimise(pv=0.0, critical=2.0, battery_soc=8.0)
    assert result.actions.battery.mode is PowerMode.DISCHARGE
    assert result.actions.battery.power_kw == pytest.approx(2.0)
    assert result.actions.grid_kw == pytest.approx(0.0, abs=1e-6)
    assert min(step.battery_soc_kwh for step in result.steps) >= 1.0 - 1e-6


def test_exact_tie_is_idle() -> None:
    result = optimise(pv=2.0, critical=2.0, battery_soc=5.0)
    assert result.actions.battery.mode is PowerMode.IDLE
    assert result.actions.grid_kw == pytest.approx(0.0, abs=1e-6)


def test_empty_battery_imports() -> None:
    result = optimise(pv=0.0, critical=1.5, battery_soc=1.0)
    assert result.actions.battery.mode is PowerMode.IDLE
    assert result.actions.grid_kw == pytest.approx(1.5)


def test_full_battery_exports() -> None:
    result = optimise(pv=4.0, critical=1.0, battery_soc=10.0)
    assert result.actions.battery.mode is PowerMode.IDLE
    assert result.actions.grid_kw == pytest.approx(-3.0)


def test_unplugged_vehicle_is_idle() -> None:
    result = optimise(pv=12.0, critical=0.5, battery_soc=10.0, connected=False)
    assert result.actions.vehicles[0].mode is PowerMode.IDLE
    assert all(step.vehicle_kw == (0.0,) for step in result.steps)


def test_vehicle_reaches_target_by_departure() -> None:
    result = optimise(
        connected=True,
        ev_soc=30.0,
        target=48.0,
        departure=NOON + hours(6),
        critical=0.5,
        battery_soc=1.0,
    )
    before = [s for s in result.steps if s.start < NOON + hours(6)]
    delivered = sum(s.vehicle_kw[0] for s in before) * STEP_HOURS * 0.9
    assert delivered >= 18.0 - 1e-6
    assert all(s.vehicle_kw[0] == 0.0 for s in result.steps if s.start >= NOON + hours(6))
    assert "NOT reachable" not in result.reason


def test_unreachable_target_is_soft_and_reported() -> None:
    # 40 kWh missing in one hour at 11 kW: impossible; plan anyway, at full power.
    result = optimise(
        connected=True, ev_soc=8.0, target=48.0, departure=NOON + hours(1), battery_soc=1.0
    )
    assert not result.fell_back
    assert result.actions.vehicles[0].power_kw == pytest.approx(11.0)
    assert "NOT reachable" in result.reason


def test_time_of_use_moves_charging_to_the_cheap_window() -> None:
    tou = TimeOfUseTariff(
        default_import_price=0.40,
        windows=(TimeOfUseWindow(time(22, 0), time(6, 0), 0.20),),
        feed_in_price=0.05,
    )
    result = optimise(
        tariff=tou,
        connected=True,
        ev_soc=38.0,
        target=48.0,
        departure=NOON + hours(19),
        battery_soc=1.0,
        critical=0.3,
    )
    assert result.actions.vehicles[0].mode is PowerMode.IDLE  # now is expensive
    cheap = [s for s in result.steps if s.import_price == 0.20]
    assert sum(s.vehicle_kw[0] for s in cheap) * STEP_HOURS * 0.9 >= 10.0 - 1e-6


def test_vehicle_power_now_respects_minimum_current() -> None:
    # Tiny need: the LP would like ~1 kW; the charger can do 0 or >= 4.14 kW.
    for soc in (47.0, 47.5, 47.9):
        result = optimise(
            connected=True, ev_soc=soc, target=48.0, departure=NOON + hours(0.5), battery_soc=1.0
        )
        power = result.actions.vehicles[0].power_kw
        assert power == 0.0 or MIN_KW - 1e-6 <= power <= 11.0 + 1e-6


def test_grid_limit_binding_sheds_flexible_load() -> None:
    config = site(import_limit=3.0)
    result = optimise(config, pv=0.0, critical=2.0, flexible=2.0, battery_soc=1.0)
    assert result.actions.grid_kw == pytest.approx(3.0)
    assert result.actions.load.shed_kw == pytest.approx(1.0)
    assert all(s.grid_kw <= 3.0 + 1e-6 for s in result.steps)


def test_grid_limit_caps_vehicle_charging() -> None:
    config = site(import_limit=6.0)
    result = optimise(
        config,
        critical=1.0,
        connected=True,
        ev_soc=20.0,
        target=48.0,
        departure=NOON + hours(2),
        battery_soc=1.0,
    )
    assert result.actions.vehicles[0].power_kw == pytest.approx(5.0)
    assert all(s.grid_kw <= 6.0 + 1e-6 for s in result.steps)


# ---------------------------------------------------------------------------------- fallback


def test_infeasible_falls_back_to_the_departure_aware_heuristic_with_reason() -> None:
    # The critical load alone exceeds what grid + battery can supply: no feasible plan.
    config = site(import_limit=1.0)
    result = optimise(config, pv=0.0, critical=5.0, flexible=1.0, battery_soc=1.0)
    assert result.fell_back and result.solver_status == "heuristic"
    assert result.policy == "departure_aware" and result.requested_policy == "optimize"
    assert result.fallback_reason is not None and "infeasible" in result.fallback_reason


def test_time_limit_without_a_schedule_still_charges_for_the_departure() -> None:
    def timed_out(model: SiteModel, limit: float) -> Solution:
        return Solution("time_limit", "Time limit reached", limit)

    # 20 kWh missing, 2 h to go: waiting is no longer possible, the fallback charges now
    # (the seed rule would leave the car idle: no PV surplus).
    result = optimise(
        policy=OptimizePolicy(solver=timed_out),
        connected=True,
        ev_soc=28.0,
        target=48.0,
        departure=NOON + hours(2),
        critical=0.5,
    )
    assert result.fell_back and result.solver_status == "heuristic"
    assert result.fallback_reason is not None and "time_limit" in result.fallback_reason
    assert result.actions.vehicles[0].mode is PowerMode.CHARGE
    assert result.actions.vehicles[0].power_kw == pytest.approx(11.0)


def test_time_limit_keeps_the_best_schedule_found() -> None:
    def incumbent(model: SiteModel, limit: float) -> Solution:
        found = solve(model, limit)
        return dataclasses.replace(found, status="time_limit_feasible", mip_gap=0.02)

    result = optimise(
        policy=OptimizePolicy(solver=incumbent), pv=6.0, critical=1.0, battery_soc=5.0
    )
    assert not result.fell_back and result.policy == "optimize"
    assert result.solver_status == "time_limit_feasible" and result.mip_gap == 0.02
    assert "before the time limit" in result.reason
    assert result.actions.battery.power_kw == pytest.approx(5.0)


def test_bad_forecast_falls_back() -> None:
    bad = Forecast(NOON, (float("nan"),) * 96, (1.0,) * 96, (0.0,) * 96)
    result = optimise(forecast=bad, pv=1.0, critical=1.0)
    assert result.fell_back and result.fallback_reason is not None
    assert "non-finite" in result.fallback_reason


def test_horizon_stretches_to_a_late_departure() -> None:
    result = optimise(connected=True, ev_soc=10.0, target=48.0, departure=NOON + hours(30))
    assert len(result.steps) == 120
    assert np.isclose(sum(s.vehicle_kw[0] for s in result.steps) * STEP_HOURS * 0.9, 38.0)
