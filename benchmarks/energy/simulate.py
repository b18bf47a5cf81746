"""Replay one week through a policy (or the perfect-foresight schedule) and measure it.

The plant: every 15-minute step uses the step's true average PV and load. Each policy
sees the current step's measured PV and load (in the field they run every minute, so
they follow the actual within the step); only `optimize` looks further ahead, with its
own forecasts built from the history before the step. Actions are executed as given,
clamped to physics (battery/vehicle SoC limits); the grid takes the rest, PV above the
export limit is curtailed.

Perfect foresight: the same LP over the whole week, every PV/load value and every EV
trip known in advance, its schedule executed by the same plant.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from benchmarks.energy.scenario import (
    INITIAL_BATTERY_SOC_KWH,
    INITIAL_EV_SOC_KWH,
    WEEK_STEPS,
    Week,
    step_time,
)
from ev_charging_system.energy.forecast import build_forecast
from ev_charging_system.energy.models import (
    STEP_HOURS,
    BatteryState,
    Forecast,
    LoadState,
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
from ev_charging_system.energy.policies.milp_model import SiteModel, VehicleModel, solve
from ev_charging_system.energy.tariffs import price_arrays


@dataclass(slots=True)
class Metrics:
    cost: float = 0.0  # grid cost net of feed-in and of the change in stored energy
    grid_cost: float = 0.0
    import_kwh: float = 0.0
    export_kwh: float = 0.0
    peak_import_kw: float = 0.0
    pv_kwh: float = 0.0
    curtailed_kwh: float = 0.0
    shed_kwh: float = 0.0
    ev_short_kwh: float = 0.0  # at departures that were reachable
    ev_short_unreachable_kwh: float = 0.0
    unreachable_departures: int = 0
    battery_throughput_kwh: float = 0.0
    import_limit_violations: int = 0
    fallbacks: int = 0
    solve_ms: list[float] = field(default_factory=list)

    def add(self, other: Metrics) -> None:
        for name in (
            "cost",
            "grid_cost",
            "import_kwh",
            "export_kwh",
            "pv_kwh",
            "curtailed_kwh",
            "shed_kwh",
            "ev_short_kwh",
            "ev_short_unreachable_kwh",
            "battery_throughput_kwh",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.peak_import_kw = max(self.peak_import_kw, other.peak_import_kw)
        self.unreachable_departures += other.unreachable_departures
        self.import_limit_violations += other.import_limit_violations
        self.fallbacks += other.fallbacks
        self.solve_ms.extend(other.solve_ms)

    @property
    def self_consumption(self) -> float:
        """Share of the PV energy available that was used on site (not exported/curtailed)."""
        if self.pv_kwh <= 0:
            return 0.0
        return (self.pv_kwh - self.export_kwh - self.curtailed_kwh) / self.pv_kwh


@dataclass(frozen=True, slots=True)
class Step:
    battery_kw: float
    ev_kw: float
    shed_kw: float


def stored_energy_value(tariff: Tariff, week: Week, config: SiteConfig) -> float:
    """Price at which end-of-week stored energy is credited: the week's mean import price."""
    imports, _ = price_arrays(tariff, week.start, WEEK_STEPS, config.tz)
    return float(np.mean(imports))


