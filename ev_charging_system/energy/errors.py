"""Errors of the energy domain.

`PhysicalLimitError` derives from the project's `InvalidInputError` so the REST layer's
existing DomainError handler answers 422 without a special case, and from `ValueError`
because a value outside a physical limit is exactly that.
"""

from __future__ import annotations

from ev_charging_system.models.errors import InvalidInputError


class PhysicalLimitError(InvalidInputError, ValueError):
    """A measurement, setpoint or configuration value outside what the hardware allows."""

    def __init__(self, quantity: str, message: str) -> None:
        super().__init__(f"{quantity}: {message}")
        self.quantity = quantity


class UnknownPolicyError(InvalidInputError, ValueError):
    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(f"unknown planning policy {name!r}; known: {', '.join(sorted(known))}")
        self.name = name


class UnknownVehicleError(InvalidInputError, ValueError):
    def __init__(self, vehicle_id: str) -> None:
        super().__init__(f"unknown vehicle {vehicle_id!r}")
        self.vehicle_id = vehicle_id


class UnknownDeferrableLoadError(InvalidInputError, ValueError):
    def __init__(self, load_id: str) -> None:
        super().__init__(f"unknown deferrable load {load_id!r}")
        self.load_id = load_id
