"""API tokens: who a bearer token belongs to, and its role.

Tokens are random (256 bits), so a SHA-256 digest is all that is stored: the secret is
shown once, when it is created, and cannot be read back. The bootstrap admin token
(API_TOKEN from the settings) is compared in constant time and never stored.

Looking a token up happens on every request, so known tokens are remembered for a
second; a revocation through this service forgets them at once, and one made through
another node of a cluster applies here within that second (no message needed).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from ev_charging_system.business_logic.ports import Clock, DuplicateNameError, UnitOfWorkFactory
from ev_charging_system.models.access import ApiToken, Role
from ev_charging_system.models.errors import ConflictError, InvalidInputError, NotFoundError

TOKEN_PREFIX = "evcs_"
BOOTSTRAP_NAME = "api-token"  # how the audit log names the settings' API_TOKEN
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
CACHE_SECONDS = 1.0
MAX_CACHED = 10_000


def digest_of(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: ApiToken
    secret: str  # the only time anyone sees it


@dataclass(frozen=True, slots=True)
class Holder:
    """Who holds a presented token: its name (as the audit log shows it) and role."""

    name: str
    role: Role


class TokenService:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        bootstrap_token: str,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._bootstrap = bootstrap_token.encode()
        self._monotonic = monotonic
        self._known: dict[str, tuple[float, ApiToken]] = {}

    async def holder(self, secret: str) -> Holder | None:
        """The holder of `secret`, or None for an unknown or revoked token."""
        if secrets.compare_digest(secret.encode(), self._bootstrap):
            return Holder(BOOTSTRAP_NAME, Role.ADMIN)
        if not secret.startswith(TOKEN_PREFIX):
            return None
        digest = digest_of(secret)
        now = self._monotonic()
        cached = self._known.get(digest)
        token: ApiToken | None
        if cached is not None and now - cached[0] < CACHE_SECONDS:
            token = cached[1]
        else:
            async with self._uow_factory() as uow:
                token = await uow.api_tokens.by_digest(digest)
            if token is not None and token.active:
                if len(self._known) >= MAX_CACHED:
                    self._known.clear()
                self._known[digest] = (now, token)
        if token is None or not token.active:
            return None
        return Holder(token.name, token.role)

    async def create(self, name: str, role: Role) -> IssuedToken:
        if not NAME_PATTERN.match(name):
            raise InvalidInputError(
                "a token name is 1-64 letters, digits, '.', '_' or '-', starting with a letter "
                "or digit"
            )
        if name == BOOTSTRAP_NAME:
            raise ConflictError(f"{BOOTSTRAP_NAME!r} names the API_TOKEN of the settings")
        if role is Role.ANONYMOUS:
            raise InvalidInputError("a token needs a role: viewer, operator or admin")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = ApiToken(name, role, digest_of(secret), self._clock())
        async with self._uow_factory() as uow:
            if await uow.api_tokens.get(name) is not None:
                raise ConflictError(f"a token named {name!r} exists; choose another name")
            try:
                await uow.api_tokens.add(token)
                await uow.commit()
            except DuplicateNameError:
                raise ConflictError(f"a token named {name!r} exists; choose another name") from None
        return IssuedToken(token, secret)

    async def all(self) -> list[ApiToken]:
        async with self._uow_factory() as uow:
            return await uow.api_tokens.all()

    async def revoke(self, name: str) -> ApiToken:
        async with self._uow_factory() as uow:
            token = await uow.api_tokens.get(name)
            if token is None:
                raise NotFoundError("token", name)
            if not await uow.api_tokens.revoke(name, self._clock()):
                raise ConflictError(f"token {name!r} was already revoked")
            await uow.commit()
            revoked = await uow.api_tokens.get(name)
        self._known = {d: entry for d, entry in self._known.items() if entry[1].name != name}
        assert revoked is not None
        return revoked
