"""Id tags (RFID cards, tokens): who may charge."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from ev_charging_system.models.id_token import AuthorizationStatus, IdTag


class IdTagOut(BaseModel):
    id_tag: str
    status: AuthorizationStatus
    expiry_date: datetime | None
    parent_id_tag: str | None
    name: str | None
    max_active_transactions: int
    created_at: datetime

    @classmethod
    def of(cls, tag: IdTag) -> IdTagOut:
        return cls(
            id_tag=tag.id_tag,
            status=tag.status,
            expiry_date=tag.expiry_date,
            parent_id_tag=tag.parent_id_tag,
            name=tag.name,
            max_active_transactions=tag.max_active_transactions,
            created_at=tag.created_at,
        )


class IdTagPageOut(BaseModel):
    items: list[IdTagOut]
    total: int
    limit: int
    offset: int
