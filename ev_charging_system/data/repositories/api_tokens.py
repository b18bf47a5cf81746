"""SQL repository of API tokens (digests only: the secrets are never stored)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ev_charging_system.business_logic.ports import DuplicateNameError
from ev_charging_system.data.orm import ApiTokenRow
from ev_charging_system.models.access import ApiToken, Role


class SqlApiTokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, token: ApiToken) -> None:
        self._session.add(
            ApiTokenRow(
                name=token.name,
                role=token.role.label,
                digest=token.digest,
                created_at=token.created_at,
                revoked_at=token.revoked_at,
            )
        )
        try:
            await self._session.flush()
        except IntegrityError as error:
            raise DuplicateNameError(token.name) from error

    async def get(self, name: str) -> ApiToken | None:
        row = await self._session.get(ApiTokenRow, name)
        return _token(row) if row is not None else None

    async def by_digest(self, digest: str) -> ApiToken | None:
        row = await self._session.scalar(select(ApiTokenRow).where(ApiTokenRow.digest == digest))
        return _token(row) if row is not None else None

    async def all(self) -> list[ApiToken]:
        rows = await self._session.scalars(select(ApiTokenRow).order_by(ApiTokenRow.created_at))
        return [_token(row) for row in rows]

    async def revoke(self, name: str, at: datetime) -> bool:
        result = await self._session.execute(
            update(ApiTokenRow)
            .where(ApiTokenRow.name == name, ApiTokenRow.revoked_at.is_(None))
            .values(revoked_at=at)
            .execution_options(synchronize_session=False)
        )
        await self._session.flush()
        return bool(getattr(result, "rowcount", 0))


def _token(row: ApiTokenRow) -> ApiToken:
    return ApiToken(
        name=row.name,
        role=Role.named(row.role),
        digest=row.digest,
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )
