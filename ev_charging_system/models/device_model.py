"""The OCPP 2.0.1 device model a station reports (NotifyReport)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class DeviceModelEntry:
    """One attribute (Actual, Target, MinSet, MaxSet) of a component's variable."""

    component_name: str
    variable_name: str
    attribute_type: str = "Actual"
    value: str | None = None
    component_instance: str = ""
    evse_id: int = 0  # 0: not tied to an EVSE
    connector_id: int = 0
    variable_instance: str = ""
    mutability: str | None = None
    persistent: bool | None = None
    constant: bool | None = None
    characteristics: dict[str, Any] = field(default_factory=dict)
    updated_at: datetime | None = None
