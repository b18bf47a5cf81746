"""Forecasts from history, the slot history buffer, and tariffs as price arrays."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import numpy as np
import pytest

from ev_charging_system.energy.forecast import (
    build_forecast,
    forecast_load,
    forecast_pv,
    slot_profile,
)
from ev_charging_system.energy.history import SlotHistory
from ev_charging_system.energy.models import (
    DynamicTariff,
    FlatTariff,
    PricePoint,
    TimeOfUseTariff,
    TimeOfUseWindow,
)
from ev_charging_system.energy.tariffs import price_arrays

DAY = 96
START = datetime(2025, 1, 1, tzinfo=UTC)


def daily(shape: np.ndarray, days: int) -> np.ndarray:
    return np.tile(shape, days)


def pv_shape() -> np.ndarray:
    t = np.arange(DAY)
    return np.clip(np.sin((t - 24) / 48 * np.pi), 0, None) * 5.0


def test_slot_profile_averages_the_same_slot_of_previous_days() -> None:
    history = np.concatenate([np.full(DAY, 1.0), np.full(DAY, 3.0)])
    assert np.allclose(slot_profile(history, 10), 2.0)
    # Only the last `days` days count.
    assert np.allclose(slot_profile(history, 10, days=1), 3.0)


def test_slot_profile_reaches_more_than_a_day_ahead() -> None:
    history = daily(np.arange(DAY, dtype=float), 3)
    profile = slot_profile(history, 2 * DAY)
    assert np.allclose(profile[:DAY], np.arange(DAY))
    assert np.allclose(profile[DAY:], np.arange(DAY))


def test_slot_profile_skips_gaps() -> None:
    history = np.concatenate([np.full(DAY, 2.0), np.full(DAY, np.nan)])
    assert np.allclose(slot_profile(history, 4), 2.0)


def test_pv_forecast_repeats_the_daily_shape() -> None:
    history = daily(pv_shape(), 7)
    forecast = forecast_pv(history, DAY)
    assert np.allclose(forecast, pv_shape(), atol=1e-9)


def test_pv_forecast_is_scaled_by_a_dull_morning_and_fades_back() -> None:
    shape = pv_shape()
    history = daily(shape, 7)[: 7 * DAY - DAY + 40]  # history ends at 10:00 of day 7
    history[-4:] *= 0.5  # the last hour gave half the usual PV
    forecast = forecast_pv(history, DAY)
    expected_now = shape[40]
    assert forecast[0] == pytest.approx(0.5 * expected_now)
    # Eight hours later the profile dominates again.
    assert forecast[32] == pytest.approx(shape[72 % DAY], rel=0.05, abs=1e-6)


def test_pv_forecast_cold_start_decays() -> None:
    forecast = forecast_pv([4.0], 16)
    assert forecast[0] == pytest.approx(4.0)
    assert forecast[8] == pytest.approx(4.0 * np.exp(-1))
    assert np.all(np.diff(forecast) < 0)


def test_load_forecast_shifts_by_recent_offset() -> None:
    base = np.full(DAY, 1.0)
    history = daily(base, 7)
    history[-4:] = 2.0  # one kW more than usual in the last hour
    forecast = forecast_load(history, DAY)
    assert forecast[0] == pytest.approx(2.0)
    # Hours later the offset has faded (the last slots of the day also remember today).
    assert forecast[50] == pytest.approx(1.0, abs=1e-2)


def test_load_forecast_cold_start_holds_last_value() -> None:
    assert np.allclose(forecast_load([0.5, 0.7], 8), 0.7)
    assert np.allclose(forecast_load([], 8), 0.0)


def test_build_forecast_describes_its_method() -> None:
    forecast = build_forecast(START, 96, daily(pv_shape(), 3), np.ones(3 * DAY), np.zeros(3 * DAY))
    assert forecast.steps == 96
    assert "3 day(s)" in forecast.method


def test_slot_history_averages_samples_per_slot() -> None:
    history = SlotHistory(days=2)
    for minute in range(0, 30):
        at = START + timedelta(minutes=minute)
        history.record(at, pv_kw=float(minute < 15), critical_kw=1.0, flexible_kw=0.0)
    pv, critical, _ = history.series(before=START + timedelta(minutes=30))
    assert pv.tolist() == [1.0, 0.0]
    assert critical.tolist() == [1.0, 1.0]


def test_slot_history_marks_gaps_and_keeps_bounded() -> None:
    history = SlotHistory(days=1)
    history.record(START, 1.0, 1.0, 1.0)
    history.record(START + timedelta(hours=1), 2.0, 2.0, 2.0)
    pv, _, _ = history.series(before=START + timedelta(hours=1, minutes=15))
    assert len(pv) == 5 and pv[0] == 1.0 and np.isnan(pv[1]) and pv[-1] == 2.0
    history.record(START + timedelta(days=3), 3.0, 3.0, 3.0)
    pv, _, _ = history.series(before=START + timedelta(days=3, minutes=15))
    assert len(pv) <= DAY


# ----------------------------------------------------------------------------------- tariffs


def test_flat_tariff() -> None:
    imports, feed_ins = price_arrays(FlatTariff(0.3, 0.1), START, 4, UTC)
    assert imports.tolist() == [0.3] * 4 and feed_ins.tolist() == [0.1] * 4


def test_time_of_use_windows_wrap_midnight() -> None:
    tariff = TimeOfUseTariff(
        default_import_price=0.3,
        windows=(
            TimeOfUseWindow(time(22, 0), time(6, 0), 0.2),
            TimeOfUseWindow(time(17, 0), time(21, 0), 0.4),
        ),
        feed_in_price=0.05,
    )
    imports, _ = price_arrays(tariff, START.replace(hour=21), 40, UTC)
    assert imports[0] == 0.3  # 21:00
    assert imports[4] == 0.2  # 22:00
    assert imports[35] == 0.2  # 05:45
    assert imports[36] == 0.3  # 06:00


def test_dynamic_tariff_holds_each_point_and_falls_back() -> None:
    tariff = DynamicTariff(
        points=(
            PricePoint(START, 0.25),
            PricePoint(START + timedelta(hours=1), -0.05, feed_in_price=0.0),
        ),
        fallback_import_price=0.35,
        feed_in_price=0.07,
    )
    imports, feed_ins = price_arrays(tariff, START - timedelta(minutes=15), 12, UTC)
    assert imports[0] == 0.35  # before the series
    assert imports[1:5].tolist() == [0.25] * 4
    assert imports[5] == -0.05 and feed_ins[5] == 0.0 and feed_ins[1] == 0.07
    assert imports[9] == 0.35  # more than an hour after the last point
