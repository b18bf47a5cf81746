"""`rule`: the seed's central-agent rule, the reference every other policy is compared to.

    surplus = production - critical load - flexible load
    surplus > 0: charge the battery with it, up to its power rating and free capacity;
                 what the battery cannot take goes to a connected vehicle (at least the
                 charger's minimum power, else it is exported)
    surplus < 0: discharge the battery, up to its rating and usable energy;
                 whatever deficit remains sheds flexible load (at most all of it);
                 the rest comes from the grid
    surplus = 0: everything idle

The seed's example (9.5 kW PV, 5 + 3 kW load, battery at 6 kWh, vehicle connected at
40 kWh) gives: battery charge 1.5 kW, vehicle idle, shed 0. The seed's README shows
only that example, in which the battery takes the whole surplus and the vehicle stays
idle; giving the vehicle only what the battery cannot absorb is the reading consistent
with it ("the central agent sends commands to battery, vehicle and flexible loads").

The rule looks at the measured snapshot only: no forecast, no prices, no grid limit
(a binding import limit is reported in the reason, not acted upon). Pure and cheap, so
it is also what every other policy falls back to.
"""

from __future__ import annotations

import time

from ev_charging_system.energy.models import (
    STEP_HOURS,
    Forecast,
    Plan,
    SiteConfig,
    SiteSnapshot,
    Tariff,
)
from ev_charging_system.energy.physics import (
    battery_charge_limit_kw,
    battery_discharge_limit_kw,
    vehicle_charge_limit_kw,
)
from ev_charging_system.energy.policies.base import kw, single_step_plan, site_actions
from ev_charging_system.energy.policies.deferrable_rules import reactive_deferrable_kw

EPSILON_KW = 1e-9


class RulePolicy:
    name = "rule"

    def plan(
        self, snapshot: SiteSnapshot, forecast: Forecast, tariff: Tariff, config: SiteConfig
    ) -> Plan:
        return rule_plan(snapshot, tariff, config)


def rule_plan(snapshot: SiteSnapshot, tariff: Tariff, config: SiteConfig) -> Plan:
    started = time.perf_counter()
    pv = snapshot.solar.production_kw
    critical = snapshot.load.critical_load_kw
    flexible = snapshot.load.flexible_load_kw
    soc = snapshot.battery.state_of_charge_kwh
    surplus = pv - critical - flexible
    battery_kw = 0.0
    shed = 0.0
    vehicle_kw = [0.0] * len(snapshot.vehicles)
    reasons = [f"surplus = {kw(pv)} PV - {kw(critical)} critical - {kw(flexible)} flexible"]
    reasons[0] += f" = {kw(surplus)}"

    if surplus > EPSILON_KW:
        battery_kw = min(surplus, battery_charge_limit_kw(config.battery, soc, STEP_HOURS))
        leftover = surplus - battery_kw
        reasons.append(f"battery charges {kw(battery_kw)}")
        for i, vehicle in enumerate(snapshot.vehicles):
            vehicle_config = config.vehicle(vehicle.vehicle_id)
            if vehicle_config is None or not vehicle.connected or leftover <= EPSILON_KW:
                continue
            power = min(
                leftover,
                vehicle_charge_limit_kw(vehicle_config, vehicle.state_of_charge_kwh, STEP_HOURS),
            )
            if power >= vehicle_config.min_charge_kw:
                vehicle_kw[i] = power
                leftover -= power
                reasons.append(f"{vehicle.vehicle_id} takes the remaining {kw(power)}")
            else:
                reasons.append(
                    f"{vehicle.vehicle_id} stays idle: {kw(power)} left is below its minimum "
                    f"{kw(vehicle_config.min_charge_kw)}"
                )
        if leftover > EPSILON_KW:
            reasons.append(f"{kw(leftover)} exported")
    elif surplus < -EPSILON_KW:
        deficit = -surplus
        battery_kw = -min(deficit, battery_discharge_limit_kw(config.battery, soc, STEP_HOURS))
        remaining = deficit + battery_kw
        shed = min(remaining, flexible)
        grid = remaining - shed
        reasons.append(f"battery discharges {kw(-battery_kw)}")
        if shed > EPSILON_KW:
            reasons.append(f"remaining deficit sheds {kw(shed)} of flexible load")
        if grid > EPSILON_KW:
            reasons.append(f"{kw(grid)} imported")
        if grid > config.grid.import_limit_kw + EPSILON_KW:
            reasons.append(
                f"WARNING: import exceeds the grid limit {kw(config.grid.import_limit_kw)}; "
                "the critical load alone is above what PV, battery and grid can supply"
            )
    else:
        reasons.append("production matches the load: everything idle")

    # Not in the seed: deferrable loads, at their latest start only (the grid covers them).
    deferrable_kw, deferrable_reasons = reactive_deferrable_kw(snapshot, config, 0.0)
    reasons += deferrable_reasons
    actions = site_actions(
        snapshot,
        battery_kw=battery_kw,
        vehicle_kw=vehicle_kw,
        shed_kw=shed,
        pv_kw=pv,
        critical_kw=critical,
        flexible_kw=flexible,
        export_limit_kw=config.grid.export_limit_kw,
        deferrable_kw=deferrable_kw,
    )
    return single_step_plan(
        policy=RulePolicy.name,
        snapshot=snapshot,
        tariff=tariff,
        config=config,
        actions=actions,
        reason="; ".join(reasons),
        solve_ms=(time.perf_counter() - started) * 1000.0,
    )
