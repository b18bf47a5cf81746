"""`departure_aware`: the safety net when the optimiser has no schedule to offer.

It is the evcc-style surplus charger (`pv_surplus`) without hysteresis delays, so it keeps
no state: PV surplus first, and every car charged at full power once its missing energy
could no longer be delivered later; deferrable loads at their latest start. Unlike the
seed `rule` it never leaves a car idle while its departure approaches, which is why the
optimiser and the coordinator fall back to it and not to the rule.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from ev_charging_system.energy.models import Forecast, Plan, SiteConfig, SiteSnapshot, Tariff
from ev_charging_system.energy.policies.pv_surplus import PvSurplusPolicy, PvSurplusSettings

NAME = "departure_aware"
_SETTINGS = PvSurplusSettings(enable_delay=timedelta(0), disable_delay=timedelta(0))


class DepartureAwarePolicy:
    name = NAME

    def plan(
        self, snapshot: SiteSnapshot, forecast: Forecast, tariff: Tariff, config: SiteConfig
    ) -> Plan:
        return departure_aware_plan(snapshot, tariff, config)


def departure_aware_plan(snapshot: SiteSnapshot, tariff: Tariff, config: SiteConfig) -> Plan:
    empty = Forecast(snapshot.at, (), (), (), "not used")
    plan = PvSurplusPolicy(_SETTINGS).plan(snapshot, empty, tariff, config)
    return dataclasses.replace(
        plan, policy=NAME, requested_policy=NAME, reason=f"departure-aware: {plan.reason}"
    )
