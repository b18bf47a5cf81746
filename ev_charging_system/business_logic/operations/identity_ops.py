"""Who am I: the caller's name and role, so a client can show only what it may do."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from ev_charging_system.business_logic.operations.actor import Role
from ev_charging_system.business_logic.operations.catalogue import (
    AnyOperation,
    Http,
    Operation,
    OperationContext,
)
from ev_charging_system.business_logic.operations.fields import NoInput


class IdentityOut(BaseModel):
    name: str
    role: Literal["viewer", "operator", "admin"]
    channel: str


async def identity(ctx: OperationContext, _: NoInput) -> IdentityOut:
    actor = ctx.actor
    return IdentityOut(
        name=actor.name,
        role=actor.role.label,
        channel=actor.channel.value,
    )


IDENTITY_OPERATIONS: tuple[AnyOperation, ...] = (
    Operation(
        name="who_am_i",
        title="Who am I",
        description="The name and role of the credential in use.",
        input=NoInput,
        output=IdentityOut,
        role=Role.VIEWER,
        perform=identity,
        http=(Http("GET", "/api/me"), Http("GET", "/api/operator", deprecated=True)),
    ),
)
