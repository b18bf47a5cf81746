"""The OCPP 2.0.1 device model over the shared settings: GetVariables and SetVariables
results, and base report items.

Simplifications: only the Actual attribute of a variable exists; variable instances are
ignored. Items use the `ocpp` library's snake_case keys.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tools.station_sim.settings import READ_ONLY, WRITE_ONLY, Setting, VariableKey

ACTUAL = "Actual"
ValueOf = Callable[[VariableKey], str]
"""The value a variable reads as now (some follow the station's state)."""


def key_of(component: dict[str, Any], variable: dict[str, Any]) -> VariableKey:
    evse = component.get("evse") or {}
    return VariableKey(
        component["name"], variable["name"], evse.get("id"), evse.get("connector_id")
    )


def component_of(key: VariableKey) -> dict[str, Any]:
    component: dict[str, Any] = {"name": key.component}
    if key.evse_id is not None:
        component["evse"] = {"id": key.evse_id}
        if key.connector_id is not None:
            component["evse"]["connector_id"] = key.connector_id
    return component


def lookup_status(variables: dict[VariableKey, Setting], key: VariableKey, attribute: str) -> str:
    """Get/SetVariableStatus before mutability is considered (both enums share these)."""
    if not any(_same_component(key, known) for known in variables):
        return "UnknownComponent"
    if key not in variables:
        return "UnknownVariable"
    if attribute != ACTUAL:
        return "NotSupportedAttributeType"
    return "Accepted"


def _same_component(a: VariableKey, b: VariableKey) -> bool:
    return (a.component, a.evse_id, a.connector_id) == (b.component, b.evse_id, b.connector_id)


def get_result(
    variables: dict[VariableKey, Setting], item: dict[str, Any], value_of: ValueOf, refuse: bool
) -> dict[str, Any]:
    """A GetVariableResult; `refuse`: the station answers Rejected to what it knows."""
    key = key_of(item["component"], item["variable"])
    attribute = item.get("attribute_type", ACTUAL)
    status = lookup_status(variables, key, attribute)
    if status == "Accepted" and (refuse or variables[key].mutability == WRITE_ONLY):
        status = "Rejected"
    result = _result(item, attribute, status)
    if status == "Accepted":
        result["attribute_value"] = value_of(key)
    return result


def set_result(
    variables: dict[VariableKey, Setting],
    item: dict[str, Any],
    write: Callable[[Setting, str], bool],
) -> dict[str, Any]:
    """A SetVariableResult, after `write` stored the value or refused it."""
    key = key_of(item["component"], item["variable"])
    attribute = item.get("attribute_type", ACTUAL)
    status = lookup_status(variables, key, attribute)
    if status == "Accepted" and not write(variables[key], str(item["attribute_value"])):
        status = "Rejected"
    return _result(item, attribute, status)


def _result(item: dict[str, Any], attribute: str, status: str) -> dict[str, Any]:
    return {
        "attribute_status": status,
        "attribute_type": attribute,
        "component": item["component"],
        "variable": item["variable"],
    }


def report_keys(variables: dict[VariableKey, Setting], report_base: str) -> list[VariableKey]:
    """The variables a GetBaseReport of `report_base` lists, in report order."""
    if report_base == "ConfigurationInventory":
        return [key for key, setting in variables.items() if setting.mutability != READ_ONLY]
    if report_base == "SummaryInventory":
        return [key for key in variables if key.variable == "AvailabilityState"]
    return list(variables)


def report_item(setting: Setting, key: VariableKey, value_of: ValueOf) -> dict[str, Any]:
    """A ReportDataType (a write-only value is not shown)."""
    attribute: dict[str, Any] = {"type": ACTUAL, "mutability": setting.mutability}
    if setting.mutability != WRITE_ONLY:
        attribute["value"] = value_of(key)
    return {
        "component": component_of(key),
        "variable": {"name": key.variable},
        "variable_attribute": [attribute],
        "variable_characteristics": {"data_type": setting.data_type, "supports_monitoring": False},
    }
