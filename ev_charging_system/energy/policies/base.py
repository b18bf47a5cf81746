"""The planning-policy port and the helpers the reactive policies share."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol

from ev_charging_system.energy.models import (
    STEP_HOURS,
    BatteryAction,
    DeferrableAction,
    Forecast,
    LoadAction,
    Plan,
    PlanStep,
    SiteActions,
    SiteConfig,
    SiteSnapshot,
    Tariff,
    VehicleAction,
    action_from_signed,
)
from ev_charging_system.energy.physics import battery_soc_after
from ev_charging_system.energy.tariffs import price_arrays


class PlanningPolicy(Protocol):
    """plan(snapshot, forecast, tariff, config) -> Plan; must not block on I/O.

    Policies may be CPU-heavy (the coordinator runs them in a worker thread) and may keep
    small private state between calls (the surplus charger's hysteresis timers), but they
    never touch agents or hardware: applying the plan is the coordinator's job.
    """

    @property
    def name(self) -> str: ...

    def plan(
        self, snapshot: SiteSnapshot, forecast: Forecast, tariff: Tariff, config: SiteConfig
    ) -> Plan: ...


def site_actions(
    snapshot: SiteSnapshot,
    *,
    battery_kw: float,
    vehicle_kw: Sequence[float],
    shed_kw: float,
    pv_kw: float,
    critical_kw: float,
    flexible_kw: float,
    export_limit_kw: float | None,
    deferrable_kw: Sequence[float] = (),
) -> SiteActions:
    """Actions plus the grid exchange they imply; PV over the export limit is curtailed."""
    grid = (
        critical_kw
        + flexible_kw
        - shed_kw
        + battery_kw
        + sum(vehicle_kw)
        + sum(deferrable_kw)
        - pv_kw
    )
    curtailed = 0.0
    if export_limit_kw is not None and grid < -export_limit_kw:
        curtailed = min(pv_kw, -export_limit_kw - grid)
        grid += curtailed
    mode, power = action_from_signed(battery_kw)
    vehicles = []
    for state, kw in zip(snapshot.vehicles, vehicle_kw, strict=True):
        v_mode, v_power = action_from_signed(kw)
        vehicles.append(VehicleAction(state.vehicle_id, v_mode, _clean(v_power)))
    deferrables = tuple(
        DeferrableAction(state.load_id, _clean(kw))
        for state, kw in zip(snapshot.deferrables, deferrable_kw, strict=False)
    )
    return SiteActions(
        battery=BatteryAction(mode, _clean(power)),
        vehicles=tuple(vehicles),
        load=LoadAction(_clean(shed_kw)),
        grid_kw=_clean(grid),
        curtailed_kw=_clean(curtailed),
        deferrables=deferrables,
    )


def single_step_plan(
    *,
    policy: str,
    snapshot: SiteSnapshot,
    tariff: Tariff,
    config: SiteConfig,
    actions: SiteActions,
    reason: str,
    solve_ms: float,
) -> Plan:
    """A plan whose schedule is just the immediate step (reactive policies look no further)."""
    imports, feed_ins = price_arrays(tariff, snapshot.at, 1, config.tz)
    battery_kw = actions.battery.signed_kw
    soc = battery_soc_after(
        config.battery, snapshot.battery.state_of_charge_kwh, battery_kw, STEP_HOURS
    )
    step = PlanStep(
        start=snapshot.at,
        pv_kw=snapshot.solar.production_kw - actions.curtailed_kw,
        critical_load_kw=snapshot.load.critical_load_kw,
        flexible_load_kw=snapshot.load.flexible_load_kw,
        shed_kw=actions.load.shed_kw,
        battery_kw=battery_kw,
        battery_soc_kwh=soc,
        vehicle_kw=tuple(v.signed_kw for v in actions.vehicles),
        grid_kw=actions.grid_kw,
        curtailed_kw=actions.curtailed_kw,
        import_price=float(imports[0]),
        feed_in_price=float(feed_ins[0]),
        deferrable_kw=tuple(d.power_kw for d in actions.deferrables),
    )
    grid = actions.grid_kw
    price = step.import_price if grid > 0 else step.feed_in_price
    return Plan(
        created_at=snapshot.at,
        policy=policy,
        requested_policy=policy,
        actions=actions,
        steps=(step,),
        reason=reason,
        snapshot=snapshot,
        solve_ms=solve_ms,
        expected_cost=grid * price * STEP_HOURS,
    )


def _clean(value: float) -> float:
    """Round away float dust (1e-15 kW) so plans read cleanly and compare exactly in tests."""
    rounded = round(value, 9)
    return 0.0 if rounded == 0 or math.isnan(rounded) else rounded


def kw(value: float) -> str:
    return f"{value:.2f} kW"
