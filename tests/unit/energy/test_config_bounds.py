"""Configuration bounds are declared once, on the field types: enforced when a site is
built in Python, and published in the JSON Schema the REST/MCP input is checked against."""

from __future__ import annotations

import math
import re
from dataclasses import fields
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from ev_charging_system.energy.bounds import ClockTime
from ev_charging_system.energy.errors import PhysicalLimitError
from ev_charging_system.energy.models import (
    BatteryConfig,
    CircuitConfig,
    GridConfig,
    LoadConfig,
    SiteConfig,
    SolarConfig,
    VehicleConfig,
)

SCHEMA = TypeAdapter(SiteConfig).json_schema()
DEFS = SCHEMA["$defs"]


def _property(cls: type, name: str) -> dict[str, Any]:
    schema = SCHEMA if cls is SiteConfig else DEFS[cls.__name__]
    prop: dict[str, Any] = schema["properties"][name]
    # Optional fields: the bounds sit on the non-null branch.
    for branch in prop.get("anyOf", []):
        if branch.get("type") != "null":
            return {**prop, **branch}
    return prop


@pytest.mark.parametrize(
    ("cls", "name", "bounds"),
    [
        (SolarConfig, "peak_kw", {"minimum": 0, "maximum": 1e6}),
        (SolarConfig, "latitude", {"minimum": -90, "maximum": 90}),
        (SolarConfig, "azimuth_deg", {"minimum": 0, "maximum": 360}),
        (BatteryConfig, "round_trip_efficiency", {"exclusiveMinimum": 0, "maximum": 1}),
        (BatteryConfig, "min_soc", {"minimum": 0, "maximum": 1}),
        (VehicleConfig, "vehicle_id", {"minLength": 1, "maxLength": 64}),
        (VehicleConfig, "phases", {"minimum": 1, "maximum": 3}),
        (VehicleConfig, "battery_capacity_kwh", {"exclusiveMinimum": 0, "maximum": 1e6}),
        (VehicleConfig, "connector_id", {"minimum": 1, "maximum": 1000}),
        (GridConfig, "export_limit_kw", {"minimum": 0, "maximum": 1e6}),
        (CircuitConfig, "circuit_id", {"minLength": 1, "maxLength": 64}),
        (LoadConfig, "shed_penalty_per_kwh", {"minimum": 0, "maximum": 1000}),
        (SiteConfig, "horizon_hours", {"exclusiveMinimum": 0, "maximum": 168}),
        (SiteConfig, "vehicles", {"maxItems": 64}),
        (SiteConfig, "deferrable_loads", {"maxItems": 64}),
    ],
)
def test_the_schema_publishes_the_bound(cls: type, name: str, bounds: dict[str, float]) -> None:
    prop = _property(cls, name)
    for key, value in bounds.items():
        assert prop.get(key) == value, (cls.__name__, name, key, prop)


def test_every_numeric_field_of_the_configuration_has_both_bounds_in_the_schema() -> None:
    for cls in (SolarConfig, BatteryConfig, VehicleConfig, GridConfig, CircuitConfig):
        for f in fields(cls):
            prop = _property(cls, f.name)
            if prop.get("type") in ("number", "integer"):
                assert {"minimum", "exclusiveMinimum"} & set(prop), (cls.__name__, f.name)
                assert "maximum" in prop, (cls.__name__, f.name)


def test_configuration_objects_refuse_unknown_fields() -> None:
    assert SCHEMA["additionalProperties"] is False
    assert DEFS["VehicleConfig"]["additionalProperties"] is False
    with pytest.raises(ValidationError):
        TypeAdapter(SiteConfig).validate_python({"battery": {"capacity_kwh": 5, "colour": 1}})


@pytest.mark.parametrize(
    ("build", "quantity"),
    [
        (lambda: BatteryConfig(capacity_kwh=-1.0), "battery.capacity_kwh"),
        (lambda: BatteryConfig(round_trip_efficiency=0.0), "battery.round_trip_efficiency"),
        (lambda: BatteryConfig(max_soc=1.5), "battery.max_soc"),
        (lambda: VehicleConfig(vehicle_id=""), "vehicle.vehicle_id"),
        (lambda: VehicleConfig(phases=4), "vehicle.phases"),
        (lambda: VehicleConfig(max_charge_kw=math.inf), "vehicle.max_charge_kw"),
        (lambda: VehicleConfig(target_soc=math.nan), "vehicle.target_soc"),
        (lambda: GridConfig(export_limit_kw=2e6), "grid.export_limit_kw"),
        (lambda: SolarConfig(latitude=91.0, longitude=0.0), "solar.latitude"),
        (lambda: SiteConfig(horizon_hours=0.0), "site.horizon_hours"),
    ],
)
def test_building_a_configuration_in_python_enforces_the_same_bounds(
    build: Any, quantity: str
) -> None:
    with pytest.raises(PhysicalLimitError) as error:
        build()
    assert error.value.quantity == quantity


def test_a_departure_time_is_a_local_clock_time_in_the_schema_and_in_the_output() -> None:
    prop = _property(VehicleConfig, "departure_time")
    assert "format" not in prop  # JSON Schema's "time" would demand an offset
    pattern = re.compile(prop["pattern"])
    assert pattern.match("07:00") and pattern.match("23:59:59")
    assert not pattern.match("24:00") and not pattern.match("07:00:00Z")
    dumped = TypeAdapter(VehicleConfig).dump_python(VehicleConfig(), mode="json")
    assert pattern.match(dumped["departure_time"])
    assert prop["pattern"] == ClockTime.PATTERN
