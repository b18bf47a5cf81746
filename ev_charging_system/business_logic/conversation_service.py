"""Chat conversations: their history and the action held for the user's confirmation.

What is stored goes through the one redaction of secrets (configuration keys that hold
credentials, passwords in URLs): a model's tool call that set an AuthorizationKey is kept
with `***` in its place. The held action itself is sealed by the chat engine.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from ev_charging_system.business_logic.ports import Clock, UnitOfWorkFactory
from ev_charging_system.business_logic.redaction import redact_text, redact_value
from ev_charging_system.models.audit import ChatMessage, Conversation
from ev_charging_system.models.errors import NotFoundError

TITLE_LENGTH = 80


class ConversationService:
    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._clock = clock

    async def start(self, first_user_text: str) -> Conversation:
        now = self._clock()
        conversation = Conversation(
            id=str(uuid.uuid4()),
            created_at=now,
            updated_at=now,
            title=redact_text(" ".join(first_user_text.split()))[:TITLE_LENGTH]
            or "New conversation",
        )
        async with self._uow_factory() as uow:
            await uow.conversations.add(conversation)
            await uow.commit()
        return conversation

    async def get(self, conversation_id: str) -> Conversation:
        async with self._uow_factory() as uow:
            conversation = await uow.conversations.get(conversation_id)
        if conversation is None:
            raise NotFoundError("conversation", conversation_id)
        return conversation

    async def recent(self, limit: int = 50) -> list[Conversation]:
        async with self._uow_factory() as uow:
            return await uow.conversations.recent(limit)

    def message(self, role: str, content: list[dict[str, Any]]) -> ChatMessage:
        return ChatMessage(role=role, content=redact_value(content), created_at=self._clock())

    async def append(
        self,
        conversation_id: str,
        messages: Sequence[ChatMessage],
        pending_action: dict[str, Any] | None = None,
    ) -> Conversation:
        """Add messages and set (or clear, with None) the action awaiting confirmation."""
        async with self._uow_factory() as uow:
            conversation = await uow.conversations.get(conversation_id)
            if conversation is None:
                raise NotFoundError("conversation", conversation_id)
            await uow.conversations.append(conversation_id, messages)
            conversation.pending_action = pending_action
            conversation.updated_at = self._clock()
            await uow.conversations.update(conversation)
            await uow.commit()
        conversation.messages.extend(messages)
        return conversation
