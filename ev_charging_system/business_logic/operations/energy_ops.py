"""Site energy: the seed's agent contract under /energy, control, configuration, plans.

Measurement feeds (solar, battery, vehicle, load updates and /coordinate) are what the
site's meters send many times a minute: they are operations like the rest (validated, a
role), but they leave no audit record and are not offered to the model. Control and
configuration are audited; control asks for confirmation in conversational channels.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import time
from typing import Annotated, Any, Literal

from pydantic import Field

from ev_charging_system.business_logic.operations.actor import Role
from ev_charging_system.business_logic.operations.catalogue import (
    AnyOperation,
    Effect,
    Http,
    Operation,
    OperationContext,
)
from ev_charging_system.business_logic.operations.fields import NoInput, Strict, UtcDateTime
from ev_charging_system.business_logic.read_models.energy import (
    ActionsOut,
    AgentsStatusOut,
    CoordinateOut,
    EnergyHealthOut,
    EnergyStatusOut,
    ForecastAccuracyOut,
    ModePowerOut,
    PlanExplanationOut,
    PlanSummaryOut,
    PolicyOut,
    ShedOut,
    plan_document,
    tariff_document,
)
from ev_charging_system.energy import models as e
from ev_charging_system.energy.bounds import MAX_ID_LENGTH, MAX_ITEMS
from ev_charging_system.energy.coordinator import DeferrableLoadStatus, Measurements
from ev_charging_system.energy.errors import (
    PhysicalLimitError,
    UnknownDeferrableLoadError,
    UnknownVehicleError,
)
from ev_charging_system.energy.seed_contract import CoordinateRequest, coordinate
from ev_charging_system.models.errors import ConflictError, InvalidInputError, NotFoundError

NonNegative = Annotated[float, Field(ge=0, le=1_000_000)]
PolicyName = Literal["optimize", "pv_surplus", "rule"]
Price = Annotated[float, Field(ge=-100, le=100, description="per kWh, in the site's currency")]
VehicleId = Annotated[str, Field(min_length=1, max_length=64)]

# --- the seed's /coordinate contract --------------------------------------------------------


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
    vehicle_id: VehicleId | None = Field(default=None, description="default: the first vehicle")


class CoordinateIn(Strict):
    solar: SolarIn | None = None
    load: LoadIn | None = None
    battery: BatteryIn | None = None
    vehicle: VehicleIn | None = None
    policy: PolicyName | None = Field(
        default=None, description="plan with this policy once; `rule` gives the seed's answer"
    )

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


# --- measurements and control ---------------------------------------------------------------


class BatteryUpdateIn(Strict):
    state_of_charge_kwh: NonNegative | None = None
    capacity_kwh: Annotated[float, Field(gt=0, le=1_000_000)] | None = None
    power_kw: Annotated[float, Field(ge=-1_000_000, le=1_000_000)] | None = Field(
        default=None, description="+ charging, - discharging"
    )


class VehicleUpdateIn(Strict):
    vehicle_id: VehicleId | None = None
    connected: bool | None = None
    state_of_charge_kwh: NonNegative | None = None
    departure: UtcDateTime | None = None
    target_soc_kwh: NonNegative | None = None


class ControlIn(Strict):
    mode: e.PowerMode
    power_kw: NonNegative = 0.0


class VehicleControlIn(ControlIn):
    vehicle_id: VehicleId | None = Field(default=None, description="default: the first vehicle")


class ShedIn(Strict):
    shed_kw: NonNegative


# --- configuration ------------------------------------------------------------------------


class SiteConfigIn(Strict):
    config: e.SiteConfig


class VehicleConfigIn(Strict):
    vehicle: e.VehicleConfig


class VehicleIdIn(Strict):
    vehicle_id: VehicleId


class CircuitsIn(Strict):
    circuits: Annotated[list[e.CircuitConfig], Field(max_length=MAX_ITEMS)]


class DeferrableLoadIn(Strict):
    load: e.DeferrableLoadConfig


class DeferrableLoadIdIn(Strict):
    load_id: Annotated[str, Field(min_length=1, max_length=MAX_ID_LENGTH)]


class FlatTariffIn(Strict):
    kind: Literal["flat"] = "flat"
    import_price: Price
    feed_in_price: Price = 0.0

    def to_domain(self) -> e.Tariff:
        return e.FlatTariff(self.import_price, self.feed_in_price)


class WindowIn(Strict):
    start: time
    end: time
    import_price: Price


class TimeOfUseTariffIn(Strict):
    kind: Literal["time_of_use"] = "time_of_use"
    default_import_price: Price
    windows: Annotated[list[WindowIn], Field(max_length=48)]
    feed_in_price: Price = 0.0

    def to_domain(self) -> e.Tariff:
        return e.TimeOfUseTariff(
            self.default_import_price,
            tuple(e.TimeOfUseWindow(w.start, w.end, w.import_price) for w in self.windows),
            self.feed_in_price,
        )


class PricePointIn(Strict):
    start: UtcDateTime
    import_price: Price
    feed_in_price: Price | None = None


class DynamicTariffIn(Strict):
    kind: Literal["dynamic"] = "dynamic"
    points: Annotated[list[PricePointIn], Field(max_length=2000)]
    fallback_import_price: Price
    feed_in_price: Price = 0.0

    def to_domain(self) -> e.Tariff:
        return e.DynamicTariff(
            # Each price holds until the next in time, so the order they were sent in says
            # nothing; a series pasted out of order is still the same series.
            tuple(
                e.PricePoint(p.start, p.import_price, p.feed_in_price)
                for p in sorted(self.points, key=lambda point: point.start)
            ),
            self.fallback_import_price,
            self.feed_in_price,
        )


TariffIn = Annotated[
    FlatTariffIn | TimeOfUseTariffIn | DynamicTariffIn, Field(discriminator="kind")
]


class SetTariffIn(Strict):
    tariff: TariffIn


class PolicyIn(Strict):
    policy: PolicyName


class ExplainPlanIn(Strict):
    at: UtcDateTime | None = Field(
        default=None, description="the plan in force then (UTC); omit: the current plan"
    )
    hours: Annotated[int, Field(ge=1, le=24, description="schedule to include")] = 6


class PlansIn(Strict):
    limit: Annotated[int, Field(ge=1, le=500)] = 20


# --- how they run ---------------------------------------------------------------------------


@contextmanager
def within_the_site() -> Iterator[None]:
    """A measurement or setpoint the configured site cannot have is a conflict with its
    configuration (409), and an unknown vehicle is not found (404); the request itself
    was well formed."""
    try:
        yield
    except UnknownVehicleError as error:
        raise NotFoundError("vehicle", error.vehicle_id) from None
    except UnknownDeferrableLoadError as error:
        raise NotFoundError("deferrable load", error.load_id) from None
    except PhysicalLimitError as error:
        raise ConflictError(
            f"{error} for the site as configured (see GET /energy/config)"
        ) from None


def _status(ctx: OperationContext) -> EnergyStatusOut:
    return EnergyStatusOut.of(ctx.services.energy.coordinator)


async def energy_status(ctx: OperationContext, _: NoInput) -> EnergyStatusOut:
    return _status(ctx)


async def energy_health(ctx: OperationContext, _: NoInput) -> EnergyHealthOut:
    health = ctx.services.energy.coordinator.health()
    return EnergyHealthOut(
        status="ok" if health.running and not health.last_fell_back else "degraded",
        running=health.running,
        policy=health.policy,
        last_tick_at=health.last_tick_at,
        last_fell_back=health.last_fell_back,
        last_fallback_reason=health.last_fallback_reason,
        plan_outcomes=dict(health.plan_outcomes),
        forecast=ForecastAccuracyOut.model_validate(health.forecast, from_attributes=True)
        if health.forecast is not None
        else None,
    )


async def run_coordinate(ctx: OperationContext, i: CoordinateIn) -> CoordinateOut:
    with within_the_site():
        coordinator = ctx.services.energy.coordinator
        if i.policy is not None and i.policy not in coordinator.policy_names:
            raise InvalidInputError(
                f"unknown policy {i.policy!r}; choose one of {', '.join(coordinator.policy_names)}"
            )
        result = await coordinate(coordinator, i.to_request(), policy=i.policy)
        actions = result.actions
        return CoordinateOut(
            actions=ActionsOut(
                battery=ModePowerOut(mode=actions.battery.mode, power_kw=actions.battery.power_kw),
                vehicle=ModePowerOut(mode=actions.vehicle.mode, power_kw=actions.vehicle.power_kw),
                load=ShedOut(shed_kw=actions.load.shed_kw),
            ),
            status=AgentsStatusOut(
                solar=result.status.solar,
                battery=result.status.battery,
                vehicle=result.status.vehicle,
                load=result.status.load,
            ),
            plan=PlanSummaryOut.of(result.plan),
        )


async def solar_update(ctx: OperationContext, i: SolarIn) -> EnergyStatusOut:
    with within_the_site():
        ctx.services.energy.coordinator.update_measurements(
            Measurements(solar_production_kw=i.production_kw)
        )
        return _status(ctx)


async def battery_update(ctx: OperationContext, i: BatteryUpdateIn) -> EnergyStatusOut:
    with within_the_site():
        ctx.services.energy.coordinator.update_measurements(
            Measurements(
                battery_soc_kwh=i.state_of_charge_kwh,
                battery_capacity_kwh=i.capacity_kwh,
                battery_power_kw=i.power_kw,
            )
        )
        return _status(ctx)


async def vehicle_update(ctx: OperationContext, i: VehicleUpdateIn) -> EnergyStatusOut:
    with within_the_site():
        ctx.services.energy.coordinator.update_measurements(
            Measurements(
                vehicle_id=i.vehicle_id,
                vehicle_connected=i.connected,
                vehicle_soc_kwh=i.state_of_charge_kwh,
                vehicle_departure=i.departure,
                vehicle_target_soc_kwh=i.target_soc_kwh,
            )
        )
        return _status(ctx)


async def load_update(ctx: OperationContext, i: LoadIn) -> EnergyStatusOut:
    with within_the_site():
        ctx.services.energy.coordinator.update_measurements(
            Measurements(critical_load_kw=i.critical_load_kw, flexible_load_kw=i.flexible_load_kw)
        )
        return _status(ctx)


async def battery_control(ctx: OperationContext, i: ControlIn) -> EnergyStatusOut:
    with within_the_site():
        ctx.services.energy.coordinator.control_battery(i.mode, i.power_kw)
        return _status(ctx)


async def vehicle_control(ctx: OperationContext, i: VehicleControlIn) -> EnergyStatusOut:
    with within_the_site():
        await ctx.services.energy.coordinator.control_vehicle(i.vehicle_id, i.mode, i.power_kw)
        return _status(ctx)


async def known_vehicle(ctx: OperationContext, i: VehicleControlIn) -> None:
    with within_the_site():
        ctx.services.energy.coordinator.vehicle(i.vehicle_id)


async def shed(ctx: OperationContext, i: ShedIn) -> EnergyStatusOut:
    with within_the_site():
        ctx.services.energy.coordinator.shed_load(i.shed_kw)
        return _status(ctx)


async def get_config(ctx: OperationContext, _: NoInput) -> e.SiteConfig:
    return ctx.services.energy.coordinator.config


async def set_config(ctx: OperationContext, i: SiteConfigIn) -> e.SiteConfig:
    # Every bound of a single field is in the input's schema (422 before this point); what
    # the coordinator refuses here contradicts the site's state (e.g. a battery capacity
    # below its measured charge): a conflict.
    with within_the_site():
        return (await ctx.services.energy.site.reconfigure(i.config)).config


async def list_vehicles(ctx: OperationContext, _: NoInput) -> list[e.VehicleConfig]:
    return list(ctx.services.energy.site.list_vehicles())


async def upsert_vehicle(ctx: OperationContext, i: VehicleConfigIn) -> e.VehicleConfig:
    with within_the_site():
        return await ctx.services.energy.site.upsert_vehicle(i.vehicle)


async def known_vehicle_id(ctx: OperationContext, i: VehicleIdIn) -> None:
    if ctx.services.energy.coordinator.config.vehicle(i.vehicle_id) is None:
        raise NotFoundError("vehicle", i.vehicle_id)


async def remove_vehicle(ctx: OperationContext, i: VehicleIdIn) -> None:
    with within_the_site():
        await ctx.services.energy.site.remove_vehicle(i.vehicle_id)


async def list_circuits(ctx: OperationContext, _: NoInput) -> list[e.CircuitConfig]:
    return list(ctx.services.energy.coordinator.config.circuits)


async def set_circuits(ctx: OperationContext, i: CircuitsIn) -> list[e.CircuitConfig]:
    with within_the_site():
        return list(await ctx.services.energy.site.set_circuits(tuple(i.circuits)))


async def list_deferrable_loads(ctx: OperationContext, _: NoInput) -> list[DeferrableLoadStatus]:
    return ctx.services.energy.site.list_deferrable_loads()


async def add_deferrable_load(ctx: OperationContext, i: DeferrableLoadIn) -> DeferrableLoadStatus:
    with within_the_site():
        return await ctx.services.energy.site.add_deferrable_load(i.load)


async def known_deferrable_load(ctx: OperationContext, i: DeferrableLoadIdIn) -> None:
    with within_the_site():
        ctx.services.energy.coordinator.deferrable_load(i.load_id)


async def remove_deferrable_load(ctx: OperationContext, i: DeferrableLoadIdIn) -> None:
    with within_the_site():
        await ctx.services.energy.site.remove_deferrable_load(i.load_id)


def _load_sentence(i: DeferrableLoadIn) -> str:
    load = i.load
    kind = "interruptible" if load.interruptible else "non-interruptible"
    return (
        f"Schedule {kind} load {load.load_id}: {load.energy_kwh:g} kWh at up to "
        f"{load.power_kw:g} kW between {load.earliest_start.isoformat()} and "
        f"{load.deadline.isoformat()}"
    )


def _vehicle_sentence(i: VehicleConfigIn) -> str:
    v = i.vehicle
    where = f" at connector {v.connector_id} of {v.charge_point_id}" if v.charge_point_id else ""
    circuit = f" on circuit {v.circuit_id}" if v.circuit_id else ""
    return (
        f"Add or replace vehicle {v.vehicle_id}{where}{circuit} "
        f"({v.battery_capacity_kwh:g} kWh, up to {v.max_charge_kw:g} kW)"
    )


async def get_tariff(ctx: OperationContext, _: NoInput) -> dict[str, Any]:
    return tariff_document(ctx.services.energy.coordinator.tariff)


async def set_tariff(ctx: OperationContext, i: SetTariffIn) -> dict[str, Any]:
    return tariff_document((await ctx.services.energy.site.set_tariff(i.tariff.to_domain())).tariff)


def _policy(ctx: OperationContext) -> PolicyOut:
    coordinator = ctx.services.energy.coordinator
    return PolicyOut(policy=coordinator.policy, available=coordinator.policy_names)


async def get_policy(ctx: OperationContext, _: NoInput) -> PolicyOut:
    return _policy(ctx)


async def known_policy(ctx: OperationContext, i: PolicyIn) -> None:
    names = ctx.services.energy.coordinator.policy_names
    if i.policy not in names:
        raise InvalidInputError(f"unknown policy {i.policy!r}; choose one of {', '.join(names)}")


async def set_policy(ctx: OperationContext, i: PolicyIn) -> PolicyOut:
    await known_policy(ctx, i)
    await ctx.services.energy.site.set_policy(i.policy)
    return _policy(ctx)


async def plan_now(ctx: OperationContext, _: NoInput) -> PlanSummaryOut:
    return PlanSummaryOut.of(await ctx.services.energy.coordinator.tick())


async def current_plan(ctx: OperationContext, _: NoInput) -> dict[str, Any]:
    plan = ctx.services.energy.coordinator.last_plan
    if plan is None:
        raise NotFoundError("energy plan", "current")
    return plan_document(plan)


async def stored_plans(ctx: OperationContext, i: PlansIn) -> list[dict[str, Any]]:
    return await ctx.services.energy.plans.recent(i.limit)


async def explain_plan(ctx: OperationContext, i: ExplainPlanIn) -> PlanExplanationOut:
    energy = ctx.services.energy
    if i.at is None:
        plan = energy.coordinator.last_plan
        if plan is None:
            raise NotFoundError("energy plan", "current")
        return PlanExplanationOut.of(plan_document(plan), i.hours)
    document = await energy.plans.in_force_at(i.at)
    if document is None:
        raise NotFoundError("energy plan in force at", i.at.isoformat())
    return PlanExplanationOut.of(document, i.hours)


def _control(kind: str, i: ControlIn) -> str:
    power = f" at {i.power_kw:g} kW" if i.mode is not e.PowerMode.IDLE else ""
    return f"Set the {kind} to {i.mode.value}{power} until the next plan"


def _feed(name: str, path: str, title: str, input: type[Any], perform: Any) -> AnyOperation:
    """A measurement the site's meters send (not audited, not offered to the model)."""
    return Operation(
        name=name,
        title=title,
        description=f"{title} (a measurement feed of the seed's agent contract).",
        input=input,
        output=EnergyStatusOut,
        role=Role.OPERATOR,
        perform=perform,
        effect=Effect.ACT,
        describe=lambda _i: title,
        http=(Http("POST", f"/energy/{path}"),),
        tool=False,
        audited=False,
    )


