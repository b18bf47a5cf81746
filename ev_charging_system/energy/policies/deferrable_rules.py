"""When the reactive policies run a deferrable load: at its latest start, or on free PV.

The optimiser schedules deferrable loads inside its model; `rule`, `pv_surplus` and the
departure-aware fallback have no horizon, so they follow two plain rules:

- **Latest start.** A job runs now if waiting one more step would leave too little time
  for its remaining energy before the deadline (a started non-interruptible job always
  runs to its end). Deadlines are kept whatever the price.
- **Free PV.** Inside its window a job also runs when the PV surplus left after the
  vehicles covers its power (an interruptible one takes what is there).

Jobs are considered in deadline order, so the most urgent one gets the surplus first.
"""

from __future__ import annotations

from datetime import datetime

from ev_charging_system.energy.models import (
    STEP_HOURS,
    DeferrableLoadConfig,
    DeferrableLoadState,
    SiteConfig,
    SiteSnapshot,
)


def remaining_kwh(config: DeferrableLoadConfig, state: DeferrableLoadState) -> float:
    return max(0.0, config.energy_kwh - state.delivered_kwh)


def must_run(
    config: DeferrableLoadConfig, state: DeferrableLoadState, now: datetime, step_h: float
) -> bool:
    """True when the job has to run now to finish by its deadline."""
    left = remaining_kwh(config, state)
    if left <= 1e-6:
        return False
    if state.started and not config.interruptible:
        return True
    if now < config.earliest_start:
        return False
    hours_left = (config.deadline - now).total_seconds() / 3600.0
    return hours_left - left / config.power_kw <= step_h + 1e-9


def reactive_deferrable_kw(
    snapshot: SiteSnapshot, config: SiteConfig, surplus_kw: float
) -> tuple[list[float], list[str]]:
    """Power per snapshot deferrable (same order) and the reasons, from the two rules."""
    now = snapshot.at
    powers = [0.0] * len(snapshot.deferrables)
    reasons: list[str] = []
    jobs = [
        (i, cfg, state)
        for i, state in enumerate(snapshot.deferrables)
        if (cfg := config.deferrable(state.load_id)) is not None
    ]
    jobs.sort(key=lambda job: job[1].deadline)
    available = max(0.0, surplus_kw)
    for i, cfg, state in jobs:
        left = remaining_kwh(cfg, state)
        if left <= 1e-6:
            continue
        # Never more than the energy still missing within the step.
        cap = min(cfg.power_kw, left / STEP_HOURS) if cfg.interruptible else cfg.power_kw
        if must_run(cfg, state, now, STEP_HOURS):
            powers[i] = cap
            reasons.append(f"{cfg.load_id} runs: its deadline {cfg.deadline:%H:%M} needs it")
        elif cfg.earliest_start <= now < cfg.deadline:
            if cfg.interruptible and available > 1e-6:
                powers[i] = min(cap, available)
            elif not cfg.interruptible and available >= cfg.power_kw:
                powers[i] = cfg.power_kw
            if powers[i] > 0:
                reasons.append(f"{cfg.load_id} runs on PV surplus")
        available = max(0.0, available - powers[i])
    return powers, reasons
