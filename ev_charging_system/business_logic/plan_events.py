"""Tells the event bus (and the observer: solve time, status) about every plan the energy
coordinator makes."""

from __future__ import annotations

from ev_charging_system.business_logic.events import EventPublisher, PlanChanged
from ev_charging_system.business_logic.observability import NO_OBSERVER, Observer
from ev_charging_system.energy.models import Plan
from ev_charging_system.energy.recorder import PlanRecorder


class PublishingPlanRecorder:
    """A PlanRecorder that stores through `inner`, then publishes `plan.changed`."""

    def __init__(
        self, inner: PlanRecorder, events: EventPublisher, observer: Observer = NO_OBSERVER
    ) -> None:
        self._inner = inner
        self._events = events
        self._observer = observer

    async def record(self, plan: Plan) -> None:
        status = "fallback" if plan.fell_back else (plan.solver_status or "ok")
        self._observer.plan_made(plan.policy, status, plan.solve_ms / 1000)
        await self._inner.record(plan)
        self._events.publish(
            PlanChanged(
                at=plan.created_at,
                policy=plan.policy,
                requested_policy=plan.requested_policy,
                reason=plan.reason,
                fell_back=plan.fell_back,
            )
        )
