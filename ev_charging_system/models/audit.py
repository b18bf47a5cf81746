"""Who did what, through which channel (REST, MCP, chat, system): the audit trail."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class AuditOutcome(StrEnum):
    OK = "ok"
    ERROR = "error"
    DENIED = "denied"
    CONFIRMATION_REQUIRED = "confirmation_required"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: datetime
    actor: str  # the credential or conversation: "rest:api-token", "chat:<conversation id>"
    channel: str  # "rest" | "mcp" | "chat" | "system"
    tool: str  # the operation's name in the catalogue
    arguments: dict[str, Any]
    outcome: AuditOutcome
    result: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    client: str | None = None  # the other end: an address, an MCP session
    id: int | None = None


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: str  # "user" | "assistant"
    content: list[dict[str, Any]]  # Anthropic content blocks, stored as sent/received
    created_at: datetime


@dataclass(slots=True)
class Conversation:
    id: str
    created_at: datetime
    updated_at: datetime
    title: str
    messages: list[ChatMessage] = field(default_factory=list)
    # A destructive tool call held until the user confirms it (POST /api/chat/{id}/confirm).
    pending_action: dict[str, Any] | None = None
