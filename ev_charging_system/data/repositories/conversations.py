"""SQL repository of chat conversations and their messages."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ev_charging_system.data.orm import (
    ChatMessageRow,
    ConversationRow,
)
from ev_charging_system.models.audit import ChatMessage, Conversation


class SqlConversationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, conversation: Conversation) -> None:
        self._session.add(
            ConversationRow(
                id=conversation.id,
                created_at=conversation.created_at,
                updated_at=conversation.updated_at,
                title=conversation.title,
                pending_action=conversation.pending_action,
            )
        )
        await self._session.flush()
        await self.append(conversation.id, conversation.messages)

    async def get(self, conversation_id: str) -> Conversation | None:
        row = await self._session.get(ConversationRow, conversation_id)
        if row is None:
            return None
        messages = await self._session.scalars(
            select(ChatMessageRow)
            .where(ChatMessageRow.conversation_id == conversation_id)
            .order_by(ChatMessageRow.id)
        )
        conversation = _conversation(row)
        conversation.messages = [
            ChatMessage(role=m.role, content=m.content, created_at=m.created_at) for m in messages
        ]
        return conversation

    async def append(self, conversation_id: str, messages: Sequence[ChatMessage]) -> None:
        self._session.add_all(
            ChatMessageRow(
                conversation_id=conversation_id,
                role=m.role,
                content=m.content,
                created_at=m.created_at,
            )
            for m in messages
        )
        await self._session.flush()

    async def update(self, conversation: Conversation) -> None:
        row = await self._session.get(ConversationRow, conversation.id)
        if row is None:
            raise LookupError(conversation.id)
        row.title = conversation.title
        row.updated_at = conversation.updated_at
        row.pending_action = conversation.pending_action
        await self._session.flush()

    async def recent(self, limit: int) -> list[Conversation]:
        rows = await self._session.scalars(
            select(ConversationRow).order_by(ConversationRow.updated_at.desc()).limit(limit)
        )
        return [_conversation(row) for row in rows]


def _conversation(row: ConversationRow) -> Conversation:
    return Conversation(
        id=row.id,
        created_at=row.created_at,
        updated_at=row.updated_at,
        title=row.title,
        pending_action=row.pending_action,
    )
