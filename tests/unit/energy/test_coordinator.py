"""The coordinator: tick, apply, record, fall back; the seed's /coordinate contract."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from ev_charging_system.energy.coordinator import Coordinator, CoordinatorSettings, Measurements
from ev_charging_system.energy.errors import PhysicalLimitError, UnknownPolicyError
from ev_charging_system.energy.models import (
    BatteryConfig,
    Forecast,
    Plan,
    PowerMode,
    SiteConfig,
    SiteSnapshot,
    Tariff,
    VehicleConfig,
)
from ev_charging_system.energy.policies import RulePolicy, default_policies
from ev_charging_system.energy.recorder import InMemoryPlanRecorder
from ev_charging_system.energy.seed_contract import CoordinateRequest, coordinate

from .factories import FLAT
from .test_agents import FakeCharger

SEED = CoordinateRequest(
    solar_production_kw=9.5,
    critical_load_kw=5.0,
    flexible_load_kw=3.0,
    battery_soc_kwh=6.0,
    vehicle_connected=True,
    vehicle_soc_kwh=40.0,
)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2025, 7, 7, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


class SlowPolicy:
    name = "slow"

    def plan(
        self, snapshot: SiteSnapshot, forecast: Forecast, tariff: Tariff, config: SiteConfig
    ) -> Plan:
        import time

        time.sleep(0.3)
        return RulePolicy().plan(snapshot, forecast, tariff, config)


class BrokenPolicy:
    name = "broken"

    def plan(
        self, snapshot: SiteSnapshot, forecast: Forecast, tariff: Tariff, config: SiteConfig
    ) -> Plan:
        raise RuntimeError("boom")


class BrokenRecorder:
    async def record(self, plan: Plan) -> None:
        raise OSError("disk full")


def make(
    *,
    config: SiteConfig | None = None,
    policy: str = "optimize",
    recorder: InMemoryPlanRecorder | None = None,
    charger: FakeCharger | None = None,
    settings: CoordinatorSettings | None = None,
    clock: Clock | None = None,
) -> Coordinator:
    policies = {**default_policies(), "slow": SlowPolicy(), "broken": BrokenPolicy()}
    return Coordinator(
        config=config or SiteConfig(),
        tariff=FLAT,
        recorder=recorder or InMemoryPlanRecorder(),
        clock=clock or Clock(),
        policies=policies,
        policy=policy,
        settings=settings,
        charger=charger,
    )


async def test_seed_example_with_the_rule_returns_the_seeds_answer() -> None:
    recorder = InMemoryPlanRecorder()
    coordinator = make(recorder=recorder)
    response = await coordinate(coordinator, SEED, policy="rule")
    assert (response.actions.battery.mode, response.actions.battery.power_kw) == (
        PowerMode.CHARGE,
        1.5,
    )
    assert (response.actions.vehicle.mode, response.actions.vehicle.power_kw) == (
        PowerMode.IDLE,
        0.0,
    )
    assert response.actions.load.shed_kw == 0.0
    status = response.status
    assert status.solar.production_kw == 9.5
    assert status.battery.state_of_charge_kwh == 6.0
    assert status.battery.mode is PowerMode.CHARGE and status.battery.setpoint_kw == 1.5
    assert status.vehicle is not None
    assert status.vehicle.connected and status.vehicle.state_of_charge_kwh == 40.0
    assert (status.load.critical_load_kw, status.load.flexible_load_kw) == (5.0, 3.0)
    assert recorder.latest is response.plan


async def test_seed_example_with_the_default_policy_keeps_the_shape() -> None:
    response = await coordinate(make(), SEED)
    assert response.plan.requested_policy == "optimize"
    assert not response.plan.fell_back
    assert {f.name for f in dataclasses.fields(response.actions)} == {"battery", "vehicle", "load"}
    assert {f.name for f in dataclasses.fields(response.status)} == {
        "solar",
        "battery",
        "vehicle",
        "load",
    }
    assert response.actions.vehicle.mode in (PowerMode.IDLE, PowerMode.CHARGE)


async def test_invalid_measurements_change_nothing() -> None:
    coordinator = make()
    before = coordinator.status()
    bad = dataclasses.replace(SEED, vehicle_soc_kwh=75.0)  # above the 60 kWh battery
    with pytest.raises(PhysicalLimitError, match=r"vehicle\.state_of_charge_kwh"):
        await coordinate(coordinator, bad)
    after = coordinator.status()
    assert (after.solar, after.battery, after.vehicles, after.load) == (
        before.solar,
        before.battery,
        before.vehicles,
        before.load,
    )
    assert coordinator.last_plan is None


async def test_tick_applies_setpoints_and_records() -> None:
    recorder = InMemoryPlanRecorder()
    coordinator = make(recorder=recorder, policy="rule")
    coordinator.update_measurements(
        Measurements(solar_production_kw=0.0, critical_load_kw=2.0, battery_soc_kwh=8.0)
    )
    plan = await coordinator.tick()
    assert coordinator.battery.sample().mode is PowerMode.DISCHARGE
    assert coordinator.battery.sample().setpoint_kw == pytest.approx(2.0)
    assert coordinator.last_plan is plan and recorder.plans == [plan]
    assert coordinator.health().last_tick_at == plan.created_at


async def test_policy_exception_falls_back_to_the_departure_aware_heuristic() -> None:
    coordinator = make(policy="broken")
    plan = await coordinator.tick()
    assert plan.fell_back and plan.policy == "departure_aware"
    assert plan.requested_policy == "broken" and plan.solver_status == "heuristic"
    assert plan.fallback_reason is not None and "boom" in plan.fallback_reason
    assert coordinator.health().plan_outcomes == {"heuristic": 1}


async def test_policy_over_budget_falls_back() -> None:
    coordinator = make(policy="slow", settings=CoordinatorSettings(time_budget_s=0.05))
    plan = await coordinator.tick()
    assert plan.fell_back and plan.fallback_reason is not None
    assert "within" in plan.fallback_reason


async def test_recorder_failure_does_not_stop_the_tick() -> None:
    coordinator = Coordinator(
        config=SiteConfig(), tariff=FLAT, recorder=BrokenRecorder(), clock=Clock(), policy="rule"
    )
    plan = await coordinator.tick()
    assert coordinator.last_plan is plan


async def test_unknown_policy_is_refused() -> None:
    coordinator = make()
    with pytest.raises(UnknownPolicyError):
        coordinator.set_policy("magic")
    with pytest.raises(UnknownPolicyError):
        await coordinator.tick(policy="magic")


async def test_bound_vehicle_receives_the_planned_limit() -> None:
    charger = FakeCharger()
    config = SiteConfig(
        vehicles=(VehicleConfig(vehicle_id="ev1", charge_point_id="CP-16", connector_id=1),)
    )
    coordinator = make(config=config, charger=charger, policy="optimize")
    assert coordinator.vehicle_at("CP-16", 1) is coordinator.vehicle("ev1")
    coordinator.update_measurements(
        Measurements(
            solar_production_kw=0.0,
            critical_load_kw=0.5,
            vehicle_connected=True,
            vehicle_soc_kwh=10.0,
            vehicle_departure=datetime(2025, 7, 7, 15, 0, tzinfo=UTC),
        )
    )
    plan = await coordinator.tick()
    action = plan.actions.vehicle("ev1")
    assert action is not None and action.power_kw == pytest.approx(11.0)
    assert charger.calls == [("CP-16", 1, 11000.0)]


async def test_charger_failure_is_noted_and_retried() -> None:
    charger = FakeCharger(fail=True)
    config = SiteConfig(
        vehicles=(VehicleConfig(vehicle_id="ev1", charge_point_id="CP-201", connector_id=1),)
    )
    clock = Clock()
    coordinator = make(config=config, charger=charger, policy="optimize", clock=clock)
    coordinator.update_measurements(
        Measurements(
            vehicle_connected=True,
            vehicle_soc_kwh=10.0,
            vehicle_departure=clock.now + timedelta(hours=3),
        )
    )
    plan = await coordinator.tick()
    assert any("station offline" in note for note in plan.notes)
    charger.fail = False
    clock.advance(timedelta(minutes=1))
    await coordinator.tick()
    assert charger.calls and charger.calls[-1][:2] == ("CP-201", 1)


async def test_simulated_battery_advances_between_ticks() -> None:
    clock = Clock()
    config = SiteConfig(battery=BatteryConfig(capacity_kwh=10.0, round_trip_efficiency=1.0))
    coordinator = make(config=config, policy="rule", clock=clock)
    coordinator.update_measurements(
        Measurements(solar_production_kw=3.0, critical_load_kw=1.0, battery_soc_kwh=5.0)
    )
    await coordinator.tick()
    clock.advance(timedelta(minutes=30))
    await coordinator.tick()
    assert coordinator.battery.sample().state_of_charge_kwh == pytest.approx(6.0)


async def test_periodic_loop_ticks_until_stopped() -> None:
    recorder = InMemoryPlanRecorder()
    coordinator = make(
        recorder=recorder,
        policy="rule",
        settings=CoordinatorSettings(period=timedelta(milliseconds=10)),
    )
    coordinator.start()
    assert coordinator.health().running
    for _ in range(500):  # at most 5 s on a busy machine: two ticks of 10 ms are due long before
        if len(recorder.plans) >= 2:
            break
        await asyncio.sleep(0.01)
    await coordinator.stop()
    count = len(recorder.plans)
    assert count >= 2
    await asyncio.sleep(0.05)
    assert len(recorder.plans) == count
    assert not coordinator.health().running


async def test_reconfigure_is_validated_against_states() -> None:
    coordinator = make()
    coordinator.update_measurements(Measurements(battery_soc_kwh=12.0))
    smaller = SiteConfig(battery=BatteryConfig(capacity_kwh=10.0))
    with pytest.raises(PhysicalLimitError):
        coordinator.reconfigure(smaller)
    assert coordinator.config.battery.capacity_kwh == 13.5
    two_cars = SiteConfig(
        vehicles=(VehicleConfig(vehicle_id="ev1"), VehicleConfig(vehicle_id="ev2"))
    )
    coordinator.reconfigure(two_cars)
    assert [v.vehicle_id for v in coordinator.vehicles] == ["ev1", "ev2"]
    plan = await coordinator.tick()
    assert len(plan.actions.vehicles) == 2


async def test_site_without_vehicles_coordinates_without_vehicle_fields() -> None:
    coordinator = make(config=SiteConfig(vehicles=()), policy="optimize")
    request = CoordinateRequest(solar_production_kw=2.0, critical_load_kw=1.0)
    response = await coordinate(coordinator, request)
    assert response.status.vehicle is None
    assert response.actions.vehicle.mode is PowerMode.IDLE
    assert response.actions.battery.mode is PowerMode.CHARGE


async def test_binding_a_vehicle_by_reconfiguring_attaches_the_charger() -> None:
    """A regression: reconfigure() used to keep an existing vehicle agent unbound."""
    from ev_charging_system.energy.models import FlatTariff, PowerMode, SiteConfig

    sent: list[tuple[str, int, float]] = []

    class Charger:
        async def apply_power_limit(
            self, charge_point_id: str, connector_id: int, watts: float
        ) -> None:
            sent.append((charge_point_id, connector_id, watts))

    coordinator = Coordinator(
        config=SiteConfig(),
        tariff=FlatTariff(0.3),
        recorder=InMemoryPlanRecorder(),
        clock=lambda: datetime(2026, 6, 1, 12, tzinfo=UTC),
        charger=Charger(),
    )
    config = coordinator.config
    vehicle = dataclasses.replace(config.vehicles[0], charge_point_id="CP", connector_id=2)
    coordinator.reconfigure(dataclasses.replace(config, vehicles=(vehicle,)))
    coordinator.update_measurements(Measurements(vehicle_connected=True))
    await coordinator.control_vehicle(None, PowerMode.CHARGE, 4.2)
    assert sent == [("CP", 2, 4200.0)]
    unbound = dataclasses.replace(vehicle, charge_point_id=None, connector_id=None)
    coordinator.reconfigure(dataclasses.replace(config, vehicles=(unbound,)))
    assert not coordinator.vehicle().bound


async def test_a_failing_forecast_still_gives_a_plan_on_current_values() -> None:
    coordinator = make()

    def broken(*args: object, **kwargs: object) -> Forecast:
        raise ValueError("no clear sky today")

    coordinator._forecaster.forecast = broken  # type: ignore[method-assign]
    plan = await coordinator.tick()
    assert plan.policy == "optimize" and not plan.fell_back
    assert plan.forecast_method.startswith("persistence")
