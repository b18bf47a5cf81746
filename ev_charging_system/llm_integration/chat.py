"""The operator chat: a Claude conversation over the operations catalogue, with confirmation.

One turn: the user's message is stored, then the model is called with the history and the
tools; tool calls run (in-process, see chat_tools.py) and their results go back to the
model, at most `max_tool_steps` times, after which the model must answer in words. A tool
that needs confirmation is validated and checked but held: the engine stores it as the
conversation's pending action and ends the turn. POST /api/chat/{id}/confirm then either
runs it or tells the model the user declined.

Every stop reason leaves the conversation usable: an answer cut off at the token limit
(perhaps inside a tool call) is stored without the unfinished call and the user is told;
a paused turn is continued; a refusal is stored as said.

The tool loop is written out rather than using the SDK's tool runner: the runner executes
every tool call at once, and here a call must be able to wait for a person.
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import anthropic
import httpx2
from anthropic import AsyncAnthropic
from anthropic.types import Message

from ev_charging_system.business_logic.chat import ChatEvent, ChatTurn
from ev_charging_system.business_logic.conversation_service import ConversationService
from ev_charging_system.business_logic.operations.actor import Actor, Channel, Role
from ev_charging_system.business_logic.ports import SealedDataError, SecretBox
from ev_charging_system.business_logic.redaction import redact_value
from ev_charging_system.llm_integration.chat_tools import ChatTools, ToolOutcome
from ev_charging_system.llm_integration.llm_prompts import OPERATOR_GUIDE
from ev_charging_system.models.audit import ChatMessage, Conversation
from ev_charging_system.models.errors import ConflictError

logger = logging.getLogger(__name__)

DECLINED = "The user declined this action; it was not carried out."
SUPERSEDED = "The user did not confirm this action and wrote a new message; it was not carried out."
ONE_AT_A_TIME = (
    "Not done: only one action can wait for confirmation at a time. Ask again after the "
    "user has answered the first one."
)
EXPIRED = "The confirmation came too late; the action was not carried out. Ask again."
CUT_OFF = (
    "[The answer was cut off at the length limit{call}. Ask again, perhaps for less at a time.]"
)
REFUSED = "[The model declined to answer this.]"
MAX_CONTINUATIONS = 3  # pause_turn: how often a paused turn is resumed


@dataclass(frozen=True, slots=True)
class ChatSettings:
    model: str
    max_tokens: int
    max_tool_steps: int
    confirmation_ttl_seconds: float = 600


def chat_actor(conversation_id: str, caller: Actor) -> Actor:
    """The chat acts for its caller: never with more than the caller's role, nor more than
    an operator's; audit records name the conversation and the caller."""
    return Actor(
        f"chat:{conversation_id}",
        Channel.CHAT,
        Role(min(caller.role, Role.OPERATOR)),
        client=caller.name,
    )


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