_DECLARED: tuple[AnyOperation, ...] = (
    Operation(
        name="get_energy_status",
        title="Energy status",
        description="The site's energy right now: PV, battery, vehicles, household load, "
        "policy and the last plan. Use it before answering questions about the site's energy "
        "or a car's charge.",
        input=NoInput,
        output=EnergyStatusOut,
        role=Role.VIEWER,
        perform=energy_status,
        http=(Http("GET", "/energy/status"),),
    ),
    Operation(
        name="get_energy_health",
        title="Energy coordinator health",
        description="Whether the coordinator is running, whether its last plan fell back, "
        "how plans came about since start (solver outcomes) and the forecast error.",
        input=NoInput,
        output=EnergyHealthOut,
        role=Role.VIEWER,
        perform=energy_health,
        http=(Http("GET", "/energy/health"),),
        tool=False,
    ),
    Operation(
        name="coordinate",
        title="Coordinate",
        description="Update measurements, plan now and return the actions (the seed's "
        "/coordinate contract).",
        input=CoordinateIn,
        output=CoordinateOut,
        role=Role.OPERATOR,
        perform=run_coordinate,
        effect=Effect.ACT,
        describe=lambda _i: "Update the site's measurements and plan now",
        http=(Http("POST", "/energy/coordinate", query_fields=("policy",)),),
        tool=False,
        audited=False,
    ),
    _feed("update_solar", "solar/production", "Solar production update", SolarIn, solar_update),
    _feed(
        "update_battery", "battery/update", "Battery measurement", BatteryUpdateIn, battery_update
    ),
    _feed(
        "update_vehicle", "vehicle/update", "Vehicle measurement", VehicleUpdateIn, vehicle_update
    ),
    _feed("update_load", "load/update", "Household load measurement", LoadIn, load_update),
    Operation(
        name="control_battery",
        title="Control the home battery",
        description="Set the battery to charge, discharge or idle at a power, until the next plan.",
        input=ControlIn,
        output=EnergyStatusOut,
        role=Role.OPERATOR,
        perform=battery_control,
        effect=Effect.ACT,
        destructive=True,
        describe=lambda i: _control("home battery", i),
        http=(Http("POST", "/energy/battery/control"),),
    ),
    Operation(
        name="control_vehicle",
        title="Control a vehicle's charging",
        description="Charge (or stop charging) a vehicle at a power until the next plan; the "
        "setpoint is sent to the station it is bound to.",
        input=VehicleControlIn,
        output=EnergyStatusOut,
        role=Role.OPERATOR,
        perform=vehicle_control,
        effect=Effect.ACT,
        destructive=True,
        open_world=True,
        describe=lambda i: _control(f"vehicle {i.vehicle_id or '(first)'}", i),
        precheck=known_vehicle,
        http=(Http("POST", "/energy/vehicle/control"),),
    ),
    Operation(
        name="shed_load",
        title="Shed household load",
        description="Switch off this much flexible household load (kW) until the next plan.",
        input=ShedIn,
        output=EnergyStatusOut,
        role=Role.OPERATOR,
        perform=shed,
        effect=Effect.ACT,
        destructive=True,
        describe=lambda i: f"Shed {i.shed_kw:g} kW of flexible household load",
        http=(Http("POST", "/energy/load/shed"),),
    ),
    Operation(
        name="get_energy_config",
        title="Site configuration",
        description="PV, battery, vehicles, loads and grid connection as configured.",
        input=NoInput,
        output=e.SiteConfig,
        role=Role.VIEWER,
        perform=get_config,
        http=(Http("GET", "/energy/config"),),
    ),
    Operation(
        name="set_energy_config",
        title="Configure the site",
        description="Replace the site's configuration (validated before anything changes).",
        input=SiteConfigIn,
        output=e.SiteConfig,
        role=Role.ADMIN,
        perform=set_config,
        effect=Effect.ACT,
        destructive=True,
        describe=lambda i: (
            f"Reconfigure the site ({len(i.config.vehicles)} vehicles, "
            f"grid limit {i.config.grid.import_limit_kw:g} kW)"
        ),
        http=(Http("PUT", "/energy/config", body_field="config"),),
        tool=False,
    ),
    Operation(
        name="list_energy_vehicles",
        title="Vehicles",
        description="The vehicles the site plans for: each with its charge point connector, "
        "circuit, battery, charger limits and default departure and target.",
        input=NoInput,
        output=list[e.VehicleConfig],
        role=Role.VIEWER,
        perform=list_vehicles,
        http=(Http("GET", "/energy/vehicles"),),
    ),
    Operation(
        name="upsert_energy_vehicle",
        title="Add or replace a vehicle",
        description="Add a vehicle at a charge point connector (charge_point_id and "
        "connector_id go together; circuit_id must name a configured circuit), or replace "
        "the configuration of the vehicle with that vehicle_id. Refused (409) if another "
        "vehicle is bound to the same connector or the circuit is unknown.",
        input=VehicleConfigIn,
        output=e.VehicleConfig,
        role=Role.ADMIN,
        perform=upsert_vehicle,
        effect=Effect.ACT,
        destructive=True,
        describe=_vehicle_sentence,
        http=(Http("PUT", "/energy/vehicles", body_field="vehicle"),),
        tool=False,  # site wiring is an administrator's call, not a model's
    ),
    Operation(
        name="remove_energy_vehicle",
        title="Remove a vehicle",
        description="Stop planning for a vehicle (its charge point is no longer driven).",
        input=VehicleIdIn,
        output=None,
        role=Role.ADMIN,
        perform=remove_vehicle,
        effect=Effect.ACT,
        destructive=True,
        describe=lambda i: f"Remove vehicle {i.vehicle_id} from the site",
        precheck=known_vehicle_id,
        http=(Http("DELETE", "/energy/vehicles/{vehicle_id}", status_code=204),),
        tool=False,  # site wiring is an administrator's call, not a model's
    ),
    Operation(
        name="list_energy_circuits",
        title="Circuits",
        description="The circuits the site's charge points share, each with its kW limit.",
        input=NoInput,
        output=list[e.CircuitConfig],
        role=Role.VIEWER,
        perform=list_circuits,
        http=(Http("GET", "/energy/circuits"),),
    ),
    Operation(
        name="set_energy_circuits",
        title="Set the circuits",
        description="Replace the circuits (circuit_id, max_kw) the charge points share; "
        "refused (409) while a vehicle is on a circuit not listed.",
        input=CircuitsIn,
        output=list[e.CircuitConfig],
        role=Role.ADMIN,
        perform=set_circuits,
        effect=Effect.ACT,
        destructive=True,
        describe=lambda i: (
            "Set the site's circuits to "
            + (", ".join(f"{c.circuit_id} ({c.max_kw:g} kW)" for c in i.circuits) or "none")
        ),
        http=(Http("PUT", "/energy/circuits", body_field="circuits"),),
        tool=False,  # site wiring is an administrator's call, not a model's
    ),
    Operation(
        name="list_deferrable_loads",
        title="Deferrable loads",
        description="Appliance jobs the planner schedules (dishwasher, washing machine, "
        "water heater ...): each with its window, energy delivered so far and what remains.",
        input=NoInput,
        output=list[DeferrableLoadStatus],
        role=Role.VIEWER,
        perform=list_deferrable_loads,
        http=(Http("GET", "/energy/deferrable-loads"),),
    ),
    Operation(
        name="add_deferrable_load",
        title="Add a deferrable load",
        description="Ask the planner to run an appliance job: energy_kwh at up to power_kw "
        "between earliest_start and deadline (timestamps with their offset). Interruptible "
        "jobs (water heater, heat-pump buffer) may pause; others run once, without a break. "
        "The window must hold the run (energy / power). Refused (409) if the id exists or "
        "the deadline has passed.",
        input=DeferrableLoadIn,
        output=DeferrableLoadStatus,
        role=Role.OPERATOR,
        perform=add_deferrable_load,
        effect=Effect.ACT,
        idempotent=False,
        describe=_load_sentence,
        http=(Http("POST", "/energy/deferrable-loads", status_code=201, body_field="load"),),
    ),
    Operation(
        name="remove_deferrable_load",
        title="Remove a deferrable load",
        description="Forget an appliance job, finished or not (a running appliance is "
        "switched off at the next plan).",
        input=DeferrableLoadIdIn,
        output=None,
        role=Role.OPERATOR,
        perform=remove_deferrable_load,
        effect=Effect.ACT,
        destructive=True,
        describe=lambda i: f"Remove deferrable load {i.load_id}",
        precheck=known_deferrable_load,
        http=(Http("DELETE", "/energy/deferrable-loads/{load_id}", status_code=204),),
    ),
    Operation(
        name="get_tariff",
        title="Tariff",
        description="The electricity tariff the planner optimises against.",
        input=NoInput,
        output=dict[str, Any],
        role=Role.VIEWER,
        perform=get_tariff,
        http=(Http("GET", "/energy/tariff"),),
    ),
    Operation(
        name="set_tariff",
        title="Set the tariff",
        description="Set the electricity tariff: flat, time-of-use windows or dynamic prices.",
        input=SetTariffIn,
        output=dict[str, Any],
        role=Role.ADMIN,
        perform=set_tariff,
        effect=Effect.ACT,
        destructive=True,
        describe=lambda i: f"Set a {i.tariff.kind.replace('_', '-')} tariff",
        http=(Http("PUT", "/energy/tariff", body_field="tariff"),),
        tool=False,
    ),
    Operation(
        name="get_energy_policy",
        title="Planning policy",
        description="The planning policy in force and the ones available.",
        input=NoInput,
        output=PolicyOut,
        role=Role.VIEWER,
        perform=get_policy,
        http=(Http("GET", "/energy/policy"),),
        tool=False,
    ),
    Operation(
        name="set_energy_policy",
        title="Set the energy policy",
        description="Choose how the site plans: `optimize` (cheapest, default), `pv_surplus` "
        "(charge the car from surplus PV) or `rule` (the simple reference rule).",
        input=PolicyIn,
        output=PolicyOut,
        role=Role.OPERATOR,
        perform=set_policy,
        effect=Effect.ACT,
        destructive=True,
        describe=lambda i: f"Switch the site's energy planning policy to {i.policy}",
        precheck=known_policy,
        http=(Http("PUT", "/energy/policy"),),
    ),
    Operation(
        name="plan_energy_now",
        title="Plan now",
        description="Make a new plan now (the coordinator also plans on its own period).",
        input=NoInput,
        output=PlanSummaryOut,
        role=Role.OPERATOR,
        perform=plan_now,
        effect=Effect.ACT,
        describe=lambda _i: "Make a new energy plan now",
        http=(Http("POST", "/energy/tick"),),
    ),
    Operation(
        name="get_energy_plan",
        title="Current plan",
        description="The current plan in full: inputs, actions, reason and the schedule.",
        input=NoInput,
        output=dict[str, Any],
        role=Role.VIEWER,
        perform=current_plan,
        http=(Http("GET", "/energy/plan"),),
        tool=False,  # explain_energy_plan is the readable form
    ),
    Operation(
        name="list_energy_plans",
        title="Stored plans",
        description="Stored plans, newest first (schedules cut to their first hours).",
        input=PlansIn,
        output=list[dict[str, Any]],
        role=Role.VIEWER,
        perform=stored_plans,
        http=(Http("GET", "/energy/plans"),),
        tool=False,
    ),
    Operation(
        name="explain_energy_plan",
        title="Explain the energy plan",
        description="Why the energy coordinator decided what it did, with the schedule behind "
        "it. Without `at`: the current plan; with `at` (UTC): the plan in force then.",
        input=ExplainPlanIn,
        output=PlanExplanationOut,
        role=Role.VIEWER,
        perform=explain_plan,
        http=(Http("GET", "/energy/plan/explanation"),),
    ),
)

# Every operation here reads or changes the running planner (its measurements, manual
# setpoints, deferrable loads' progress, current plan, and the site it validates changes
# against), which in a cluster is the leader's: they run there from any node. Only the
# stored plans come from the database and are read where asked.
_FROM_THE_DATABASE = frozenset({"list_energy_plans"})
ENERGY_OPERATIONS: tuple[AnyOperation, ...] = tuple(
    replace(operation, on_leader=operation.name not in _FROM_THE_DATABASE)
    for operation in _DECLARED
)
