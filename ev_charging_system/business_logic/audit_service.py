"""The audit trail of operator actions, whatever the channel."""

from __future__ import annotations

import json
from typing import Any

from ev_charging_system.business_logic.ports import Clock, UnitOfWorkFactory
from ev_charging_system.models.audit import AuditEntry, AuditOutcome
from ev_charging_system.models.listing import AuditQuery

MAX_RESULT_CHARACTERS = 4000  # keep audit rows small; the full answer went to the caller


def _bounded(result: dict[str, Any]) -> dict[str, Any]:
    text = json.dumps(result, default=str)
    if len(text) <= MAX_RESULT_CHARACTERS:
        return json.loads(text)  # type: ignore[no-any-return]
    return {"truncated": text[:MAX_RESULT_CHARACTERS]}


class AuditService:
    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._clock = clock

    async def record(
        self,
        *,
        actor: str,
        channel: str,
        tool: str,
        arguments: dict[str, Any],
        outcome: AuditOutcome,
        result: dict[str, Any] | None = None,
        error: str | None = None,
        client: str | None = None,
    ) -> AuditEntry:
        entry = AuditEntry(
            at=self._clock(),
            actor=actor,
            channel=channel,
            tool=tool,
            arguments=_bounded(arguments),
            outcome=outcome,
            result=_bounded(result or {}),
            error=error,
            client=client,
        )
        async with self._uow_factory() as uow:
            stored = await uow.audit.add(entry)
            await uow.commit()
        return stored

    async def page(self, query: AuditQuery) -> tuple[list[AuditEntry], int]:
        async with self._uow_factory() as uow:
            return await uow.audit.search(query)

    async def recent(
        self,
        limit: int = 100,
        actor: str | None = None,
        tool: str | None = None,
        channel: str | None = None,
    ) -> list[AuditEntry]:
        async with self._uow_factory() as uow:
            return await uow.audit.recent(limit, actor, tool, channel)