class Plant:
    """The physical site during one replayed week."""

    def __init__(self, week: Week, tariff: Tariff, config: SiteConfig) -> None:
        self.week = week
        self.config = config
        self.imports, self.feed_ins = price_arrays(tariff, week.start, WEEK_STEPS, config.tz)
        self.value = stored_energy_value(tariff, week, config)
        self.plugged = week.plugged()
        self.battery_soc = INITIAL_BATTERY_SOC_KWH
        self.ev_soc = INITIAL_EV_SOC_KWH
        self.metrics = Metrics()
        self._session_start_soc = self.ev_soc
        self._session_start = 0
        self._trips = {t.depart: t for t in week.trips}

    def actual(self, k: int) -> tuple[float, float, float]:
        i = self.week.history_steps + k
        return (
            float(self.week.pv_kw[i]),
            float(self.week.critical_kw[i]),
            float(self.week.flexible_kw[i]),
        )

    def snapshot(self, k: int) -> SiteSnapshot:
        pv, critical, flexible = self.actual(k)
        at = step_time(self.week, k)
        vehicle_cfg = self.config.vehicles[0]
        connected = bool(self.plugged[k])
        departure = step_time(self.week, self.week.next_departure(k)) if connected else None
        return SiteSnapshot(
            at=at,
            solar=SolarState(pv, at),
            battery=BatteryState(self.battery_soc, self.config.battery.capacity_kwh),
            vehicles=(
                VehicleState(
                    vehicle_id=vehicle_cfg.vehicle_id,
                    connected=connected,
                    state_of_charge_kwh=self.ev_soc,
                    capacity_kwh=vehicle_cfg.battery_capacity_kwh,
                    departure=departure,
                    target_soc_kwh=vehicle_cfg.target_energy_kwh if connected else None,
                ),
            ),
            load=LoadState(critical, flexible),
        )

    def execute(self, k: int, step: Step) -> None:
        config = self.config
        vehicle = config.vehicles[0]
        dt = STEP_HOURS
        m = self.metrics
        trip = self._trips.get(k)
        if trip is not None:
            self._depart(k, trip.energy_kwh)
        pv, critical, flexible = self.actual(k)
        battery = min(
            max(step.battery_kw, -battery_discharge_limit_kw(config.battery, self.battery_soc, dt)),
            battery_charge_limit_kw(config.battery, self.battery_soc, dt),
        )
        ev = 0.0
        if self.plugged[k]:
            headroom = max(0.0, vehicle.max_energy_kwh - self.ev_soc) / (
                vehicle.charge_efficiency * dt
            )
            ev = min(max(step.ev_kw, 0.0), vehicle.max_charge_kw, headroom)
        shed = min(max(step.shed_kw, 0.0), flexible)
        grid = critical + flexible - shed + battery + ev - pv
        curtailed = 0.0
        export_limit = config.grid.export_limit_kw
        if export_limit is not None and grid < -export_limit:
            curtailed = -export_limit - grid
            grid = -export_limit
        imported, exported = max(grid, 0.0), max(-grid, 0.0)
        if imported > config.grid.import_limit_kw + 1e-6:
            m.import_limit_violations += 1
        m.grid_cost += (imported * self.imports[k] - exported * self.feed_ins[k]) * dt
        m.import_kwh += imported * dt
        m.export_kwh += exported * dt
        m.peak_import_kw = max(m.peak_import_kw, imported)
        m.pv_kwh += pv * dt
        m.curtailed_kwh += curtailed * dt
        m.shed_kwh += shed * dt
        m.battery_throughput_kwh += abs(battery) * dt
        self.battery_soc = battery_soc_after(config.battery, self.battery_soc, battery, dt)
        self.ev_soc += ev * vehicle.charge_efficiency * dt

    def _depart(self, k: int, trip_kwh: float) -> None:
        vehicle = self.config.vehicles[0]
        target = vehicle.target_energy_kwh
        short = max(0.0, target - self.ev_soc)
        plugged_steps = int(np.sum(self.plugged[self._session_start : k]))
        reachable = (
            self._session_start_soc
            + plugged_steps * STEP_HOURS * vehicle.max_charge_kw * vehicle.charge_efficiency
            >= target - 1e-6
        )
        if reachable:
            self.metrics.ev_short_kwh += short
        else:
            self.metrics.unreachable_departures += 1
            self.metrics.ev_short_unreachable_kwh += short
        self.ev_soc = max(0.0, self.ev_soc - trip_kwh)
        back = next(t.back for t in self.week.trips if t.depart == k)
        self._session_start = back
        self._session_start_soc = self.ev_soc

    def finish(self) -> Metrics:
        """Credit the energy left in storage relative to the start (same for every policy)."""
        m = self.metrics
        battery_delta = (self.battery_soc - INITIAL_BATTERY_SOC_KWH) * (
            self.config.battery.one_way_efficiency
        )
        ev_delta = self.ev_soc - INITIAL_EV_SOC_KWH
        m.cost = m.grid_cost - self.value * (battery_delta + ev_delta)
        return m


