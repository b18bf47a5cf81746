"""`optimize` (the default): receding-horizon MILP over the forecast.

Each tick builds the site model (see milp_model) over the forecast horizon (24 h of
15-minute steps by default, stretched up to `max_horizon_hours` to reach a vehicle's
departure or a deferrable load's deadline), solves it with HiGHS within `time_limit_s`,
and executes only the first step; the next tick plans again with fresh measurements.

When the time limit strikes, the best schedule found so far is kept (status
`time_limit_feasible`, with its distance to the proven bound). Only when there is no
feasible schedule at all (infeasible, solver error, bad input) does the departure-aware
heuristic decide (status `heuristic`); it still charges every car for its departure,
unlike the seed rule. The plan says which of these happened and why.

Modelling choices, and why:
- Step 0 uses the *measured* PV and load (`first_step_from_measurement`): for the next
  15 minutes the current value is a better guess than any profile.
- A vehicle's departure target is a soft constraint with a large penalty: when it cannot
  be reached the plan still exists, charges as much as possible and reports the gap.
- Energy left at the end of the horizon: in the battery it is worth
  `terminal_value_factor` x the cheapest import price in the horizon x its discharge
  efficiency; in a car, the same per stored kWh (/ charging efficiency) but **only up to
  the driver's target**. Above the target a kWh in the car is worth a hair more than
  export would pay: surplus PV may top a car up rather than be exported (it saves grid
  charging for a later trip), grid or home-battery energy never does.
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

from ev_charging_system.energy.history import slot_index
from ev_charging_system.energy.models import (
    STEP,
    STEP_HOURS,
    STEPS_PER_DAY,
    BatteryAction,
    DeferrableAction,
    DeferrableLoadConfig,
    DeferrableLoadState,
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
from ev_charging_system.energy.policies.fallback import departure_aware_plan
from ev_charging_system.energy.policies.milp_model import (
    GAP_TOLERANCE,
    DeferrableModel,
    FloatArray,
    SiteModel,
    Solution,
    VehicleModel,
    solve,
)
from ev_charging_system.energy.policies.time_grid import TimeGrid, time_grid
from ev_charging_system.energy.sessions import departure_for, target_for
from ev_charging_system.energy.tariffs import price_arrays
from ev_charging_system.energy.validation import non_negative, positive

Solver = Callable[[SiteModel, float], Solution]
HEURISTIC = "heuristic"  # Plan.solver_status when the departure-aware fallback decided

logger = logging.getLogger(__name__)
# Above its target a car values a kWh a little more than export would pay: surplus PV
# goes into the car (it saves grid charging for a later trip) rather than out for the
# feed-in price, while grid or battery energy never does (both are worth more).
EXTRA_BONUS_PER_KWH = 0.002


# Solver round-off a charger's power may exceed the import limit by (kW).
LIMIT_TOLERANCE_KW = 1e-6


@dataclass(frozen=True, slots=True)
class OptimizeSettings:
    time_limit_s: float = 0.5  # for the whole solve (relaxation, rounding, branch-and-bound)
    gap_tolerance: float = GAP_TOLERANCE  # price units over the horizon
    battery_wear_cost_per_kwh: float = 0.01
    ev_short_penalty_per_kwh: float = 5.0
    terminal_value_factor: float = 0.9
    max_horizon_hours: float = 48.0
    first_step_from_measurement: bool = True
    # 15-minute model steps for this long (up to the next whole hour), hourly beyond;
    # None: 15 minutes over the whole horizon. See time_grid.
    fine_hours: float | None = 6.0

    def __post_init__(self) -> None:
        positive("optimize.time_limit_s", self.time_limit_s)
        non_negative("optimize.gap_tolerance", self.gap_tolerance)
        non_negative("optimize.battery_wear_cost_per_kwh", self.battery_wear_cost_per_kwh)
        non_negative("optimize.ev_short_penalty_per_kwh", self.ev_short_penalty_per_kwh)
        non_negative("optimize.terminal_value_factor", self.terminal_value_factor)
        positive("optimize.max_horizon_hours", self.max_horizon_hours)
        if self.fine_hours is not None:
            positive("optimize.fine_hours", self.fine_hours)


@dataclass(frozen=True, slots=True)
class _VehicleSession:
    index: int  # position in the snapshot
    state: VehicleState
    departure: datetime
    target_kwh: float
    deadline_step: int | None


@dataclass(frozen=True, slots=True)
class _Slots:
    """The horizon at 15-minute resolution, beside the (possibly coarser) model."""

    grid: TimeGrid
    starts: list[datetime]
    pv: FloatArray
    critical: FloatArray
    flexible: FloatArray
    imports: FloatArray
    feed_ins: FloatArray
    plugged: list[FloatArray]  # per vehicle: share of each slot plugged in
    minimums: list[float]  # per vehicle: its charger's minimum power


@dataclass(frozen=True, slots=True)
class _DeferrableJob:
    index: int  # position in the snapshot
    config: DeferrableLoadConfig
    state: DeferrableLoadState
    model: int | None  # position in the model's deferrables; None: done or fixed run


class OptimizePolicy:
    name = "optimize"

    def __init__(
        self, settings: OptimizeSettings | None = None, solver: Solver | None = None
    ) -> None:
        self.settings = settings or OptimizeSettings()
        self._solver: Solver = solver or (
            lambda model, limit: solve(model, limit, gap_tolerance=self.settings.gap_tolerance)
        )

    def plan(
        self, snapshot: SiteSnapshot, forecast: Forecast, tariff: Tariff, config: SiteConfig
    ) -> Plan:
        started = time.perf_counter()
        budget = self.settings.time_limit_s
        try:
            model, sessions, jobs, slots = self._build(snapshot, forecast, tariff, config)
            solution = self._solver(model, budget)
        except (ValueError, ArithmeticError) as exc:
            return self._fallback(snapshot, tariff, config, f"bad planning input: {exc}", started)
        if not solution.ok:
            return self._fallback(
                snapshot, tariff, config, f"solver {solution.status}: {solution.message}", started
            )
        plan = self._plan_from(snapshot, config, model, solution, sessions, jobs, slots, started)
        return dataclasses.replace(plan, forecast_method=forecast.method)

    # ------------------------------------------------------------------------ model input

    def _build(
        self, snapshot: SiteSnapshot, forecast: Forecast, tariff: Tariff, config: SiteConfig
    ) -> tuple[SiteModel, list[_VehicleSession], list[_DeferrableJob], _Slots]:
        settings = self.settings
        now = snapshot.at
        if forecast.steps == 0:
            raise ValueError("the forecast is empty")
        # Stretch the horizon (by repeating the forecast's last day) to reach departures
        # and deadlines.
        horizon = forecast.steps
        max_steps = max(horizon, round(settings.max_horizon_hours / STEP_HOURS))
        ends = [
            departure_for(vehicle, cfg, now, config.tz)
            for vehicle in snapshot.vehicles
            if (cfg := config.vehicle(vehicle.vehicle_id)) is not None and vehicle.connected
        ]
        ends += [
            job.deadline
            for state in snapshot.deferrables
            if (job := config.deferrable(state.load_id)) is not None
        ]
        for end in ends:
            horizon = max(horizon, min(max_steps, math.ceil((end - now) / STEP)))
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
        # What a kWh of surplus would earn as export, a hair more: energy above a target.
        export_value = max(0.0, float(np.mean(feed_ins))) + EXTRA_BONUS_PER_KWH
        battery = config.battery
        starts = [now + k * STEP for k in range(horizon)]
        circuits = {c.circuit_id: i for i, c in enumerate(config.circuits)}
        fine = settings.fine_hours
        grid = time_grid(
            slot_index(now), horizon, None if fine is None else math.ceil(fine / STEP_HOURS)
        )
        plugged: list[FloatArray] = []

        vehicles: list[VehicleModel] = []
        sessions: list[_VehicleSession] = []
        for i, vehicle in enumerate(snapshot.vehicles):
            cfg = config.vehicle(vehicle.vehicle_id)
            share = np.zeros(horizon)
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
                    share[:] = 1.0
                    deadline_step = 0
                    wanted = target
                else:
                    k = np.arange(horizon)
                    share = np.clip(until_h / STEP_HOURS - k, 0.0, 1.0)
                    deadline_slot = int(min(horizon, math.ceil(until_h / STEP_HOURS))) - 1
                    deadline_step = int(grid.step_of_slot[deadline_slot])
                    # Energy the car can still get after the horizon need not come now.
                    after_h = max(0.0, until_h - horizon * STEP_HOURS)
                    wanted = target - cfg.max_charge_kw * cfg.charge_efficiency * after_h
                if wanted > vehicle.state_of_charge_kwh:
                    deadlines = ((deadline_step, wanted),)
            efficiency = cfg.charge_efficiency if cfg else 1.0
            plugged.append(share)
            # The least a charger on for one slot of a step adds to its average: the
            # minimum over the most plugged slot, spread over the step.
            min_step = (cfg.min_charge_kw if cfg else 0.0) * (
                np.maximum.reduceat(share, grid.first) / grid.length
            )
            share = grid.mean(share)
            vehicles.append(
                VehicleModel(
                    available_kw=(cfg.max_charge_kw if cfg else 0.0) * share,
                    min_kw=cfg.min_charge_kw if cfg else 0.0,
                    energy0_kwh=vehicle.state_of_charge_kwh,
                    max_energy_kwh=cfg.max_energy_kwh if cfg else vehicle.state_of_charge_kwh,
                    efficiency=efficiency,
                    trip_kwh=np.zeros(grid.steps),
                    deadlines=deadlines,
                    plugged_share=share,
                    # A kWh in the car saves 1/efficiency kWh of later charging, but only
                    # up to the target; above it, only what export would have paid.
                    core_cap_kwh=max(target, vehicle.state_of_charge_kwh),
                    core_value=factor * cheapest / efficiency,
                    extra_value=export_value / efficiency,
                    circuit=circuits.get(cfg.circuit_id) if cfg and cfg.circuit_id else None,
                    min_step_kw=None if grid.uniform else min_step,
                )
            )
            sessions.append(_VehicleSession(i, vehicle, departure, target, deadline_step))

        deferrables, jobs, fixed = _deferrable_models(snapshot, config, now, horizon, grid)
        model = SiteModel(
            dt_h=STEP_HOURS,
            pv_kw=grid.mean(pv),
            critical_kw=grid.mean(critical),
            flexible_kw=grid.mean(flexible),
            import_price=grid.mean(imports),
            feed_in_price=grid.mean(feed_ins),
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
            deferrables=tuple(deferrables),
            circuit_limits_kw=tuple(c.max_kw for c in config.circuits),
            fixed_load_kw=fixed,
            step_hours=None if grid.uniform else grid.hours,
        )
        minimums = [
            cfg.min_charge_kw if (cfg := config.vehicle(v.vehicle_id)) else 0.0
            for v in snapshot.vehicles
        ]
        slots = _Slots(grid, starts, pv, critical, flexible, imports, feed_ins, plugged, minimums)
        return model, sessions, jobs, slots

    # --------------------------------------------------------------------------- results

    def _plan_from(
        self,
        snapshot: SiteSnapshot,
        config: SiteConfig,
        model: SiteModel,
        solution: Solution,
        sessions: list[_VehicleSession],
        jobs: list[_DeferrableJob],
        slots: _Slots,
        started: float,
    ) -> Plan:
        battery_kw = solution.charge - solution.discharge
        grid = solution.grid_import - solution.grid_export
        job_kw = _job_power(jobs, model, solution, slots.grid)
        job_slots = _job_slots(jobs, job_kw, slots.grid)
        steps = _schedule(model, solution, slots, job_slots)

        # Immediate actions: step 0. The model keeps a charger at 0 or at its minimum
        # averaged over the step. A car leaving within this step is plugged in for part of
        # it only, so its power while plugged is that average over its share; and since
        # the model holds the import limit for the step's average, not for every minute
        # of it, the power to set now is also kept within what the limit leaves once the
        # rest of the site is served (rounded to 0 rather than up to a minimum beyond it).
        vehicle_actions = []
        grid_now = float(grid[0])
        for session in sessions:
            planned = float(solution.ev_power[session.index, 0])
            cfg = config.vehicle(session.state.vehicle_id)
            rest = grid_now - planned
            power = 0.0
            if cfg is not None:
                share = float(slots.plugged[session.index][0])
                while_plugged = planned / share if share > 0 else planned
                headroom = model.import_limit_kw - rest
                power = feasible_vehicle_power(cfg, min(while_plugged, headroom))
                if power > headroom + LIMIT_TOLERANCE_KW:
                    power = 0.0
            grid_now = rest + power
            mode, magnitude = action_from_signed(power)
            vehicle_actions.append(VehicleAction(session.state.vehicle_id, mode, _tidy(magnitude)))
        b_mode, b_power = action_from_signed(float(battery_kw[0]))
        actions = SiteActions(
            battery=BatteryAction(b_mode, _tidy(b_power)),
            vehicles=tuple(vehicle_actions),
            load=LoadAction(_tidy(solution.shed[0])),
            grid_kw=_tidy(grid_now),
            curtailed_kw=_tidy(solution.curtail[0]),
            deferrables=tuple(
                DeferrableAction(job.state.load_id, _tidy(job_kw[j, 0]))
                for j, job in enumerate(jobs)
            ),
        )
        cost = float(
            np.sum(
                (
                    model.import_price * solution.grid_import
                    - model.feed_in_price * solution.grid_export
                )
                * model.durations
            )
        )
        solve_ms = (time.perf_counter() - started) * 1000.0
        return Plan(
            created_at=snapshot.at,
            policy=self.name,
            requested_policy=self.name,
            actions=actions,
            steps=steps,
            reason=_explain(
                model, solution, sessions, jobs, job_slots, slots, actions, cost, solve_ms, config
            ),
            snapshot=snapshot,
            solve_ms=solve_ms,
            expected_cost=cost,
            solver_status=solution.status,
            mip_gap=solution.mip_gap,
            simultaneous_steps=solution.simultaneous_grid_steps
            + solution.simultaneous_battery_steps,
        )

    def _fallback(
        self,
        snapshot: SiteSnapshot,
        tariff: Tariff,
        config: SiteConfig,
        why: str,
        started: float,
    ) -> Plan:
        logger.warning(
            "energy: optimizer used the departure-aware heuristic at %s: %s", snapshot.at, why
        )
        plan = departure_aware_plan(snapshot, tariff, config)
        return dataclasses.replace(
            plan,
            requested_policy=self.name,
            fell_back=True,
            fallback_reason=why,
            reason=f"no schedule from the optimizer ({why}); {plan.reason}",
            solve_ms=(time.perf_counter() - started) * 1000.0,
            solver_status=HEURISTIC,
        )


def _job_slots(jobs: list[_DeferrableJob], job_kw: FloatArray, grid: TimeGrid) -> FloatArray:
    """Each job's power per 15-minute slot: a run (one start, a fixed programme) exactly as
    it would go from the step it starts in; an interruptible job at its step's average."""
    out = np.zeros((len(jobs), grid.slots))
    for j, job in enumerate(jobs):
        on = np.flatnonzero(job_kw[j] > 1e-9)
        if job.config.interruptible or not len(on):
            out[j] = grid.expand(job_kw[j])
            continue
        left = max(0.0, job.config.energy_kwh - job.state.delivered_kwh)
        profile = _run_profile(job.config.power_kw, left)
        first = int(grid.first[on[0]])
        end = min(grid.slots, first + len(profile))
        out[j, first:end] = profile[: end - first]
    return out


