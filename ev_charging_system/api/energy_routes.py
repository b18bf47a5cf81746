"""Site energy coordination: the seed's agent contract under /energy, plus configuration.

Measurement and control endpoints validate physical limits before anything changes (a 422
leaves the site as it was). Writes need the operator token like every other write.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query

from ev_charging_system.api import energy_schemas as s
from ev_charging_system.api.dependencies import EnergyServices, Operator
from ev_charging_system.api.schemas import ErrorOut
from ev_charging_system.energy.coordinator import Measurements
from ev_charging_system.energy.models import SiteConfig
from ev_charging_system.energy.seed_contract import agents_status, coordinate

router = APIRouter(prefix="/energy", tags=["energy"])
INVALID: dict[int | str, dict[str, Any]] = {422: {"model": ErrorOut}}


def _status(energy: EnergyServices) -> s.EnergyStatusOut:
    site = energy.coordinator.status()
    agents = agents_status(energy.coordinator)
    return s.EnergyStatusOut(
        at=site.at,
        policy=site.policy,
        solar=agents.solar,
        battery=agents.battery,
        vehicle=agents.vehicle,
        load=agents.load,
        vehicles=list(site.vehicles),
        last_plan=s.PlanSummaryOut.of(site.last_plan) if site.last_plan else None,
    )


@router.post(
    "/coordinate",
    response_model=s.CoordinateOut,
    dependencies=[Operator],
    responses=INVALID,
    summary="Update measurements, plan now and return the actions (the seed's contract)",
)
async def coordinate_site(
    body: s.CoordinateIn,
    energy: EnergyServices,
    policy: Annotated[
        str | None, Query(description="plan with this policy once; `rule` gives the seed's")
    ] = None,
) -> s.CoordinateOut:
    result = await coordinate(energy.coordinator, body.to_request(), policy=policy)
    return s.CoordinateOut(
        actions=s.ActionsOut(
            battery=s.ModePowerOut(
                mode=result.actions.battery.mode, power_kw=result.actions.battery.power_kw
            ),
            vehicle=s.ModePowerOut(
                mode=result.actions.vehicle.mode, power_kw=result.actions.vehicle.power_kw
            ),
            load=s.ShedOut(shed_kw=result.actions.load.shed_kw),
        ),
        status=s.AgentsStatusOut(
            solar=result.status.solar,
            battery=result.status.battery,
            vehicle=result.status.vehicle,
            load=result.status.load,
        ),
        plan=s.PlanSummaryOut.of(result.plan),
    )


@router.get("/status", response_model=s.EnergyStatusOut)
async def energy_status(energy: EnergyServices) -> s.EnergyStatusOut:
    return _status(energy)


@router.get("/health", response_model=s.EnergyHealthOut)
async def energy_health(energy: EnergyServices) -> s.EnergyHealthOut:
    health = energy.coordinator.health()
    return s.EnergyHealthOut(
        status="ok" if health.running and not health.last_fell_back else "degraded",
        running=health.running,
        policy=health.policy,
        last_tick_at=health.last_tick_at,
        last_fell_back=health.last_fell_back,
        last_fallback_reason=health.last_fallback_reason,
    )


@router.post(
    "/solar/production",
    response_model=s.EnergyStatusOut,
    dependencies=[Operator],
    responses=INVALID,
)
async def solar_production(body: s.SolarIn, energy: EnergyServices) -> s.EnergyStatusOut:
    energy.coordinator.update_measurements(Measurements(solar_production_kw=body.production_kw))
    return _status(energy)


@router.post(
    "/battery/update",
    response_model=s.EnergyStatusOut,
    dependencies=[Operator],
    responses=INVALID,
)
async def battery_update(body: s.BatteryUpdateIn, energy: EnergyServices) -> s.EnergyStatusOut:
    energy.coordinator.update_measurements(
        Measurements(
            battery_soc_kwh=body.state_of_charge_kwh,
            battery_capacity_kwh=body.capacity_kwh,
            battery_power_kw=body.power_kw,
        )
    )
    return _status(energy)


@router.post(
    "/battery/control",
    response_model=s.EnergyStatusOut,
    dependencies=[Operator],
    responses=INVALID,
    summary="Manual setpoint, in force until the next plan",
)
async def battery_control(body: s.ControlIn, energy: EnergyServices) -> s.EnergyStatusOut:
    energy.coordinator.control_battery(body.mode, body.power_kw)
    return _status(energy)


@router.post(
    "/vehicle/update",
    response_model=s.EnergyStatusOut,
    dependencies=[Operator],
    responses=INVALID,
)
async def vehicle_update(body: s.VehicleUpdateIn, energy: EnergyServices) -> s.EnergyStatusOut:
    energy.coordinator.update_measurements(
        Measurements(
            vehicle_id=body.vehicle_id,
            vehicle_connected=body.connected,
            vehicle_soc_kwh=body.state_of_charge_kwh,
            vehicle_departure=body.departure,
            vehicle_target_soc_kwh=body.target_soc_kwh,
        )
    )
    return _status(energy)


@router.post(
    "/vehicle/control",
    response_model=s.EnergyStatusOut,
    dependencies=[Operator],
    responses=INVALID,
    summary="Manual setpoint (sent to the bound station), until the next plan",
)
async def vehicle_control(body: s.VehicleControlIn, energy: EnergyServices) -> s.EnergyStatusOut:
    await energy.coordinator.control_vehicle(body.vehicle_id, body.mode, body.power_kw)
    return _status(energy)


@router.post(
    "/load/update", response_model=s.EnergyStatusOut, dependencies=[Operator], responses=INVALID
)
async def load_update(body: s.LoadIn, energy: EnergyServices) -> s.EnergyStatusOut:
    energy.coordinator.update_measurements(
        Measurements(critical_load_kw=body.critical_load_kw, flexible_load_kw=body.flexible_load_kw)
    )
    return _status(energy)


@router.post(
    "/load/shed", response_model=s.EnergyStatusOut, dependencies=[Operator], responses=INVALID
)
async def load_shed(body: s.ShedIn, energy: EnergyServices) -> s.EnergyStatusOut:
    energy.coordinator.shed_load(body.shed_kw)
    return _status(energy)


# --- configuration, policy, plans -----------------------------------------------------------


@router.get("/config", response_model=SiteConfig)
async def get_config(energy: EnergyServices) -> SiteConfig:
    return energy.coordinator.config


@router.put("/config", response_model=SiteConfig, dependencies=[Operator], responses=INVALID)
async def put_config(config: Annotated[SiteConfig, Body()], energy: EnergyServices) -> SiteConfig:
    return (await energy.site.reconfigure(config)).config


@router.get("/tariff")
async def get_tariff(energy: EnergyServices) -> dict[str, Any]:
    return s.tariff_out(energy.coordinator.tariff)


@router.put("/tariff", dependencies=[Operator], responses=INVALID)
async def put_tariff(body: s.TariffIn, energy: EnergyServices) -> dict[str, Any]:
    return s.tariff_out((await energy.site.set_tariff(body.to_domain())).tariff)


@router.get("/policy", response_model=s.PolicyOut)
async def get_policy(energy: EnergyServices) -> s.PolicyOut:
    return s.PolicyOut(policy=energy.coordinator.policy, available=energy.coordinator.policy_names)


@router.put("/policy", response_model=s.PolicyOut, dependencies=[Operator], responses=INVALID)
async def put_policy(body: s.PolicyIn, energy: EnergyServices) -> s.PolicyOut:
    await energy.site.set_policy(body.policy)
    return await get_policy(energy)


@router.post(
    "/tick",
    response_model=s.PlanSummaryOut,
    dependencies=[Operator],
    summary="Plan now (the coordinator also plans on its own period)",
)
async def tick(energy: EnergyServices) -> s.PlanSummaryOut:
    return s.PlanSummaryOut.of(await energy.coordinator.tick())


@router.get(
    "/plan",
    summary="The current plan in full: inputs, actions, reason and the schedule behind them",
    responses={404: {"model": ErrorOut}},
)
async def current_plan(energy: EnergyServices) -> dict[str, Any]:
    from pydantic import TypeAdapter

    from ev_charging_system.energy.models import Plan
    from ev_charging_system.models.errors import NotFoundError

    plan = energy.coordinator.last_plan
    if plan is None:
        raise NotFoundError("plan", "current")
    document: dict[str, Any] = TypeAdapter(Plan).dump_python(plan, mode="json")
    return document


@router.get("/plans", summary="Stored plans, newest first (schedules cut to their first hours)")
async def stored_plans(
    energy: EnergyServices, limit: Annotated[int, Query(ge=1, le=500)] = 20
) -> list[dict[str, Any]]:
    return await energy.plans.recent(limit)
