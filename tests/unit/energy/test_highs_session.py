"""The HiGHS session the planner solves through: warm-started LPs, a MILP that keeps what
it was started from when the time limit strikes, the solver outcome said plainly."""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.sparse import coo_array

from ev_charging_system.energy.models import STEP_HOURS
from ev_charging_system.energy.policies.highs_session import (
    INFEASIBLE,
    OPTIMAL,
    TIME_LIMIT,
    HighsSession,
)
from ev_charging_system.energy.policies.milp_model import (
    TIME_LIMIT_FEASIBLE,
    DeferrableModel,
    SiteModel,
    VehicleModel,
    solve,
)


def _knapsack(n: int) -> tuple[HighsSession, np.ndarray, np.ndarray, float]:
    rng = np.random.default_rng(1)
    weight = rng.integers(50, 100, n).astype(float)
    value = weight + rng.integers(-5, 5, n).astype(float)
    capacity = weight.sum() / 2 + 0.5
    session = HighsSession(
        -value,
        coo_array(weight.reshape(1, -1)),
        np.array([-np.inf]),
        np.array([capacity]),
        np.zeros(n),
        np.ones(n),
        mip_rel_gap=0.0,
    )
    return session, weight, value, capacity


def _greedy(weight: np.ndarray, value: np.ndarray, capacity: float) -> np.ndarray:
    chosen = np.zeros(len(weight))
    used = 0.0
    for i in np.argsort(-value / weight):
        if used + weight[i] <= capacity:
            chosen[i] = 1.0
            used += weight[i]
    return chosen


def test_a_milp_stopped_by_its_time_limit_returns_its_start_or_better() -> None:
    n = 300  # far too many items to prove optimal in a millisecond
    session, weight, value, capacity = _knapsack(n)
    start = _greedy(weight, value, capacity)
    run = session.mip(np.zeros(n), np.ones(n), np.ones(n, dtype=np.int64), 1e-3, start=start)
    assert run.status == TIME_LIMIT and run.feasible and run.x is not None
    assert run.fun <= float(-value @ start) + 1e-9
    assert float(weight @ run.x) <= capacity + 1e-6
    assert np.allclose(run.x, np.round(run.x))


def test_lp_runs_give_duals_and_follow_bound_changes() -> None:
    n = 20
    session, *_ = _knapsack(n)
    relaxed = session.lp(np.zeros(n), np.ones(n), 1.0)
    assert relaxed.status == OPTIMAL and relaxed.row_dual is not None
    # The capacity's shadow price: the value per unit weight of the marginal item.
    assert relaxed.row_dual[0] < 0
    fixed = session.lp(np.ones(n), np.ones(n), 1.0)  # everything in: over capacity
    assert fixed.status == INFEASIBLE and not fixed.feasible
    again = session.lp(np.zeros(n), np.ones(n), 1.0)
    assert again.status == OPTIMAL and abs(again.fun - relaxed.fun) < 1e-9


def _week_model() -> SiteModel:
    """A week at 15 minutes, two cars with minimum currents, a run to place each day:
    branch-and-bound cannot prove it optimal in half a second."""
    n = 7 * 96
    t = np.arange(n)
    hour = (t % 96) / 4
    pv = np.clip(6.0 * np.sin((hour - 6) / 12 * np.pi), 0.0, None)
    plugged = (hour < 7) | (hour >= 18)
    trips = np.where((t % 96 == 28) & (t > 0), 12.0, 0.0)
    deadlines = tuple((int(k) - 1, 40.0) for k in np.flatnonzero(trips))
    prices = np.where((hour >= 22) | (hour < 6), 0.2, 0.35)
    car = VehicleModel(
        available_kw=np.where(plugged, 11.0, 0.0),
        min_kw=4.14,
        energy0_kwh=30.0,
        max_energy_kwh=60.0,
        efficiency=0.9,
        trip_kwh=trips,
        deadlines=deadlines,
    )
    second = VehicleModel(
        available_kw=np.where(hour >= 9, 7.4, 0.0),
        min_kw=1.38,
        energy0_kwh=10.0,
        max_energy_kwh=40.0,
        efficiency=0.9,
        trip_kwh=np.zeros(n),
        deadlines=((n - 1, 35.0),),
    )
    dishwasher = DeferrableModel(
        power_kw=1.0,
        energy_kwh=1.5,
        allowed=(hour >= 20).astype(float),
        interruptible=False,
        profile_kw=np.full(6, 1.0),
    )
    return SiteModel(
        dt_h=STEP_HOURS,
        pv_kw=pv,
        critical_kw=np.full(n, 0.4),
        flexible_kw=np.full(n, 0.1),
        import_price=prices,
        feed_in_price=np.full(n, 0.08),
        battery_energy0_kwh=5.0,
        battery_min_kwh=1.0,
        battery_max_kwh=10.0,
        battery_charge_kw=5.0,
        battery_discharge_kw=5.0,
        battery_eta_charge=0.95,
        battery_eta_discharge=0.95,
        import_limit_kw=17.0,
        export_limit_kw=7.0,
        shed_penalty=1.0,
        short_penalty=5.0,
        vehicles=(car, second),
        deferrables=(dishwasher,),
    )


def test_the_full_milp_keeps_the_best_schedule_when_its_time_limit_strikes() -> None:
    model = _week_model()
    solution = solve(model, 0.5, gap_tolerance=0.0, exhaustive=True)
    # Either proven within the limit (a very fast machine) or, as here, the best schedule
    # found is kept with its distance to the bound: never no schedule at all.
    assert solution.ok
    assert solution.status in (OPTIMAL, TIME_LIMIT_FEASIBLE)
    assert solution.mip_gap is not None
    assert solution.ev_power.shape == (2, model.steps)
    for v, vehicle in enumerate(model.vehicles):
        power = solution.ev_power[v]
        assert not np.any((power > 1e-6) & (power < vehicle.min_kw - 1e-6))


def test_a_budget_gone_before_the_solver_starts_still_gives_a_schedule() -> None:
    # A process descheduled for the whole budget before solving: the relaxation and its
    # rounding still get their short slice, so the plan is the model's, not a heuristic's.
    week = _week_model()
    day = slice(0, 96)
    car = week.vehicles[0]
    model = dataclasses.replace(
        week,
        pv_kw=week.pv_kw[day],
        critical_kw=week.critical_kw[day],
        flexible_kw=week.flexible_kw[day],
        import_price=week.import_price[day],
        feed_in_price=week.feed_in_price[day],
        vehicles=(
            dataclasses.replace(
                car,
                available_kw=car.available_kw[day],
                trip_kwh=car.trip_kwh[day],
                deadlines=((95, 45.0),),
            ),
        ),
        deferrables=(),
    )
    solution = solve(model, 1e-9)
    assert solution.ok and solution.n_integer > 0
    assert float(np.sum(solution.ev_power[0]) * STEP_HOURS * 0.9) >= 15.0 - 1e-6
