"""API tokens: create (the secret is shown once), list, revoke. Administrators only."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from ev_charging_system.business_logic.operations.actor import Role
from ev_charging_system.business_logic.operations.catalogue import (
    AnyOperation,
    Effect,
    Http,
    Operation,
    OperationContext,
)
from ev_charging_system.business_logic.operations.fields import NoInput, Strict
from ev_charging_system.business_logic.read_models.access import (
    ApiTokenOut,
    CreatedTokenOut,
    RoleName,
)

TokenName = Annotated[
    str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
]


class CreateTokenIn(Strict):
    name: TokenName = Field(description="who holds it, as the audit log will name them")
    role: RoleName


class TokenTarget(Strict):
    name: TokenName


async def create_token(ctx: OperationContext, i: CreateTokenIn) -> CreatedTokenOut:
    issued = await ctx.services.tokens.create(i.name, Role.named(i.role))
    return CreatedTokenOut(**ApiTokenOut.of(issued.token).model_dump(), token=issued.secret)


async def list_tokens(ctx: OperationContext, _: NoInput) -> list[ApiTokenOut]:
    return [ApiTokenOut.of(t) for t in await ctx.services.tokens.all()]


async def revoke_token(ctx: OperationContext, i: TokenTarget) -> ApiTokenOut:
    return ApiTokenOut.of(await ctx.services.tokens.revoke(i.name))


TOKEN_OPERATIONS: tuple[AnyOperation, ...] = (
    Operation(
        name="create_api_token",
        title="Create an API token",
        description="A new named token with a role (viewer, operator or admin). The secret "
        "is in this answer only; it is stored as a digest.",
        input=CreateTokenIn,
        output=CreatedTokenOut,
        role=Role.ADMIN,
        perform=create_token,
        effect=Effect.ACT,
        describe=lambda i: f"Create API token {i.name} with the {i.role} role",
        http=(Http("POST", "/api/tokens", status_code=201),),
        tool=False,
    ),
    Operation(
        name="list_api_tokens",
        title="API tokens",
        description="Named tokens, their roles and whether they are revoked (never secrets).",
        input=NoInput,
        output=list[ApiTokenOut],
        role=Role.ADMIN,
        perform=list_tokens,
        http=(Http("GET", "/api/tokens"),),
        tool=False,
    ),
    Operation(
        name="revoke_api_token",
        title="Revoke an API token",
        description="Stop a token from working, at once.",
        input=TokenTarget,
        output=ApiTokenOut,
        role=Role.ADMIN,
        perform=revoke_token,
        effect=Effect.ACT,
        destructive=True,
        describe=lambda i: f"Revoke API token {i.name}",
        http=(Http("DELETE", "/api/tokens/{name}"),),
        tool=False,
    ),
)
