"""PV and load forecasts from the array's physics and the site's own history.

**PV** (array located: latitude/longitude configured). The clear-sky output of the
configured array (`clearsky.ClearSkyArray`) times a clear-sky index K learned from the
array's measurements (measured / clear-sky energy over daylight slots):

    K(h) = K_long + (K_day - K_long) * exp(-h / tau_day) + (K_hour - K_day) * exp(-h / tau_hour)

- K_long: the last `history_days` days; K_day: the last 24 h; K_hour: the last hour. Each is
  shrunk towards the next longer one by a pseudo-count (one hour of clear-sky energy for
  K_day, a quarter of that for K_hour), so a dawn with little light cannot swing it.
- A dull day is therefore forecast dull for the rest of the day and, fading, the next;
  a seven-day same-slot mean would forecast the week's average sun instead.
- Cold start: K = `prior_clear_sky_index` (0.6, a mid-latitude annual mean) until the
  array has shown its own; the forecast never fades to zero for lack of history.
- Array without a location: the same-slot mean of past days (`forecast.forecast_pv`).

**Load** (critical and flexible alike). A profile by day type (working day, Saturday,
Sunday) and 15-minute slot of the *local* day, from the history with recency weights
(half-life `load_half_life_days`); slots are keyed by local clock time through the site's
time zone, so 07:00 stays 07:00 across daylight-saving changes (a 23-hour or 25-hour day
maps each measured slot to its own local time). With fewer than two days of a type, the
profile blends in the all-days profile. The last hour's deviation from the profile is
added, fading with `tau_hour`. Cold start (less than a day of history): the mean of the
last hour, held; with no completed slot at all (the first minutes after a first start),
the load measured now, held, rather than an empty house.

History arrays end with the last completed 15-minute slot before the forecast start;
`end_slot` is the index (slots since the epoch) of the first slot after them.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ev_charging_system.energy.clearsky import ClearSkyArray
from ev_charging_system.energy.forecast import forecast_pv
from ev_charging_system.energy.history import slot_index
from ev_charging_system.energy.models import STEP, STEPS_PER_DAY, Forecast, SiteConfig, SolarConfig
from ev_charging_system.energy.validation import fraction, non_negative, positive

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

RECENT_STEPS = 4  # one hour


@dataclass(frozen=True, slots=True)
class ForecastSettings:
    tau_hour_steps: float = 8.0  # the last hour's level fades over ~2 h
    tau_day_steps: float = 96.0  # today's weather fades into the long run over ~a day
    prior_clear_sky_index: float = 0.6
    daylight_share: float = 0.05  # slots below 5 % of peak clear-sky power are "night"
    load_half_life_days: float = 14.0

    def __post_init__(self) -> None:
        positive("forecast.tau_hour_steps", self.tau_hour_steps)
        positive("forecast.tau_day_steps", self.tau_day_steps)
        non_negative("forecast.prior_clear_sky_index", self.prior_clear_sky_index)
        fraction("forecast.daylight_share", self.daylight_share)
        positive("forecast.load_half_life_days", self.load_half_life_days)


class Forecaster:
    """Builds the `Forecast` a policy plans on; keeps the clear-sky model of the array."""

    def __init__(self, config: SiteConfig, settings: ForecastSettings | None = None) -> None:
        self.settings = settings or ForecastSettings()
        self._solar: SolarConfig | None = None
        self._clear_sky: ClearSkyArray | None = None
        self._tz: tzinfo = config.tz
        self.reconfigure(config)

    def reconfigure(self, config: SiteConfig) -> None:
        if config.solar != self._solar:
            self._solar = config.solar
            self._clear_sky = ClearSkyArray(config.solar) if config.solar.located else None
        self._tz = config.tz

    def forecast(
        self,
        start: datetime,
        horizon: int,
        pv_history: ArrayLike,
        critical_history: ArrayLike,
        flexible_history: ArrayLike,
        *,
        measured_load_kw: tuple[float, float] | None = None,
    ) -> Forecast:
        """`measured_load_kw` (critical, flexible) now: the level held while the history
        has no completed slot yet."""
        end_slot = slot_index(start)
        # Step k covers [start + k*STEP, ...): the slot its midpoint falls in.
        first = slot_index(start + STEP / 2)
        future = np.arange(first, first + horizon, dtype=np.int64)
        pv_values = np.asarray(pv_history, dtype=np.float64)
        if self._clear_sky is not None:
            pv, pv_method = self._pv_clear_sky(pv_values, end_slot, future)
        else:
            pv = forecast_pv(pv_values, horizon)
            pv_method = "PV: same-slot mean of past days (no array location configured)"
        now_critical, now_flexible = measured_load_kw or (0.0, 0.0)
        critical, days = self._load(
            np.asarray(critical_history, dtype=np.float64), end_slot, future, now_critical
        )
        flexible, _ = self._load(
            np.asarray(flexible_history, dtype=np.float64), end_slot, future, now_flexible
        )
        load_method = (
            f"load: local working-day/Saturday/Sunday profile of {days:.1f} day(s)"
            if days >= 1
            else "load: cold start, last hour held"
        )
        return Forecast(
            start=start,
            pv_kw=tuple(np.maximum(pv, 0.0).tolist()),
            critical_load_kw=tuple(critical.tolist()),
            flexible_load_kw=tuple(flexible.tolist()),
            method=f"{pv_method}; {load_method}",
        )

    # ------------------------------------------------------------------------------ PV

    def clear_sky_index(self, pv_history: ArrayLike, end_slot: int) -> tuple[float, float, float]:
        """(K_hour, K_day, K_long) from the history ending before `end_slot`."""
        assert self._clear_sky is not None and self._solar is not None
        values = np.asarray(pv_history, dtype=np.float64)
        n = len(values)
        clear = self._clear_sky.power_kw(end_slot - n, n) if n else np.empty(0)
        daylight = (clear > self.settings.daylight_share * self._solar.peak_kw) & ~np.isnan(values)
        peak = max(self._solar.peak_kw, 1e-6)
        prior = self.settings.prior_clear_sky_index

        def index(window: int, fallback: float, pseudo_kwh: float) -> float:
            mask = daylight[-window:] if window < n else daylight
            measured = values[-window:][mask] if window < n else values[mask]
            expected = clear[-window:][mask] if window < n else clear[mask]
            # kWh over 15-minute slots: kW x 0.25 h; the pseudo-count pulls towards fallback.
            return float(
                (measured.sum() * 0.25 + fallback * pseudo_kwh)
                / (expected.sum() * 0.25 + pseudo_kwh)
            )

        k_long = index(n, prior, peak * 1.0)
        k_day = index(STEPS_PER_DAY, k_long, peak * 1.0)
        k_hour = index(RECENT_STEPS, k_day, peak * 0.25)
        return k_hour, k_day, k_long

    def _pv_clear_sky(
        self, values: FloatArray, end_slot: int, future: IntArray
    ) -> tuple[FloatArray, str]:
        assert self._clear_sky is not None
        settings = self.settings
        k_hour, k_day, k_long = self.clear_sky_index(values, end_slot)
        h = np.arange(len(future), dtype=np.float64)
        k = (
            k_long
            + (k_day - k_long) * np.exp(-h / settings.tau_day_steps)
            + (k_hour - k_day) * np.exp(-h / settings.tau_hour_steps)
        )
        k = np.clip(k, 0.0, 1.3)
        clear = self._clear_sky.power_kw(int(future[0]), len(future)) if len(future) else h
        method = (
            f"PV: clear-sky output x clear-sky index (last hour {k_hour:.2f}, "
            f"last 24 h {k_day:.2f}, long run {k_long:.2f})"
        )
        return k * clear, method

    # ---------------------------------------------------------------------------- load

    def _load(
        self, values: FloatArray, end_slot: int, future: IntArray, measured: float
    ) -> tuple[FloatArray, float]:
        n = len(values)
        horizon = len(future)
        valid = ~np.isnan(values)
        days = float(np.count_nonzero(valid)) / STEPS_PER_DAY
        recent = values[-RECENT_STEPS:][valid[-RECENT_STEPS:]] if n else values
        level = float(np.mean(recent)) if len(recent) else measured
        if days < 1.0:
            return np.full(horizon, max(level, 0.0)), days
        history_slots = np.arange(end_slot - n, end_slot, dtype=np.int64)
        day_type, local_slot = local_keys(history_slots, self._tz)
        future_type, future_slot = local_keys(future, self._tz)
        age_days = (end_slot - history_slots) / STEPS_PER_DAY
        weights = np.where(valid, 0.5 ** (age_days / self.settings.load_half_life_days), 0.0)
        clean = np.where(valid, values, 0.0)

        typed_code = day_type * STEPS_PER_DAY + local_slot
        size = 3 * STEPS_PER_DAY
        typed_sum = np.bincount(typed_code, weights * clean, minlength=size)
        typed_weight = np.bincount(typed_code, weights, minlength=size)
        typed_days = np.bincount(typed_code, valid.astype(np.float64), minlength=size)
        all_sum = np.bincount(local_slot, weights * clean, minlength=STEPS_PER_DAY)
        all_weight = np.bincount(local_slot, weights, minlength=STEPS_PER_DAY)

        def profile(kind: IntArray, slot: IntArray) -> FloatArray:
            code = kind * STEPS_PER_DAY + slot
            overall = np.divide(
                all_sum[slot],
                all_weight[slot],
                out=np.full(len(slot), level),
                where=all_weight[slot] > 0,
            )
            typed = np.divide(
                typed_sum[code],
                typed_weight[code],
                out=overall.copy(),
                where=typed_weight[code] > 0,
            )
            # Fewer than two days of this type in the history: lean on all days.
            trust = np.clip(typed_days[code] / 2.0, 0.0, 1.0)
            blended: FloatArray = trust * typed + (1.0 - trust) * overall
            return blended

        forecast = profile(future_type, future_slot)
        last = slice(max(0, n - RECENT_STEPS), n)
        expected = profile(day_type[last], local_slot[last])
        deviation = values[last] - expected
        offset = float(np.nanmean(deviation)) if np.any(~np.isnan(deviation)) else 0.0
        fade = np.exp(-np.arange(horizon, dtype=np.float64) / self.settings.tau_hour_steps)
        return np.maximum(forecast + fade * offset, 0.0), days


def local_keys(slots: IntArray, tz: tzinfo) -> tuple[IntArray, IntArray]:
    """(day type 0 working day / 1 Saturday / 2 Sunday, 15-minute slot of the local day)."""
    key = getattr(tz, "key", None) or str(tz)
    codes = np.fromiter((_local_code(int(s), key) for s in slots), dtype=np.int64, count=len(slots))
    return codes // STEPS_PER_DAY, codes % STEPS_PER_DAY


@lru_cache(maxsize=200_000)
def _local_code(slot: int, tz_key: str) -> int:
    from zoneinfo import ZoneInfo

    moment = datetime.fromtimestamp(slot * STEP.total_seconds(), UTC).astimezone(ZoneInfo(tz_key))
    weekday = moment.weekday()
    day_type = 0 if weekday < 5 else weekday - 4
    return day_type * STEPS_PER_DAY + (moment.hour * 60 + moment.minute) // 15


# ------------------------------------------------------------------------- forecast error


@dataclass(frozen=True, slots=True)
class ForecastAccuracy:
    """Mean absolute error of recent forecasts against what was then measured (kW)."""

    samples: int
    pv_mae_hour_ahead_kw: float | None
    pv_mae_day_ahead_kw: float | None
    load_mae_hour_ahead_kw: float | None
    load_mae_day_ahead_kw: float | None
    pv_bias_day_ahead_kw: float | None  # + forecast above what came


class ForecastTracker:
    """Remembers the first forecast made 1 h and 24 h ahead of each slot and scores it.

    Memory is bounded: predictions older than a day past their slot are dropped, scores
    are kept for the last `days` days.
    """

    LEADS = {"hour": RECENT_STEPS, "day": STEPS_PER_DAY - 1}

    def __init__(self, days: int = 7) -> None:
        self._pending: dict[tuple[str, int], tuple[float, float]] = {}
        size = days * STEPS_PER_DAY
        self._errors: dict[str, deque[tuple[float, float, float]]] = {
            lead: deque(maxlen=size) for lead in self.LEADS
        }
        self._observations = 0

    def record(self, forecast: Forecast) -> None:
        first = slot_index(forecast.start + STEP / 2)
        for name, lead in self.LEADS.items():
            if lead < forecast.steps:
                key = (name, first + lead)
                if key not in self._pending:
                    load = forecast.critical_load_kw[lead] + forecast.flexible_load_kw[lead]
                    self._pending[key] = (forecast.pv_kw[lead], load)

    def observe(self, slot: int, pv_kw: float, load_kw: float) -> None:
        for name in self.LEADS:
            predicted = self._pending.pop((name, slot), None)
            if predicted is not None and math.isfinite(pv_kw) and math.isfinite(load_kw):
                self._errors[name].append(
                    (abs(predicted[0] - pv_kw), abs(predicted[1] - load_kw), predicted[0] - pv_kw)
                )
                self._observations += 1
        stale = [key for key in self._pending if key[1] < slot - STEPS_PER_DAY]
        for key in stale:
            del self._pending[key]

    @property
    def observations(self) -> int:
        """How many scores were added so far (in this process): changes when there is
        something new to store."""
        return self._observations

    def document(self) -> dict[str, Any]:
        """What a restart should not forget, as JSON: the scores of the last days and
        the forecasts still waiting for their slot."""
        return {
            "version": 1,
            "pending": [
                [lead, slot, pv, load] for (lead, slot), (pv, load) in self._pending.items()
            ],
            "errors": {lead: [list(e) for e in errors] for lead, errors in self._errors.items()},
        }

    def restore(self, document: Mapping[str, Any]) -> None:
        """Take over a `document()` stored before a restart (the newest scores win where
        they do not fit). Raises ValueError on a malformed document, leaving the tracker
        as it was."""
        try:
            if document.get("version") != 1:
                raise ValueError(f"unknown version {document.get('version')!r}")
            pending: dict[tuple[str, int], tuple[float, float]] = {}
            for lead, slot, pv, load in document["pending"]:
                if lead not in self.LEADS:
                    raise ValueError(f"unknown lead {lead!r}")
                pending[(str(lead), int(slot))] = (_finite(pv), _finite(load))
            errors: dict[str, list[tuple[float, float, float]]] = {}
            for lead, rows in document["errors"].items():
                if lead not in self.LEADS:
                    raise ValueError(f"unknown lead {lead!r}")
                errors[lead] = [(_finite(a), _finite(b), _finite(c)) for a, b, c in rows]
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"malformed forecast error document: {exc!r}") from exc
        for key, value in pending.items():
            self._pending.setdefault(key, value)
        for lead, rows in errors.items():
            kept = self._errors[lead]
            fresh = list(kept)
            kept.clear()
            kept.extend(rows)  # older first; the deque keeps the newest `days` days
            kept.extend(fresh)

    def accuracy(self) -> ForecastAccuracy:
        def mean(name: str, field: int) -> float | None:
            errors = self._errors[name]
            return float(np.mean([e[field] for e in errors])) if errors else None

        return ForecastAccuracy(
            samples=len(self._errors["day"]) + len(self._errors["hour"]),
            pv_mae_hour_ahead_kw=mean("hour", 0),
            pv_mae_day_ahead_kw=mean("day", 0),
            load_mae_hour_ahead_kw=mean("hour", 1),
            load_mae_day_ahead_kw=mean("day", 1),
            pv_bias_day_ahead_kw=mean("day", 2),
        )


def _finite(value: object) -> float:
    number = float(value)  # type: ignore[arg-type]
    if not math.isfinite(number):
        raise ValueError(f"not a finite number: {value!r}")
    return number
