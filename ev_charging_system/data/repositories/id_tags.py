"""SQL repository of id tags (RFID cards, tokens) and their authorisation data."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from ev_charging_system.data.orm import IdTagRow
from ev_charging_system.models.id_token import AuthorizationStatus, IdTag
from ev_charging_system.models.listing import IdTagQuery, IdTagSort, SortOrder, like_pattern


class SqlIdTagRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, id_tag: str) -> IdTag | None:
        row = await self._session.get(IdTagRow, id_tag)
        return _id_tag(row) if row else None

    async def add(self, tag: IdTag) -> None:
        row = IdTagRow(id_tag=tag.id_tag)
        _copy_id_tag(tag, row)
        self._session.add(row)
        await self._session.flush()

    async def update(self, tag: IdTag) -> None:
        row = await self._session.get(IdTagRow, tag.id_tag)
        if row is None:
            raise LookupError(tag.id_tag)
        _copy_id_tag(tag, row)
        await self._session.flush()

    async def delete(self, id_tag: str) -> None:
        await self._session.execute(delete(IdTagRow).where(IdTagRow.id_tag == id_tag))

    async def page(self, limit: int, offset: int) -> tuple[list[IdTag], int]:
        total = await self._session.scalar(select(func.count()).select_from(IdTagRow)) or 0
        rows = await self._session.scalars(
            select(IdTagRow).order_by(IdTagRow.id_tag).limit(limit).offset(offset)
        )
        return [_id_tag(row) for row in rows], total

    async def search(self, query: IdTagQuery) -> tuple[list[IdTag], int]:
        conditions: list[ColumnElement[bool]] = []
        if query.text:
            pattern = like_pattern(query.text)
            conditions.append(
                or_(
                    func.lower(IdTagRow.id_tag).like(pattern, escape="\\"),
                    func.lower(IdTagRow.name).like(pattern, escape="\\"),
                )
            )
        if query.status is not None:
            conditions.append(IdTagRow.status == query.status)
        if query.parent_id_tag is not None:
            conditions.append(IdTagRow.parent_id_tag == query.parent_id_tag)
        total = await self._session.scalar(
            select(func.count()).select_from(IdTagRow).where(*conditions)
        )
        keys: dict[IdTagSort, list[SortKey]] = {
            IdTagSort.ID_TAG: [],
            IdTagSort.NAME: [case((IdTagRow.name.is_(None), 1), else_=0), IdTagRow.name],
            IdTagSort.STATUS: [IdTagRow.status],
            IdTagSort.EXPIRY: [
                case((IdTagRow.expiry_date.is_(None), 1), else_=0),
                IdTagRow.expiry_date,
            ],
            IdTagSort.CREATED: [IdTagRow.created_at],
        }
        key = keys[query.sort]
        key.append(IdTagRow.id_tag)  # a total order: pages neither skip nor repeat
        if query.order is SortOrder.DESC:
            key = [column.desc() for column in key]
        rows = await self._session.scalars(
            select(IdTagRow)
            .where(*conditions)
            .order_by(*key)
            .limit(query.limit)
            .offset(query.offset)
        )
        return [_id_tag(row) for row in rows], total or 0


SortKey = ColumnElement[Any] | InstrumentedAttribute[Any]


def _copy_id_tag(tag: IdTag, row: IdTagRow) -> None:
    row.status = tag.status.value
    row.expiry_date = tag.expiry_date
    row.parent_id_tag = tag.parent_id_tag
    row.name = tag.name
    row.max_active_transactions = tag.max_active_transactions
    row.created_at = tag.created_at


def _id_tag(row: IdTagRow) -> IdTag:
    return IdTag(
        id_tag=row.id_tag,
        status=AuthorizationStatus(row.status),
        created_at=row.created_at,
        expiry_date=row.expiry_date,
        parent_id_tag=row.parent_id_tag,
        name=row.name,
        max_active_transactions=row.max_active_transactions,
    )
