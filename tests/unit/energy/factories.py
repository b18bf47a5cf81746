"""Small builders for energy tests: a default site and snapshots with only what matters."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from ev_charging_system.energy.models import (
    BatteryAction,
    BatteryConfig,
    BatteryState,
    FlatTariff,
    Forecast,
    GridConfig,
    LoadAction,
    LoadState,
    Plan,
    PowerMode,
    SiteActions,
    SiteConfig,
    SiteSnapshot,
    SolarConfig,
    SolarState,
    VehicleConfig,
    VehicleState,
)

NOON = datetime(2025, 7, 7, 12, 0, tzinfo=UTC)
FLAT = FlatTariff(import_price=0.30, feed_in_price=0.08)


def site(
    *,
    capacity: float = 10.0,
    battery_kw: float = 5.0,
    rte: float = 0.9,
    min_soc: float = 0.1,
    import_limit: float = 17.0,
    export_limit: float | None = None,
    ev_max_kw: float = 11.0,
    phases: int = 3,
    departure: time = time(7, 0),
) -> SiteConfig:
    return SiteConfig(
        solar=SolarConfig(peak_kw=12.0),
        battery=BatteryConfig(
            capacity_kwh=capacity,
            max_charge_kw=battery_kw,
            max_discharge_kw=battery_kw,
            round_trip_efficiency=rte,
            min_soc=min_soc,
        ),
        grid=GridConfig(import_limit_kw=import_limit, export_limit_kw=export_limit),
        vehicles=(
            VehicleConfig(
                vehicle_id="ev1", max_charge_kw=ev_max_kw, phases=phases, departure_time=departure
            ),
        ),
    )


def snapshot(
    *,
    pv: float = 0.0,
    critical: float = 0.0,
    flexible: float = 0.0,
    battery_soc: float = 5.0,
    capacity: float = 10.0,
    connected: bool = False,
    ev_soc: float = 40.0,
    departure: datetime | None = None,
    target: float | None = None,
    at: datetime = NOON,
) -> SiteSnapshot:
    return SiteSnapshot(
        at=at,
        solar=SolarState(pv, at),
        battery=BatteryState(battery_soc, capacity),
        vehicles=(
            VehicleState(
                vehicle_id="ev1",
                connected=connected,
                state_of_charge_kwh=ev_soc,
                departure=departure if connected else None,
                target_soc_kwh=target if connected else None,
            ),
        ),
        load=LoadState(critical, flexible),
    )


def flat_forecast(
    steps: int = 96,
    *,
    pv: float = 0.0,
    critical: float = 0.0,
    flexible: float = 0.0,
    at: datetime = NOON,
) -> Forecast:
    return Forecast(at, (pv,) * steps, (critical,) * steps, (flexible,) * steps, "test")


def hours(h: float) -> timedelta:
    return timedelta(hours=h)


def plan_at(at: datetime) -> Plan:
    """A plan that does nothing, for code that only stores or passes plans on."""
    return Plan(
        created_at=at,
        policy="rule",
        requested_policy="rule",
        actions=SiteActions(BatteryAction(PowerMode.IDLE, 0.0), (), LoadAction(0.0)),
        steps=(),
        reason="test",
        snapshot=snapshot(at=at),
    )