def _schedule(
    model: SiteModel, solution: Solution, slots: _Slots, job_slots: FloatArray
) -> tuple[PlanStep, ...]:
    """The plan's 15-minute schedule: forecasts and prices per slot, the model's decisions
    per step expanded onto its slots (a car's energy onto the slots it is plugged in, the
    battery's charge interpolated within an hour)."""
    grid = slots.grid
    expand = grid.expand
    curtail = expand(solution.curtail)
    shed = expand(solution.shed)
    battery = expand(solution.charge - solution.discharge)
    net = expand(solution.grid_import - solution.grid_export)
    soc_end = solution.soc
    soc_begin = np.concatenate([[model.battery_energy0_kwh], soc_end[:-1]])
    within = (np.arange(grid.slots) - expand(grid.first.astype(np.float64)) + 1) / expand(
        grid.length.astype(np.float64)
    )
    soc = expand(soc_begin) + (expand(soc_end) - expand(soc_begin)) * within
    cars = [
        grid.duty_cycle(solution.ev_power[v], slots.plugged[v], minimum)
        for v, minimum in enumerate(slots.minimums)
    ]
    jobs = list(job_slots)

    def tidy(values: FloatArray) -> list[float]:
        rounded = np.round(values, 6)
        return [0.0 if r == 0 else float(r) for r in rounded.tolist()]

    pv = (slots.pv - curtail).tolist()
    columns = (
        pv,
        slots.critical.tolist(),
        slots.flexible.tolist(),
        tidy(shed),
        tidy(battery),
        soc.tolist(),
        tidy(net),
        tidy(curtail),
        slots.imports.tolist(),
        slots.feed_ins.tolist(),
    )
    car_rows = list(zip(*(tidy(c) for c in cars), strict=True)) if cars else None
    job_rows = list(zip(*(tidy(j) for j in jobs), strict=True)) if jobs else None
    return tuple(
        PlanStep(
            start=slots.starts[k],
            pv_kw=row[0],
            critical_load_kw=row[1],
            flexible_load_kw=row[2],
            shed_kw=row[3],
            battery_kw=row[4],
            battery_soc_kwh=row[5],
            vehicle_kw=car_rows[k] if car_rows is not None else (),
            grid_kw=row[6],
            curtailed_kw=row[7],
            import_price=row[8],
            feed_in_price=row[9],
            deferrable_kw=job_rows[k] if job_rows is not None else (),
        )
        for k, row in enumerate(zip(*columns, strict=True))
    )


