"""The few physical relations every policy, agent and simulator must agree on.

Kept in one place so the rule, the surplus charger, the simulated agents and the
benchmark's plant cannot drift apart on, say, where the efficiency loss is counted.
"""

from __future__ import annotations

from ev_charging_system.energy.models import BatteryConfig, VehicleConfig


def battery_charge_limit_kw(config: BatteryConfig, soc_kwh: float, hours: float) -> float:
    """Highest charging power that neither exceeds the rating nor max SoC within `hours`."""
    headroom_kwh = max(0.0, config.max_energy_kwh - soc_kwh)
    return max(0.0, min(config.max_charge_kw, headroom_kwh / (config.one_way_efficiency * hours)))


def battery_discharge_limit_kw(config: BatteryConfig, soc_kwh: float, hours: float) -> float:
    """Highest discharging power that neither exceeds the rating nor min SoC within `hours`."""
    available_kwh = max(0.0, soc_kwh - config.min_energy_kwh)
    return max(0.0, min(config.max_discharge_kw, available_kwh * config.one_way_efficiency / hours))


def battery_soc_after(
    config: BatteryConfig, soc_kwh: float, signed_kw: float, hours: float
) -> float:
    """SoC after holding `signed_kw` (+ charge) for `hours`; losses on both directions."""
    eta = config.one_way_efficiency
    if signed_kw >= 0:
        return soc_kwh + signed_kw * eta * hours
    return soc_kwh + signed_kw / eta * hours


def vehicle_charge_limit_kw(config: VehicleConfig, soc_kwh: float, hours: float) -> float:
    """Highest charging power that does not overshoot the vehicle's max SoC within `hours`."""
    headroom_kwh = max(0.0, config.max_energy_kwh - soc_kwh)
    return max(0.0, min(config.max_charge_kw, headroom_kwh / (config.charge_efficiency * hours)))


def feasible_vehicle_power(config: VehicleConfig, wanted_kw: float) -> float:
    """A power the charger can really deliver: 0, or within [min, max] charging power.

    IEC 61851 signalling cannot go below the minimum current, so a request under it means
    either not charging at all or charging at the minimum; this rounds to the nearer one.
    """
    if wanted_kw <= 0 or config.max_charge_kw <= 0:
        return 0.0
    minimum = config.min_charge_kw
    if wanted_kw < minimum:
        return minimum if wanted_kw >= minimum / 2 else 0.0
    return min(wanted_kw, config.max_charge_kw)
