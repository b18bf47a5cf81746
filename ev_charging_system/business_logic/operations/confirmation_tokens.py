"""Two-step confirmation tokens for callers that cannot be asked in the middle of a call.

The first call returns "confirmation required" with a token; only a second call carrying
that token runs the action. A token is single-use, expires after its time to live and is
bound to the operation, its validated arguments and the caller, so it cannot approve
anything else or be used by anyone else.

`ConfirmationTokenStore` is the port. One process keeps its tokens in memory
(`ConfirmationTokens`): a restart forgets them (callers simply ask again). The nodes of a
cluster share one store in PostgreSQL (ev_charging_system.cluster.shared_tokens), so a
token issued through one node is redeemed through any node, exactly once.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

DEFAULT_MAX_PENDING = 10_000  # bounded memory even if a client never confirms anything


def jsonable(arguments: Mapping[str, Any]) -> dict[str, Any]:
    """Arguments as plain JSON values (enums, datetimes ...), for binding and the audit log."""
    loaded: dict[str, Any] = json.loads(json.dumps(dict(arguments), default=str))
    return loaded


def binding_digest(tool: str, arguments: Mapping[str, Any]) -> str:
    canonical = json.dumps([tool, jsonable(arguments)], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class ConfirmationError(Exception):
    """A confirm token that cannot approve this call; the message says why."""


UNKNOWN_TOKEN = (
    "unknown or already used confirm_token: call the tool again without confirm_token to "
    "get a new one"
)
OTHER_CALLER = "this confirm_token was issued to another caller"


def expired_message(ttl_seconds: float) -> str:
    return (
        f"confirm_token expired (valid {ttl_seconds:g} s): call the tool again without "
        "confirm_token to get a new one"
    )


def different_call_message(tool: str) -> str:
    return (
        f"this confirm_token approves a different call ({tool} with other arguments); "
        "repeat exactly the call that returned it"
    )


def new_token() -> str:
    return secrets.token_urlsafe(18)


def token_digest(token: str) -> str:
    """What a shared store keeps instead of the token (a leaked table approves nothing)."""
    return hashlib.sha256(token.encode()).hexdigest()


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


class ConfirmationTokenStore(Protocol):
    ttl_seconds: float

    async def issue(self, tool: str, arguments: Mapping[str, Any], actor: str) -> IssuedToken:
        """A new single-use token approving exactly this call by this caller."""

    async def redeem(self, token: str, tool: str, arguments: Mapping[str, Any], actor: str) -> None:
        """Use up `token` for this exact call (at most once, whoever asks), or raise
        ConfirmationError saying why not."""


class ConfirmationTokens:
    """The store of one process: in memory, bounded."""

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

    async def issue(self, tool: str, arguments: Mapping[str, Any], actor: str) -> IssuedToken:
        now = self._monotonic()
        self._forget_expired(now)
        while len(self._pending) >= self._max_pending:
            self._pending.pop(next(iter(self._pending)))  # the oldest
        token = new_token()
        self._pending[token] = _Pending(
            tool, binding_digest(tool, arguments), actor, now + self.ttl_seconds
        )
        expires_at = datetime.now(UTC) + timedelta(seconds=self.ttl_seconds)
        return IssuedToken(token, expires_at.replace(microsecond=0), self.ttl_seconds)

    async def redeem(self, token: str, tool: str, arguments: Mapping[str, Any], actor: str) -> None:
        """Use up `token` for this exact call, or raise ConfirmationError."""
        pending = self._pending.get(token)
        if pending is None:
            raise ConfirmationError(UNKNOWN_TOKEN)
        if self._monotonic() >= pending.deadline:
            del self._pending[token]
            raise ConfirmationError(expired_message(self.ttl_seconds))
        if pending.actor != actor:
            raise ConfirmationError(OTHER_CALLER)
        if pending.tool != tool or pending.digest != binding_digest(tool, arguments):
            raise ConfirmationError(different_call_message(pending.tool))
        del self._pending[token]

    def _forget_expired(self, now: float) -> None:
        for token in [t for t, p in self._pending.items() if now >= p.deadline]:
            del self._pending[token]
