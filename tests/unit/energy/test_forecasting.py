"""Clear-sky PV forecasts, local-time load profiles across DST, cold start, error tracking."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from ev_charging_system.energy.clearsky import ClearSkyArray
from ev_charging_system.energy.forecasting import Forecaster, ForecastTracker, local_keys
from ev_charging_system.energy.history import slot_index
from ev_charging_system.energy.models import STEPS_PER_DAY, Forecast, SiteConfig, SolarConfig

AMSTERDAM = SolarConfig(peak_kw=6.0, latitude=52.3, longitude=4.77, tilt_deg=35, azimuth_deg=180)


def _config(solar: SolarConfig = AMSTERDAM, tz: str = "Europe/Amsterdam") -> SiteConfig:
    return SiteConfig(solar=solar, vehicles=(), timezone=tz)


def test_clear_sky_output_follows_the_sun_and_the_season() -> None:
    array = ClearSkyArray(AMSTERDAM)
    june = slot_index(datetime(2025, 6, 21, tzinfo=UTC))
    december = slot_index(datetime(2025, 12, 21, tzinfo=UTC))
    summer, winter = array.power_kw(june, STEPS_PER_DAY), array.power_kw(december, STEPS_PER_DAY)
    assert summer[0] == 0.0 and summer[8] == 0.0  # 00:00 and 02:00 UTC: night
    assert 3.5 < summer.max() <= 6.0
    assert summer.sum() > 2 * winter.sum() > 0
    # Solar noon at 4.77 E is about 11:40 UTC.
    assert abs(int(np.argmax(summer)) - 47) <= 2


def _history(days: int, end: datetime, index: float) -> np.ndarray:
    array = ClearSkyArray(AMSTERDAM)
    n = days * STEPS_PER_DAY
    return index * array.power_kw(slot_index(end) - n, n)


def test_a_dull_day_is_forecast_dull_and_a_sunny_one_sunny() -> None:
    forecaster = Forecaster(_config())
    end = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)
    sunny_week = _history(7, end, 0.9)
    dull_today = sunny_week.copy()
    dull_today[-STEPS_PER_DAY:] *= 0.2  # the last 24 h brought a fifth of it
    zeros = np.zeros(len(sunny_week))
    bright = forecaster.forecast(end, 96, sunny_week, zeros, zeros)
    dull = forecaster.forecast(end, 96, dull_today, zeros, zeros)
    rest_of_today = slice(0, 16)
    assert sum(dull.pv_kw[rest_of_today]) < 0.4 * sum(bright.pv_kw[rest_of_today])
    assert sum(bright.pv_kw) > 0
    assert "clear-sky" in bright.method


def test_cold_start_forecasts_the_prior_share_of_clear_sky_not_zero() -> None:
    forecaster = Forecaster(_config())
    noon = datetime(2025, 6, 21, 11, 30, tzinfo=UTC)
    forecast = forecaster.forecast(noon, 8, [], [], [])
    clear = ClearSkyArray(AMSTERDAM).power_kw(slot_index(noon), 8)
    assert np.allclose(forecast.pv_kw, 0.6 * clear, rtol=0.02)
    assert min(forecast.pv_kw) > 1.0


def test_cold_start_holds_the_load_measured_now_rather_than_an_empty_house() -> None:
    forecaster = Forecaster(_config())
    noon = datetime(2025, 6, 21, 11, 30, tzinfo=UTC)
    empty = forecaster.forecast(noon, 8, [], [], [], measured_load_kw=(0.6, 0.2))
    assert empty.critical_load_kw == (0.6,) * 8 and empty.flexible_load_kw == (0.2,) * 8
    # Once a slot has completed, the measured history decides.
    hour = forecaster.forecast(noon, 8, [3.0] * 4, [0.4] * 4, [0.1] * 4, measured_load_kw=(9, 9))
    assert hour.critical_load_kw == pytest.approx((0.4,) * 8)
    assert hour.flexible_load_kw == pytest.approx((0.1,) * 8)


def test_local_keys_follow_the_clock_across_the_dst_change() -> None:
    tz = ZoneInfo("Europe/Amsterdam")
    before = slot_index(datetime(2025, 3, 28, 7, 0, tzinfo=tz))  # Friday, CET
    after = slot_index(datetime(2025, 3, 31, 7, 0, tzinfo=tz))  # Monday, CEST
    kinds, slots = local_keys(np.array([before, after]), tz)
    assert list(slots) == [28, 28]  # 07:00 local both times
    assert list(kinds) == [0, 0]
    assert after - before == 3 * STEPS_PER_DAY - 4  # one hour less in UTC


def test_load_profile_keeps_the_morning_peak_at_local_time_after_dst() -> None:
    tz = ZoneInfo("Europe/Amsterdam")
    forecaster = Forecaster(_config(tz="Europe/Amsterdam"))
    start = datetime(2025, 3, 31, 0, 0, tzinfo=tz)  # Monday after the change
    end_slot = slot_index(start)
    n = 21 * STEPS_PER_DAY
    slots = np.arange(end_slot - n, end_slot)
    _, local_slot = local_keys(slots, tz)
    load = np.where(local_slot == 28, 3.0, 0.3)  # a 3 kW kettle-and-shower peak at 07:00
    forecast = forecaster.forecast(start, 96, np.zeros(n), load, np.zeros(n))
    peak_step = int(np.argmax(forecast.critical_load_kw))
    assert start + timedelta(minutes=15 * peak_step) == datetime(2025, 3, 31, 7, 0, tzinfo=tz)
    assert forecast.critical_load_kw[peak_step] == pytest.approx(3.0, rel=0.05)


def test_weekend_days_get_their_own_profile() -> None:
    tz = ZoneInfo("UTC")
    forecaster = Forecaster(_config(solar=SolarConfig(), tz="UTC"))
    start = datetime(2025, 5, 10, 0, 0, tzinfo=UTC)  # a Saturday
    n = 28 * STEPS_PER_DAY
    slots = np.arange(slot_index(start) - n, slot_index(start))
    kinds, _ = local_keys(slots, tz)
    load = np.where(kinds == 1, 2.0, 0.5)  # Saturdays are busy
    forecast = forecaster.forecast(start, 96, np.zeros(n), load, np.zeros(n))
    assert np.mean(forecast.critical_load_kw[8:]) == pytest.approx(2.0, rel=0.05)


def test_tracker_scores_hour_and_day_ahead_forecasts() -> None:
    tracker = ForecastTracker()
    start = datetime(2025, 5, 10, 0, 0, tzinfo=UTC)
    forecast = Forecast(start, (1.0,) * 96, (0.5,) * 96, (0.0,) * 96)
    tracker.record(forecast)
    first = slot_index(start)
    tracker.observe(first + 4, pv_kw=1.5, load_kw=0.5)  # hour-ahead slot
    tracker.observe(first + 95, pv_kw=0.0, load_kw=1.0)  # day-ahead slot
    accuracy = tracker.accuracy()
    assert accuracy.pv_mae_hour_ahead_kw == pytest.approx(0.5)
    assert accuracy.load_mae_day_ahead_kw == pytest.approx(0.5)
    assert accuracy.pv_bias_day_ahead_kw == pytest.approx(1.0)


def test_tracker_scores_survive_a_restart_through_its_document() -> None:
    # Before the restart: the hour-ahead slot was scored, the day-ahead one is pending.
    before = ForecastTracker()
    start = datetime(2025, 5, 10, 0, 0, tzinfo=UTC)
    before.record(Forecast(start, (1.0,) * 96, (0.5,) * 96, (0.0,) * 96))
    first = slot_index(start)
    before.observe(first + 4, pv_kw=1.5, load_kw=0.5)
    document = json.loads(json.dumps(before.document()))  # as stored in a JSON column

    after = ForecastTracker()
    after.restore(document)
    assert after.accuracy().pv_mae_hour_ahead_kw == pytest.approx(0.5)
    # The forecast made before the restart is still scored when its slot completes.
    after.observe(first + 95, pv_kw=0.0, load_kw=1.0)
    assert after.accuracy().pv_bias_day_ahead_kw == pytest.approx(1.0)
    assert after.observations == 1  # scored in this process: something new to store


@pytest.mark.parametrize(
    "document",
    [
        {"version": 2, "pending": [], "errors": {}},
        {"version": 1, "pending": [["week", 1, 0.0, 0.0]], "errors": {}},
        {"version": 1, "pending": [], "errors": {"hour": [[float("nan"), 0.0, 0.0]]}},
        {"version": 1, "errors": {}},
    ],
)
def test_a_malformed_tracker_document_is_refused_and_changes_nothing(
    document: dict[str, object],
) -> None:
    tracker = ForecastTracker()
    with pytest.raises(ValueError):
        tracker.restore(document)
    assert tracker.accuracy().samples == 0
