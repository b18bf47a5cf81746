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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from ev_charging_system.energy.agents import (
    BatteryAgent,
    ChargerControl,
    LoadAgent,
    SolarAgent,
    VehicleAgent,
)
from ev_charging_system.energy.errors import (
    PhysicalLimitError,
    UnknownPolicyError,
    UnknownVehicleError,
)
from ev_charging_system.energy.forecast import build_forecast
from ev_charging_system.energy.history import SlotHistory
from ev_charging_system.energy.models import (
    BatteryState,
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
from ev_charging_system.energy.policies.rule import rule_plan
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
    history_days: int = 8
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
        self._history = SlotHistory(days=self.settings.history_days)
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
        self._grid = config.grid
        self._load_config = config.load
        self._timezone = config.timezone
        self._horizon_hours = config.horizon_hours

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
        )

    def forecast(self, snapshot: SiteSnapshot) -> Forecast:
        pv, critical, flexible = self._history.series(before=snapshot.at)
        return build_forecast(snapshot.at, self.config.horizon_steps, pv, critical, flexible)

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
            snapshot = self.snapshot(now)
            self._history.record(
                now,
                snapshot.solar.production_kw,
                snapshot.load.critical_load_kw,
                snapshot.load.flexible_load_kw,
            )
            config = self.config
            plan = await self._plan(name, snapshot, self.forecast(snapshot), config)
            plan = await self._apply(plan)
            self._last_plan = plan
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
        logger.warning("energy: falling back to the rule: %s", why)
        plan = rule_plan(snapshot, tariff, config)
        return dataclasses.replace(
            plan,
            requested_policy=name,
            fell_back=True,
            fallback_reason=why,
            reason=f"fell back to the rule ({why}); rule: {plan.reason}",
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
        if notes:
            plan = dataclasses.replace(plan, notes=plan.notes + tuple(notes))
        return plan

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
