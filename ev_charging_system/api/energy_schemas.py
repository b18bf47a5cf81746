"""JSON shapes of the /energy endpoints: the seed's contract plus site configuration."""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ev_charging_system.energy import models as e
from ev_charging_system.energy.seed_contract import CoordinateRequest

NonNegative = Annotated[float, Field(ge=0)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- the seed's /coordinate contract ------------------------------------------------------


class SolarIn(Strict):
    production_kw: NonNegative


class LoadIn(Strict):
    critical_load_kw: NonNegative | None = None
    flexible_load_kw: NonNegative | None = None


class BatteryIn(Strict):
    state_of_charge_kwh: NonNegative


class VehicleIn(Strict):
    connected: bool | None = None
    state_of_charge_kwh: NonNegative | None = None
    vehicle_id: str | None = Field(default=None, description="default: the first vehicle")


class CoordinateIn(Strict):
    solar: SolarIn | None = None
    load: LoadIn | None = None
    battery: BatteryIn | None = None
    vehicle: VehicleIn | None = None

    def to_request(self) -> CoordinateRequest:
        return CoordinateRequest(
            solar_production_kw=self.solar.production_kw if self.solar else None,
            critical_load_kw=self.load.critical_load_kw if self.load else None,
            flexible_load_kw=self.load.flexible_load_kw if self.load else None,
            battery_soc_kwh=self.battery.state_of_charge_kwh if self.battery else None,
            vehicle_connected=self.vehicle.connected if self.vehicle else None,
            vehicle_soc_kwh=self.vehicle.state_of_charge_kwh if self.vehicle else None,
            vehicle_id=self.vehicle.vehicle_id if self.vehicle else None,
        )


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


class EnergyHealthOut(BaseModel):
    status: str
    running: bool
    policy: str
    last_tick_at: datetime | None
    last_fell_back: bool
    last_fallback_reason: str | None


# --- measurement and control endpoints ----------------------------------------------------


class BatteryUpdateIn(Strict):
    state_of_charge_kwh: NonNegative | None = None
    capacity_kwh: Annotated[float, Field(gt=0)] | None = None
    power_kw: float | None = Field(default=None, description="+ charging, - discharging")


class ControlIn(Strict):
    mode: e.PowerMode
    power_kw: NonNegative = 0.0


class VehicleControlIn(ControlIn):
    vehicle_id: str | None = None


class VehicleUpdateIn(Strict):
    vehicle_id: str | None = None
    connected: bool | None = None
    state_of_charge_kwh: NonNegative | None = None
    departure: datetime | None = None
    target_soc_kwh: NonNegative | None = None


class ShedIn(Strict):
    shed_kw: NonNegative


# --- site configuration --------------------------------------------------------------------


class FlatTariffIn(Strict):
    kind: Literal["flat"] = "flat"
    import_price: float
    feed_in_price: float = 0.0

    def to_domain(self) -> e.Tariff:
        return e.FlatTariff(self.import_price, self.feed_in_price)


class WindowIn(Strict):
    start: time
    end: time
    import_price: float


class TimeOfUseTariffIn(Strict):
    kind: Literal["time_of_use"] = "time_of_use"
    default_import_price: float
    windows: Annotated[list[WindowIn], Field(max_length=48)]
    feed_in_price: float = 0.0

    def to_domain(self) -> e.Tariff:
        return e.TimeOfUseTariff(
            self.default_import_price,
            tuple(e.TimeOfUseWindow(w.start, w.end, w.import_price) for w in self.windows),
            self.feed_in_price,
        )


class PricePointIn(Strict):
    start: datetime
    import_price: float
    feed_in_price: float | None = None


class DynamicTariffIn(Strict):
    kind: Literal["dynamic"] = "dynamic"
    points: Annotated[list[PricePointIn], Field(max_length=2000)]
    fallback_import_price: float
    feed_in_price: float = 0.0

    def to_domain(self) -> e.Tariff:
        return e.DynamicTariff(
            tuple(e.PricePoint(p.start, p.import_price, p.feed_in_price) for p in self.points),
            self.fallback_import_price,
            self.feed_in_price,
        )


TariffIn = Annotated[
    FlatTariffIn | TimeOfUseTariffIn | DynamicTariffIn, Field(discriminator="kind")
]


def tariff_out(tariff: e.Tariff) -> dict[str, Any]:
    kinds = {e.FlatTariff: "flat", e.TimeOfUseTariff: "time_of_use", e.DynamicTariff: "dynamic"}
    from pydantic import TypeAdapter

    body: dict[str, Any] = TypeAdapter(type(tariff)).dump_python(tariff, mode="json")
    return {"kind": kinds[type(tariff)], **body}


class PolicyIn(Strict):
    policy: str = Field(examples=["optimize", "pv_surplus", "rule"])


class PolicyOut(BaseModel):
    policy: str
    available: list[str]
