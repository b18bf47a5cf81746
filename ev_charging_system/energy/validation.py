"""Small checks shared by configuration, agents and setpoints.

They raise `PhysicalLimitError` naming the quantity, so an operator reading a 422 knows
which value to fix. NaN and infinities are rejected everywhere: one NaN in a plan input
would make every later number NaN.
"""

from __future__ import annotations

import math

from ev_charging_system.energy.errors import PhysicalLimitError


def finite(quantity: str, value: float) -> float:
    if not math.isfinite(value):
        raise PhysicalLimitError(quantity, f"must be a finite number, got {value!r}")
    return float(value)


def non_negative(quantity: str, value: float) -> float:
    finite(quantity, value)
    if value < 0:
        raise PhysicalLimitError(quantity, f"must not be negative, got {value:g}")
    return float(value)


def positive(quantity: str, value: float) -> float:
    finite(quantity, value)
    if value <= 0:
        raise PhysicalLimitError(quantity, f"must be positive, got {value:g}")
    return float(value)


def within(quantity: str, value: float, low: float, high: float, unit: str = "") -> float:
    finite(quantity, value)
    # A tiny tolerance: measurements computed in floating point (e.g. SoC after an
    # integration step) land a hair outside a bound without being physically wrong.
    tolerance = 1e-9 * max(1.0, abs(low), abs(high))
    if value < low - tolerance or value > high + tolerance:
        raise PhysicalLimitError(
            quantity, f"must be within [{low:g}, {high:g}]{unit}, got {value:g}{unit}"
        )
    return min(max(float(value), low), high)


def fraction(quantity: str, value: float) -> float:
    return within(quantity, value, 0.0, 1.0)
