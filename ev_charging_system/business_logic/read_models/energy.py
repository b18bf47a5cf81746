"""The site's energy: agents' state, plans, policy, tariff (the seed's shapes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, TypeAdapter

from ev_charging_system.energy import models as e
from ev_charging_system.energy.coordinator import Coordinator
from ev_charging_system.energy.seed_contract import agents_status

MAX_EXPLAINED_STEPS = 96


class ModePowerOut(BaseModel):
    mode: e.PowerMode
    power_kw: float


class ShedOut(BaseModel):
    shed_kw: float


class ActionsOut(BaseModel):
    battery: ModePowerOut
    vehicle: ModePowerOut
    load: ShedOut


class AgentsStatusOut(BaseModel):
    solar: e.SolarState
    battery: e.BatteryState
    vehicle: e.VehicleState | None
    load: e.LoadState


class PlanSummaryOut(BaseModel):
    created_at: datetime
    policy: str
    requested_policy: str
    reason: str
    fell_back: bool
    fallback_reason: str | None
    solve_ms: float
    expected_cost: float | None
    notes: list[str]
    solver_status: str | None = Field(
        default=None,
        description="optimize: optimal, feasible (gap known), time_limit_feasible (best "
        "schedule found when the time limit struck) or heuristic (no schedule: the "
        "departure-aware fallback decided)",
    )
    mip_gap: float | None = Field(default=None, description="distance to the proven bound")

    @classmethod
    def of(cls, plan: e.Plan) -> PlanSummaryOut:
        return cls(
            created_at=plan.created_at,
            policy=plan.policy,
            requested_policy=plan.requested_policy,
            reason=plan.reason,
            fell_back=plan.fell_back,
            fallback_reason=plan.fallback_reason,
            solve_ms=plan.solve_ms,
            expected_cost=plan.expected_cost,
            notes=list(plan.notes),
            solver_status=plan.solver_status,
            mip_gap=plan.mip_gap,
        )


class CoordinateOut(BaseModel):
    actions: ActionsOut
    status: AgentsStatusOut
    plan: PlanSummaryOut


class EnergyStatusOut(AgentsStatusOut):
    at: datetime
    policy: str
    vehicles: list[e.VehicleState]
    last_plan: PlanSummaryOut | None

    @classmethod
    def of(cls, coordinator: Coordinator) -> EnergyStatusOut:
        site = coordinator.status()
        agents = agents_status(coordinator)
        return cls(
            at=site.at,
            policy=site.policy,
            solar=agents.solar,
            battery=agents.battery,
            vehicle=agents.vehicle,
            load=agents.load,
            vehicles=list(site.vehicles),
            last_plan=PlanSummaryOut.of(site.last_plan) if site.last_plan else None,
        )


class ForecastAccuracyOut(BaseModel):
    """Mean absolute error of the last 7 days' forecasts against what was measured."""

    samples: int
    pv_mae_hour_ahead_kw: float | None
    pv_mae_day_ahead_kw: float | None
    load_mae_hour_ahead_kw: float | None
    load_mae_day_ahead_kw: float | None
    pv_bias_day_ahead_kw: float | None = Field(description="+ forecast above what came")


class EnergyHealthOut(BaseModel):
    status: str
    running: bool
    policy: str
    last_tick_at: datetime | None
    last_fell_back: bool
    last_fallback_reason: str | None
    plan_outcomes: dict[str, int] = Field(
        default_factory=dict,
        description="plans since start by how they came about (solver status, or the "
        "reactive policy's name)",
    )
    forecast: ForecastAccuracyOut | None = None


class PolicyOut(BaseModel):
    policy: str
    available: list[str]


class PlanStepOut(BaseModel):
    start: str
    pv_kw: float
    load_kw: float
    battery_kw: float = Field(description="+ charging, - discharging")
    battery_soc_kwh: float
    vehicle_kw: list[float]
    grid_kw: float = Field(description="+ import, - export")
    import_price: float


class PlanExplanationOut(BaseModel):
    made_at: str
    policy: str
    requested_policy: str
    reason: str
    fell_back: bool
    fallback_reason: str | None
    expected_cost: float | None
    actions: dict[str, Any]
    notes: list[str]
    schedule: list[PlanStepOut] = Field(description="the schedule behind the decision")

    @classmethod
    def of(cls, document: dict[str, Any], hours: int) -> PlanExplanationOut:
        steps = document.get("steps", [])[: min(MAX_EXPLAINED_STEPS, hours * 4)]
        return cls(
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
                PlanStepOut(
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


def plan_document(plan: e.Plan) -> dict[str, Any]:
    """A plan as the JSON document the plan log stores."""
    document: dict[str, Any] = TypeAdapter(e.Plan).dump_python(plan, mode="json")
    return document


def tariff_document(tariff: e.Tariff) -> dict[str, Any]:
    kinds = {e.FlatTariff: "flat", e.TimeOfUseTariff: "time_of_use", e.DynamicTariff: "dynamic"}
    body: dict[str, Any] = TypeAdapter(type(tariff)).dump_python(tariff, mode="json")
    return {"kind": kinds[type(tariff)], **body}
