"""The operator chat over REST: a Claude conversation that can read and operate the network.

The engine lives in llm_integration (adapters do not import each other): this module
uses the `ChatEngine` port of business_logic and reads the engine from `app.state.chat`
(see `install_chat`). Without ANTHROPIC_API_KEY there is no engine and
every endpoint answers 503 with a clear message; nothing else is affected.

Actions on stations proposed by the model are held until the user confirms them with
POST /api/chat/{id}/confirm. All endpoints need `Authorization: Bearer <API_TOKEN>`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from ev_charging_system.api.dependencies import Operator
from ev_charging_system.api.errors import ErrorOut
from ev_charging_system.business_logic.chat import ChatEngine, ChatEvent, ChatTurn
from ev_charging_system.models.audit import Conversation

MAX_MESSAGE_LENGTH = 8_000


def install_chat(app: FastAPI, engine: ChatEngine | None) -> None:
    """Give the REST app its chat engine (None: chat unavailable, endpoints answer 503)."""
    app.state.chat = engine


def _engine(request: Request) -> ChatEngine:
    engine: ChatEngine | None = getattr(request.app.state, "chat", None)
    if engine is None:
        raise HTTPException(
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            detail=(
                "The chat is not available: set ANTHROPIC_API_KEY and restart. "
                "Everything else works without it."
            ),
        )
    return engine


Chat = Annotated[ChatEngine, Depends(_engine)]

# --- shapes ----------------------------------------------------------------------------------


class ChatIn(BaseModel):
    conversation_id: str | None = Field(default=None, description="omit to start a conversation")
    message: Annotated[str, Field(min_length=1, max_length=MAX_MESSAGE_LENGTH)]


class ConfirmIn(BaseModel):
    confirm: bool = Field(description="true: carry out the held action; false: drop it")


class PendingActionOut(BaseModel):
    tool: str
    arguments: dict[str, Any]
    summary: str | None
    expires_at: datetime | None = Field(
        default=None, description="confirm before this, or the action must be asked for again"
    )


class ToolCallOut(BaseModel):
    name: str
    arguments: dict[str, Any]
    outcome: str


class ChatTurnOut(BaseModel):
    conversation_id: str
    reply: str
    pending_action: PendingActionOut | None = Field(
        default=None, description="an action waiting for POST /api/chat/{id}/confirm"
    )
    tool_calls: list[ToolCallOut]

    @classmethod
    def of(cls, turn: ChatTurn) -> ChatTurnOut:
        return cls(
            conversation_id=turn.conversation_id,
            reply=turn.reply,
            pending_action=_pending(turn.pending_action),
            tool_calls=[ToolCallOut.model_validate(c) for c in turn.tool_calls],
        )


class ChatErrorOut(BaseModel):
    detail: str
    conversation_id: str | None = None


class ChatMessageOut(BaseModel):
    role: str
    content: list[dict[str, Any]] = Field(description="Anthropic content blocks")
    created_at: datetime


class ConversationOut(BaseModel):
    id: str
    title: str
    created_at: datetime
    updated_at: datetime
    pending_action: PendingActionOut | None
    messages: list[ChatMessageOut]

    @classmethod
    def of(cls, conversation: Conversation) -> ConversationOut:
        return cls(
            id=conversation.id,
            title=conversation.title,
            created_at=conversation.created_at,
            updated_at=conversation.updated_at,
            pending_action=_pending(conversation.pending_action),
            messages=[
                ChatMessageOut(role=m.role, content=m.content, created_at=m.created_at)
                for m in conversation.messages
            ],
        )


class ConversationSummaryOut(BaseModel):
    id: str
    title: str
    created_at: datetime
    updated_at: datetime
    awaiting_confirmation: bool


def _pending(pending: dict[str, Any] | None) -> PendingActionOut | None:
    if pending is None:
        return None
    return PendingActionOut(
        tool=pending["tool"],
        arguments=pending.get("arguments") or {},
        summary=pending.get("summary"),
        expires_at=pending.get("expires_at"),
    )


def _turn_response(turn: ChatTurn) -> ChatTurnOut | JSONResponse:
    if turn.error is not None:
        # The model service failed: a gateway error, with the conversation to retry in.
        return JSONResponse(
            status_code=status.HTTP_502_BAD_GATEWAY,
            content=ChatErrorOut(
                detail=f"The chat could not answer: {turn.error}",
                conversation_id=turn.conversation_id or None,
            ).model_dump(),
        )
    return ChatTurnOut.of(turn)


# --- routes ----------------------------------------------------------------------------------

router = APIRouter(prefix="/api/chat", tags=["chat"])

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "missing or wrong API token"},
    403: {"model": ErrorOut, "description": "the chat acts on stations: an operator's token"},
    422: {"model": ErrorOut, "description": "invalid input"},
    404: {"model": ErrorOut, "description": "unknown conversation"},
    502: {"model": ChatErrorOut, "description": "the language model service failed"},
    503: {"model": ErrorOut, "description": "no ANTHROPIC_API_KEY configured"},
}


BODY_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "the body is not JSON"},
    413: {"model": ErrorOut, "description": "the body is too large"},
}


@router.post(
    "",
    response_model=ChatTurnOut,
    responses={**ERRORS, **BODY_ERRORS},
    summary="Send a chat message",
)
async def send(body: ChatIn, actor: Operator, chat: Chat) -> ChatTurnOut | JSONResponse:
    return _turn_response(await chat.send(body.conversation_id, body.message, actor))


@router.post(
    "/stream",
    responses={**ERRORS, **BODY_ERRORS, 200: {"content": {"text/event-stream": {}}}},
    summary="Send a chat message; the answer arrives as server-sent events",
    description=(
        "Events: conversation {id, title}, text {text} (answer deltas), tool_call, "
        "tool_result, confirmation_required {tool, arguments, summary, expires_at}, "
        "error {detail}, done {reply}."
    ),
)
async def send_streaming(body: ChatIn, actor: Operator, chat: Chat) -> StreamingResponse:
    events = chat.stream(body.conversation_id, body.message, actor)
    # Start the turn before answering 200, so an unknown conversation is still a 404.
    first = await anext(events)

    async def frames() -> AsyncIterator[str]:
        yield _frame(first)
        async for event in events:
            yield _frame(event)

    return StreamingResponse(
        frames(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _frame(event: ChatEvent) -> str:
    return f"event: {event.type}\ndata: {json.dumps(event.data, default=str)}\n\n"


@router.post(
    "/{conversation_id}/confirm",
    response_model=ChatTurnOut,
    responses={
        **ERRORS,
        **BODY_ERRORS,
        409: {"model": ErrorOut, "description": "nothing awaits confirmation"},
    },
    summary="Carry out (or drop) the action the assistant proposed",
)
async def confirm(
    conversation_id: str, body: ConfirmIn, actor: Operator, chat: Chat
) -> ChatTurnOut | JSONResponse:
    return _turn_response(await chat.confirm(conversation_id, body.confirm, actor))


@router.get(
    "/{conversation_id}",
    response_model=ConversationOut,
    responses=ERRORS,
    summary="A conversation with its messages and any action awaiting confirmation",
)
async def get_conversation(conversation_id: str, _actor: Operator, chat: Chat) -> ConversationOut:
    return ConversationOut.of(await chat.conversation(conversation_id))


@router.get("", response_model=list[ConversationSummaryOut], summary="Recent conversations")
async def recent_conversations(
    _actor: Operator, chat: Chat, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> list[ConversationSummaryOut]:
    return [
        ConversationSummaryOut(
            id=c.id,
            title=c.title,
            created_at=c.created_at,
            updated_at=c.updated_at,
            awaiting_confirmation=c.pending_action is not None,
        )
        for c in await chat.recent(limit)
    ]
