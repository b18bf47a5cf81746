"""The chat engine's tool loop on fakes: what is held, what is settled, what the model sees."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest

from ev_charging_system.business_logic.operations.actor import Actor, Channel, Role
from ev_charging_system.data.secret_box import FernetSecretBox, new_key
from ev_charging_system.llm_integration.chat import (
    ChatSettings,
    ClaudeChat,
    api_messages,
    build_chat_engine,
)
from ev_charging_system.llm_integration.chat_tools import ChatTools
from ev_charging_system.models.audit import AuditOutcome, ChatMessage
from ev_charging_system.models.commands import Reset, UnlockConnector
from ev_charging_system.models.errors import ConflictError, NotFoundError
from tests.unit.test_chat_support import ScriptedClaude, message, text, tool_use
from tests.unit.test_mcp_support import World


@pytest.fixture
async def world() -> World:
    world = World()
    await world.station("CP-1", "Available", "Available")
    return world


BOX = FernetSecretBox(new_key().encode())
# The person at the REST API who chats.
USER = Actor("rest:api-token", Channel.REST, Role.ADMIN, "127.0.0.1:5000")


@pytest.fixture
def claude() -> ScriptedClaude:
    return ScriptedClaude()


@pytest.fixture
async def chat(world: World, claude: ScriptedClaude) -> AsyncIterator[ClaudeChat]:
    async with httpx2.AsyncClient(transport=httpx2.MockTransport(claude.handler)) as http:
        engine = build_chat_engine(
            ChatTools(world.runner),
            world.conversations,
            ChatSettings("claude-test", 512, max_tool_steps=3, confirmation_ttl_seconds=60),
            api_key="sk-test",
            base_url="http://claude.invalid",
            box=BOX,
            http_client=http,
            max_retries=0,
            clock=world.clock,
        )
        assert engine is not None
        yield engine


def last_user_blocks(claude: ScriptedClaude) -> list[dict[str, Any]]:
    content: list[dict[str, Any]] = claude.requests[-1]["messages"][-1]["content"]
    return content


def test_no_api_key_means_no_chat(world: World) -> None:
    settings = ChatSettings("m", 64, 1)
    tools = ChatTools(world.runner)
    assert build_chat_engine(tools, world.conversations, settings, None, box=BOX) is None
    assert build_chat_engine(tools, world.conversations, settings, "", box=BOX) is None


async def test_one_action_is_held_while_reads_run_and_others_are_refused(
    world: World, chat: ClaudeChat, claude: ScriptedClaude
) -> None:
    claude.replies = [
        message(
            tool_use("send_remote_reset", {"charge_point_id": "CP-1"}, "t1"),
            tool_use("list_charge_points", {}, "t2"),
            tool_use("unlock_connector", {"charge_point_id": "CP-1", "connector_id": 1}, "t3"),
            stop_reason="tool_use",
        ),
        message(text("Reset done.")),
    ]
    held = await chat.send(None, "reset CP-1 and unlock 1", USER)
    assert held.pending_action is not None and held.pending_action["tool"] == "send_remote_reset"
    assert [c["name"] for c in held.tool_calls] == ["list_charge_points", "unlock_connector"]
    assert held.tool_calls[1]["outcome"] == "error"
    assert world.gateway.sent == []

    done = await chat.confirm(held.conversation_id, True, USER)
    assert done.reply == "Reset done." and done.pending_action is None
    assert world.gateway.sent == [("CP-1", Reset())]
    results = last_user_blocks(claude)
    assert [r["tool_use_id"] for r in results] == ["t2", "t3", "t1"]  # every tool_use answered
    assert "only one action" in results[1]["content"] and results[1]["is_error"]
    assert not any(isinstance(c, UnlockConnector) for _, c in world.gateway.sent)
    audited = [(e.tool, e.outcome) for e in world.store.audit]
    assert audited == [
        ("send_remote_reset", AuditOutcome.CONFIRMATION_REQUIRED),
        ("send_remote_reset", AuditOutcome.OK),
    ]


async def test_writing_instead_of_confirming_declines_the_action(
    world: World, chat: ClaudeChat, claude: ScriptedClaude
) -> None:
    claude.replies = [
        message(tool_use("send_remote_reset", {"charge_point_id": "CP-1"}), stop_reason="tool_use"),
        message(text("OK, no reset.")),
    ]
    held = await chat.send(None, "reset CP-1", USER)
    answer = await chat.send(held.conversation_id, "actually, don't", USER)

    assert answer.reply == "OK, no reset." and world.gateway.sent == []
    result, new_text = last_user_blocks(claude)
    assert result["is_error"] and "did not confirm" in result["content"]
    assert new_text == {"type": "text", "text": "actually, don't"}
    outcomes = [e.outcome for e in world.store.audit if e.tool == "send_remote_reset"]
    assert outcomes == [AuditOutcome.CONFIRMATION_REQUIRED, AuditOutcome.CANCELLED]
    with pytest.raises(ConflictError):
        await chat.confirm(held.conversation_id, True, USER)


async def test_a_confirmation_that_comes_too_late_runs_nothing(
    world: World, chat: ClaudeChat, claude: ScriptedClaude
) -> None:
    claude.replies = [
        message(tool_use("send_remote_reset", {"charge_point_id": "CP-1"}), stop_reason="tool_use"),
        message(text("The confirmation came too late; ask me again.")),
    ]
    held = await chat.send(None, "reset CP-1", USER)
    world.clock.advance(seconds=61)
    late = await chat.confirm(held.conversation_id, True, USER)

    assert world.gateway.sent == []
    [result] = last_user_blocks(claude)
    assert result["is_error"] and "too late" in result["content"]
    assert late.reply == "The confirmation came too late; ask me again."


async def test_after_a_model_failure_the_conversation_goes_on(
    world: World, chat: ClaudeChat, claude: ScriptedClaude
) -> None:
    claude.replies = [
        httpx2.Response(
            500, json={"type": "error", "error": {"type": "api_error", "message": "x"}}
        ),
        message(text("Hello again.")),
    ]
    failed = await chat.send(None, "hello", USER)
    assert failed.error is not None and "HTTP 500" in failed.error
    answer = await chat.send(failed.conversation_id, "are you there?", USER)

    assert answer.reply == "Hello again." and answer.error is None
    [user] = claude.requests[-1]["messages"]  # both user messages merged into one turn
    assert [b["text"] for b in user["content"]] == ["hello", "are you there?"]


async def test_unknown_tools_and_conversations(
    world: World, chat: ClaudeChat, claude: ScriptedClaude
) -> None:
    claude.replies = [
        message(tool_use("format_the_disk", {}), stop_reason="tool_use"),
        message(text("I cannot do that.")),
    ]
    answer = await chat.send(None, "go", USER)
    [result] = last_user_blocks(claude)
    assert result["is_error"] and "unknown tool 'format_the_disk'" in result["content"]
    assert answer.tool_calls == [{"name": "format_the_disk", "arguments": {}, "outcome": "error"}]
    with pytest.raises(NotFoundError):
        await chat.send("missing", "hi", USER)


def test_history_is_replayed_with_neighbours_merged() -> None:
    from datetime import UTC, datetime

    at = datetime(2026, 1, 1, tzinfo=UTC)
    history = [
        ChatMessage("user", [{"type": "text", "text": "a"}], at),
        ChatMessage("user", [{"type": "text", "text": "b"}], at),
        ChatMessage("assistant", [{"type": "text", "text": "c"}], at),
    ]
    assert api_messages(history) == [
        {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "c"}]},
    ]


def tool_use_blocks(request: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        block
        for turn in request["messages"]
        for block in turn["content"]
        if isinstance(block, dict) and block.get("type") == "tool_use"
    ]


@pytest.mark.parametrize("stop_reason", ["max_tokens", "model_context_window_exceeded"])
async def test_an_answer_cut_off_inside_a_tool_call_leaves_the_conversation_usable(
    world: World, chat: ClaudeChat, claude: ScriptedClaude, stop_reason: str
) -> None:
    claude.replies = [
        message(
            text("I will reset "),
            tool_use("send_remote_reset", {"charge_point_id": "CP"}),  # the JSON was cut
            stop_reason=stop_reason,
        ),
        message(text("Shorter answer.")),
    ]
    first = await chat.send(None, "reset CP-1", USER)
    second = await chat.send(first.conversation_id, "go on", USER)

    assert "cut off at the length limit while preparing a tool call" in first.reply
    assert first.pending_action is None and world.gateway.sent == []
    assert second.reply == "Shorter answer." and second.error is None
    assert tool_use_blocks(claude.requests[-1]) == []  # every tool_use would need a result


async def test_a_refusal_is_stored_and_the_conversation_goes_on(
    world: World, chat: ClaudeChat, claude: ScriptedClaude
) -> None:
    claude.replies = [message(stop_reason="refusal"), message(text("Hello."))]
    refused = await chat.send(None, "something odd", USER)
    answer = await chat.send(refused.conversation_id, "hi", USER)
    assert refused.reply == "[The model declined to answer this.]"
    assert answer.reply == "Hello."


async def test_a_paused_turn_is_continued(
    world: World, chat: ClaudeChat, claude: ScriptedClaude
) -> None:
    claude.replies = [
        message(text("Looking "), stop_reason="pause_turn"),
        message(text("it up: all fine.")),
    ]
    answer = await chat.send(None, "how is the network?", USER)

    assert answer.reply == "it up: all fine."
    assert claude.requests[-1]["messages"][-1] == {
        "role": "assistant",
        "content": [{"type": "text", "text": "Looking "}],
    }
    conversation = await chat.conversation(answer.conversation_id)
    assert [m.role for m in conversation.messages] == ["user", "assistant", "assistant"]


async def test_the_chat_acts_with_no_more_than_its_callers_role(
    world: World, chat: ClaudeChat, claude: ScriptedClaude
) -> None:
    viewer = Actor("rest:viewer-token", Channel.REST, Role.VIEWER)
    claude.replies = [
        message(tool_use("send_remote_reset", {"charge_point_id": "CP-1"}), stop_reason="tool_use"),
        message(text("I may not do that.")),
    ]
    answer = await chat.send(None, "reset CP-1", viewer)

    assert answer.pending_action is None and world.gateway.sent == []
    [result] = last_user_blocks(claude)
    assert result["is_error"] and "needs the operator role" in result["content"]
    [denied] = world.store.audit
    assert denied.outcome is AuditOutcome.DENIED
    assert denied.channel == "chat" and denied.client == "rest:viewer-token"
