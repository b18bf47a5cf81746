"""Agents: physical-limit validation, no half updates, simulation, the charger port."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from ev_charging_system.energy.agents import BatteryAgent, LoadAgent, SolarAgent, VehicleAgent
from ev_charging_system.energy.errors import PhysicalLimitError
from ev_charging_system.energy.models import (
    BatteryConfig,
    PowerMode,
    SiteConfig,
    SolarConfig,
    VehicleConfig,
)
from ev_charging_system.models.errors import InvalidInputError

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


class FakeCharger:
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[str, int, float]] = []
        self.fail = fail

    async def apply_power_limit(
        self, charge_point_id: str, connector_id: int, watts: float
    ) -> None:
        if self.fail:
            raise ConnectionError("station offline")
        self.calls.append((charge_point_id, connector_id, watts))


def test_physical_limit_error_is_a_422_domain_error_and_a_value_error() -> None:
    error = PhysicalLimitError("battery.capacity_kwh", "must not be negative")
    assert isinstance(error, InvalidInputError) and isinstance(error, ValueError)
    assert error.quantity == "battery.capacity_kwh"


@pytest.mark.parametrize(
    "build",
    [
        lambda: BatteryConfig(capacity_kwh=-1),
        lambda: BatteryConfig(min_soc=0.9, max_soc=0.5),
        lambda: BatteryConfig(round_trip_efficiency=1.2),
        lambda: BatteryConfig(max_charge_kw=float("nan")),
        lambda: VehicleConfig(max_charge_kw=3.0),  # below 6 A x 3 x 230 V
        lambda: VehicleConfig(phases=4),
        lambda: VehicleConfig(target_soc=0.9, max_soc=0.8),
        lambda: VehicleConfig(charge_point_id="CP1"),
        lambda: SiteConfig(timezone="Mars/Olympus"),
        lambda: SiteConfig(vehicles=(VehicleConfig(), VehicleConfig())),
    ],
)
def test_impossible_configurations_are_refused(build: Callable[[], object]) -> None:
    with pytest.raises(PhysicalLimitError):
        build()


def test_solar_rejects_negative_and_absurd_production() -> None:
    agent = SolarAgent(SolarConfig(peak_kw=10.0))
    agent.update(5.0)
    for bad in (-0.1, 13.0, float("inf")):
        with pytest.raises(PhysicalLimitError):
            agent.update(bad)
    assert agent.sample().production_kw == 5.0


def test_battery_update_is_all_or_nothing() -> None:
    agent = BatteryAgent(BatteryConfig(capacity_kwh=10.0))
    agent.update(state_of_charge_kwh=4.0)
    with pytest.raises(PhysicalLimitError, match="state_of_charge_kwh"):
        # Capacity alone would be fine, but the SoC does not fit in it: nothing changes.
        agent.update(capacity_kwh=12.0, state_of_charge_kwh=13.0)
    assert agent.sample().state_of_charge_kwh == 4.0
    assert agent.config.capacity_kwh == 10.0
    with pytest.raises(PhysicalLimitError):
        agent.update(capacity_kwh=3.0)  # below the current SoC
    assert agent.config.capacity_kwh == 10.0
    agent.update(capacity_kwh=12.0, state_of_charge_kwh=11.0)
    assert (agent.config.capacity_kwh, agent.sample().state_of_charge_kwh) == (12.0, 11.0)


def test_battery_control_within_rating() -> None:
    agent = BatteryAgent(BatteryConfig(max_charge_kw=5.0, max_discharge_kw=3.0))
    agent.control(PowerMode.CHARGE, 5.0)
    with pytest.raises(PhysicalLimitError):
        agent.control(PowerMode.DISCHARGE, 3.5)
    with pytest.raises(PhysicalLimitError):
        agent.control(PowerMode.CHARGE, -1.0)
    assert (agent.sample().mode, agent.sample().setpoint_kw) == (PowerMode.CHARGE, 5.0)


def test_battery_simulation_integrates_and_stops_at_limits() -> None:
    config = BatteryConfig(capacity_kwh=10.0, round_trip_efficiency=0.81, min_soc=0.1)
    agent = BatteryAgent(config)
    agent.update(state_of_charge_kwh=5.0, at=T0)
    agent.control(PowerMode.CHARGE, 4.0)
    agent.advance(T0 + timedelta(hours=1))
    assert agent.sample().state_of_charge_kwh == pytest.approx(5.0 + 4.0 * 0.9)
    agent.advance(T0 + timedelta(hours=3))
    assert agent.sample().state_of_charge_kwh == pytest.approx(10.0)
    agent.control(PowerMode.DISCHARGE, 5.0)
    agent.advance(T0 + timedelta(hours=10))
    assert agent.sample().state_of_charge_kwh == pytest.approx(1.0)


def test_vehicle_validation_and_unplug_resets_session() -> None:
    agent = VehicleAgent(VehicleConfig(battery_capacity_kwh=60.0))
    with pytest.raises(PhysicalLimitError):
        agent.update(connected=True, state_of_charge_kwh=61.0)
    assert not agent.sample().connected  # nothing half-applied
    agent.update(connected=True, state_of_charge_kwh=30.0, target_soc_kwh=50.0)
    with pytest.raises(PhysicalLimitError):
        agent.control(PowerMode.CHARGE, 2.0)  # below 4.14 kW minimum
    with pytest.raises(PhysicalLimitError):
        agent.control(PowerMode.DISCHARGE, 2.0)  # not bidirectional
    agent.control(PowerMode.CHARGE, 7.0)
    agent.update(connected=False)
    state = agent.sample()
    assert (state.mode, state.setpoint_kw, state.target_soc_kwh) == (PowerMode.IDLE, 0.0, None)


def test_unplugged_vehicle_cannot_be_commanded() -> None:
    agent = VehicleAgent(VehicleConfig())
    with pytest.raises(PhysicalLimitError, match="connected"):
        agent.control(PowerMode.CHARGE, 5.0)
    agent.control(PowerMode.IDLE, 0.0)  # idle is always fine


def test_unbound_vehicle_simulates_charging() -> None:
    agent = VehicleAgent(VehicleConfig(battery_capacity_kwh=60.0, charge_efficiency=0.9))
    agent.update(connected=True, state_of_charge_kwh=30.0, at=T0)
    agent.control(PowerMode.CHARGE, 10.0)
    state = agent.advance(T0 + timedelta(hours=2))
    assert state.state_of_charge_kwh == pytest.approx(48.0)
    assert state.session_energy_kwh == pytest.approx(20.0)
    assert agent.advance(T0 + timedelta(hours=10)).state_of_charge_kwh == pytest.approx(60.0)


async def test_bound_vehicle_pushes_changed_limits_only() -> None:
    charger = FakeCharger()
    agent = VehicleAgent(VehicleConfig())
    agent.bind(charger, "CP-1", 2)
    agent.update(connected=True, state_of_charge_kwh=20.0, at=T0)
    agent.control(PowerMode.CHARGE, 7.0)
    assert await agent.push_setpoint()
    assert not await agent.push_setpoint()  # unchanged: not resent
    agent.control(PowerMode.IDLE, 0.0)
    assert await agent.push_setpoint()
    assert charger.calls == [("CP-1", 2, 7000.0), ("CP-1", 2, 0.0)]
    # Bound: SoC is not simulated but estimated from the station's meter register.
    agent.advance(T0 + timedelta(hours=1))
    assert agent.sample().state_of_charge_kwh == 20.0
    agent.on_meter_values(T0, energy_register_wh=100_000, power_w=7000)
    agent.on_meter_values(T0 + timedelta(hours=1), energy_register_wh=107_000)
    state = agent.sample()
    assert state.session_energy_kwh == pytest.approx(7.0)
    assert state.state_of_charge_kwh == pytest.approx(20.0 + 7.0 * 0.9)
    assert state.power_kw == 7.0
    agent.on_meter_values(T0 + timedelta(hours=1), soc_percent=50.0)
    assert agent.sample().state_of_charge_kwh == pytest.approx(30.0)


def test_load_shed_within_flexible() -> None:
    agent = LoadAgent()
    agent.update(critical_load_kw=2.0, flexible_load_kw=1.0)
    agent.shed(1.0)
    with pytest.raises(PhysicalLimitError):
        agent.shed(1.5)
    with pytest.raises(PhysicalLimitError):
        agent.update(critical_load_kw=-1.0, flexible_load_kw=0.5)
    assert agent.sample().flexible_load_kw == 1.0
    agent.update(flexible_load_kw=0.4)
    assert agent.sample().shed_kw == 0.4  # cannot keep more off than there is