def finished_blocks(blocks: list[dict[str, Any]], stop_reason: str | None) -> list[dict[str, Any]]:
    """What to store of a final answer so the next turn is still a valid request.

    A tool_use block is only valid with its tool_result in the next message: an answer
    that stopped for another reason (cut off by max_tokens, often inside the call's JSON)
    must not keep one. The user learns why the answer is short.
    """
    kept = [b for b in blocks if b["type"] != "tool_use"]
    dropped = len(blocks) - len(kept)
    if stop_reason in ("max_tokens", "model_context_window_exceeded"):
        call = " while preparing a tool call" if dropped else ""
        kept.append({"type": "text", "text": CUT_OFF.format(call=call)})
    elif stop_reason == "refusal" and not text_of(kept):
        kept.append({"type": "text", "text": REFUSED})
    elif not kept:
        kept.append({"type": "text", "text": "(no answer)"})
    return kept


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
        tools: ChatTools,
        conversations: ConversationService,
        settings: ChatSettings,
        box: SecretBox,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._client = client
        self._tools = tools
        self._conversations = conversations
        self._settings = settings
        self._box = box
        self._clock = clock
        # One turn at a time per conversation; locks vanish with their last user.
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    # --- the ChatEngine protocol (api/chat_routes.py) -------------------------------------

    async def send(self, conversation_id: str | None, text: str, on_behalf_of: Actor) -> ChatTurn:
        turn = self._turn(conversation_id, text, None, on_behalf_of, streaming=False)
        return await self._collect(turn)

    async def confirm(self, conversation_id: str, confirm: bool, on_behalf_of: Actor) -> ChatTurn:
        turn = self._turn(conversation_id, None, confirm, on_behalf_of, streaming=False)
        return await self._collect(turn)

    def stream(
        self, conversation_id: str | None, text: str, on_behalf_of: Actor
    ) -> AsyncIterator[ChatEvent]:
        return self._turn(conversation_id, text, None, on_behalf_of, streaming=True)

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
        caller: Actor,
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
            actor = chat_actor(conversation.id, caller)
            async for event in self._answer(conversation, actor, text, decision, streaming):
                yield event

    async def _answer(
        self,
        conversation: Conversation,
        caller: Actor,
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
        self, pending: dict[str, Any], caller: Actor, confirm: bool
    ) -> tuple[dict[str, Any], ChatEvent]:
        """Run or drop the held action; its tool_result and the event announcing it."""
        tool_use_id, name = pending["tool_use_id"], pending["tool"]
        expires_at = datetime.fromisoformat(pending["expires_at"])
        if not confirm:
            await self._record_declined(caller, pending)
            outcome = ToolOutcome("cancelled", DECLINED)
        elif self._clock() >= expires_at:
            await self._record_declined(caller, pending)
            outcome = ToolOutcome("cancelled", EXPIRED)
        else:
            outcome = await self._tools.run_confirmed(caller, name, self._held_arguments(pending))
        event = ChatEvent(
            "tool_result",
            {"name": name, "arguments": pending["arguments"], "outcome": outcome.outcome},
        )
        return tool_result(tool_use_id, outcome.content, outcome.is_error), event

    def _held_arguments(self, pending: dict[str, Any]) -> dict[str, Any]:
        """The held call's arguments, unsealed (stored sealed: they may carry a secret)."""
        try:
            arguments: dict[str, Any] = json.loads(self._box.open(pending["sealed_arguments"]))
        except (SealedDataError, KeyError, ValueError) as error:
            raise ConflictError(
                "the action waiting for confirmation cannot be read back (was SECRET_KEY "
                "changed?); ask for it again"
            ) from error
        return arguments

    async def _record_declined(self, caller: Actor, pending: dict[str, Any]) -> None:
        await self._tools.record_declined(caller, pending["tool"], self._held_arguments(pending))

    async def _loop(
        self,
        conversation_id: str,
        history: list[ChatMessage],
        caller: Actor,
        streaming: bool,
    ) -> AsyncIterator[ChatEvent]:
        messages = api_messages(history)
        tools = self._tools.definitions()
        steps = self._settings.max_tool_steps
        continuations = 0
        step = 0
        while step <= steps:
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
            stop = response.stop_reason
            if stop == "pause_turn" and continuations < MAX_CONTINUATIONS:
                # The service paused a long turn: send it back as it is to continue.
                continuations += 1
                assistant = self._conversations.message("assistant", blocks)
                await self._store(conversation_id, [assistant])
                history = [*history, assistant]
                messages = api_messages(history)
                continue
            if stop != "tool_use" or not uses:
                final = finished_blocks(blocks, stop)
                await self._store(
                    conversation_id, [self._conversations.message("assistant", final)]
                )
                yield ChatEvent("done", {"reply": text_of(final)})
                return
            step += 1
            results: list[dict[str, Any]] = []
            held: dict[str, Any] | None = None
            for use in uses:
                yield ChatEvent("tool_call", {"name": use["name"], "arguments": use["input"]})
                if held is not None and self._tools.needs_confirmation(use["name"]):
                    outcome = ToolOutcome("error", ONE_AT_A_TIME)  # not even checked
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
        ttl = timedelta(seconds=self._settings.confirmation_ttl_seconds)
        arguments = outcome.arguments or {}  # as validated: what will run
        return {
            "tool_use_id": use["id"],
            "tool": use["name"],
            "arguments": redact_value(arguments),  # what the user is shown
            "sealed_arguments": self._box.seal(json.dumps(arguments)),
            "summary": outcome.summary,
            "expires_at": (self._clock() + ttl).replace(microsecond=0).isoformat(),
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
    tools: ChatTools,
    conversations: ConversationService,
    settings: ChatSettings,
    api_key: str | None,
    base_url: str | None = None,
    *,
    box: SecretBox,
    http_client: httpx2.AsyncClient | None = None,
    max_retries: int = 2,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> ClaudeChat | None:
    """The chat, or None without an API key (the REST endpoints then answer 503)."""
    if not api_key:
        return None
    client = AsyncAnthropic(
        api_key=api_key, base_url=base_url, http_client=http_client, max_retries=max_retries
    )
    return ClaudeChat(client, tools, conversations, settings, box, clock)
