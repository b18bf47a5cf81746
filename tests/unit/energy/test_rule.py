"""The seed's rule on hand-checkable cases."""

from __future__ import annotations

from typing import Any

import pytest

from ev_charging_system.energy.models import Plan, PowerMode, SiteConfig
from ev_charging_system.energy.policies import RulePolicy

from .factories import FLAT, flat_forecast, site, snapshot

RULE = RulePolicy()
CONFIG = site(capacity=13.5)


def plan(config: SiteConfig = CONFIG, **kwargs: Any) -> Plan:
    return RULE.plan(snapshot(**kwargs), flat_forecast(1), FLAT, config)


def test_seed_example() -> None:
    # POST /coordinate of the seed's README.
    result = plan(
        pv=9.5,
        critical=5.0,
        flexible=3.0,
        battery_soc=6.0,
        capacity=13.5,
        connected=True,
        ev_soc=40.0,
    )
    actions = result.actions
    assert (actions.battery.mode, actions.battery.power_kw) == (PowerMode.CHARGE, 1.5)
    vehicle = actions.vehicle("ev1")
    assert vehicle is not None
    assert (vehicle.mode, vehicle.power_kw) == (PowerMode.IDLE, 0.0)
    assert actions.load.shed_kw == 0.0
    assert result.policy == "rule" and not result.fell_back
    assert "1.50 kW" in result.reason


def test_all_surplus_beyond_battery_goes_to_vehicle_then_export() -> None:
    result = plan(pv=12.0, critical=0.5, flexible=0.5, battery_soc=5.0, connected=True)
    # 11 kW surplus: 5 to the battery (rating), 6 to the car, nothing exported.
    assert result.actions.battery.power_kw == 5.0
    assert result.actions.vehicles[0].power_kw == pytest.approx(6.0)
    assert result.actions.grid_kw == pytest.approx(0.0)


def test_leftover_below_vehicle_minimum_is_exported() -> None:
    result = plan(pv=8.0, critical=0.5, flexible=0.5, connected=True)
    # 7 kW: 5 battery, 2 left < 4.14 kW minimum (6 A x 3 x 230 V): exported.
    assert result.actions.vehicles[0].mode is PowerMode.IDLE
    assert result.actions.grid_kw == pytest.approx(-2.0)


def test_all_deficit_discharges_then_imports() -> None:
    result = plan(pv=0.0, critical=2.0, flexible=1.0, battery_soc=8.0)
    assert (result.actions.battery.mode, result.actions.battery.power_kw) == (
        PowerMode.DISCHARGE,
        3.0,
    )
    assert result.actions.load.shed_kw == 0.0
    assert result.actions.grid_kw == pytest.approx(0.0)


def test_deficit_beyond_battery_rating_sheds_flexible_load() -> None:
    result = plan(pv=0.0, critical=5.0, flexible=3.0, battery_soc=8.0)
    # 8 kW deficit: 5 from the battery, 3 shed (all flexible), nothing imported.
    assert result.actions.battery.power_kw == 5.0
    assert result.actions.load.shed_kw == 3.0
    assert result.actions.grid_kw == pytest.approx(0.0)


def test_exact_tie_is_all_idle() -> None:
    result = plan(pv=4.0, critical=3.0, flexible=1.0, connected=True)
    assert result.actions.battery.mode is PowerMode.IDLE
    assert result.actions.vehicles[0].mode is PowerMode.IDLE
    assert result.actions.load.shed_kw == 0.0
    assert result.actions.grid_kw == 0.0


def test_empty_battery_cannot_discharge_and_sheds() -> None:
    # SoC at the 10 % reserve: nothing to give.
    result = plan(pv=0.0, critical=1.0, flexible=0.5, battery_soc=1.35, capacity=13.5)
    assert result.actions.battery.mode is PowerMode.IDLE
    assert result.actions.load.shed_kw == 0.5
    assert result.actions.grid_kw == pytest.approx(1.0)


def test_nearly_empty_battery_gives_only_what_it_has() -> None:
    # 0.5 kWh above the reserve over a 15-minute step: at most 0.5*0.9487/0.25 kW.
    result = plan(pv=0.0, critical=5.0, flexible=0.0, battery_soc=1.85, capacity=13.5)
    assert result.actions.battery.power_kw == pytest.approx(0.5 * 0.9**0.5 / 0.25)


def test_full_battery_exports_surplus() -> None:
    result = plan(pv=3.0, critical=1.0, flexible=0.0, battery_soc=13.5, capacity=13.5)
    assert result.actions.battery.mode is PowerMode.IDLE
    assert result.actions.grid_kw == pytest.approx(-2.0)


def test_unplugged_vehicle_stays_idle_even_with_large_surplus() -> None:
    result = plan(pv=12.0, critical=0.0, flexible=0.0, connected=False)
    assert result.actions.vehicles[0].mode is PowerMode.IDLE
    assert result.actions.grid_kw == pytest.approx(-7.0)


def test_grid_limit_is_reported_not_enforced() -> None:
    config = site(capacity=13.5, import_limit=2.0)
    result = plan(pv=0.0, critical=4.0, flexible=1.0, battery_soc=1.35, config=config)
    assert result.actions.load.shed_kw == 1.0
    assert result.actions.grid_kw == pytest.approx(4.0)
    assert "exceeds the grid limit" in result.reason


def test_export_limit_curtails() -> None:
    config = site(capacity=13.5, export_limit=1.0)
    result = plan(pv=9.0, critical=1.0, flexible=0.0, battery_soc=13.5, config=config)
    assert result.actions.grid_kw == pytest.approx(-1.0)
    assert result.actions.curtailed_kw == pytest.approx(7.0)
