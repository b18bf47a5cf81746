"""Charging limits and composite schedules, the same arithmetic for both OCPP versions.

Schedule periods are dicts with the `ocpp` library's snake_case keys (`start_period`,
`limit`, `number_phases`), as the CSMS sent them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

NOMINAL_VOLTAGE = 230.0


def convert_limit(limit: float, from_unit: str, to_unit: str, phases: int = 3) -> float:
    """Convert a charging limit between amperes ("A") and watts ("W") at 230 V."""
    if from_unit == to_unit:
        return limit
    per_ampere = NOMINAL_VOLTAGE * phases
    return limit * per_ampere if to_unit == "W" else limit / per_ampere


def periods_in(
    periods: Sequence[dict[str, Any]], from_unit: str, to_unit: str
) -> list[dict[str, Any]]:
    """Schedule periods (snake_case keys) with their limits converted to `to_unit`."""
    return [
        {
            "start_period": int(period["start_period"]),
            "limit": convert_limit(
                float(period["limit"]), from_unit, to_unit, int(period.get("number_phases", 3))
            ),
        }
        for period in periods
    ]


def compose_periods(
    schedules: Sequence[Sequence[dict[str, Any]]], duration: int
) -> list[dict[str, Any]]:
    """The lowest limit of all `schedules` over [0, duration), as schedule periods.

    Simplified composite schedule: every schedule is taken to start now (startSchedule,
    recurrency and validity are ignored) and all limits must be in the same unit.
    """
    offsets = {int(p["start_period"]) for periods in schedules for p in periods}
    starts = sorted({0} | {offset for offset in offsets if offset < duration})
    composite: list[dict[str, Any]] = []
    for start in starts:
        limits = [_limit_at(periods, start) for periods in schedules]
        known = [limit for limit in limits if limit is not None]
        if not known:
            continue
        limit = round(min(known), 1)
        if not composite or composite[-1]["limit"] != limit:
            composite.append({"start_period": start, "limit": limit})
    return composite


def _limit_at(periods: Sequence[dict[str, Any]], offset: int) -> float | None:
    current = None
    for period in sorted(periods, key=lambda p: int(p["start_period"])):
        if int(period["start_period"]) <= offset:
            current = float(period["limit"])
    return current
