"""Tells the event bus about every plan the energy coordinator makes."""

from __future__ import annotations

from ev_charging_system.business_logic.events import EventPublisher, PlanChanged
from ev_charging_system.energy.models import Plan
from ev_charging_system.energy.recorder import PlanRecorder


class PublishingPlanRecorder:
    """A PlanRecorder that stores through `inner`, then publishes `plan.changed`."""

    def __init__(self, inner: PlanRecorder, events: EventPublisher) -> None:
        self._inner = inner
        self._events = events

    async def record(self, plan: Plan) -> None:
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
