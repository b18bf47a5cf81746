"""Domain types of site energy coordination: configuration, measured states, actions, plans.

Units are fixed so nobody has to guess: power in kW, energy in kWh, prices per kWh in the
site's currency, times as timezone-aware datetimes. Battery power is signed from the
battery's point of view (+ charging, - discharging); grid power from the site's (+ import,
- export). Field names of the measured states follow the seed's `/coordinate` JSON so the
REST layer maps them one to one.

Every configuration class validates itself in `__post_init__`: an impossible site
(negative capacity, min SoC above max SoC, a charger whose minimum power exceeds its
maximum) cannot be constructed, so no policy ever has to defend against one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Annotated, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from annotated_types import Ge, Gt, Le, MaxLen

from ev_charging_system.energy.bounds import (
    CLOSED,
    MAX_ID_LENGTH,
    MAX_ITEMS,
    ClockTime,
    Efficiency,
    Fraction,
    Identifier,
    Kw,
    Kwh,
    PositiveKw,
    PositiveKwh,
    check_fields,
)
from ev_charging_system.energy.errors import PhysicalLimitError
from ev_charging_system.energy.validation import finite

STEP = timedelta(minutes=15)
STEP_HOURS = STEP.total_seconds() / 3600.0
STEPS_PER_DAY = int(timedelta(days=1) / STEP)


class PowerMode(StrEnum):
    CHARGE = "charge"
    DISCHARGE = "discharge"
    IDLE = "idle"


# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True, slots=True)
class SolarConfig:
    """The PV array. With a location the forecast starts from the array's clear-sky output
    (scaled by a learned clear-sky index); without one it learns from history alone."""

    __pydantic_config__: ClassVar[Mapping[str, str]] = CLOSED
    peak_kw: Kw = 10.0
    latitude: Annotated[float, Ge(-90), Le(90)] | None = None  # degrees, + north
    longitude: Annotated[float, Ge(-180), Le(180)] | None = None  # degrees, + east
    tilt_deg: Annotated[float, Ge(0), Le(90)] = 30.0  # 0 = horizontal
    # Compass bearing the modules face: 180 = south.
    azimuth_deg: Annotated[float, Ge(0), Le(360)] = 180.0
    altitude_m: Annotated[float, Ge(-500), Le(9000)] = 0.0

    def __post_init__(self) -> None:
        check_fields(self, "solar")
        if (self.latitude is None) != (self.longitude is None):
            raise PhysicalLimitError("solar.latitude", "latitude and longitude go together")

    @property
    def located(self) -> bool:
        return self.latitude is not None and self.longitude is not None


@dataclass(frozen=True, slots=True)
class BatteryConfig:
    __pydantic_config__: ClassVar[Mapping[str, str]] = CLOSED
    capacity_kwh: Kwh = 13.5
    max_charge_kw: Kw = 5.0
    max_discharge_kw: Kw = 5.0
    round_trip_efficiency: Efficiency = 0.9
    min_soc: Fraction = 0.1  # fraction of capacity kept as reserve
    max_soc: Fraction = 1.0  # fraction of capacity never exceeded

    def __post_init__(self) -> None:
        check_fields(self, "battery")
        if self.min_soc > self.max_soc:
            raise PhysicalLimitError(
                "battery.min_soc", f"{self.min_soc:g} is above max_soc {self.max_soc:g}"
            )

    @property
    def one_way_efficiency(self) -> float:
        # Losses split evenly between charging and discharging.
        return math.sqrt(self.round_trip_efficiency)

    @property
    def min_energy_kwh(self) -> float:
        return self.capacity_kwh * self.min_soc

    @property
    def max_energy_kwh(self) -> float:
        return self.capacity_kwh * self.max_soc


@dataclass(frozen=True, slots=True)
class VehicleConfig:
    """An EV and the connector it charges at (the station's limits are folded in here)."""

    __pydantic_config__: ClassVar[Mapping[str, str]] = CLOSED
    vehicle_id: Identifier = "ev1"
    battery_capacity_kwh: PositiveKwh = 60.0
    max_charge_kw: Kw = 11.0  # min(vehicle on-board charger, station/cable rating)
    # IEC 61851: below 6 A a charger cannot signal a current.
    min_current_a: Annotated[float, Gt(0), Le(1000)] = 6.0
    phases: Annotated[int, Ge(1), Le(3)] = 3
    voltage_v: Annotated[float, Gt(0), Le(1000)] = 230.0  # per phase
    charge_efficiency: Efficiency = 0.9  # AC energy metered -> energy stored in the battery
    max_discharge_kw: Kw = 0.0  # > 0 only for bidirectional (V2G) setups
    target_soc: Fraction = 0.8  # default "ready by departure" level, fraction of capacity
    max_soc: Fraction = 1.0  # never charge above this fraction
    # Default daily departure, site-local time.
    departure_time: Annotated[time, ClockTime()] = time(7, 0)
    # The connector this vehicle charges at, if bound.
    charge_point_id: Identifier | None = None
    connector_id: Annotated[int, Ge(1), Le(1000)] | None = None  # (2.0.1: the EVSE id)
    circuit_id: Identifier | None = None  # the circuit (sub-distribution) its charge point is on

    def __post_init__(self) -> None:
        check_fields(self, "vehicle")
        if self.target_soc > self.max_soc:
            raise PhysicalLimitError(
                "vehicle.target_soc", f"{self.target_soc:g} is above max_soc {self.max_soc:g}"
            )
        if self.max_charge_kw > 0 and self.min_charge_kw > self.max_charge_kw + 1e-9:
            raise PhysicalLimitError(
                "vehicle.max_charge_kw",
                f"{self.max_charge_kw:g} kW is below the minimum charging power "
                f"{self.min_charge_kw:.2f} kW ({self.min_current_a:g} A x {self.phases} "
                f"phase(s) x {self.voltage_v:g} V)",
            )
        if (self.charge_point_id is None) != (self.connector_id is None):
            raise PhysicalLimitError(
                "vehicle.connector_id", "charge_point_id and connector_id go together"
            )

    @property
    def min_charge_kw(self) -> float:
        return self.min_current_a * self.phases * self.voltage_v / 1000.0

    @property
    def target_energy_kwh(self) -> float:
        return self.battery_capacity_kwh * self.target_soc

    @property
    def max_energy_kwh(self) -> float:
        return self.battery_capacity_kwh * self.max_soc


@dataclass(frozen=True, slots=True)
class GridConfig:
    __pydantic_config__: ClassVar[Mapping[str, str]] = CLOSED
    import_limit_kw: Kw = 17.0  # e.g. 3 x 25 A main fuse
    export_limit_kw: Kw | None = None  # None: export not limited

    def __post_init__(self) -> None:
        check_fields(self, "grid")


@dataclass(frozen=True, slots=True)
class CircuitConfig:
    """A circuit several charge points share (a cable, a breaker): its limit in kW."""

    __pydantic_config__: ClassVar[Mapping[str, str]] = CLOSED
    circuit_id: Identifier
    max_kw: Kw

    def __post_init__(self) -> None:
        check_fields(self, "circuit")


@dataclass(frozen=True, slots=True)
class DeferrableLoadConfig:
    """A job that must get `energy_kwh` between `earliest_start` and `deadline`.

    Interruptible (water heater, heat-pump buffer): any share of `power_kw` per step,
    paused and resumed freely. Not interruptible (dishwasher, washing machine): once
    started it runs at `power_kw` until its energy is delivered.
    """

    __pydantic_config__: ClassVar[Mapping[str, str]] = CLOSED
    load_id: Identifier
    power_kw: PositiveKw
    energy_kwh: PositiveKwh
    earliest_start: datetime
    deadline: datetime
    interruptible: bool = False
    name: Annotated[str, MaxLen(200)] = ""

    def __post_init__(self) -> None:
        check_fields(self, "deferrable")
        for name, moment in (("earliest_start", self.earliest_start), ("deadline", self.deadline)):
            if moment.tzinfo is None:
                raise PhysicalLimitError(f"deferrable.{name}", "must be timezone-aware")
        window_h = (self.deadline - self.earliest_start).total_seconds() / 3600.0
        if window_h <= 0:
            raise PhysicalLimitError("deferrable.deadline", "must be after earliest_start")
        if self.run_hours > window_h + 1e-9:
            raise PhysicalLimitError(
                "deferrable.energy_kwh",
                f"{self.energy_kwh:g} kWh at {self.power_kw:g} kW needs {self.run_hours:.2f} h, "
                f"more than the {window_h:.2f} h between earliest_start and deadline",
            )

    @property
    def run_hours(self) -> float:
        return self.energy_kwh / self.power_kw


@dataclass(frozen=True, slots=True)
class LoadConfig:
    __pydantic_config__: ClassVar[Mapping[str, str]] = CLOSED
    # What shedding one kWh of flexible load costs the occupants, in the price unit. The
    # optimiser sheds only when this beats every alternative, i.e. practically only when
    # a grid limit leaves no other choice.
    shed_penalty_per_kwh: Annotated[float, Ge(0), Le(1000)] = 1.0

    def __post_init__(self) -> None:
        check_fields(self, "load")


@dataclass(frozen=True, slots=True)
class SiteConfig:
    __pydantic_config__: ClassVar[Mapping[str, str]] = CLOSED
    solar: SolarConfig = field(default_factory=SolarConfig)
    battery: BatteryConfig = field(default_factory=BatteryConfig)
    grid: GridConfig = field(default_factory=GridConfig)
    load: LoadConfig = field(default_factory=LoadConfig)
    vehicles: Annotated[tuple[VehicleConfig, ...], MaxLen(MAX_ITEMS)] = (VehicleConfig(),)
    # An IANA time zone name: for time-of-use windows, default departures, load profiles.
    timezone: Annotated[str, MaxLen(MAX_ID_LENGTH)] = "UTC"
    # Planning horizon; the optimiser stretches it to reach a departure, up to 48 h.
    horizon_hours: Annotated[float, Gt(0), Le(168)] = 24.0
    circuits: Annotated[tuple[CircuitConfig, ...], MaxLen(MAX_ITEMS)] = ()
    deferrable_loads: Annotated[tuple[DeferrableLoadConfig, ...], MaxLen(MAX_ITEMS)] = ()

    def __post_init__(self) -> None:
        check_fields(self, "site")
        ids = [v.vehicle_id for v in self.vehicles]
        if len(set(ids)) != len(ids):
            raise PhysicalLimitError("vehicles", f"vehicle ids must be unique, got {ids}")
        connectors = [
            (v.charge_point_id, v.connector_id) for v in self.vehicles if v.charge_point_id
        ]
        if len(set(connectors)) != len(connectors):
            raise PhysicalLimitError(
                "vehicles", "two vehicles are bound to the same charge point connector"
            )
        circuit_ids = [c.circuit_id for c in self.circuits]
        if len(set(circuit_ids)) != len(circuit_ids):
            raise PhysicalLimitError("circuits", f"circuit ids must be unique, got {circuit_ids}")
        for vehicle in self.vehicles:
            if vehicle.circuit_id is not None and vehicle.circuit_id not in circuit_ids:
                raise PhysicalLimitError(
                    "vehicle.circuit_id",
                    f"{vehicle.vehicle_id} is on unknown circuit {vehicle.circuit_id!r}",
                )
        load_ids = [d.load_id for d in self.deferrable_loads]
        if len(set(load_ids)) != len(load_ids):
            raise PhysicalLimitError("deferrable_loads", f"load ids must be unique, got {load_ids}")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise PhysicalLimitError("timezone", f"unknown time zone {self.timezone!r}") from exc

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def horizon_steps(self) -> int:
        return max(1, round(self.horizon_hours / STEP_HOURS))

    def vehicle(self, vehicle_id: str) -> VehicleConfig | None:
        return next((v for v in self.vehicles if v.vehicle_id == vehicle_id), None)

    def circuit(self, circuit_id: str) -> CircuitConfig | None:
        return next((c for c in self.circuits if c.circuit_id == circuit_id), None)

    def deferrable(self, load_id: str) -> DeferrableLoadConfig | None:
        return next((d for d in self.deferrable_loads if d.load_id == load_id), None)


# --------------------------------------------------------------------------------- tariffs


@dataclass(frozen=True, slots=True)
class FlatTariff:
    import_price: float
    feed_in_price: float = 0.0

    def __post_init__(self) -> None:
        finite("tariff.import_price", self.import_price)
        finite("tariff.feed_in_price", self.feed_in_price)


@dataclass(frozen=True, slots=True)
class TimeOfUseWindow:
    """[start, end) in site-local time; end <= start wraps past midnight (22:00-06:00)."""

    start: time
    end: time
    import_price: float

    def __post_init__(self) -> None:
        finite("tariff.window.import_price", self.import_price)

    def contains(self, moment: time) -> bool:
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


@dataclass(frozen=True, slots=True)
class TimeOfUseTariff:
    default_import_price: float
    windows: tuple[TimeOfUseWindow, ...]  # the first window containing a time wins
    feed_in_price: float = 0.0

    def __post_init__(self) -> None:
        finite("tariff.default_import_price", self.default_import_price)
        finite("tariff.feed_in_price", self.feed_in_price)


@dataclass(frozen=True, slots=True)
class PricePoint:
    start: datetime
    import_price: float
    feed_in_price: float | None = None  # None: the tariff's feed-in price

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            raise PhysicalLimitError("tariff.price.start", "must be timezone-aware")
        finite("tariff.price.import_price", self.import_price)
        if self.feed_in_price is not None:
            finite("tariff.price.feed_in_price", self.feed_in_price)


@dataclass(frozen=True, slots=True)
class DynamicTariff:
    """A published price series (e.g. day-ahead + fees); each point holds until the next."""

    points: tuple[PricePoint, ...]
    fallback_import_price: float  # before the first / after the last known price
    feed_in_price: float = 0.0

    def __post_init__(self) -> None:
        finite("tariff.fallback_import_price", self.fallback_import_price)
        finite("tariff.feed_in_price", self.feed_in_price)
        starts = [p.start for p in self.points]
        if starts != sorted(starts):
            raise PhysicalLimitError("tariff.points", "must be sorted by start")


Tariff = FlatTariff | TimeOfUseTariff | DynamicTariff


# -------------------------------------------------------------------------- measured states


@dataclass(frozen=True, slots=True)
class SolarState:
    production_kw: float = 0.0
    measured_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class BatteryState:
    state_of_charge_kwh: float
    capacity_kwh: float
    power_kw: float = 0.0  # measured, + charging / - discharging
    mode: PowerMode = PowerMode.IDLE  # the setpoint in force
    setpoint_kw: float = 0.0  # magnitude, direction given by mode
    measured_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class VehicleState:
    vehicle_id: str
    connected: bool = False
    state_of_charge_kwh: float = 0.0
    capacity_kwh: float = 60.0
    power_kw: float = 0.0  # measured at the connector, + charging
    session_energy_kwh: float = 0.0  # AC energy delivered since plug-in
    departure: datetime | None = None  # this session's departure; None: config default
    target_soc_kwh: float | None = None  # this session's target; None: config default
    mode: PowerMode = PowerMode.IDLE
    setpoint_kw: float = 0.0
    bound: bool = False  # True when a real connector executes the setpoint
    measured_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class LoadState:
    critical_load_kw: float = 0.0
    flexible_load_kw: float = 0.0
    shed_kw: float = 0.0  # flexible load currently switched off
    measured_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class DeferrableLoadState:
    load_id: str
    delivered_kwh: float = 0.0  # energy the job has received so far
    power_kw: float = 0.0  # the setpoint in force
    started: bool = False  # a non-interruptible job, once started, runs to the end
    measured_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class SiteSnapshot:
    """Everything a policy may look at, frozen at one instant."""

    at: datetime
    solar: SolarState
    battery: BatteryState
    vehicles: tuple[VehicleState, ...]
    load: LoadState
    deferrables: tuple[DeferrableLoadState, ...] = ()

    def deferrable(self, load_id: str) -> DeferrableLoadState | None:
        return next((d for d in self.deferrables if d.load_id == load_id), None)


@dataclass(frozen=True, slots=True)
class Forecast:
    """Per-step averages from `start`, one value per 15-minute step."""

    start: datetime
    pv_kw: tuple[float, ...]
    critical_load_kw: tuple[float, ...]
    flexible_load_kw: tuple[float, ...]
    method: str = ""

    def __post_init__(self) -> None:
        n = len(self.pv_kw)
        if len(self.critical_load_kw) != n or len(self.flexible_load_kw) != n:
            raise PhysicalLimitError("forecast", "series must have the same length")

    @property
    def steps(self) -> int:
        return len(self.pv_kw)


# ------------------------------------------------------------------------- actions and plan


@dataclass(frozen=True, slots=True)
class BatteryAction:
    mode: PowerMode
    power_kw: float  # magnitude

    @property
    def signed_kw(self) -> float:
        return signed(self.mode, self.power_kw)


@dataclass(frozen=True, slots=True)
class VehicleAction:
    vehicle_id: str
    mode: PowerMode
    power_kw: float

    @property
    def signed_kw(self) -> float:
        return signed(self.mode, self.power_kw)


@dataclass(frozen=True, slots=True)
class LoadAction:
    shed_kw: float


@dataclass(frozen=True, slots=True)
class DeferrableAction:
    load_id: str
    power_kw: float  # 0: off


@dataclass(frozen=True, slots=True)
class SiteActions:
    battery: BatteryAction
    vehicles: tuple[VehicleAction, ...]
    load: LoadAction
    grid_kw: float = 0.0  # the grid exchange these actions lead to (+ import)
    curtailed_kw: float = 0.0  # PV deliberately not produced (export limit)
    deferrables: tuple[DeferrableAction, ...] = ()

    def vehicle(self, vehicle_id: str) -> VehicleAction | None:
        return next((v for v in self.vehicles if v.vehicle_id == vehicle_id), None)

    def deferrable(self, load_id: str) -> DeferrableAction | None:
        return next((d for d in self.deferrables if d.load_id == load_id), None)


@dataclass(frozen=True, slots=True)
class PlanStep:
    start: datetime
    pv_kw: float
    critical_load_kw: float
    flexible_load_kw: float
    shed_kw: float
    battery_kw: float  # + charge / - discharge
    battery_soc_kwh: float  # at the end of the step
    vehicle_kw: tuple[float, ...]  # same order as the snapshot's vehicles
    grid_kw: float  # + import / - export
    curtailed_kw: float
    import_price: float
    feed_in_price: float
    deferrable_kw: tuple[float, ...] = ()  # same order as the snapshot's deferrables


@dataclass(frozen=True, slots=True)
class Plan:
    """One planning decision: what to do now, the schedule behind it, and why."""

    created_at: datetime
    policy: str  # the policy that produced `actions` (e.g. "rule" after a fallback)
    requested_policy: str  # the policy that was asked for
    actions: SiteActions
    steps: tuple[PlanStep, ...]
    reason: str  # human-readable explanation for the dashboard and the LLM
    snapshot: SiteSnapshot
    fell_back: bool = False
    fallback_reason: str | None = None
    solve_ms: float = 0.0
    expected_cost: float | None = None  # over the horizon, in the price unit
    notes: tuple[str, ...] = ()  # e.g. charger errors while applying the actions
    # How the optimiser's answer came about: optimal | time_limit_feasible (the best
    # schedule found when the time limit struck) | heuristic (no schedule: the
    # departure-aware fallback decided). None for the reactive policies.
    solver_status: str | None = None
    mip_gap: float | None = None  # relative distance to the proven bound, if known
    simultaneous_steps: int = 0  # model steps importing+exporting or charging+discharging
    forecast_method: str = ""


def signed(mode: PowerMode, power_kw: float) -> float:
    if mode is PowerMode.CHARGE:
        return power_kw
    if mode is PowerMode.DISCHARGE:
        return -power_kw
    return 0.0


def action_from_signed(signed_kw: float, epsilon_kw: float = 1e-6) -> tuple[PowerMode, float]:
    """(mode, magnitude) of a signed power; tiny values count as idle."""
    if signed_kw > epsilon_kw:
        return PowerMode.CHARGE, signed_kw
    if signed_kw < -epsilon_kw:
        return PowerMode.DISCHARGE, -signed_kw
    return PowerMode.IDLE, 0.0
