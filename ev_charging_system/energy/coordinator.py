"""The site coordinator: one loop that measures, plans, applies and records.

    tick():  advance simulated agents -> snapshot -> history -> forecast
             -> policy.plan(...) in a worker thread, under a wall-clock budget
                (timeout or exception: the rule's plan, marked as a fallback)
             -> setpoints to the agents, and to bound chargers through ChargerControl
             -> PlanRecorder.record(plan); the plan is kept as `last_plan`

Ticks run every `period` (start()/stop()) and on demand (await tick()); a lock makes
them strictly sequential, so an on-demand tick never interleaves with a periodic one.
Everything here runs on the application's event loop; only the policy runs elsewhere.

Manual setpoints (control_battery/control_vehicle/shed_load) act immediately and hold
until the next tick replaces them with the plan.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from ev_charging_system.energy.agents import (
    BatteryAgent,
    ChargerControl,
    DeferrableLoadAgent,
    LoadAgent,
    LoadSwitch,
    SolarAgent,
    VehicleAgent,
)
from ev_charging_system.energy.errors import (
    PhysicalLimitError,
    UnknownDeferrableLoadError,
    UnknownPolicyError,
    UnknownVehicleError,
)
from ev_charging_system.energy.forecast import persistence_forecast
from ev_charging_system.energy.forecasting import ForecastAccuracy, Forecaster, ForecastTracker
from ev_charging_system.energy.history import SlotHistory, slot_index
from ev_charging_system.energy.models import (
    BatteryState,
    CircuitConfig,
    DeferrableLoadConfig,
    DeferrableLoadState,
    Forecast,
    LoadState,
    Plan,
    PowerMode,
    SiteConfig,
    SiteSnapshot,
    SolarState,
    Tariff,
    VehicleConfig,
    VehicleState,
)
from ev_charging_system.energy.policies import DEFAULT_POLICY, PlanningPolicy, default_policies
from ev_charging_system.energy.policies.fallback import departure_aware_plan
from ev_charging_system.energy.recorder import PlanRecorder

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class CoordinatorSettings:
    period: timedelta = timedelta(seconds=60)
    # Wall-clock guard around a policy call; the optimiser's own time limit should be
    # well below it (the guard cannot stop a solver thread, only stop waiting for it).
    time_budget_s: float = 2.0
    charger_timeout_s: float = 10.0
    # Four weeks give the load profile a few of each day type (working day/Sat/Sun).
    history_days: int = 28
    # Integrate battery (and unbound vehicle) SoC between ticks from the setpoints. Off
    # when every SoC comes from real measurements.
    simulate: bool = True


@dataclass(frozen=True, slots=True)
class SiteStatus:
    at: datetime
    policy: str
    solar: SolarState
    battery: BatteryState
    vehicles: tuple[VehicleState, ...]
    load: LoadState
    last_plan: Plan | None


@dataclass(frozen=True, slots=True)
class EnergyHealth:
    running: bool  # the periodic loop is active
    policy: str
    last_tick_at: datetime | None
    last_fell_back: bool
    last_fallback_reason: str | None
    # How plans came about since start: optimal / time_limit_feasible / heuristic (the
    # optimiser had no schedule) / the reactive policies' names.
    plan_outcomes: Mapping[str, int] = dataclasses.field(default_factory=dict)
    forecast: ForecastAccuracy | None = None


@dataclass(frozen=True, slots=True)
class DeferrableLoadStatus:
    config: DeferrableLoadConfig
    state: DeferrableLoadState
    remaining_kwh: float
    done: bool


@dataclass(frozen=True, slots=True)
class Measurements:
    """Any subset of site measurements; None leaves a value as it is."""

    solar_production_kw: float | None = None
    critical_load_kw: float | None = None
    flexible_load_kw: float | None = None
    battery_soc_kwh: float | None = None
    battery_capacity_kwh: float | None = None
    battery_power_kw: float | None = None
    vehicle_id: str | None = None  # None: the first configured vehicle
    vehicle_connected: bool | None = None
    vehicle_soc_kwh: float | None = None
    vehicle_departure: datetime | None = None
    vehicle_target_soc_kwh: float | None = None


class Coordinator:
    def __init__(
        self,
        *,
        config: SiteConfig,
        tariff: Tariff,
        recorder: PlanRecorder,
        clock: Clock,
        policies: Mapping[str, PlanningPolicy] | None = None,
        policy: str = DEFAULT_POLICY,
        settings: CoordinatorSettings | None = None,
        charger: ChargerControl | None = None,
        load_switch: LoadSwitch | None = None,
    ) -> None:
        self.settings = settings or CoordinatorSettings()
        self._policies = dict(policies) if policies is not None else default_policies()
        if policy not in self._policies:
            raise UnknownPolicyError(policy, list(self._policies))
        self._policy = policy
        self._tariff = tariff
        self._recorder = recorder
        self._clock = clock
        self._charger = charger
        self._grid = config.grid
        self._load_config = config.load
        self._timezone = config.timezone
        self._horizon_hours = config.horizon_hours
        self.solar = SolarAgent(config.solar)
        self.battery = BatteryAgent(config.battery)
        self.load = LoadAgent()
        self._vehicles = {v.vehicle_id: self._new_vehicle_agent(v) for v in config.vehicles}
        self._circuits = config.circuits
        self._load_switch = load_switch
        self._deferrables = {
            d.load_id: DeferrableLoadAgent(d, load_switch) for d in config.deferrable_loads
        }
        self._history = SlotHistory(days=self.settings.history_days)
        self._forecaster = Forecaster(config)
        self._tracker = ForecastTracker()
        self._observed_slot: int | None = None
        self._outcomes: Counter[str] = Counter()
        self._lock = asyncio.Lock()
        self._last_plan: Plan | None = None
        self._task: asyncio.Task[None] | None = None

    def _rebind(self, agent: VehicleAgent, previous: tuple[str | None, int | None]) -> None:
        """Attach or detach the charger when a configuration change moves the vehicle."""
        station, connector = agent.config.charge_point_id, agent.config.connector_id
        if station is None or connector is None or self._charger is None:
            if agent.bound:
                agent.unbind()
        elif not agent.bound or previous != (station, connector):
            agent.bind(self._charger, station, connector)

    def _new_vehicle_agent(self, config: VehicleConfig) -> VehicleAgent:
        charger = self._charger if config.charge_point_id is not None else None
        return VehicleAgent(config, charger)

    # --------------------------------------------------------------------- configuration

    @property
    def config(self) -> SiteConfig:
        """The site configuration, assembled from the agents (they own their part)."""
        return SiteConfig(
            solar=self.solar.config,
            battery=self.battery.config,
            grid=self._grid,
            load=self._load_config,
            vehicles=tuple(agent.config for agent in self._vehicles.values()),
            timezone=self._timezone,
            horizon_hours=self._horizon_hours,
            circuits=self._circuits,
            deferrable_loads=tuple(agent.config for agent in self._deferrables.values()),
        )

    def reconfigure(self, config: SiteConfig) -> None:
        """Replace the site configuration; refused (unchanged) if a state contradicts it."""
        battery = self.battery.sample()
        if battery.state_of_charge_kwh > config.battery.capacity_kwh + 1e-9:
            raise PhysicalLimitError(
                "battery.capacity_kwh", "is below the battery's measured state of charge"
            )
        for vehicle_config in config.vehicles:
            existing = self._vehicles.get(vehicle_config.vehicle_id)
            soc = existing.sample().state_of_charge_kwh if existing else 0.0
            if soc > vehicle_config.battery_capacity_kwh + 1e-9:
                raise PhysicalLimitError(
                    "vehicle.battery_capacity_kwh",
                    f"is below {vehicle_config.vehicle_id}'s state of charge",
                )
        # Validated: now commit everything.
        self.solar.reconfigure(config.solar)
        self.battery.reconfigure(config.battery)
        vehicles: dict[str, VehicleAgent] = {}
        for vehicle_config in config.vehicles:
            agent = self._vehicles.get(vehicle_config.vehicle_id)
            if agent is None:
                agent = self._new_vehicle_agent(vehicle_config)
            else:
                previous = (agent.config.charge_point_id, agent.config.connector_id)
                agent.reconfigure(vehicle_config)
                self._rebind(agent, previous)
            vehicles[vehicle_config.vehicle_id] = agent
        self._vehicles = vehicles
        deferrables: dict[str, DeferrableLoadAgent] = {}
        for load in config.deferrable_loads:
            job = self._deferrables.get(load.load_id)
            if job is None:
                job = DeferrableLoadAgent(load, self._load_switch)
            else:
                job.reconfigure(load)
            deferrables[load.load_id] = job
        self._deferrables = deferrables
        self._circuits = config.circuits
        self._grid = config.grid
        self._load_config = config.load
        self._timezone = config.timezone
        self._horizon_hours = config.horizon_hours
        self._forecaster.reconfigure(config)

    # -------------------------------------------- vehicles, circuits, deferrable loads

    def upsert_vehicle(self, vehicle: VehicleConfig) -> VehicleConfig:
        """Add a vehicle (with its charge point and circuit) or replace its configuration."""
        current = self.config
        others = tuple(v for v in current.vehicles if v.vehicle_id != vehicle.vehicle_id)
        self.reconfigure(dataclasses.replace(current, vehicles=(*others, vehicle)))
        return vehicle

    def remove_vehicle(self, vehicle_id: str) -> None:
        current = self.config
        if current.vehicle(vehicle_id) is None:
            raise UnknownVehicleError(vehicle_id)
        kept = tuple(v for v in current.vehicles if v.vehicle_id != vehicle_id)
        self.reconfigure(dataclasses.replace(current, vehicles=kept))

    def set_circuits(self, circuits: tuple[CircuitConfig, ...]) -> tuple[CircuitConfig, ...]:
        """Replace the circuits (refused if a vehicle is on a circuit no longer listed)."""
        self.reconfigure(dataclasses.replace(self.config, circuits=circuits))
        return circuits

    def add_deferrable_load(self, load: DeferrableLoadConfig) -> DeferrableLoadStatus:
        """Add a job; refused if its id is taken or its deadline has already passed."""
        if load.load_id in self._deferrables:
            raise PhysicalLimitError("deferrable.load_id", f"{load.load_id!r} already exists")
        if load.deadline <= self._clock():
            raise PhysicalLimitError("deferrable.deadline", "is already in the past")
        current = self.config
        self.reconfigure(
            dataclasses.replace(current, deferrable_loads=(*current.deferrable_loads, load))
        )
        return self.deferrable_load(load.load_id)

    def remove_deferrable_load(self, load_id: str) -> None:
        """Forget a job (finished or not); a running appliance is switched off next tick."""
        if load_id not in self._deferrables:
            raise UnknownDeferrableLoadError(load_id)
        current = self.config
        kept = tuple(d for d in current.deferrable_loads if d.load_id != load_id)
        self.reconfigure(dataclasses.replace(current, deferrable_loads=kept))

    def restore_progress(self, jobs: tuple[DeferrableLoadState, ...]) -> None:
        """Progress of jobs stored before a restart; jobs no longer configured are ignored."""
        for state in jobs:
            agent = self._deferrables.get(state.load_id)
            if agent is not None:
                agent.restore(state)

    def deferrable_load(self, load_id: str) -> DeferrableLoadStatus:
        agent = self._deferrables.get(load_id)
        if agent is None:
            raise UnknownDeferrableLoadError(load_id)
        return DeferrableLoadStatus(agent.config, agent.sample(), agent.remaining_kwh, agent.done)

    def deferrable_loads(self) -> list[DeferrableLoadStatus]:
        return [self.deferrable_load(load_id) for load_id in self._deferrables]

    @property
    def tariff(self) -> Tariff:
        return self._tariff

    def set_tariff(self, tariff: Tariff) -> None:
        self._tariff = tariff

    @property
    def policy(self) -> str:
        return self._policy

    @property
    def policy_names(self) -> list[str]:
        return sorted(self._policies)

    def set_policy(self, name: str) -> None:
        if name not in self._policies:
            raise UnknownPolicyError(name, list(self._policies))
        self._policy = name

    # ----------------------------------------------------------------------------- agents

    @property
    def vehicles(self) -> list[VehicleAgent]:
        return list(self._vehicles.values())

    def vehicle(self, vehicle_id: str | None = None) -> VehicleAgent:
        """A vehicle agent by id; None means the first configured one (the seed's one car)."""
        if vehicle_id is None:
            if not self._vehicles:
                raise UnknownVehicleError("(none configured)")
            return next(iter(self._vehicles.values()))
        agent = self._vehicles.get(vehicle_id)
        if agent is None:
            raise UnknownVehicleError(vehicle_id)
        return agent

    def vehicle_at(self, charge_point_id: str, connector_id: int) -> VehicleAgent | None:
        """The vehicle agent bound to a connector (to route its meter values)."""
        for agent in self._vehicles.values():
            cfg = agent.config
            if cfg.charge_point_id == charge_point_id and cfg.connector_id == connector_id:
                return agent
        return None

    def bind_vehicle(
        self, vehicle_id: str, charger: ChargerControl, charge_point_id: str, connector_id: int
    ) -> None:
        self.vehicle(vehicle_id).bind(charger, charge_point_id, connector_id)

    def update_measurements(self, m: Measurements) -> SiteStatus:
        """Validate every given value first, then commit them all (never half-updated)."""
        now = self._clock()
        solar = (
            self.solar.validated_measurement(m.solar_production_kw, now)
            if m.solar_production_kw is not None
            else None
        )
        battery = (
            self.battery.validated_measurement(
                state_of_charge_kwh=m.battery_soc_kwh,
                capacity_kwh=m.battery_capacity_kwh,
                power_kw=m.battery_power_kw,
                at=now,
            )
            if any(
                x is not None
                for x in (m.battery_soc_kwh, m.battery_capacity_kwh, m.battery_power_kw)
            )
            else None
        )
        load = (
            self.load.validated_measurement(
                critical_load_kw=m.critical_load_kw, flexible_load_kw=m.flexible_load_kw, at=now
            )
            if m.critical_load_kw is not None or m.flexible_load_kw is not None
            else None
        )
        vehicle_fields = (
            m.vehicle_connected,
            m.vehicle_soc_kwh,
            m.vehicle_departure,
            m.vehicle_target_soc_kwh,
        )
        vehicle = self.vehicle(m.vehicle_id) if any(x is not None for x in vehicle_fields) else None
        vehicle_state = (
            vehicle.validated_measurement(
                connected=m.vehicle_connected,
                state_of_charge_kwh=m.vehicle_soc_kwh,
                departure=m.vehicle_departure,
                target_soc_kwh=m.vehicle_target_soc_kwh,
                at=now,
            )
            if vehicle is not None
            else None
        )
        if solar is not None:
            self.solar.commit(solar)
        if battery is not None:
            self.battery.commit(*battery)
        if load is not None:
            self.load.commit(load)
        if vehicle is not None and vehicle_state is not None:
            vehicle.commit(vehicle_state)
        return self.status()

    def control_battery(self, mode: PowerMode, power_kw: float) -> BatteryState:
        return self.battery.control(mode, power_kw)

    async def control_vehicle(
        self, vehicle_id: str | None, mode: PowerMode, power_kw: float
    ) -> VehicleState:
        """Set a vehicle's setpoint and, when bound, send it to its station now."""
        agent = self.vehicle(vehicle_id)
        state = agent.control(mode, power_kw)
        async with asyncio.timeout(self.settings.charger_timeout_s):
            await agent.push_setpoint(force=True)
        return state

    def shed_load(self, shed_kw: float) -> LoadState:
        return self.load.shed(shed_kw)

    # --------------------------------------------------------------------------- planning

    def snapshot(self, now: datetime) -> SiteSnapshot:
        return SiteSnapshot(
            at=now,
            solar=self.solar.sample(),
            battery=self.battery.sample(),
            vehicles=tuple(agent.sample() for agent in self._vehicles.values()),
            load=self.load.sample(),
            deferrables=tuple(agent.sample() for agent in self._deferrables.values()),
        )

    def forecast(self, snapshot: SiteSnapshot) -> Forecast:
        pv, critical, flexible = self._history.series(before=snapshot.at)
        if len(pv):
            # Score the forecasts made for the slot that has just completed.
            slot = slot_index(snapshot.at) - 1
            if slot != self._observed_slot:
                self._observed_slot = slot
                self._tracker.observe(slot, float(pv[-1]), float(critical[-1] + flexible[-1]))
        forecast = self._forecaster.forecast(
            snapshot.at,
            self.config.horizon_steps,
            pv,
            critical,
            flexible,
            measured_load_kw=(snapshot.load.critical_load_kw, snapshot.load.flexible_load_kw),
        )
        self._tracker.record(forecast)
        return forecast

    def forecast_accuracy(self) -> ForecastAccuracy:
        """Mean absolute error of the hour-ahead and day-ahead forecasts, last 7 days."""
        return self._tracker.accuracy()

    @property
    def forecast_tracker(self) -> ForecastTracker:
        """The forecast error scores, to be kept across restarts (`history_store`)."""
        return self._tracker

    @property
    def history(self) -> SlotHistory:
        return self._history

    @property
    def last_plan(self) -> Plan | None:
        return self._last_plan

    async def tick(self, *, policy: str | None = None) -> Plan:
        """Plan now with `policy` (default: the current one), apply and record the plan."""
        name = policy or self._policy
        if name not in self._policies:
            raise UnknownPolicyError(name, list(self._policies))
        async with self._lock:
            now = self._clock()
            if self.settings.simulate:
                self.battery.advance(now)
                for agent in self._vehicles.values():
                    agent.advance(now)
            for job in self._deferrables.values():
                job.advance(now)  # counts the energy a job received at its setpoint
            snapshot = self.snapshot(now)
            self._history.record(
                now,
                snapshot.solar.production_kw,
                snapshot.load.critical_load_kw,
                snapshot.load.flexible_load_kw,
            )
            config = self.config
            # Off the loop: the first forecast imports pvlib/pandas, each new day computes
            # the clear-sky curve. The tick's lock keeps history and tracker consistent.
            try:
                forecast = await asyncio.to_thread(self.forecast, snapshot)
            except Exception:  # a forecast bug must not leave the site unplanned
                logger.exception("energy: forecast failed; holding the current values")
                forecast = persistence_forecast(
                    snapshot.at,
                    config.horizon_steps,
                    snapshot.solar.production_kw,
                    snapshot.load.critical_load_kw,
                    snapshot.load.flexible_load_kw,
                )
            plan = await self._plan(name, snapshot, forecast, config)
            plan = await self._apply(plan)
            self._last_plan = plan
            self._outcomes[plan.solver_status or plan.policy] += 1
            try:
                await self._recorder.record(plan)
            except Exception:  # a broken recorder must not stop the site
                logger.exception("energy: could not record plan of %s", plan.created_at)
            return plan

    async def _plan(
        self, name: str, snapshot: SiteSnapshot, forecast: Forecast, config: SiteConfig
    ) -> Plan:
        policy = self._policies[name]
        tariff = self._tariff
        budget = self.settings.time_budget_s
        try:
            return await asyncio.wait_for(
                asyncio.to_thread(policy.plan, snapshot, forecast, tariff, config), budget
            )
        except TimeoutError:
            why = f"policy {name!r} gave no plan within {budget:g} s"
        except Exception as exc:  # any policy bug must still leave the site controlled
            logger.exception("energy: policy %s failed", name)
            why = f"policy {name!r} failed: {type(exc).__name__}: {exc}"
        logger.warning("energy: falling back to the departure-aware heuristic: %s", why)
        plan = departure_aware_plan(snapshot, tariff, config)
        return dataclasses.replace(
            plan,
            requested_policy=name,
            fell_back=True,
            fallback_reason=why,
            reason=f"fell back ({why}); {plan.reason}",
            solver_status="heuristic",
        )

    async def _apply(self, plan: Plan) -> Plan:
        notes: list[str] = []
        actions = plan.actions
        try:
            self.battery.control(actions.battery.mode, actions.battery.power_kw)
        except PhysicalLimitError as exc:
            notes.append(f"battery setpoint refused: {exc}")
        load = self.load.sample()
        self.load.shed(min(actions.load.shed_kw, load.flexible_load_kw))
        pushes: list[tuple[VehicleAgent, asyncio.Task[bool]]] = []
        for action in actions.vehicles:
            agent = self._vehicles.get(action.vehicle_id)
            if agent is None:
                continue  # removed by a reconfiguration while planning
            try:
                agent.control(action.mode, action.power_kw)
            except PhysicalLimitError as exc:
                notes.append(f"{action.vehicle_id} setpoint refused: {exc}")
                continue
            if agent.bound:
                pushes.append((agent, asyncio.create_task(self._push(agent))))
        for agent, task in pushes:
            try:
                await task
            except Exception as exc:  # station offline, rejected, timed out: retry next tick
                cfg = agent.config
                note = (
                    f"{agent.vehicle_id}: charger {cfg.charge_point_id}/{cfg.connector_id} "
                    f"did not take the limit: {type(exc).__name__}: {exc}"
                )
                logger.warning("energy: %s", note)
                notes.append(note)
        switches: list[tuple[DeferrableLoadAgent, asyncio.Task[bool]]] = []
        for job in self._deferrables.values():
            job_action = actions.deferrable(job.load_id)
            try:
                job.control(job_action.power_kw if job_action is not None else 0.0)
            except PhysicalLimitError as exc:
                notes.append(f"{job.load_id} setpoint refused: {exc}")
                continue
            switches.append((job, asyncio.create_task(self._switch(job))))
        for job, task in switches:
            try:
                await task
            except Exception as exc:  # appliance unreachable: retried next tick
                note = f"{job.load_id}: switch failed: {type(exc).__name__}: {exc}"
                logger.warning("energy: %s", note)
                notes.append(note)
        if notes:
            plan = dataclasses.replace(plan, notes=plan.notes + tuple(notes))
        return plan

    async def _switch(self, job: DeferrableLoadAgent) -> bool:
        async with asyncio.timeout(self.settings.charger_timeout_s):
            return await job.push_setpoint()

    async def _push(self, agent: VehicleAgent) -> bool:
        async with asyncio.timeout(self.settings.charger_timeout_s):
            return await agent.push_setpoint()

    # ---------------------------------------------------------------------- status, loop

    def status(self) -> SiteStatus:
        return SiteStatus(
            at=self._clock(),
            policy=self._policy,
            solar=self.solar.sample(),
            battery=self.battery.sample(),
            vehicles=tuple(agent.sample() for agent in self._vehicles.values()),
            load=self.load.sample(),
            last_plan=self._last_plan,
        )

    def health(self) -> EnergyHealth:
        plan = self._last_plan
        return EnergyHealth(
            running=self._task is not None and not self._task.done(),
            policy=self._policy,
            last_tick_at=plan.created_at if plan else None,
            last_fell_back=plan.fell_back if plan else False,
            last_fallback_reason=plan.fallback_reason if plan else None,
            plan_outcomes=dict(self._outcomes),
            forecast=self._tracker.accuracy(),
        )

    def start(self) -> None:
        """Start ticking every `settings.period` on the running loop."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="energy-coordinator")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        period = self.settings.period.total_seconds()
        while True:
            try:
                await self.tick()
            except Exception:  # keep ticking: the next measurement may fix it
                logger.exception("energy: tick failed")
            await asyncio.sleep(period)
