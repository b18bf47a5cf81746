"""`pv_surplus`: an evcc-style solar surplus charger (its "PV" mode plus a departure plan).

Per tick, with surplus s = PV - household load (battery and EVs excluded):

1. Battery priority: below `priority_soc` the home battery takes the surplus first (up to
   its charge limit); above it the vehicles do.
2. Each connected vehicle, in configuration order, charges from what is left, between the
   charger's minimum (6 A x phases x voltage) and maximum power:
   - it *starts* only when the surplus covers the minimum power plus `enable_threshold_kw`
     for `enable_delay`, and *stops* only when the surplus stays below the minimum minus
     `disable_threshold_kw` for `disable_delay` (hysteresis: no on/off flapping under
     passing clouds; while waiting to stop it keeps charging at the minimum);
   - departure guarantee: once the missing energy could no longer be delivered at full
     power before the departure (minus `plan_margin`), it charges at full power from
     whatever source ("late start": PV first, grid for the rest).
3. The battery then balances the rest (self-consumption): it absorbs what is left or
   covers the deficit of the house and of PV-mode charging, but is not drained into a
   departure-driven grid charge (evcc's battery discharge control).
4. The grid import limit caps the vehicles' power (load management). Nothing is shed.

The hysteresis timers are the only state, kept per vehicle in this object (like evcc's
loadpoint); everything else comes from the snapshot.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

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
from ev_charging_system.energy.sessions import departure_for, missing_energy_kwh
from ev_charging_system.energy.validation import fraction, non_negative


@dataclass(frozen=True, slots=True)
class PvSurplusSettings:
    enable_threshold_kw: float = 0.0  # extra surplus needed on top of the minimum to start
    disable_threshold_kw: float = 0.0  # import tolerated below the minimum before stopping
    enable_delay: timedelta = timedelta(minutes=1)  # evcc defaults
    disable_delay: timedelta = timedelta(minutes=3)
    priority_soc: float = 0.5  # fraction of battery capacity
    plan_margin: timedelta = timedelta(minutes=30)
    # Keep charging on surplus PV once the target is reached (evcc's "limit SoC" is then
    # the vehicle's max SoC). Off: a car stops at its target, the surplus goes elsewhere.
    charge_beyond_target: bool = False

    def __post_init__(self) -> None:
        non_negative("pv_surplus.enable_threshold_kw", self.enable_threshold_kw)
        non_negative("pv_surplus.disable_threshold_kw", self.disable_threshold_kw)
        fraction("pv_surplus.priority_soc", self.priority_soc)


@dataclass(slots=True)
class _Hysteresis:
    charging: bool = False
    pending_since: datetime | None = None  # when the condition to switch was first seen


class PvSurplusPolicy:
    name = "pv_surplus"

    def __init__(self, settings: PvSurplusSettings | None = None) -> None:
        self.settings = settings or PvSurplusSettings()
        self._state: dict[str, _Hysteresis] = {}

    def plan(
        self, snapshot: SiteSnapshot, forecast: Forecast, tariff: Tariff, config: SiteConfig
    ) -> Plan:
        started = time.perf_counter()
        settings = self.settings
        now = snapshot.at
        pv = snapshot.solar.production_kw
        critical = snapshot.load.critical_load_kw
        flexible = snapshot.load.flexible_load_kw
        soc = snapshot.battery.state_of_charge_kwh
        battery = config.battery
        surplus = pv - critical - flexible
        charge_limit = battery_charge_limit_kw(battery, soc, STEP_HOURS)
        battery_first = soc < settings.priority_soc * battery.capacity_kwh
        reserved = min(max(surplus, 0.0), charge_limit) if battery_first else 0.0
        available = surplus - reserved
        reasons = [f"surplus {kw(surplus)}"]
        if battery_first and reserved > 0:
            reasons.append(f"battery below priority SoC takes {kw(reserved)} first")

        vehicle_kw = [0.0] * len(snapshot.vehicles)
        planned = [False] * len(snapshot.vehicles)
        # Earliest departure first: the most urgent car gets the surplus first.
        order = sorted(
            range(len(snapshot.vehicles)),
            key=lambda j: _departure_key(snapshot, config, j),
        )
        for i in order:
            vehicle = snapshot.vehicles[i]
            cfg = config.vehicle(vehicle.vehicle_id)
            hysteresis = self._state.setdefault(vehicle.vehicle_id, _Hysteresis())
            if cfg is None or not vehicle.connected:
                self._state[vehicle.vehicle_id] = _Hysteresis()
                continue
            limit = vehicle_charge_limit_kw(cfg, vehicle.state_of_charge_kwh, STEP_HOURS)
            need_ac = missing_energy_kwh(vehicle, cfg) / cfg.charge_efficiency
            if not settings.charge_beyond_target:
                # Just enough to reach the target within this step (the charger's minimum
                # still applies: a remainder below it costs at most one minimum step).
                limit = min(limit, max(need_ac / STEP_HOURS, cfg.min_charge_kw))
                if need_ac <= 1e-6:
                    limit = 0.0
            if limit < cfg.min_charge_kw:
                reasons.append(f"{vehicle.vehicle_id} full")
                self._state[vehicle.vehicle_id] = _Hysteresis()
                continue
            departure = departure_for(vehicle, cfg, now, config.tz)
            hours_left = (departure - now - settings.plan_margin).total_seconds() / 3600.0
            if need_ac > 1e-6 and need_ac >= cfg.max_charge_kw * hours_left:
                vehicle_kw[i] = limit
                planned[i] = True
                hysteresis.charging, hysteresis.pending_since = True, None
                reasons.append(
                    f"{vehicle.vehicle_id} needs {need_ac:.1f} kWh before "
                    f"{departure:%H:%M}: charging {kw(vehicle_kw[i])} regardless of surplus"
                )
            else:
                vehicle_kw[i] = self._surplus_power(
                    hysteresis, available, cfg.min_charge_kw, limit, now
                )
                state = "charges" if vehicle_kw[i] > 0 else "waits"
                reasons.append(f"{vehicle.vehicle_id} {state} on surplus ({kw(vehicle_kw[i])})")
            available -= vehicle_kw[i]

        # Deferrable loads: at their latest start, or on the surplus the cars left.
        deferrable_kw, deferrable_reasons = reactive_deferrable_kw(
            snapshot, config, max(0.0, available)
        )
        reasons += deferrable_reasons

        # Battery balances what is left; it does not feed departure-driven grid charging.
        surplus_charging = sum(
            p for p, is_planned in zip(vehicle_kw, planned, strict=True) if not is_planned
        )
        rest = surplus - surplus_charging - sum(deferrable_kw)
        if rest >= 0:
            battery_kw = min(rest, charge_limit)
        else:
            battery_kw = -min(-rest, battery_discharge_limit_kw(battery, soc, STEP_HOURS))

        # Load management: the vehicles give way when the main fuse would be exceeded.
        grid = critical + flexible + battery_kw + sum(vehicle_kw) + sum(deferrable_kw) - pv
        # Latest departure gives way first; surplus charging before planned charging.
        give_way = sorted(order, key=lambda j: (planned[j], -order.index(j)))
        excess = grid - config.grid.import_limit_kw
        if excess > 1e-9:
            _reduce(vehicle_kw, give_way, excess, snapshot, config)
            reasons.append(f"grid limit {kw(config.grid.import_limit_kw)} caps charging")
        for circuit in config.circuits:
            members = [
                j
                for j in give_way
                if (cfg := config.vehicle(snapshot.vehicles[j].vehicle_id)) is not None
                and cfg.circuit_id == circuit.circuit_id
            ]
            excess = sum(vehicle_kw[j] for j in members) - circuit.max_kw
            if excess > 1e-9:
                _reduce(vehicle_kw, members, excess, snapshot, config)
                reasons.append(f"circuit {circuit.circuit_id} ({kw(circuit.max_kw)}) caps charging")

        actions = site_actions(
            snapshot,
            battery_kw=battery_kw,
            vehicle_kw=vehicle_kw,
            shed_kw=0.0,
            pv_kw=pv,
            critical_kw=critical,
            flexible_kw=flexible,
            export_limit_kw=config.grid.export_limit_kw,
            deferrable_kw=deferrable_kw,
        )
        reasons.append(f"battery {actions.battery.mode} {kw(actions.battery.power_kw)}")
        return single_step_plan(
            policy=self.name,
            snapshot=snapshot,
            tariff=tariff,
            config=config,
            actions=actions,
            reason="; ".join(reasons),
            solve_ms=(time.perf_counter() - started) * 1000.0,
        )

    def _surplus_power(
        self,
        hysteresis: _Hysteresis,
        available: float,
        minimum: float,
        limit: float,
        now: datetime,
    ) -> float:
        settings = self.settings
        if hysteresis.charging:
            if available >= minimum - settings.disable_threshold_kw:
                hysteresis.pending_since = None
            else:
                hysteresis.pending_since = hysteresis.pending_since or now
                if now - hysteresis.pending_since >= settings.disable_delay:
                    hysteresis.charging, hysteresis.pending_since = False, None
                    return 0.0
            return min(max(available, minimum), limit)
        if available >= minimum + settings.enable_threshold_kw:
            hysteresis.pending_since = hysteresis.pending_since or now
            if now - hysteresis.pending_since >= settings.enable_delay:
                hysteresis.charging, hysteresis.pending_since = True, None
                return min(max(available, minimum), limit)
        else:
            hysteresis.pending_since = None
        return 0.0


def _departure_key(snapshot: SiteSnapshot, config: SiteConfig, index: int) -> datetime:
    vehicle = snapshot.vehicles[index]
    cfg = config.vehicle(vehicle.vehicle_id)
    if cfg is None or not vehicle.connected:
        return datetime.max.replace(tzinfo=UTC)
    return departure_for(vehicle, cfg, snapshot.at, config.tz)


def _reduce(
    vehicle_kw: list[float],
    order: list[int],
    excess: float,
    snapshot: SiteSnapshot,
    config: SiteConfig,
) -> None:
    """Take `excess` kW off the vehicles in `order`; below its minimum a charger stops."""
    for j in order:
        if excess <= 1e-9 or vehicle_kw[j] <= 0:
            continue
        cfg = config.vehicle(snapshot.vehicles[j].vehicle_id)
        assert cfg is not None
        reduced = vehicle_kw[j] - excess
        reduced = reduced if reduced >= cfg.min_charge_kw else 0.0
        excess -= vehicle_kw[j] - reduced
        vehicle_kw[j] = reduced