def _empty_forecast(snapshot: SiteSnapshot) -> Forecast:
    return Forecast(snapshot.at, (), (), (), "not used")


def run_policy(
    policy: PlanningPolicy,
    week: Week,
    tariff: Tariff,
    config: SiteConfig,
    *,
    uses_forecast: bool,
) -> Metrics:
    plant = Plant(week, tariff, config)
    horizon = config.horizon_steps
    for k in range(WEEK_STEPS):
        snapshot = plant.snapshot(k)
        if uses_forecast:
            i = week.history_steps + k
            forecast = build_forecast(
                snapshot.at,
                horizon,
                week.pv_kw[:i],
                week.critical_kw[:i],
                week.flexible_kw[:i],
            )
        else:
            forecast = _empty_forecast(snapshot)
        started = time.perf_counter()
        plan = policy.plan(snapshot, forecast, tariff, config)
        plant.metrics.solve_ms.append((time.perf_counter() - started) * 1000.0)
        if plan.fell_back:
            plant.metrics.fallbacks += 1
        actions = plan.actions
        ev = actions.vehicles[0].signed_kw if actions.vehicles else 0.0
        plant.execute(k, Step(actions.battery.signed_kw, ev, actions.load.shed_kw))
    return plant.finish()


def run_perfect_foresight(week: Week, tariff: Tariff, config: SiteConfig) -> Metrics:
    """The optimum with hindsight: one LP over the whole week with the true data."""
    plant = Plant(week, tariff, config)
    h = week.history_steps
    vehicle = config.vehicles[0]
    battery = config.battery
    imports, feed_ins = plant.imports, plant.feed_ins
    trip = np.zeros(WEEK_STEPS)
    deadlines = []
    for t in week.trips:
        if 0 < t.depart < WEEK_STEPS:
            trip[t.depart] = t.energy_kwh
            deadlines.append((t.depart - 1, vehicle.target_energy_kwh))
    # Same terminal valuation as the receding-horizon planner uses.
    cheapest = float(np.min(imports))
    model = SiteModel(
        dt_h=STEP_HOURS,
        pv_kw=week.pv_kw[h : h + WEEK_STEPS].copy(),
        critical_kw=week.critical_kw[h : h + WEEK_STEPS].copy(),
        flexible_kw=week.flexible_kw[h : h + WEEK_STEPS].copy(),
        import_price=imports,
        feed_in_price=feed_ins,
        battery_energy0_kwh=INITIAL_BATTERY_SOC_KWH,
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
        short_penalty=5.0,
        battery_wear_cost=0.01,
        battery_terminal_value=0.9 * cheapest * battery.one_way_efficiency,
        vehicles=(
            VehicleModel(
                available_kw=np.where(plant.plugged, vehicle.max_charge_kw, 0.0),
                min_kw=vehicle.min_charge_kw,
                energy0_kwh=INITIAL_EV_SOC_KWH,
                max_energy_kwh=vehicle.max_energy_kwh,
                efficiency=vehicle.charge_efficiency,
                trip_kwh=trip,
                deadlines=tuple(deadlines),
                core_value=0.9 * cheapest / vehicle.charge_efficiency,
            ),
        ),
    )
    started = time.perf_counter()
    solution = solve(model, time_limit_s=120.0)
    elapsed_ms = (time.perf_counter() - started) * 1000.0
    if not solution.ok:
        raise RuntimeError(f"perfect foresight LP {solution.status}: {solution.message}")
    plant.metrics.solve_ms.append(elapsed_ms)
    for k in range(WEEK_STEPS):
        plant.execute(
            k,
            Step(
                float(solution.charge[k] - solution.discharge[k]),
                float(solution.ev_power[0, k]),
                float(solution.shed[k]),
            ),
        )
    return plant.finish()