def _deferrable_models(
    snapshot: SiteSnapshot, config: SiteConfig, now: datetime, horizon: int, grid: TimeGrid
) -> tuple[list[DeferrableModel], list[_DeferrableJob], FloatArray | None]:
    """The model of each pending job; a non-interruptible run under way is a fixed load.

    Windows are worked out per 15-minute slot, then put on the model's grid: an
    interruptible job may use the share of each step inside its window; a run may start
    at a step's beginning if it may start in any of its slots (beyond the first hours
    that is a planning approximation of up to 45 minutes: such a start is never executed
    before the next plans, made at 15-minute resolution, look at it again)."""
    models: list[DeferrableModel] = []
    jobs: list[_DeferrableJob] = []
    fixed = np.zeros(horizon)
    step_starts = np.array([(k * STEP).total_seconds() / 3600.0 for k in range(horizon)])
    end_h = horizon * STEP_HOURS
    for i, state in enumerate(snapshot.deferrables):
        cfg = config.deferrable(state.load_id)
        if cfg is None:
            continue
        left = max(0.0, cfg.energy_kwh - state.delivered_kwh)
        if left <= 1e-6:
            jobs.append(_DeferrableJob(i, cfg, state, None))
            continue
        earliest_h = (cfg.earliest_start - now).total_seconds() / 3600.0
        deadline_h = (cfg.deadline - now).total_seconds() / 3600.0
        profile = _run_profile(cfg.power_kw, left)
        if not cfg.interruptible and state.started:
            end = min(horizon, len(profile))
            fixed[:end] += profile[:end]
            jobs.append(_DeferrableJob(i, cfg, state, None))
            continue
        if cfg.interruptible:
            # Share of each step inside [earliest, deadline].
            inside = np.clip(
                np.minimum(step_starts + STEP_HOURS, deadline_h)
                - np.maximum(step_starts, earliest_h),
                0.0,
                STEP_HOURS,
            )
            after = max(0.0, deadline_h - max(end_h, earliest_h))
            needed = max(0.0, left - cfg.power_kw * after)
            model = DeferrableModel(
                power_kw=cfg.power_kw,
                energy_kwh=min(needed, float(np.sum(inside)) * cfg.power_kw),
                allowed=grid.mean(inside / STEP_HOURS),
                interruptible=True,
            )
        else:
            length = len(profile)
            run_h = length * STEP_HOURS
            starts = np.arange(horizon)
            ok = (
                (step_starts >= earliest_h - 1e-9)
                & (step_starts + cfg.run_hours <= deadline_h + 1e-9)
                & (starts + length <= horizon)
            )
            must_start = deadline_h <= end_h + 1e-9
            if not np.any(ok) and must_start:
                # Too late to finish in time: start as soon as allowed, finish late.
                first = int(np.argmax(step_starts >= earliest_h - 1e-9))
                ok[min(first, max(0, horizon - length))] = True
            del run_h
            model = DeferrableModel(
                power_kw=cfg.power_kw,
                energy_kwh=left,
                allowed=(grid.mean(ok.astype(np.float64)) > 0).astype(np.float64),
                interruptible=False,
                profile_kw=profile,
                must_start=must_start,
            )
        jobs.append(_DeferrableJob(i, cfg, state, len(models)))
        models.append(model)
    return models, jobs, (grid.mean(fixed) if np.any(fixed) else None)


