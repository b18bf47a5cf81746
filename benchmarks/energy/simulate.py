"""Replay one week through a policy (or the perfect-foresight schedule) and measure it.

The plant: every 15-minute step uses the step's true average PV and load. Each policy
sees the current step's measured PV and load (in the field they run every minute, so
they follow the actual within the step) and what a controller knows at that moment: the
cars plugged in with their departure and target, the appliance jobs set up so far. Only
the MPC policies look further ahead, with forecasts built from the history before the
step. Actions are executed as given, clamped to physics (SoC limits, an appliance that
has started keeps running); the grid takes the rest, PV above the export limit is
curtailed.

Perfect foresight: the same MILP over the whole week with every PV/load value, trip and
job known in advance, its schedule executed by the same plant.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from benchmarks.energy.scenario import WEEK_STEPS, Dataset, Job, Week, step_time
from ev_charging_system.energy.forecasting import Forecaster, ForecastTracker
from ev_charging_system.energy.history import slot_index
from ev_charging_system.energy.models import (
    STEP,
    STEP_HOURS,
    STEPS_PER_DAY,
    BatteryState,
    DeferrableLoadConfig,
    DeferrableLoadState,
    Forecast,
    LoadState,
    Plan,
    SiteConfig,
    SiteSnapshot,
    SolarState,
    Tariff,
    VehicleState,
)
from ev_charging_system.energy.physics import (
    battery_charge_limit_kw,
    battery_discharge_limit_kw,
    battery_soc_after,
)
from ev_charging_system.energy.policies import PlanningPolicy
from ev_charging_system.energy.policies.milp_model import (
    DeferrableModel,
    SiteModel,
    VehicleModel,
    solve,
)
from ev_charging_system.energy.tariffs import price_arrays

SHORTFALL_COST_PER_KWH = 1.0  # EV or appliance energy missing at its deadline
# How energy left in storage at the week's end is valued (see Plant.finish):
# "replacement" (the default) or "mean-import" (the benchmark before 2026-12: the week's
# mean import price, nothing above a car's target; kept to compare with old results).
END_VALUE = {"rule": "replacement"}


@dataclass(slots=True)
class Metrics:
    cost: float = 0.0  # see Plant.finish
    grid_cost: float = 0.0
    import_cost: float = 0.0
    import_kwh: float = 0.0
    export_revenue: float = 0.0
    battery_end_value: float = 0.0  # value credited for the battery's energy gained
    ev_end_value: float = 0.0  # value credited for the cars' energy gained (up to targets)
    export_kwh: float = 0.0
    peak_import_kw: float = 0.0
    ev_short_kwh: float = 0.0
    ev_beyond_target_kwh: float = 0.0  # energy in cars above their target at departure
    job_short_kwh: float = 0.0
    battery_throughput_kwh: float = 0.0
    import_limit_violations: int = 0
    plans: int = 0
    plans_below_min: int = 0  # plans with a charger between 0 and its minimum, any step
    simultaneous_steps: int = 0  # plan steps importing+exporting / charging+discharging
    statuses: Counter[str] = field(default_factory=Counter)
    solve_ms: list[float] = field(default_factory=list)
    solve_ms_24h: list[float] = field(default_factory=list)  # plans of a 24 h horizon
    forecast: dict[str, float | None] = field(default_factory=dict)
    trace: list[dict[str, float]] = field(default_factory=list)  # one week's steps

    def add(self, other: Metrics) -> None:
        for name in (
            "cost",
            "grid_cost",
            "import_cost",
            "import_kwh",
            "export_revenue",
            "battery_end_value",
            "ev_end_value",
            "export_kwh",
            "ev_short_kwh",
            "ev_beyond_target_kwh",
            "job_short_kwh",
            "battery_throughput_kwh",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.peak_import_kw = max(self.peak_import_kw, other.peak_import_kw)
        for name in ("import_limit_violations", "plans", "plans_below_min", "simultaneous_steps"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.statuses.update(other.statuses)
        self.solve_ms.extend(other.solve_ms)
        self.solve_ms_24h.extend(other.solve_ms_24h)


@dataclass(frozen=True, slots=True)
class Step:
    battery_kw: float
    ev_kw: dict[str, float]
    shed_kw: float
    job_kw: dict[str, float]


class Plant:
    """The physical site during one replayed week."""

    def __init__(self, week: Week, tariff: Tariff, dataset: Dataset) -> None:
        self.week = week
        self.dataset = dataset
        self.config = dataset.config
        self.imports, self.feed_ins = price_arrays(tariff, week.start, WEEK_STEPS, self.config.tz)
        # Per kWh of storage input, what energy left at the end is worth: see finish.
        legacy = END_VALUE["rule"] == "mean-import"
        self.value = float(np.mean(self.imports) if legacy else np.min(self.imports))
        self.extra_value = 0.0 if legacy else max(0.0, float(np.min(self.feed_ins)))
        self.plugged = {v.vehicle_id: week.plugged(v.vehicle_id) for v in self.config.vehicles}
        self.battery_soc = dataset.initial_battery_kwh
        self.ev_soc = dict(dataset.initial_ev_kwh)
        self.delivered = {job.load_id: 0.0 for job in week.jobs}
        self.started = {job.load_id: False for job in week.jobs}
        self.metrics = Metrics()
        self._departures = {(vid, t.depart): t for vid, trips in week.trips.items() for t in trips}
        # Per executed step: what happened (diagnose.py compares schedules with it).
        self.trace: list[dict[str, float]] = []

    def actual(self, k: int) -> tuple[float, float, float]:
        i = self.week.history_steps + k
        return (
            float(self.week.pv_kw[i]),
            float(self.week.critical_kw[i]),
            float(self.week.flexible_kw[i]),
        )

    def visible_jobs(self, k: int) -> list[Job]:
        """Jobs set up by now and not finished (or past their deadline)."""
        return [
            job
            for job in self.week.jobs
            if job.earliest <= k < job.deadline
            and self.delivered[job.load_id] < job.energy_kwh - 1e-6
        ]

    def config_at(self, k: int) -> SiteConfig:
        jobs = tuple(
            DeferrableLoadConfig(
                load_id=job.load_id,
                power_kw=job.power_kw,
                energy_kwh=job.energy_kwh,
                earliest_start=step_time(self.week, job.earliest),
                deadline=step_time(self.week, job.deadline),
                interruptible=job.interruptible,
            )
            for job in self.visible_jobs(k)
        )
        return SiteConfig(
            solar=self.config.solar,
            battery=self.config.battery,
            grid=self.config.grid,
            load=self.config.load,
            vehicles=self.config.vehicles,
            timezone=self.config.timezone,
            horizon_hours=self.config.horizon_hours,
            circuits=self.config.circuits,
            deferrable_loads=jobs,
        )

    def snapshot(self, k: int) -> SiteSnapshot:
        pv, critical, flexible = self.actual(k)
        at = step_time(self.week, k)
        vehicles = []
        for cfg in self.config.vehicles:
            connected = bool(self.plugged[cfg.vehicle_id][k])
            departure = (
                step_time(self.week, self.week.next_departure(cfg.vehicle_id, k))
                if connected
                else None
            )
            vehicles.append(
                VehicleState(
                    vehicle_id=cfg.vehicle_id,
                    connected=connected,
                    state_of_charge_kwh=self.ev_soc[cfg.vehicle_id],
                    capacity_kwh=cfg.battery_capacity_kwh,
                    departure=departure,
                    target_soc_kwh=cfg.target_energy_kwh if connected else None,
                )
            )
        jobs = tuple(
            DeferrableLoadState(
                load_id=job.load_id,
                delivered_kwh=self.delivered[job.load_id],
                started=self.started[job.load_id],
            )
            for job in self.visible_jobs(k)
        )
        return SiteSnapshot(
            at=at,
            solar=SolarState(pv, at),
            battery=BatteryState(self.battery_soc, self.config.battery.capacity_kwh),
            vehicles=tuple(vehicles),
            load=LoadState(critical, flexible),
            deferrables=jobs,
        )

    def execute(self, k: int, step: Step) -> None:
        config = self.config
        dt = STEP_HOURS
        m = self.metrics
        for cfg in config.vehicles:
            trip = self._departures.get((cfg.vehicle_id, k))
            if trip is not None:
                self._depart(cfg.vehicle_id, trip.energy_kwh)
        pv, critical, flexible = self.actual(k)
        battery = min(
            max(step.battery_kw, -battery_discharge_limit_kw(config.battery, self.battery_soc, dt)),
            battery_charge_limit_kw(config.battery, self.battery_soc, dt),
        )
        ev_total = 0.0
        executed: dict[str, float] = {}
        for cfg in config.vehicles:
            vid = cfg.vehicle_id
            ev = 0.0
            if self.plugged[vid][k]:
                headroom = max(0.0, cfg.max_energy_kwh - self.ev_soc[vid]) / (
                    cfg.charge_efficiency * dt
                )
                ev = min(max(step.ev_kw.get(vid, 0.0), 0.0), cfg.max_charge_kw, headroom)
            self.ev_soc[vid] += ev * cfg.charge_efficiency * dt
            ev_total += ev
            executed[vid] = ev
        jobs_total = 0.0
        for job in self.visible_jobs(k):
            left = job.energy_kwh - self.delivered[job.load_id]
            wanted = step.job_kw.get(job.load_id, 0.0)
            if self.started[job.load_id] and not job.interruptible:
                wanted = job.power_kw  # an appliance programme cannot be paused
            power = min(max(wanted, 0.0), job.power_kw, left / dt)
            if power > 1e-9:
                self.started[job.load_id] = True
            self.delivered[job.load_id] += power * dt
            jobs_total += power
        for job in self.week.jobs:
            if job.deadline == k + 1:
                m.job_short_kwh += max(0.0, job.energy_kwh - self.delivered[job.load_id])
        shed = min(max(step.shed_kw, 0.0), flexible)
        grid = critical + flexible - shed + battery + ev_total + jobs_total - pv
        export_limit = config.grid.export_limit_kw
        if export_limit is not None and grid < -export_limit:
            grid = -export_limit
        imported, exported = max(grid, 0.0), max(-grid, 0.0)
        if imported > config.grid.import_limit_kw + 1e-6:
            m.import_limit_violations += 1
        m.grid_cost += (imported * self.imports[k] - exported * self.feed_ins[k]) * dt
        m.import_kwh += imported * dt
        m.import_cost += imported * self.imports[k] * dt
        m.export_kwh += exported * dt
        m.export_revenue += exported * self.feed_ins[k] * dt
        m.peak_import_kw = max(m.peak_import_kw, imported)
        m.battery_throughput_kwh += abs(battery) * dt
        self.battery_soc = battery_soc_after(config.battery, self.battery_soc, battery, dt)
        row = {
            "import_kw": imported,
            "export_kw": exported,
            "battery_kw": battery,
            "battery_soc": self.battery_soc,
            "pv_kw": pv,
            "load_kw": critical + flexible - shed + jobs_total,
            "price": float(self.imports[k]),
        }
        for cfg in config.vehicles:
            row[f"{cfg.vehicle_id}_kw"] = executed[cfg.vehicle_id]
            row[f"{cfg.vehicle_id}_soc"] = self.ev_soc[cfg.vehicle_id]
            row[f"{cfg.vehicle_id}_plugged"] = float(self.plugged[cfg.vehicle_id][k])
        self.trace.append(row)

    def _depart(self, vehicle_id: str, trip_kwh: float) -> None:
        cfg = self.config.vehicle(vehicle_id)
        assert cfg is not None
        target = cfg.target_energy_kwh
        soc = self.ev_soc[vehicle_id]
        self.metrics.ev_short_kwh += max(0.0, target - soc)
        self.metrics.ev_beyond_target_kwh += max(0.0, soc - target)
        self.ev_soc[vehicle_id] = max(0.0, soc - trip_kwh)

    def finish(self) -> Metrics:
        """Cost = grid cost + 1/kWh missing at deadlines - value of stored energy gained.

        Stored energy is valued at what it would cost to put it back, a lower bound of
        what it saves later: the battery's and the cars' up to their targets at the
        week's cheapest import price (the site needs that energy and could always buy it
        then), energy in a car above its target at the lowest feed-in price (it saves
        later charging, which might have come from surplus PV). Battery energy counts x
        its discharge efficiency, car energy / its charging efficiency (what it saves).
        A higher price (the old rule: the week's mean import price) lets hindsight buy
        energy at the night price only to be credited more for it at the week's end.
        """
        m = self.metrics
        battery_delta = (self.battery_soc - self.dataset.initial_battery_kwh) * (
            self.config.battery.one_way_efficiency
        )
        ev_value = 0.0
        for cfg in self.config.vehicles:
            target = cfg.target_energy_kwh
            first, last = self.dataset.initial_ev_kwh[cfg.vehicle_id], self.ev_soc[cfg.vehicle_id]
            core = min(last, target) - min(first, target)
            extra = max(0.0, last - target) - max(0.0, first - target)
            ev_value += (self.value * core + self.extra_value * extra) / cfg.charge_efficiency
        shortfall = (m.ev_short_kwh + m.job_short_kwh) * SHORTFALL_COST_PER_KWH
        m.battery_end_value = self.value * battery_delta
        m.ev_end_value = ev_value
        m.cost = m.grid_cost + shortfall - m.battery_end_value - m.ev_end_value
        m.trace = self.trace
        return m


ForecastFn = Callable[[Week, int, SiteConfig], Forecast]


def forecaster_for(dataset: Dataset) -> tuple[ForecastFn, ForecastTracker]:
    """The project's forecaster, fed only with the history before each step."""
    forecaster = Forecaster(dataset.config)
    tracker = ForecastTracker(days=7)

    def forecast(week: Week, k: int, config: SiteConfig) -> Forecast:
        i = week.history_steps + k
        at = step_time(week, k)
        if k > 0:
            slot = slot_index(at) - 1
            tracker.observe(
                slot,
                float(week.pv_kw[i - 1]),
                float(week.critical_kw[i - 1] + week.flexible_kw[i - 1]),
            )
        result = forecaster.forecast(
            at, config.horizon_steps, week.pv_kw[:i], week.critical_kw[:i], week.flexible_kw[:i]
        )
        tracker.record(result)
        return result

    return forecast, tracker


def persistence_forecast(week: Week, k: int, config: SiteConfig) -> Forecast:
    """ "Tomorrow = today": the last 24 h of PV and load, repeated."""
    i = week.history_steps + k
    n = config.horizon_steps
    window = slice(i - STEPS_PER_DAY, i)
    repeat = -(-n // STEPS_PER_DAY)

    def series(values: np.ndarray) -> tuple[float, ...]:
        return tuple(np.tile(values[window], repeat)[:n].tolist())

    return Forecast(
        step_time(week, k),
        series(week.pv_kw),
        series(week.critical_kw),
        series(week.flexible_kw),
        "persistence: the last 24 h repeated",
    )


def oracle_forecast(week: Week, k: int, config: SiteConfig) -> Forecast:
    """What PV and load will really be over the next horizon: no controller has this; it
    shows how much of the gap to perfect foresight is forecast error (the rest is the
    trips and jobs nobody announced yet, and the end of the week)."""
    i = week.history_steps + k
    n = config.horizon_steps

    def series(values: np.ndarray) -> tuple[float, ...]:
        ahead = values[i : i + n]
        if len(ahead) < n:  # past the data's end: its last day again
            ahead = np.concatenate([ahead, np.tile(values[-STEPS_PER_DAY:], 2)])[:n]
        return tuple(ahead.tolist())

    return Forecast(
        step_time(week, k),
        series(week.pv_kw),
        series(week.critical_kw),
        series(week.flexible_kw),
        "oracle: the real PV and load ahead",
    )


def _empty_forecast(week: Week, k: int, config: SiteConfig) -> Forecast:
    return Forecast(step_time(week, k), (), (), (), "not used")


def run_policy(
    policy: PlanningPolicy,
    week: Week,
    tariff: Tariff,
    dataset: Dataset,
    forecast: ForecastFn | None,
) -> Metrics:
    plant = Plant(week, tariff, dataset)
    m = plant.metrics
    for k in range(WEEK_STEPS):
        snapshot = plant.snapshot(k)
        config = plant.config_at(k)
        prediction = (forecast or _empty_forecast)(week, k, config)
        started = time.perf_counter()
        plan = policy.plan(snapshot, prediction, tariff, config)
        elapsed = (time.perf_counter() - started) * 1000.0
        _score_plan(m, plan, config, elapsed)
        actions = plan.actions
        plant.execute(
            k,
            Step(
                battery_kw=actions.battery.signed_kw,
                ev_kw={v.vehicle_id: v.signed_kw for v in actions.vehicles},
                shed_kw=actions.load.shed_kw,
                job_kw={d.load_id: d.power_kw for d in actions.deferrables},
            ),
        )
    return plant.finish()


def _score_plan(m: Metrics, plan: Plan, config: SiteConfig, elapsed_ms: float) -> None:
    m.plans += 1
    m.solve_ms.append(elapsed_ms)
    if len(plan.steps) == config.horizon_steps:
        m.solve_ms_24h.append(elapsed_ms)
    m.statuses[plan.solver_status or plan.policy] += 1
    m.simultaneous_steps += plan.simultaneous_steps
    minimums = []
    for state in plan.snapshot.vehicles:
        cfg = config.vehicle(state.vehicle_id)
        minimums.append(cfg.min_charge_kw if cfg else 0.0)
    m.plans_below_min += int(_below_min(plan, minimums))


def _below_min(plan: Plan, minimums: list[float]) -> bool:
    """Any step of the schedule with a charger between 0 and its minimum (departure-step
    shares scaled: a car leaving half-way through a step may average half the minimum)."""
    for v, state in enumerate(plan.snapshot.vehicles):
        departure = state.departure
        for step in plan.steps:
            power = step.vehicle_kw[v]
            minimum = minimums[v]
            if departure is not None:
                share = (departure - step.start) / STEP
                if 0 < share < 1:
                    minimum *= share
            if 1e-6 < power < minimum - 1e-6:
                return True
    return False


def run_perfect_foresight(
    week: Week,
    tariff: Tariff,
    dataset: Dataset,
    time_limit_s: float,
    end_state: dict[str, float] | None = None,
) -> tuple[Metrics, str, float | None]:
    """The optimum with hindsight: one MILP over the whole week with the true data.

    `end_state` (diagnosis only): the least energy the battery ("battery") and each car
    (by id) must hold at the week's end, e.g. a policy's; the cost difference to the free
    optimum is then what the choice of end state is worth, the rest is operation."""
    plant = Plant(week, tariff, dataset)
    config = dataset.config
    h = week.history_steps
    battery = config.battery
    value = plant.value
    steps = np.arange(WEEK_STEPS)
    vehicles = []
    circuits = {c.circuit_id: i for i, c in enumerate(config.circuits)}
    for cfg in config.vehicles:
        trip = np.zeros(WEEK_STEPS)
        deadlines = []
        for t in week.trips[cfg.vehicle_id]:
            if 0 < t.depart < WEEK_STEPS:
                trip[t.depart] = t.energy_kwh
                deadlines.append((t.depart - 1, cfg.target_energy_kwh))
        if end_state is not None and cfg.vehicle_id in end_state:
            deadlines.append((WEEK_STEPS - 1, end_state[cfg.vehicle_id] - 1e-6))
        plugged = plant.plugged[cfg.vehicle_id]
        vehicles.append(
            VehicleModel(
                available_kw=np.where(plugged, cfg.max_charge_kw, 0.0),
                min_kw=cfg.min_charge_kw,
                energy0_kwh=dataset.initial_ev_kwh[cfg.vehicle_id],
                max_energy_kwh=cfg.max_energy_kwh,
                efficiency=cfg.charge_efficiency,
                trip_kwh=trip,
                deadlines=tuple(deadlines),
                core_cap_kwh=cfg.target_energy_kwh,
                core_value=value / cfg.charge_efficiency,
                extra_value=plant.extra_value / cfg.charge_efficiency,
                circuit=circuits.get(cfg.circuit_id) if cfg.circuit_id else None,
            )
        )
    deferrables = []
    for job in week.jobs:
        deadline = min(job.deadline, WEEK_STEPS)
        if job.interruptible:
            allowed = ((steps >= job.earliest) & (steps < deadline)).astype(float)
            deferrables.append(
                DeferrableModel(job.power_kw, job.energy_kwh, allowed, interruptible=True)
            )
        else:
            full = int(job.energy_kwh // (job.power_kw * STEP_HOURS) + 1e-9)
            rest = job.energy_kwh - full * job.power_kw * STEP_HOURS
            profile = np.array([job.power_kw] * full + ([rest / STEP_HOURS] if rest > 1e-6 else []))
            ok = (steps >= job.earliest) & (steps + len(profile) <= deadline)
            deferrables.append(
                DeferrableModel(
                    job.power_kw,
                    job.energy_kwh,
                    ok.astype(float),
                    interruptible=False,
                    profile_kw=profile,
                    must_start=job.deadline <= WEEK_STEPS,
                )
            )
    model = SiteModel(
        dt_h=STEP_HOURS,
        pv_kw=week.pv_kw[h : h + WEEK_STEPS].copy(),
        critical_kw=week.critical_kw[h : h + WEEK_STEPS].copy(),
        flexible_kw=week.flexible_kw[h : h + WEEK_STEPS].copy(),
        import_price=plant.imports,
        feed_in_price=plant.feed_ins,
        battery_energy0_kwh=dataset.initial_battery_kwh,
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
        short_penalty=SHORTFALL_COST_PER_KWH,
        battery_wear_cost=0.0,
        # Exactly the benchmark's valuation of what is left at the end of the week.
        battery_terminal_value=value * battery.one_way_efficiency,
        vehicles=tuple(vehicles),
        deferrables=tuple(deferrables),
        circuit_limits_kw=tuple(c.max_kw for c in config.circuits),
        battery_final_min_kwh=None if end_state is None else end_state["battery"] - 1e-6,
    )
    started = time.perf_counter()
    solution = solve(model, time_limit_s, exhaustive=True)
    elapsed_ms = (time.perf_counter() - started) * 1000.0
    if not solution.ok:
        raise RuntimeError(f"perfect foresight {solution.status}: {solution.message}")
    plant.metrics.solve_ms.append(elapsed_ms)
    ids = [cfg.vehicle_id for cfg in config.vehicles]
    for k in range(WEEK_STEPS):
        plant.execute(
            k,
            Step(
                battery_kw=float(solution.charge[k] - solution.discharge[k]),
                ev_kw={vid: float(solution.ev_power[v, k]) for v, vid in enumerate(ids)},
                shed_kw=float(solution.shed[k]),
                job_kw={
                    job.load_id: float(solution.deferrable_power[j, k])
                    for j, job in enumerate(week.jobs)
                },
            ),
        )
    return plant.finish(), solution.status, solution.mip_gap
