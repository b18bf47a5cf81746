"""MCP confirmation tokens shared by every node: a PostgreSQL table.

A token issued through node A (the first call of a tool that needs confirmation) is
redeemed through whichever node the second call reaches, exactly once: redeeming is one
`DELETE ... RETURNING` that matches the token, the caller, the exact call and the expiry
together, so two nodes redeeming the same token at once cannot both succeed. When it
matches nothing, a read says why (unknown or used, expired, another caller, another call).

Why PostgreSQL and not NATS key-value: the nodes need PostgreSQL anyway, a single
statement gives the exactly-once consume (KV would need a read and a revision-checked
delete), expiry uses the database clock as the leases do, and the table needs no JetStream
bucket to create or size. Only a SHA-256 digest of the token is stored.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Result, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from ev_charging_system.business_logic.operations.confirmation_tokens import (
    OTHER_CALLER,
    UNKNOWN_TOKEN,
    ConfirmationError,
    IssuedToken,
    binding_digest,
    different_call_message,
    expired_message,
    new_token,
    token_digest,
)
from ev_charging_system.models.errors import StorageUnavailableError

DB_TIMEOUT_SECONDS = 5.0

_ISSUE = text(
    "INSERT INTO confirmation_tokens (digest, tool, binding, actor, expires_at) "
    "VALUES (:digest, :tool, :binding, :actor, now() + make_interval(secs => :ttl)) "
    "RETURNING expires_at"
)
_REDEEM = text(
    "DELETE FROM confirmation_tokens WHERE digest = :digest AND actor = :actor "
    "AND tool = :tool AND binding = :binding AND expires_at > now() RETURNING digest"
)
_WHY = text(
    "SELECT tool, actor, expires_at > now() AS valid FROM confirmation_tokens "
    "WHERE digest = :digest"
)
_FORGET = text("DELETE FROM confirmation_tokens WHERE digest = :digest")
_EXPIRED = text("DELETE FROM confirmation_tokens WHERE expires_at <= now()")


class SharedConfirmationTokens:
    def __init__(self, engine: AsyncEngine, ttl_seconds: float) -> None:
        self._engine = engine
        self.ttl_seconds = ttl_seconds
        self._issued = 0

    async def issue(self, tool: str, arguments: Mapping[str, Any], actor: str) -> IssuedToken:
        token = new_token()
        values = {
            "digest": token_digest(token),
            "tool": tool,
            "binding": binding_digest(tool, arguments),
            "actor": actor,
            "ttl": self.ttl_seconds,
        }
        async with database_errors(), self._engine.begin() as connection:
            self._issued += 1
            if self._issued % 100 == 1:  # now and then: the table holds live tokens only
                await _bounded(connection.execute(_EXPIRED))
            result = await _bounded(connection.execute(_ISSUE, values))
            expires_at = result.scalar_one()
        if not isinstance(expires_at, datetime):  # pragma: no cover - the column's type
            expires_at = datetime.now(UTC) + timedelta(seconds=self.ttl_seconds)
        return IssuedToken(token, expires_at.replace(microsecond=0), self.ttl_seconds)

    async def redeem(self, token: str, tool: str, arguments: Mapping[str, Any], actor: str) -> None:
        digest = token_digest(token)
        values = {
            "digest": digest,
            "actor": actor,
            "tool": tool,
            "binding": binding_digest(tool, arguments),
        }
        async with database_errors(), self._engine.begin() as connection:
            used = await _bounded(connection.execute(_REDEEM, values))
            if used.first() is not None:
                return
            row = (await _bounded(connection.execute(_WHY, {"digest": digest}))).first()
            if row is not None and not row.valid:
                await _bounded(connection.execute(_FORGET, {"digest": digest}))
        # Raised after the transaction committed (raising inside it would roll back).
        if row is None:
            raise ConfirmationError(UNKNOWN_TOKEN)
        if not row.valid:
            raise ConfirmationError(expired_message(self.ttl_seconds))
        if row.actor != actor:
            raise ConfirmationError(OTHER_CALLER)
        raise ConfirmationError(different_call_message(str(row.tool)))


@contextlib.asynccontextmanager
async def database_errors() -> AsyncIterator[None]:
    """A database that fails or does not answer: the domain's "retry later" (MCP shows it
    as a tool error), the cause kept for the log."""
    try:
        yield
    except (SQLAlchemyError, OSError, TimeoutError) as error:
        raise StorageUnavailableError(f"{type(error).__name__}: {error}") from error


async def _bounded(statement: Awaitable[Result[Any]]) -> Result[Any]:
    return await asyncio.wait_for(statement, DB_TIMEOUT_SECONDS)
