"""The operator chat: a Claude conversation over the MCP tools, with confirmation.

One turn: the user's message is stored, then the model is called with the history and the
tools; tool calls run (in-process, see chat_tools.py) and their results go back to the
model, at most `max_tool_steps` times, after which the model must answer in words. A tool
that acts on a station is first called without a confirm token, which checks its
arguments and returns a token instead of acting; the engine stores it as the
conversation's pending action and ends the turn. POST /api/chat/{id}/confirm then either
repeats the call with the token (the action runs) or tells the model the user declined.

The tool loop is written out rather than using the SDK's tool runner: the runner executes
every tool call at once, and here a call must be able to wait for a person.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import anthropic
import httpx2
from anthropic import AsyncAnthropic
from anthropic.types import Message

from ev_charging_system.business_logic.audit_service import AuditService
from ev_charging_system.business_logic.conversation_service import ConversationService
from ev_charging_system.llm_integration.chat_tools import McpToolBridge, ToolOutcome
from ev_charging_system.llm_integration.llm_prompts import OPERATOR_GUIDE
from ev_charging_system.llm_integration.mcp_auth import OPERATE, READ, Caller
from ev_charging_system.models.audit import AuditOutcome, ChatMessage, Conversation
from ev_charging_system.models.errors import ConflictError

logger = logging.getLogger(__name__)

CHANNEL = "chat"
DECLINED = "The user declined this action; it was not carried out."
SUPERSEDED = "The user did not confirm this action and wrote a new message; it was not carried out."
ONE_AT_A_TIME = (
    "Not done: only one action can wait for confirmation at a time. Ask again after the "
    "user has answered the first one."
)


@dataclass(frozen=True, slots=True)
class ChatSettings:
    model: str
    max_tokens: int
    max_tool_steps: int


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


def public_pending(pending: dict[str, Any] | None) -> dict[str, Any] | None:
    """The pending action as the user sees it (no token, no held results)."""
    if pending is None:
        return None
    keys = ("tool", "arguments", "summary", "expires_at")
    return {k: pending.get(k) for k in keys}


def api_messages(history: Sequence[ChatMessage]) -> list[dict[str, Any]]:
    """Stored messages as Messages API input, merging neighbours of the same role (left
    behind when a turn failed after storing the user's message)."""
    merged: list[dict[str, Any]] = []
    for message in history:
        if merged and merged[-1]["role"] == message.role:
            merged[-1]["content"] = [*merged[-1]["content"], *message.content]
        else:
            merged.append({"role": message.role, "content": list(message.content)})
    return merged


def stored_blocks(response: Message) -> list[dict[str, Any]]:
    """The response's text and tool_use blocks, in the shape the API accepts back."""
    blocks: list[dict[str, Any]] = []
    for block in response.content:
        if block.type == "text":
            blocks.append({"type": "text", "text": block.text})
        elif block.type == "tool_use":
            blocks.append(
                {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
            )
    return blocks


def text_of(blocks: Sequence[dict[str, Any]]) -> str:
    return "".join(b["text"] for b in blocks if b.get("type") == "text")


def tool_result(tool_use_id: str, content: str, is_error: bool = False) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": tool_use_id, "content": content}
    if is_error:
        block["is_error"] = True
    return block


def describe_api_error(error: anthropic.APIError) -> str:
    if isinstance(error, anthropic.APIStatusError):
        detail = error.message or ""
        body = error.body
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            detail = str(body["error"].get("message") or detail)
        return f"the language model service answered HTTP {error.status_code}: {detail}"
    if isinstance(error, anthropic.APITimeoutError):
        return "the language model service did not answer in time"
    return "the language model service could not be reached"


class ClaudeChat:
    def __init__(
        self,
        client: AsyncAnthropic,
        tools: McpToolBridge,
        conversations: ConversationService,
        audit: AuditService,
        settings: ChatSettings,
    ) -> None:
        self._client = client
        self._tools = tools
        self._conversations = conversations
        self._audit = audit
        self._settings = settings
        # One turn at a time per conversation; locks vanish with their last user.
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    # --- the ChatEngine protocol (api/chat_routes.py) -------------------------------------

    async def send(self, conversation_id: str | None, text: str) -> ChatTurn:
        return await self._collect(self._turn(conversation_id, text, None, streaming=False))

    async def confirm(self, conversation_id: str, confirm: bool) -> ChatTurn:
        return await self._collect(self._turn(conversation_id, None, confirm, streaming=False))

    def stream(self, conversation_id: str | None, text: str) -> AsyncIterator[ChatEvent]:
        return self._turn(conversation_id, text, None, streaming=True)

    async def conversation(self, conversation_id: str) -> Conversation:
        return await self._conversations.get(conversation_id)

    async def recent(self, limit: int) -> list[Conversation]:
        return await self._conversations.recent(limit)

    async def aclose(self) -> None:
        """Release the HTTP connections to the model service (at shutdown)."""
        await self._client.close()

    # --- one turn ---------------------------------------------------------------------------

    async def _collect(self, events: AsyncIterator[ChatEvent]) -> ChatTurn:
        conversation_id, reply, pending, error = "", "", None, None
        calls: list[dict[str, Any]] = []
        async for event in events:
            if event.type == "conversation":
                conversation_id = event.data["id"]
            elif event.type == "tool_result":
                calls.append(event.data)
            elif event.type == "confirmation_required":
                pending = event.data
            elif event.type == "error":
                error = event.data["detail"]
            elif event.type == "done":
                reply = event.data["reply"]
        return ChatTurn(conversation_id, reply, pending, calls, error)

    async def _turn(
        self,
        conversation_id: str | None,
        text: str | None,
        decision: bool | None,
        streaming: bool,
    ) -> AsyncIterator[ChatEvent]:
        if conversation_id is None:
            conversation = await self._conversations.start(text or "")
        else:
            conversation = await self._conversations.get(conversation_id)
        lock = self._locks.setdefault(conversation.id, asyncio.Lock())
        async with lock:
            # Re-read under the lock: another turn may have finished meanwhile.
            conversation = await self._conversations.get(conversation.id)
            yield ChatEvent("conversation", {"id": conversation.id, "title": conversation.title})
            caller = Caller(f"chat:{conversation.id}", CHANNEL, frozenset({READ, OPERATE}))
            async for event in self._answer(conversation, caller, text, decision, streaming):
                yield event

    async def _answer(
        self,
        conversation: Conversation,
        caller: Caller,
        text: str | None,
        decision: bool | None,
        streaming: bool,
    ) -> AsyncIterator[ChatEvent]:
        pending = conversation.pending_action
        if decision is not None:
            if pending is None:
                raise ConflictError("nothing in this conversation is waiting for confirmation")
            result, event = await self._settle(pending, caller, decision)
            yield event
            user_blocks = [*pending["results"], result]
        else:
            user_blocks = [{"type": "text", "text": text or ""}]
            if pending is not None:  # moving on without confirming declines the action
                await self._record_declined(caller, pending)
                user_blocks = [
                    *pending["results"],
                    tool_result(pending["tool_use_id"], SUPERSEDED, is_error=True),
                    *user_blocks,
                ]
        user_message = self._conversations.message("user", user_blocks)
        await self._conversations.append(conversation.id, [user_message], pending_action=None)
        history = [*conversation.messages, user_message]
        async for event in self._loop(conversation.id, history, caller, streaming):
            yield event

    async def _settle(
        self, pending: dict[str, Any], caller: Caller, confirm: bool
    ) -> tuple[dict[str, Any], ChatEvent]:
        """Run or drop the held action; its tool_result and the event announcing it."""
        tool_use_id, name = pending["tool_use_id"], pending["tool"]
        if not confirm:
            await self._record_declined(caller, pending)
            outcome = ToolOutcome("cancelled", DECLINED)
        else:
            outcome = await self._tools.call(
                caller, name, pending["arguments"], confirm_token=pending["confirm_token"]
            )
        event = ChatEvent(
            "tool_result",
            {"name": name, "arguments": pending["arguments"], "outcome": outcome.outcome},
        )
        return tool_result(tool_use_id, outcome.content, outcome.is_error), event

    async def _record_declined(self, caller: Caller, pending: dict[str, Any]) -> None:
        await self._audit.record(
            caller.actor, CHANNEL, pending["tool"], pending["arguments"], AuditOutcome.CANCELLED
        )

    async def _loop(
        self,
        conversation_id: str,
        history: list[ChatMessage],
        caller: Caller,
        streaming: bool,
    ) -> AsyncIterator[ChatEvent]:
        messages = api_messages(history)
        tools = await self._tools.definitions()
        steps = self._settings.max_tool_steps
        for step in range(steps + 1):
            # After the last allowed tool step the model must answer in words.
            no_more_tools = step == steps
            response: Message | None = None
            try:
                async for item in self._call_model(messages, tools, no_more_tools, streaming):
                    if isinstance(item, str):
                        yield ChatEvent("text", {"text": item})
                    else:
                        response = item
            except anthropic.APIError as error:
                detail = describe_api_error(error)
                logger.warning("chat %s: %s", conversation_id, detail)
                yield ChatEvent("error", {"detail": detail})
                return
            assert response is not None
            blocks = stored_blocks(response)
            uses = [b for b in blocks if b["type"] == "tool_use"]
            if response.stop_reason != "tool_use" or not uses:
                await self._store(
                    conversation_id, [self._conversations.message("assistant", blocks)]
                )
                yield ChatEvent("done", {"reply": text_of(blocks)})
                return
            results: list[dict[str, Any]] = []
            held: dict[str, Any] | None = None
            for use in uses:
                yield ChatEvent("tool_call", {"name": use["name"], "arguments": use["input"]})
                if held is not None and await self._tools.needs_confirmation(use["name"]):
                    outcome = ToolOutcome("error", ONE_AT_A_TIME)  # not even asked for a token
                else:
                    outcome = await self._tools.call(caller, use["name"], dict(use["input"]))
                    if outcome.outcome == "confirmation_required":
                        held = self._hold(use, outcome)
                        continue
                yield ChatEvent(
                    "tool_result",
                    {"name": use["name"], "arguments": use["input"], "outcome": outcome.outcome},
                )
                results.append(tool_result(use["id"], outcome.content, outcome.is_error))
            assistant = self._conversations.message("assistant", blocks)
            if held is not None:
                held["results"] = results
                await self._store(conversation_id, [assistant], pending=held)
                yield ChatEvent("confirmation_required", public_pending(held) or {})
                yield ChatEvent("done", {"reply": text_of(blocks)})
                return
            tool_results = self._conversations.message("user", results)
            await self._store(conversation_id, [assistant, tool_results])
            messages = api_messages([*history, assistant, tool_results])
            history = [*history, assistant, tool_results]

    def _hold(self, use: dict[str, Any], outcome: ToolOutcome) -> dict[str, Any]:
        structured = outcome.structured or {}
        return {
            "tool_use_id": use["id"],
            "tool": use["name"],
            "arguments": dict(use["input"]),
            "summary": structured.get("action"),
            "confirm_token": structured.get("confirm_token"),
            "expires_at": structured.get("confirm_expires_at"),
            "results": [],
        }

    async def _store(
        self,
        conversation_id: str,
        messages: list[ChatMessage],
        pending: dict[str, Any] | None = None,
    ) -> None:
        await self._conversations.append(conversation_id, messages, pending_action=pending)

    async def _call_model(
        self,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]],
        no_more_tools: bool,
        streaming: bool,
    ) -> AsyncIterator[str | Message]:
        """Text deltas (when streaming), then the complete response."""
        request: dict[str, Any] = {
            "model": self._settings.model,
            "max_tokens": self._settings.max_tokens,
            "system": OPERATOR_GUIDE,
            "messages": messages,
            "tools": tools,
        }
        if no_more_tools:
            request["tool_choice"] = {"type": "none"}
        if not streaming:
            yield await self._client.messages.create(**request)
            return
        async with self._client.messages.stream(**request) as stream:
            async for text in stream.text_stream:
                yield text
            yield await stream.get_final_message()


def build_chat_engine(
    tools: McpToolBridge,
    conversations: ConversationService,
    audit: AuditService,
    settings: ChatSettings,
    api_key: str | None,
    base_url: str | None = None,
    http_client: httpx2.AsyncClient | None = None,
    max_retries: int = 2,
) -> ClaudeChat | None:
    """The chat, or None without an API key (the REST endpoints then answer 503)."""
    if not api_key:
        return None
    client = AsyncAnthropic(
        api_key=api_key, base_url=base_url, http_client=http_client, max_retries=max_retries
    )
    return ClaudeChat(client, tools, conversations, audit, settings)
