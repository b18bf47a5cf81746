"""The chat port: what the REST routes need from a conversational engine.

The engine (llm_integration/chat.py, Claude) implements it; the routes only know this.
A turn runs on behalf of the REST caller (`on_behalf_of`): the chat acts with at most
that caller's role, and its audit records name the conversation and that caller.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from ev_charging_system.business_logic.operations.actor import Actor
from ev_charging_system.models.audit import Conversation


@dataclass(frozen=True, slots=True)
class ChatEvent:
    """One server-sent event of a streamed turn."""

    type: (
        str  # conversation | text | tool_call | tool_result | confirmation_required | error | done
    )
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ChatTurn:
    conversation_id: str
    reply: str
    pending_action: dict[str, Any] | None = None
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None


class ChatEngine(Protocol):
    async def send(
        self, conversation_id: str | None, text: str, on_behalf_of: Actor
    ) -> ChatTurn: ...

    async def confirm(
        self, conversation_id: str, confirm: bool, on_behalf_of: Actor
    ) -> ChatTurn: ...

    def stream(
        self, conversation_id: str | None, text: str, on_behalf_of: Actor
    ) -> AsyncIterator[ChatEvent]: ...

    async def conversation(self, conversation_id: str) -> Conversation: ...

    async def recent(self, limit: int) -> list[Conversation]: ...

    async def aclose(self) -> None: ...
