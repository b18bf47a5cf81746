"""Where plans go after they are made: a port, and an in-memory implementation.

The coordinator hands every plan (inputs, actions, reason, fallback) to a `PlanRecorder`;
the data adapter stores them for the dashboard and the LLM. Recording must not slow the
tick down much and must never stop it: the coordinator logs and ignores recorder errors.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime
from typing import Any, Protocol

from ev_charging_system.energy.models import Plan


class PlanRecorder(Protocol):
    async def record(self, plan: Plan) -> None: ...


class PlanLog(Protocol):
    """Stored plans, newest first, as the JSON documents the recorder wrote."""

    async def recent(self, limit: int) -> list[dict[str, Any]]: ...

    async def in_force_at(self, moment: datetime) -> dict[str, Any] | None:
        """The last plan made at or before `moment` (the one that decided what happened)."""


class InMemoryPlanRecorder:
    """Keeps the last `limit` plans (tests, and a process without a database)."""

    def __init__(self, limit: int = 1000) -> None:
        self._plans: deque[Plan] = deque(maxlen=limit)

    async def record(self, plan: Plan) -> None:
        self._plans.append(plan)

    @property
    def plans(self) -> list[Plan]:
        return list(self._plans)

    @property
    def latest(self) -> Plan | None:
        return self._plans[-1] if self._plans else None
