"""Same-slot forecasts from the site's own history: pure functions, no fitting.

The coordinator forecasts with `forecasting.Forecaster` (clear-sky PV, local-time load
profiles). These simpler functions remain its PV method for an array whose location is
not configured (`forecast_pv`) and a baseline for comparisons.

Method:

1. **Slot profile.** For each future 15-minute step, the average of the same time-of-day
   slot over the last `days` days (default 7). Gaps (NaN) are skipped. This captures the
   daily shape: sunrise/sunset for PV, the evening peak for load.
2. **Recent correction, fading out.** The last hour says whether today is sunnier or
   busier than the profile:
   - PV is *scaled*: ratio = measured / profile over the last 4 steps (a crude clear-sky
     index, clipped to [0, 1.5]); step h gets `profile * (w*ratio + 1 - w)`.
   - Load is *shifted*: offset = mean(measured - profile) over the last 4 steps; step h
     gets `profile + w*offset`.
   with w = exp(-h / tau), tau = 2 h (8 steps): persistence matters for the next hour or
   two, the profile for the rest of the day.
3. **Cold start.** With less than a day of history there is no profile: load is held at
   its last value, PV decays from its last value with the same tau (a plant with no
   history must not assume tonight is sunny).

History arrays end with the last *completed* step before the forecast start; index -1 is
the step just before step 0 of the forecast.
"""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ev_charging_system.energy.models import STEPS_PER_DAY, Forecast

FloatArray = NDArray[np.float64]

RECENT_STEPS = 4  # one hour
DEFAULT_DAYS = 7
DEFAULT_TAU_STEPS = 8.0  # two hours
PV_RATIO_MAX = 1.5


def slot_profile(
    history: ArrayLike,
    horizon: int,
    *,
    days: int = DEFAULT_DAYS,
    steps_per_day: int = STEPS_PER_DAY,
    offset: int = 0,
) -> FloatArray:
    """Same-slot average of the last `days` days for steps offset .. offset+horizon-1.

    Step h refers to the slot h steps after the end of `history` (h = 0 is the first step
    after it); negative h (via `offset`) reaches back into the history itself. Slots with
    no data at all come out as NaN.
    """
    values = np.asarray(history, dtype=np.float64)
    n = len(values)
    steps = np.arange(offset, offset + horizon)
    # index of step h, k days earlier: n + h - k*steps_per_day, for k = 1..days (+ extra
    # days so that steps more than a day ahead still see `days` samples).
    extra = max(0, (offset + horizon - 1) // steps_per_day)
    ks = np.arange(1, days + extra + 1)
    idx = n + steps[:, None] - ks[None, :] * steps_per_day
    if n == 0:
        return np.full(horizon, np.nan)
    valid = (idx >= 0) & (idx < n)
    samples = np.where(valid, values[np.clip(idx, 0, n - 1)], np.nan)
    # Keep only the `days` most recent valid samples per step.
    order = np.cumsum(~np.isnan(samples), axis=1)
    samples = np.where(order <= days, samples, np.nan)
    counts = np.sum(~np.isnan(samples), axis=1)
    sums = np.nansum(samples, axis=1)
    out = np.full(horizon, np.nan)
    np.divide(sums, counts, out=out, where=counts > 0)
    return out


def _fade(horizon: int, tau_steps: float) -> FloatArray:
    return np.exp(-np.arange(horizon, dtype=np.float64) / tau_steps)


def _last_valid(values: FloatArray) -> float:
    finite_values = values[~np.isnan(values)]
    return float(finite_values[-1]) if len(finite_values) else 0.0


def forecast_pv(
    history: ArrayLike,
    horizon: int,
    *,
    days: int = DEFAULT_DAYS,
    tau_steps: float = DEFAULT_TAU_STEPS,
    steps_per_day: int = STEPS_PER_DAY,
) -> FloatArray:
    values = np.asarray(history, dtype=np.float64)
    fade = _fade(horizon, tau_steps)
    if len(values) < steps_per_day:
        return max(_last_valid(values), 0.0) * fade
    profile = slot_profile(values, horizon, days=days, steps_per_day=steps_per_day)
    profile = np.nan_to_num(profile, nan=0.0)
    recent = values[-RECENT_STEPS:]
    recent_profile = slot_profile(
        values, RECENT_STEPS, days=days, steps_per_day=steps_per_day, offset=-RECENT_STEPS
    )
    mask = ~np.isnan(recent) & ~np.isnan(recent_profile)
    expected = float(np.sum(recent_profile[mask]))
    # At night both are ~0 and the ratio means nothing: keep the profile as is.
    ratio = float(np.sum(recent[mask])) / expected if expected > 0.05 else 1.0
    ratio = min(max(ratio, 0.0), PV_RATIO_MAX)
    return np.maximum(profile * (fade * ratio + (1.0 - fade)), 0.0)


def forecast_load(
    history: ArrayLike,
    horizon: int,
    *,
    days: int = DEFAULT_DAYS,
    tau_steps: float = DEFAULT_TAU_STEPS,
    steps_per_day: int = STEPS_PER_DAY,
) -> FloatArray:
    values = np.asarray(history, dtype=np.float64)
    if len(values) < steps_per_day:
        return np.full(horizon, max(_last_valid(values), 0.0))
    profile = slot_profile(values, horizon, days=days, steps_per_day=steps_per_day)
    profile = np.where(np.isnan(profile), _last_valid(values), profile)
    recent = values[-RECENT_STEPS:]
    recent_profile = slot_profile(
        values, RECENT_STEPS, days=days, steps_per_day=steps_per_day, offset=-RECENT_STEPS
    )
    diff = recent - recent_profile
    offset = float(np.nanmean(diff)) if np.any(~np.isnan(diff)) else 0.0
    return np.maximum(profile + _fade(horizon, tau_steps) * offset, 0.0)


def build_forecast(
    start: datetime,
    horizon: int,
    pv_history: ArrayLike,
    critical_history: ArrayLike,
    flexible_history: ArrayLike,
    *,
    days: int = DEFAULT_DAYS,
    tau_steps: float = DEFAULT_TAU_STEPS,
) -> Forecast:
    pv = forecast_pv(pv_history, horizon, days=days, tau_steps=tau_steps)
    critical = forecast_load(critical_history, horizon, days=days, tau_steps=tau_steps)
    flexible = forecast_load(flexible_history, horizon, days=days, tau_steps=tau_steps)
    n_days = len(np.asarray(pv_history)) / STEPS_PER_DAY
    method = (
        f"slot profile of the last {min(days, math.floor(n_days))} day(s) with a recent "
        f"correction fading over {tau_steps / 4:g} h"
        if n_days >= 1
        else "cold start: persistence (PV decaying)"
    )
    return Forecast(
        start=start,
        pv_kw=tuple(pv.tolist()),
        critical_load_kw=tuple(critical.tolist()),
        flexible_load_kw=tuple(flexible.tolist()),
        method=method,
    )


def persistence_forecast(
    start: datetime, horizon: int, pv_kw: float, critical_kw: float, flexible_kw: float
) -> Forecast:
    """Hold the current measurements (for callers without history, e.g. one-off plans)."""
    pv = np.maximum(pv_kw, 0.0) * _fade(horizon, DEFAULT_TAU_STEPS)
    return Forecast(
        start=start,
        pv_kw=tuple(pv.tolist()),
        critical_load_kw=(critical_kw,) * horizon,
        flexible_load_kw=(flexible_kw,) * horizon,
        method="persistence (PV decaying)",
    )
