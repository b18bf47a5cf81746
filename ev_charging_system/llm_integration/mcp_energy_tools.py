"""MCP tools for the site's energy: status, why the plan is what it is, and the policy.

They call the same coordinator and site-settings service as the /energy REST endpoints.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from ev_charging_system.energy.coordinator import Coordinator
from ev_charging_system.energy.models import Plan
from ev_charging_system.energy.recorder import PlanLog
from ev_charging_system.energy.site_settings import SiteSettingsService
from ev_charging_system.llm_integration.mcp_auth import READ, require
from ev_charging_system.llm_integration.mcp_models import ActionOutcome, ConfirmToken
from ev_charging_system.llm_integration.mcp_toolkit import (
    Arguments,
    Confirmation,
    Toolkit,
    acting,
    read_only,
    tool_errors,
)
from ev_charging_system.models.commands import CommandResult
from ev_charging_system.models.errors import InvalidInputError, NotFoundError

MAX_STEPS = 96


@dataclass(frozen=True, slots=True)
class EnergyTools:
    coordinator: Coordinator
    site: SiteSettingsService
    plans: PlanLog


class VehicleView(BaseModel):
    vehicle_id: str
    connected: bool
    bound_to: str | None = Field(description="charge point/connector driven by the plan")
    state_of_charge_kwh: float
    capacity_kwh: float
    power_kw: float
    setpoint: str
    departure: datetime | None


class EnergyStatus(BaseModel):
    at: datetime
    policy: str
    available_policies: list[str]
    solar_kw: float
    battery_soc_kwh: float
    battery_capacity_kwh: float
    battery_setpoint: str
    critical_load_kw: float
    flexible_load_kw: float
    shed_kw: float
    vehicles: list[VehicleView]
    last_plan_reason: str | None
    last_plan_fell_back: bool


class PlanStepView(BaseModel):
    start: str
    pv_kw: float
    load_kw: float
    battery_kw: float = Field(description="+ charging, - discharging")
    battery_soc_kwh: float
    vehicle_kw: list[float]
    grid_kw: float = Field(description="+ import, - export")
    import_price: float


class PlanExplanation(BaseModel):
    made_at: str
    policy: str
    requested_policy: str
    reason: str
    fell_back: bool
    fallback_reason: str | None
    expected_cost: float | None
    actions: dict[str, Any]
    notes: list[str]
    schedule: list[PlanStepView] = Field(description="the schedule behind the decision")


def _setpoint(mode: str, power_kw: float) -> str:
    return "idle" if mode == "idle" else f"{mode} {power_kw:.2f} kW"


def _explanation(document: dict[str, Any], hours: int) -> PlanExplanation:
    steps = document.get("steps", [])[: min(MAX_STEPS, hours * 4)]
    return PlanExplanation(
        made_at=str(document["created_at"]),
        policy=str(document["policy"]),
        requested_policy=str(document["requested_policy"]),
        reason=str(document["reason"]),
        fell_back=bool(document.get("fell_back")),
        fallback_reason=document.get("fallback_reason"),
        expected_cost=document.get("expected_cost"),
        actions=dict(document["actions"]),
        notes=list(document.get("notes", [])),
        schedule=[
            PlanStepView(
                start=str(step["start"]),
                pv_kw=step["pv_kw"],
                load_kw=step["critical_load_kw"] + step["flexible_load_kw"] - step["shed_kw"],
                battery_kw=step["battery_kw"],
                battery_soc_kwh=step["battery_soc_kwh"],
                vehicle_kw=list(step["vehicle_kw"]),
                grid_kw=step["grid_kw"],
                import_price=step["import_price"],
            )
            for step in steps
        ],
    )


def _plan_document(plan: Plan) -> dict[str, Any]:
    from pydantic import TypeAdapter

    document: dict[str, Any] = TypeAdapter(Plan).dump_python(plan, mode="json")
    return document


def energy_tools(energy: EnergyTools) -> Callable[[Toolkit], None]:
    """An extension for build_mcp(): the three energy tools, with the same safety."""

    def register(kit: Toolkit) -> None:
        @kit.server.tool(title="Energy status", annotations=read_only())
        async def get_energy_status() -> EnergyStatus:
            """The site's energy right now: PV, battery, vehicles, household load, policy.

            Use it before answering questions about the home/site energy or a car's charge.
            """
            require(READ)
            status = energy.coordinator.status()
            return EnergyStatus(
                at=status.at,
                policy=status.policy,
                available_policies=energy.coordinator.policy_names,
                solar_kw=status.solar.production_kw,
                battery_soc_kwh=status.battery.state_of_charge_kwh,
                battery_capacity_kwh=status.battery.capacity_kwh,
                battery_setpoint=_setpoint(status.battery.mode.value, status.battery.setpoint_kw),
                critical_load_kw=status.load.critical_load_kw,
                flexible_load_kw=status.load.flexible_load_kw,
                shed_kw=status.load.shed_kw,
                vehicles=[
                    VehicleView(
                        vehicle_id=v.vehicle_id,
                        connected=v.connected,
                        bound_to=_binding(energy.coordinator, v.vehicle_id),
                        state_of_charge_kwh=v.state_of_charge_kwh,
                        capacity_kwh=v.capacity_kwh,
                        power_kw=v.power_kw,
                        setpoint=_setpoint(v.mode.value, v.setpoint_kw),
                        departure=v.departure,
                    )
                    for v in status.vehicles
                ],
                last_plan_reason=status.last_plan.reason if status.last_plan else None,
                last_plan_fell_back=status.last_plan.fell_back if status.last_plan else False,
            )

        @kit.server.tool(title="Explain the energy plan", annotations=read_only())
        async def explain_energy_plan(
            at: datetime | None = None, hours: int = 6
        ) -> PlanExplanation:
            """Why the energy coordinator decided what it did, with the schedule behind it.

            Without `at`: the current plan. With `at` (e.g. today 18:00 in UTC): the plan
            that was in force then, from the stored plans. `hours` (1-24) limits the schedule.
            """
            require(READ)
            with tool_errors():
                if not 1 <= hours <= 24:
                    raise InvalidInputError("hours must be between 1 and 24")
                if at is None:
                    plan = energy.coordinator.last_plan
                    if plan is None:
                        raise NotFoundError("energy plan", "current")
                    return _explanation(_plan_document(plan), hours)
                document = await energy.plans.in_force_at(at)
                if document is None:
                    raise NotFoundError("energy plan in force at", at.isoformat())
                return _explanation(document, hours)

        async def known_policy(arguments: Arguments) -> object:
            policy = str(arguments.get("policy"))
            if policy not in energy.coordinator.policy_names:
                raise InvalidInputError(
                    f"unknown policy {policy!r}; choose one of "
                    f"{', '.join(energy.coordinator.policy_names)}"
                )
            return policy

        @kit.action(
            title="Set the energy policy",
            annotations=acting(destructive=True, idempotent=True),
            describe=lambda a: f"Switch the site's energy planning policy to {a['policy']}",
            precheck=known_policy,
        )
        async def set_energy_policy(
            policy: str, confirm_token: ConfirmToken = None, *, confirmation: Confirmation
        ) -> ActionOutcome:
            """Choose how the site plans: `optimize` (cheapest, default), `pv_surplus`
            (charge the car from surplus PV) or `rule` (the simple reference rule)."""
            with tool_errors():
                await known_policy({"policy": policy})

            async def execute(_actor: str) -> CommandResult:
                await energy.site.set_policy(policy)
                return CommandResult("Accepted", {"policy": policy})

            return await kit.perform(
                "set_energy_policy",
                {"policy": policy},
                confirmation,
                confirm_token,
                execute,
                answered_by="the energy coordinator",
            )

    return register


def _binding(coordinator: Coordinator, vehicle_id: str) -> str | None:
    config = coordinator.vehicle(vehicle_id).config
    if config.charge_point_id is None:
        return None
    return f"{config.charge_point_id}/{config.connector_id}"
