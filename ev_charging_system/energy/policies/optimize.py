"""`optimize` (the default): receding-horizon LP over the forecast, rule as the safety net.

Each tick builds the site LP (see lp_model) over the forecast horizon (24 h of 15-minute
steps by default, stretched up to `max_horizon_hours` to reach a vehicle's departure),
solves it with HiGHS within `time_limit_s`, and executes only the first step; the next
tick plans again with fresh measurements. Anything but an optimal solution inside the
budget (infeasible, time limit, solver error, bad input) falls back to the `rule`, and
the plan says so and why.

Modelling choices, and why:
- Step 0 uses the *measured* PV and load (`first_step_from_measurement`): for the next
  15 minutes the current value is a better guess than any profile, and it makes the
  immediate action answer what the operator sees now.
- A vehicle's departure target is a soft constraint with a large penalty: when it cannot
  be reached the plan still exists, charges as much as possible and reports the gap.
- Energy left in the battery / vehicle at the end of the horizon is worth
  `terminal_value_factor` x the cheapest import price in the horizon, times the
  battery's discharge efficiency (a stored kWh later replaces eta_d kWh of import) or
  divided by the car's charging efficiency (a kWh in the car saves 1/eta kWh of later
  charging): enough to keep PV energy rather than export it at the feed-in price, never
  enough to make charging from the grid pay for itself. Without it the plan would empty
  the battery at the end of every horizon and never charge a car beyond its target.
- A small wear cost per kWh of battery throughput stops cycling that gains nothing.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from ev_charging_system.energy.models import (
    STEP,
    STEP_HOURS,
    STEPS_PER_DAY,
    BatteryAction,
    Forecast,
    LoadAction,
    Plan,
    PlanStep,
    SiteActions,
    SiteConfig,
    SiteSnapshot,
    Tariff,
    VehicleAction,
    VehicleState,
    action_from_signed,
)
from ev_charging_system.energy.physics import feasible_vehicle_power
from ev_charging_system.energy.policies.base import kw
from ev_charging_system.energy.policies.lp_model import (
    FloatArray,
    SiteModel,
    Solution,
    VehicleModel,
    solve,
)
from ev_charging_system.energy.policies.rule import rule_plan
from ev_charging_system.energy.sessions import departure_for, target_for
from ev_charging_system.energy.tariffs import price_arrays
from ev_charging_system.energy.validation import non_negative, positive

Solver = Callable[[SiteModel, float], Solution]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class OptimizeSettings:
    time_limit_s: float = 0.5  # HiGHS limit and the policy's own wall-clock budget
    binary_steps: int = 4  # steps (from now) where the charger's minimum power is exact
    battery_wear_cost_per_kwh: float = 0.01
    ev_short_penalty_per_kwh: float = 5.0
    terminal_value_factor: float = 0.9
    max_horizon_hours: float = 48.0
    first_step_from_measurement: bool = True

    def __post_init__(self) -> None:
        positive("optimize.time_limit_s", self.time_limit_s)
        non_negative("optimize.binary_steps", self.binary_steps)
        non_negative("optimize.battery_wear_cost_per_kwh", self.battery_wear_cost_per_kwh)
        non_negative("optimize.ev_short_penalty_per_kwh", self.ev_short_penalty_per_kwh)
        non_negative("optimize.terminal_value_factor", self.terminal_value_factor)
        positive("optimize.max_horizon_hours", self.max_horizon_hours)


@dataclass(frozen=True, slots=True)
class _VehicleSession:
    index: int  # position in the snapshot
    state: VehicleState
    departure: datetime
    target_kwh: float
    deadline_step: int | None


class OptimizePolicy:
    name = "optimize"

    def __init__(self, settings: OptimizeSettings | None = None, solver: Solver = solve) -> None:
        self.settings = settings or OptimizeSettings()
        self._solver = solver

    def plan(
        self, snapshot: SiteSnapshot, forecast: Forecast, tariff: Tariff, config: SiteConfig
    ) -> Plan:
        started = time.perf_counter()
        budget = self.settings.time_limit_s
        try:
            model, sessions, starts = self._build(snapshot, forecast, tariff, config)
            solution = self._solver(model, budget)
        except (ValueError, ArithmeticError) as exc:
            return self._fallback(snapshot, tariff, config, f"bad planning input: {exc}", started)
        elapsed = time.perf_counter() - started
        if not solution.ok:
            return self._fallback(
                snapshot, tariff, config, f"solver {solution.status}: {solution.message}", started
            )
        if elapsed > budget:
            return self._fallback(
                snapshot,
                tariff,
                config,
                f"exceeded the time budget ({elapsed * 1000:.0f} ms > {budget * 1000:.0f} ms)",
                started,
            )
        return self._plan_from(snapshot, config, model, solution, sessions, starts, started)

    # ------------------------------------------------------------------------ model input

    def _build(
        self, snapshot: SiteSnapshot, forecast: Forecast, tariff: Tariff, config: SiteConfig
    ) -> tuple[SiteModel, list[_VehicleSession], list[datetime]]:
        settings = self.settings
        now = snapshot.at
        if forecast.steps == 0:
            raise ValueError("the forecast is empty")
        # Stretch the horizon (by repeating the forecast's last day) to reach departures.
        horizon = forecast.steps
        max_steps = max(horizon, round(settings.max_horizon_hours / STEP_HOURS))
        for vehicle in snapshot.vehicles:
            cfg = config.vehicle(vehicle.vehicle_id)
            if cfg is not None and vehicle.connected:
                until = departure_for(vehicle, cfg, now, config.tz) - now
                horizon = max(horizon, min(max_steps, math.ceil(until / STEP)))
        pv = _extend(np.asarray(forecast.pv_kw, dtype=np.float64), horizon)
        critical = _extend(np.asarray(forecast.critical_load_kw, dtype=np.float64), horizon)
        flexible = _extend(np.asarray(forecast.flexible_load_kw, dtype=np.float64), horizon)
        if settings.first_step_from_measurement:
            pv[0] = snapshot.solar.production_kw
            critical[0] = snapshot.load.critical_load_kw
            flexible[0] = snapshot.load.flexible_load_kw
        for name, series in (("pv", pv), ("critical load", critical), ("flexible load", flexible)):
            if not np.all(np.isfinite(series)):
                raise ValueError(f"{name} forecast contains non-finite values")
        pv, critical, flexible = (np.maximum(s, 0.0) for s in (pv, critical, flexible))
        imports, feed_ins = price_arrays(tariff, now, horizon, config.tz)
        cheapest = max(0.0, float(np.min(imports)))
        factor = settings.terminal_value_factor
        battery = config.battery
        starts = [now + k * STEP for k in range(horizon)]

        vehicles: list[VehicleModel] = []
        sessions: list[_VehicleSession] = []
        for i, vehicle in enumerate(snapshot.vehicles):
            cfg = config.vehicle(vehicle.vehicle_id)
            available = np.zeros(horizon)
            deadlines: tuple[tuple[int, float], ...] = ()
            departure = now
            target = vehicle.state_of_charge_kwh
            deadline_step: int | None = None
            if cfg is not None and vehicle.connected and cfg.max_charge_kw > 0:
                departure = departure_for(vehicle, cfg, now, config.tz)
                target = target_for(vehicle, cfg)
                # Fraction of each step before departure; a car overdue stays chargeable.
                until_h = (departure - now).total_seconds() / 3600.0
                if until_h <= 0:
                    available[:] = cfg.max_charge_kw
                    deadline_step = 0
                    wanted = target
                else:
                    k = np.arange(horizon)
                    share = np.clip(until_h / STEP_HOURS - k, 0.0, 1.0)
                    available = cfg.max_charge_kw * share
                    deadline_step = int(min(horizon, math.ceil(until_h / STEP_HOURS))) - 1
                    # Energy the car can still get after the horizon need not come now.
                    after_h = max(0.0, until_h - horizon * STEP_HOURS)
                    wanted = target - cfg.max_charge_kw * cfg.charge_efficiency * after_h
                if wanted > vehicle.state_of_charge_kwh:
                    deadlines = ((deadline_step, wanted),)
            vehicles.append(
                VehicleModel(
                    available_kw=available,
                    min_kw=cfg.min_charge_kw if cfg else 0.0,
                    energy0_kwh=vehicle.state_of_charge_kwh,
                    max_energy_kwh=cfg.max_energy_kwh if cfg else vehicle.state_of_charge_kwh,
                    efficiency=cfg.charge_efficiency if cfg else 1.0,
                    trip_kwh=np.zeros(horizon),
                    deadlines=deadlines,
                    binary_steps=settings.binary_steps if deadline_step is not None else 0,
                    # A kWh in the car saves 1/efficiency kWh of later charging.
                    terminal_value=factor * cheapest / (cfg.charge_efficiency if cfg else 1.0),
                )
            )
            sessions.append(_VehicleSession(i, vehicle, departure, target, deadline_step))

        model = SiteModel(
            dt_h=STEP_HOURS,
            pv_kw=pv,
            critical_kw=critical,
            flexible_kw=flexible,
            import_price=imports,
            feed_in_price=feed_ins,
            battery_energy0_kwh=snapshot.battery.state_of_charge_kwh,
            battery_min_kwh=battery.min_energy_kwh,
            battery_max_kwh=battery.max_energy_kwh,
            battery_charge_kw=battery.max_charge_kw,
            battery_discharge_kw=battery.max_discharge_kw,
            battery_eta_charge=battery.one_way_efficiency,
            battery_eta_discharge=battery.one_way_efficiency,
            import_limit_kw=config.grid.import_limit_kw,
            export_limit_kw=(
                np.inf if config.grid.export_limit_kw is None else config.grid.export_limit_kw
            ),
            shed_penalty=config.load.shed_penalty_per_kwh,
            short_penalty=settings.ev_short_penalty_per_kwh,
            battery_wear_cost=settings.battery_wear_cost_per_kwh,
            battery_terminal_value=factor * cheapest * battery.one_way_efficiency,
            vehicles=tuple(vehicles),
        )
        return model, sessions, starts

    # --------------------------------------------------------------------------- results

    def _plan_from(
        self,
        snapshot: SiteSnapshot,
        config: SiteConfig,
        model: SiteModel,
        solution: Solution,
        sessions: list[_VehicleSession],
        starts: list[datetime],
        started: float,
    ) -> Plan:
        battery_kw = solution.charge - solution.discharge
        grid = solution.grid_import - solution.grid_export
        steps = tuple(
            PlanStep(
                start=starts[k],
                pv_kw=float(model.pv_kw[k] - solution.curtail[k]),
                critical_load_kw=float(model.critical_kw[k]),
                flexible_load_kw=float(model.flexible_kw[k]),
                shed_kw=_tidy(solution.shed[k]),
                battery_kw=_tidy(battery_kw[k]),
                battery_soc_kwh=float(solution.soc[k]),
                vehicle_kw=tuple(_tidy(solution.ev_power[v, k]) for v in range(len(sessions))),
                grid_kw=_tidy(grid[k]),
                curtailed_kw=_tidy(solution.curtail[k]),
                import_price=float(model.import_price[k]),
                feed_in_price=float(model.feed_in_price[k]),
            )
            for k in range(model.steps)
        )

        # Immediate actions: step 0, with the charger's minimum power made exact.
        vehicle_actions = []
        grid_now = float(grid[0])
        for session in sessions:
            planned = float(solution.ev_power[session.index, 0])
            cfg = config.vehicle(session.state.vehicle_id)
            power = feasible_vehicle_power(cfg, planned) if cfg is not None else 0.0
            grid_now += power - planned
            mode, magnitude = action_from_signed(power)
            vehicle_actions.append(VehicleAction(session.state.vehicle_id, mode, _tidy(magnitude)))
        b_mode, b_power = action_from_signed(float(battery_kw[0]))
        actions = SiteActions(
            battery=BatteryAction(b_mode, _tidy(b_power)),
            vehicles=tuple(vehicle_actions),
            load=LoadAction(_tidy(solution.shed[0])),
            grid_kw=_tidy(grid_now),
            curtailed_kw=_tidy(solution.curtail[0]),
        )
        cost = float(
            np.sum(
                model.import_price * solution.grid_import
                - model.feed_in_price * solution.grid_export
            )
            * model.dt_h
        )
        solve_ms = (time.perf_counter() - started) * 1000.0
        return Plan(
            created_at=snapshot.at,
            policy=self.name,
            requested_policy=self.name,
            actions=actions,
            steps=steps,
            reason=_explain(model, solution, sessions, actions, cost, solve_ms, config),
            snapshot=snapshot,
            solve_ms=solve_ms,
            expected_cost=cost,
        )

    def _fallback(
        self,
        snapshot: SiteSnapshot,
        tariff: Tariff,
        config: SiteConfig,
        why: str,
        started: float,
    ) -> Plan:
        logger.warning("energy: optimizer fell back to the rule at %s: %s", snapshot.at, why)
        plan = rule_plan(snapshot, tariff, config)
        return dataclasses.replace(
            plan,
            requested_policy=self.name,
            fell_back=True,
            fallback_reason=why,
            reason=f"optimizer fell back to the rule ({why}); rule: {plan.reason}",
            solve_ms=(time.perf_counter() - started) * 1000.0,
        )


def _extend(series: FloatArray, steps: int) -> FloatArray:
    """Cut or stretch a forecast to `steps`, repeating its last day (daily shapes repeat)."""
    if len(series) >= steps:
        return series[:steps].copy()
    period = min(len(series), STEPS_PER_DAY)
    tail = series[-period:]
    reps = math.ceil((steps - len(series)) / period)
    return np.concatenate([series, np.tile(tail, reps)])[:steps]


def _tidy(value: float) -> float:
    rounded = round(float(value), 6)
    return 0.0 if rounded == 0 else rounded


def _explain(
    model: SiteModel,
    solution: Solution,
    sessions: list[_VehicleSession],
    actions: SiteActions,
    cost: float,
    solve_ms: float,
    config: SiteConfig,
) -> str:
    """A few sentences an operator (or the LLM) can read: the horizon, each car, now."""
    dt = model.dt_h
    hours = model.steps * dt
    parts = [
        f"optimal plan over {hours:g} h ({model.steps} steps) in {solve_ms:.0f} ms; "
        f"expected net energy cost {cost:.2f}"
    ]
    for session in sessions:
        state = session.state
        if not state.connected:
            parts.append(f"{state.vehicle_id}: not plugged in")
            continue
        energy = float(np.sum(solution.ev_power[session.index]) * dt)
        shortfall = float(np.sum(solution.ev_short[session.index]))
        line = (
            f"{state.vehicle_id}: {energy:.1f} kWh planned before "
            f"{session.departure.astimezone(config.tz):%a %H:%M} "
            f"(target {session.target_kwh:.1f} kWh, now {state.state_of_charge_kwh:.1f} kWh)"
        )
        if shortfall > 1e-3:
            line += f"; target NOT reachable, short by {shortfall:.1f} kWh"
        parts.append(line)
    imported = float(np.sum(solution.grid_import) * dt)
    exported = float(np.sum(solution.grid_export) * dt)
    parts.append(
        f"grid: {imported:.1f} kWh import (peak {kw(float(np.max(solution.grid_import)))}, "
        f"limit {kw(model.import_limit_kw)}), {exported:.1f} kWh export"
    )
    parts.append(
        f"battery {model.battery_energy0_kwh:.1f} -> {float(solution.soc[-1]):.1f} kWh, "
        f"range {float(np.min(solution.soc)):.1f}-{float(np.max(solution.soc)):.1f} kWh"
    )
    shed = float(np.sum(solution.shed) * dt)
    if shed > 1e-3:
        parts.append(f"{shed:.1f} kWh of flexible load shed (grid limit)")
    price_now = float(model.import_price[0])
    low, high = float(np.min(model.import_price)), float(np.max(model.import_price))
    now = [f"battery {actions.battery.mode} {kw(actions.battery.power_kw)}"]
    now += [f"{v.vehicle_id} {v.mode} {kw(v.power_kw)}" for v in actions.vehicles]
    if actions.load.shed_kw > 0:
        now.append(f"shed {kw(actions.load.shed_kw)}")
    parts.append(
        f"now: {', '.join(now)}; import price now {price_now:.3f} "
        f"(horizon {low:.3f}-{high:.3f}), PV {kw(float(model.pv_kw[0]))}"
    )
    return "; ".join(parts)
