"""API tokens as an administrator sees them: never the secret, except once at creation."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from ev_charging_system.models.access import ApiToken

RoleName = Literal["viewer", "operator", "admin"]


class ApiTokenOut(BaseModel):
    name: str
    role: RoleName
    created_at: datetime
    revoked_at: datetime | None
    active: bool

    @classmethod
    def of(cls, token: ApiToken) -> ApiTokenOut:
        label: RoleName = token.role.label  # type: ignore[assignment]
        return cls(
            name=token.name,
            role=label,
            created_at=token.created_at,
            revoked_at=token.revoked_at,
            active=token.active,
        )


class CreatedTokenOut(ApiTokenOut):
    token: str = Field(
        description="the secret: shown this once, stored only as a digest; send it as "
        "'Authorization: Bearer <token>'"
    )
