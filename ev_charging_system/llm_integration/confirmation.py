"""Explicit confirmation of actions on stations.

Two ways to say "yes", chosen per call by `Toolkit.confirmation_gate`:
- MCP elicitation, when the client declares it can show a form: the user answers in the
  client and the tool runs in the same call;
- otherwise a two-step token: the first call returns "confirmation required" with a token,
  and only a second call carrying that token runs the action. A token is single-use,
  expires after MCP_CONFIRMATION_TTL_SECONDS and is bound to the tool, its arguments and
  the caller, so it cannot approve anything else or be used by anyone else.

Tokens live in this process's memory: a restart forgets them (callers simply ask again).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from mcp.server.mcpserver import AcceptedElicitation
from pydantic import BaseModel, Field

DEFAULT_MAX_PENDING = 10_000  # bounded memory even if a client never confirms anything


class ConfirmAction(BaseModel):
    """The form an eliciting client shows: one checkbox."""

    confirm: bool = Field(title="Carry out this action", description="Tick to confirm")


class GateKind(StrEnum):
    CONFIRMED = "confirmed"  # the user said yes in an elicitation form
    DECLINED = "declined"  # the user said no or dismissed the form
    TOKEN = "token"  # the caller presents a confirm token: check it
    ASK_TOKEN = "ask_token"  # no way to ask now: hand out a confirm token


@dataclass(frozen=True, slots=True)
class Gate:
    kind: GateKind
    note: str | None = None


def gate_of(outcome: object) -> Gate:
    """Normalise what the resolver produced (an elicitation outcome or a Gate)."""
    if isinstance(outcome, AcceptedElicitation):
        data = outcome.data
        if isinstance(data, Gate):
            return data
        if isinstance(data, ConfirmAction):
            return Gate(GateKind.CONFIRMED if data.confirm else GateKind.DECLINED)
    if isinstance(outcome, Gate):
        return outcome
    # DeclinedElicitation / CancelledElicitation
    return Gate(GateKind.DECLINED)


def jsonable(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """Arguments as plain JSON values (enums, datetimes ...), for binding and the audit log."""
    loaded: dict[str, Any] = json.loads(json.dumps(dict(arguments), default=str))
    return loaded


def binding_digest(tool: str, arguments: Mapping[str, Any]) -> str:
    canonical = json.dumps([tool, jsonable(arguments)], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class ConfirmationError(Exception):
    """A confirm token that cannot approve this call; the message says why."""


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_at: datetime
    ttl_seconds: float


@dataclass(frozen=True, slots=True)
class _Pending:
    tool: str
    digest: str
    actor: str
    deadline: float  # on the monotonic clock


class ConfirmationTokens:
    def __init__(
        self,
        ttl_seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
        max_pending: int = DEFAULT_MAX_PENDING,
    ) -> None:
        self.ttl_seconds = ttl_seconds
        self._monotonic = monotonic
        self._max_pending = max_pending
        self._pending: dict[str, _Pending] = {}

    def issue(self, tool: str, arguments: Mapping[str, Any], actor: str) -> IssuedToken:
        now = self._monotonic()
        self._forget_expired(now)
        while len(self._pending) >= self._max_pending:
            self._pending.pop(next(iter(self._pending)))  # the oldest
        token = secrets.token_urlsafe(18)
        self._pending[token] = _Pending(
            tool, binding_digest(tool, arguments), actor, now + self.ttl_seconds
        )
        expires_at = datetime.now(UTC) + timedelta(seconds=self.ttl_seconds)
        return IssuedToken(token, expires_at.replace(microsecond=0), self.ttl_seconds)

    def redeem(self, token: str, tool: str, arguments: Mapping[str, Any], actor: str) -> None:
        """Use up `token` for this exact call, or raise ConfirmationError."""
        pending = self._pending.get(token)
        if pending is None:
            raise ConfirmationError(
                "unknown or already used confirm_token: call the tool again without "
                "confirm_token to get a new one"
            )
        if self._monotonic() >= pending.deadline:
            del self._pending[token]
            raise ConfirmationError(
                f"confirm_token expired (valid {self.ttl_seconds:g} s): call the tool again "
                "without confirm_token to get a new one"
            )
        if pending.actor != actor:
            raise ConfirmationError("this confirm_token was issued to another caller")
        if pending.tool != tool or pending.digest != binding_digest(tool, arguments):
            raise ConfirmationError(
                f"this confirm_token approves a different call ({pending.tool} with other "
                "arguments); repeat exactly the call that returned it"
            )
        del self._pending[token]

    def _forget_expired(self, now: float) -> None:
        for token in [t for t, p in self._pending.items() if now >= p.deadline]:
            del self._pending[token]