def _run_profile(power_kw: float, energy_kwh: float) -> FloatArray:
    """Average power per step of a run at `power_kw` until `energy_kwh` is delivered."""
    full = int(energy_kwh // (power_kw * STEP_HOURS) + 1e-9)
    rest = energy_kwh - full * power_kw * STEP_HOURS
    profile = [power_kw] * full
    if rest > 1e-6:
        profile.append(rest / STEP_HOURS)
    return np.array(profile, dtype=np.float64)


def _job_power(
    jobs: list[_DeferrableJob], model: SiteModel, solution: Solution, grid: TimeGrid
) -> FloatArray:
    """Each job's power per model step."""
    out = np.zeros((len(jobs), model.steps))
    for j, job in enumerate(jobs):
        if job.model is not None:
            out[j] = solution.deferrable_power[job.model]
        elif not job.config.interruptible and job.state.started:
            left = max(0.0, job.config.energy_kwh - job.state.delivered_kwh)
            profile = _run_profile(job.config.power_kw, left) if left > 1e-6 else np.empty(0)
            per_slot = np.zeros(grid.slots)
            end = min(grid.slots, len(profile))
            per_slot[:end] = profile[:end]
            out[j] = grid.mean(per_slot)
    return out


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
    jobs: list[_DeferrableJob],
    job_slots: FloatArray,
    slots: _Slots,
    actions: SiteActions,
    cost: float,
    solve_ms: float,
    config: SiteConfig,
) -> str:
    """A few sentences an operator (or the LLM) can read: the horizon, each car, now."""
    dt = model.durations
    hours = float(np.sum(dt))
    quality = (
        "optimal plan" if solution.status == "optimal" else "best plan found before the time limit"
    )
    if solution.mip_gap is not None and solution.mip_gap > 1e-6:
        quality += f" (within {solution.mip_gap * 100:.2f} % of the bound)"
    parts = [
        f"{quality} over {hours:g} h ({model.steps} steps) in {solve_ms:.0f} ms; "
        f"expected net energy cost {cost:.2f}"
    ]
    for session in sessions:
        state = session.state
        if not state.connected:
            parts.append(f"{state.vehicle_id}: not plugged in")
            continue
        energy = float(np.sum(solution.ev_power[session.index] * dt))
        shortfall = float(np.sum(solution.ev_short[session.index]))
        line = (
            f"{state.vehicle_id}: {energy:.1f} kWh planned before "
            f"{session.departure.astimezone(config.tz):%a %H:%M} "
            f"(target {session.target_kwh:.1f} kWh, now {state.state_of_charge_kwh:.1f} kWh)"
        )
        if shortfall > 1e-3:
            line += f"; target NOT reachable, short by {shortfall:.1f} kWh"
        parts.append(line)
    for j, job in enumerate(jobs):
        running = np.flatnonzero(job_slots[j] > 1e-6)
        if job.model is None and not running.size:
            parts.append(f"{job.config.load_id}: done")
            continue
        when = (
            f"runs from {slots.starts[int(running[0])].astimezone(config.tz):%a %H:%M} "
            f"({running.size * STEP_HOURS:g} h of 15-minute steps)"
            if running.size
            else "not scheduled in this horizon"
        )
        parts.append(
            f"{job.config.load_id}: {when}, deadline "
            f"{job.config.deadline.astimezone(config.tz):%a %H:%M}"
        )
    imported = float(np.sum(solution.grid_import * dt))
    exported = float(np.sum(solution.grid_export * dt))
    parts.append(
        f"grid: {imported:.1f} kWh import (peak {kw(float(np.max(solution.grid_import)))}, "
        f"limit {kw(model.import_limit_kw)}), {exported:.1f} kWh export"
    )
    parts.append(
        f"battery {model.battery_energy0_kwh:.1f} -> {float(solution.soc[-1]):.1f} kWh, "
        f"range {float(np.min(solution.soc)):.1f}-{float(np.max(solution.soc)):.1f} kWh"
    )
    shed = float(np.sum(solution.shed * dt))
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
