"""Interchangeable planning policies: `rule` (the seed), `pv_surplus` (evcc-style) and
`optimize` (receding-horizon LP, the default). See each module for its exact behaviour."""

from __future__ import annotations

from ev_charging_system.energy.policies.base import PlanningPolicy
from ev_charging_system.energy.policies.optimize import OptimizePolicy, OptimizeSettings
from ev_charging_system.energy.policies.pv_surplus import PvSurplusPolicy, PvSurplusSettings
from ev_charging_system.energy.policies.rule import RulePolicy, rule_plan

DEFAULT_POLICY = OptimizePolicy.name


def default_policies(
    optimize: OptimizeSettings | None = None, pv_surplus: PvSurplusSettings | None = None
) -> dict[str, PlanningPolicy]:
    """One instance of each policy, keyed by name (what `Coordinator` expects)."""
    return {
        RulePolicy.name: RulePolicy(),
        PvSurplusPolicy.name: PvSurplusPolicy(pv_surplus),
        OptimizePolicy.name: OptimizePolicy(optimize),
    }


__all__ = [
    "DEFAULT_POLICY",
    "OptimizePolicy",
    "OptimizeSettings",
    "PlanningPolicy",
    "PvSurplusPolicy",
    "PvSurplusSettings",
    "RulePolicy",
    "default_policies",
    "rule_plan",
]
