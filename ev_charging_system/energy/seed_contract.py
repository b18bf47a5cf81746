"""The seed's `/coordinate` contract as plain functions and dataclasses.

The REST layer maps the seed's JSON one to one onto these (same names, same units):

    request   solar.production_kw, load.critical_load_kw, load.flexible_load_kw,
              battery.state_of_charge_kwh, vehicle.connected, vehicle.state_of_charge_kwh
    response  actions.battery{mode, power_kw}, actions.vehicle{mode, power_kw},
              actions.load{shed_kw}, status{solar, battery, vehicle, load}

`coordinate()` validates all measurements before changing any agent (a 422 leaves the
site as it was), then plans immediately. With `policy="rule"` the answer is exactly the
seed's; with the default (None) the coordinator's current policy decides, and the answer
keeps the seed's shape plus the full plan for whoever wants the why.
"""

from __future__ import annotations

from dataclasses import dataclass

from ev_charging_system.energy.coordinator import Coordinator, Measurements
from ev_charging_system.energy.models import (
    BatteryState,
    LoadState,
    Plan,
    PowerMode,
    SolarState,
    VehicleState,
)


@dataclass(frozen=True, slots=True)
class CoordinateRequest:
    solar_production_kw: float | None = None
    critical_load_kw: float | None = None
    flexible_load_kw: float | None = None
    battery_soc_kwh: float | None = None
    vehicle_connected: bool | None = None
    vehicle_soc_kwh: float | None = None
    vehicle_id: str | None = None  # not in the seed: None is the first configured vehicle


@dataclass(frozen=True, slots=True)
class ModePower:
    mode: PowerMode
    power_kw: float


@dataclass(frozen=True, slots=True)
class Shed:
    shed_kw: float


@dataclass(frozen=True, slots=True)
class CoordinateActions:
    battery: ModePower
    vehicle: ModePower
    load: Shed


@dataclass(frozen=True, slots=True)
class AgentsStatus:
    solar: SolarState
    battery: BatteryState
    vehicle: VehicleState | None  # None only on a site without any vehicle configured
    load: LoadState


@dataclass(frozen=True, slots=True)
class CoordinateResponse:
    actions: CoordinateActions
    status: AgentsStatus
    plan: Plan  # not in the seed: policy, reason, fallback, schedule


def agents_status(coordinator: Coordinator, vehicle_id: str | None = None) -> AgentsStatus:
    """The seed's `status` object (GET /energy/status can return it as well)."""
    has_vehicle = vehicle_id is not None or bool(coordinator.vehicles)
    return AgentsStatus(
        solar=coordinator.solar.sample(),
        battery=coordinator.battery.sample(),
        vehicle=coordinator.vehicle(vehicle_id).sample() if has_vehicle else None,
        load=coordinator.load.sample(),
    )


async def coordinate(
    coordinator: Coordinator, request: CoordinateRequest, *, policy: str | None = None
) -> CoordinateResponse:
    coordinator.update_measurements(
        Measurements(
            solar_production_kw=request.solar_production_kw,
            critical_load_kw=request.critical_load_kw,
            flexible_load_kw=request.flexible_load_kw,
            battery_soc_kwh=request.battery_soc_kwh,
            vehicle_id=request.vehicle_id,
            vehicle_connected=request.vehicle_connected,
            vehicle_soc_kwh=request.vehicle_soc_kwh,
        )
    )
    plan = await coordinator.tick(policy=policy)
    status = agents_status(coordinator, request.vehicle_id)
    vehicle_action = (
        plan.actions.vehicle(status.vehicle.vehicle_id) if status.vehicle is not None else None
    )
    actions = CoordinateActions(
        battery=ModePower(plan.actions.battery.mode, plan.actions.battery.power_kw),
        vehicle=(
            ModePower(vehicle_action.mode, vehicle_action.power_kw)
            if vehicle_action is not None
            else ModePower(PowerMode.IDLE, 0.0)
        ),
        load=Shed(plan.actions.load.shed_kw),
    )
    return CoordinateResponse(actions=actions, status=status, plan=plan)
