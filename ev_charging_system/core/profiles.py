"""Charging profiles in each OCPP version's shape (snake_case; the library camel-cases)."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from typing import Any

from ev_charging_system.core.frames import format_timestamp
from ev_charging_system.models.charging_profile import ChargingProfile, ProfilePurpose

_ONE_DECIMAL = Decimal("0.1")


def one_decimal(rate: float) -> float:
    """A charging rate with at most one decimal, never above the one asked for.

    OCPP 1.6 schemas require multipleOf 0.1 for limits (stations answer FormatViolation
    otherwise) and 2.0.1 says "accepts at most one digit fraction". Rounding down keeps
    a limit a limit: 16.66 A becomes 16.6 A, not 16.7 A.
    """
    return float(Decimal(str(rate)).quantize(_ONE_DECIMAL, rounding=ROUND_DOWN))


def _optional(**fields: Any) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


def _periods(profile: ChargingProfile) -> list[dict[str, Any]]:
    return [
        _optional(
            start_period=p.start_period_seconds,
            limit=one_decimal(p.limit),
            number_phases=p.number_phases,
        )
        for p in profile.periods
    ]


def _schedule(profile: ChargingProfile) -> dict[str, Any]:
    return _optional(
        duration=profile.duration_seconds,
        start_schedule=format_timestamp(profile.start_schedule) if profile.start_schedule else None,
        charging_rate_unit=profile.rate_unit.value,
        charging_schedule_period=_periods(profile),
        min_charging_rate=one_decimal(profile.min_charging_rate)
        if profile.min_charging_rate is not None
        else None,
    )


def _common(profile: ChargingProfile) -> dict[str, Any]:
    return _optional(
        stack_level=profile.stack_level,
        charging_profile_kind=profile.kind.value,
        recurrency_kind=profile.recurrency,
        valid_from=format_timestamp(profile.valid_from) if profile.valid_from else None,
        valid_to=format_timestamp(profile.valid_to) if profile.valid_to else None,
    )


def v16_purpose(purpose: ProfilePurpose) -> str:
    return "ChargePointMaxProfile" if purpose is ProfilePurpose.STATION_MAX else purpose.value


def v16_profile(profile: ChargingProfile) -> dict[str, Any]:
    transaction_id = int(profile.transaction_id) if profile.transaction_id else None
    return {
        "charging_profile_id": profile.id,
        "charging_profile_purpose": v16_purpose(profile.purpose),
        "charging_schedule": _schedule(profile),
        **_common(profile),
        **_optional(transaction_id=transaction_id),
    }


def v201_profile(profile: ChargingProfile) -> dict[str, Any]:
    return {
        "id": profile.id,
        "charging_profile_purpose": profile.purpose.value,
        # 2.0.1 allows several schedules per profile; one is what both versions share.
        "charging_schedule": [{"id": profile.id, **_schedule(profile)}],
        **_common(profile),
        **_optional(transaction_id=profile.transaction_id),
    }
