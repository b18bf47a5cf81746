"""The evcc-style surplus charger: minimum power, hysteresis, battery priority, plan."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from ev_charging_system.energy.models import Plan, PowerMode, SiteConfig
from ev_charging_system.energy.policies import PvSurplusPolicy, PvSurplusSettings

from .factories import FLAT, NOON, flat_forecast, hours, site, snapshot

CONFIG = site()
MIN_KW = 6 * 3 * 230 / 1000  # 4.14 kW
NO_DELAY = PvSurplusSettings(enable_delay=timedelta(0), disable_delay=timedelta(0))
FAR = NOON + hours(20)  # departure far enough that no plan kicks in


def run(policy: PvSurplusPolicy, config: SiteConfig = CONFIG, **kwargs: Any) -> Plan:
    return policy.plan(snapshot(**kwargs), flat_forecast(1), FLAT, config)


def test_all_surplus_charges_vehicle_within_limits_battery_above_priority() -> None:
    result = run(
        PvSurplusPolicy(NO_DELAY),
        pv=9.0,
        critical=1.0,
        battery_soc=8.0,
        connected=True,
        departure=FAR,
    )
    # Battery above 50 %: the car gets the 8 kW surplus first, nothing left for the battery.
    assert result.actions.vehicles[0].power_kw == pytest.approx(8.0)
    assert result.actions.battery.mode is PowerMode.IDLE


def test_battery_priority_below_threshold() -> None:
    result = run(
        PvSurplusPolicy(NO_DELAY),
        pv=10.0,
        critical=1.0,
        battery_soc=2.0,
        connected=True,
        departure=FAR,
    )
    # 9 kW: battery (below 50 %) takes 5 first, the car the remaining 4 < 4.14 kW: waits.
    assert result.actions.battery.power_kw == pytest.approx(5.0)
    assert result.actions.vehicles[0].mode is PowerMode.IDLE
    assert result.actions.grid_kw == pytest.approx(-4.0)


def test_surplus_below_minimum_current_does_not_start() -> None:
    result = run(
        PvSurplusPolicy(NO_DELAY),
        pv=5.0,
        critical=1.0,
        battery_soc=8.0,
        connected=True,
        departure=FAR,
    )
    assert result.actions.vehicles[0].mode is PowerMode.IDLE
    assert result.actions.battery.power_kw == pytest.approx(4.0)


def test_all_deficit_battery_covers_house_no_charging() -> None:
    result = run(
        PvSurplusPolicy(NO_DELAY),
        pv=0.0,
        critical=2.0,
        battery_soc=8.0,
        connected=True,
        departure=FAR,
    )
    assert result.actions.vehicles[0].mode is PowerMode.IDLE
    assert (result.actions.battery.mode, result.actions.battery.power_kw) == (
        PowerMode.DISCHARGE,
        2.0,
    )
    assert result.actions.load.shed_kw == 0.0


def test_exact_tie_idle() -> None:
    result = run(PvSurplusPolicy(NO_DELAY), pv=2.0, critical=2.0, connected=True, departure=FAR)
    assert result.actions.battery.mode is PowerMode.IDLE
    assert result.actions.vehicles[0].mode is PowerMode.IDLE


def test_empty_and_full_battery() -> None:
    empty = run(PvSurplusPolicy(NO_DELAY), pv=0.0, critical=1.0, battery_soc=1.0)
    assert empty.actions.battery.mode is PowerMode.IDLE
    assert empty.actions.grid_kw == pytest.approx(1.0)
    full = run(PvSurplusPolicy(NO_DELAY), pv=3.0, critical=1.0, battery_soc=10.0)
    assert full.actions.battery.mode is PowerMode.IDLE
    assert full.actions.grid_kw == pytest.approx(-2.0)


def test_unplugged_vehicle_idle() -> None:
    result = run(PvSurplusPolicy(NO_DELAY), pv=12.0, battery_soc=8.0, connected=False)
    assert result.actions.vehicles[0].mode is PowerMode.IDLE


def test_enable_delay_and_disable_hysteresis() -> None:
    settings = PvSurplusSettings(
        enable_delay=timedelta(minutes=1), disable_delay=timedelta(minutes=3)
    )
    policy = PvSurplusPolicy(settings)
    common: dict[str, Any] = {
        "critical": 1.0,
        "battery_soc": 8.0,
        "connected": True,
        "departure": FAR,
    }
    # Enough surplus, but not yet for a minute.
    assert run(policy, pv=7.0, at=NOON, **common).actions.vehicles[0].power_kw == 0.0
    started = run(policy, pv=7.0, at=NOON + timedelta(minutes=1), **common)
    assert started.actions.vehicles[0].power_kw == pytest.approx(6.0)
    # A cloud: surplus drops below the minimum; it keeps charging at the minimum ...
    cloud = run(policy, pv=3.0, at=NOON + timedelta(minutes=2), **common)
    assert cloud.actions.vehicles[0].power_kw == pytest.approx(MIN_KW)
    still = run(policy, pv=3.0, at=NOON + timedelta(minutes=4), **common)
    assert still.actions.vehicles[0].power_kw == pytest.approx(MIN_KW)
    # ... and stops only after the disable delay.
    stopped = run(policy, pv=3.0, at=NOON + timedelta(minutes=5), **common)
    assert stopped.actions.vehicles[0].power_kw == 0.0


def test_departure_guarantee_charges_from_grid() -> None:
    # 20 kWh missing (AC 22.2 kWh at 90 %), 2 h left: 11 kW x (2 - 0.5) h < 22.2: charge now.
    result = run(
        PvSurplusPolicy(NO_DELAY),
        pv=0.0,
        critical=0.5,
        battery_soc=8.0,
        connected=True,
        ev_soc=28.0,
        target=48.0,
        departure=NOON + hours(2),
    )
    assert result.actions.vehicles[0].power_kw == pytest.approx(11.0)
    # The battery covers the house, not the grid charge.
    assert result.actions.battery.power_kw == pytest.approx(0.5)
    assert "regardless of surplus" in result.reason


def test_grid_limit_caps_vehicle() -> None:
    config = site(import_limit=8.0)
    result = run(
        PvSurplusPolicy(NO_DELAY),
        config,
        pv=0.0,
        critical=2.0,
        battery_soc=1.0,
        connected=True,
        ev_soc=28.0,
        target=48.0,
        departure=NOON + hours(1),
    )
    assert result.actions.vehicles[0].power_kw == pytest.approx(6.0)
    assert result.actions.grid_kw == pytest.approx(8.0)


def test_grid_limit_below_minimum_stops_vehicle() -> None:
    config = site(import_limit=5.0)
    result = run(
        PvSurplusPolicy(NO_DELAY),
        config,
        pv=0.0,
        critical=2.0,
        battery_soc=1.0,
        connected=True,
        ev_soc=28.0,
        target=48.0,
        departure=NOON + hours(1),
    )
    assert result.actions.vehicles[0].power_kw == 0.0
