"""Who may charge: id tag authorization and the operator's management of id tags."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from ev_charging_system.business_logic.ports import Clock, UnitOfWork, UnitOfWorkFactory
from ev_charging_system.models.errors import ConflictError, InvalidInputError, NotFoundError
from ev_charging_system.models.id_token import AuthorizationStatus, IdTag, IdTagInfo
from ev_charging_system.models.listing import IdTagQuery

MAX_ID_TAG_LENGTH = 36  # OCPP 2.0.1 idToken; 1.6 stations carry at most 20


@dataclass(frozen=True, slots=True)
class IdTagChanges:
    """Fields an operator may change; None leaves a field as it is."""

    status: AuthorizationStatus | None = None
    expiry_date: datetime | None = None
    clear_expiry_date: bool = False
    parent_id_tag: str | None = None
    clear_parent_id_tag: bool = False
    name: str | None = None
    max_active_transactions: int | None = None


class AuthService:
    def __init__(self, uow_factory: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow_factory = uow_factory
        self._clock = clock

    async def authorize(self, id_tag: str) -> IdTagInfo:
        """Answer an Authorize request: may this token charge at all?

        ConcurrentTx is never the answer here: it only means something in reply to a start
        (1.6 StartTransaction), when a session for the tag is actually being opened.
        """
        async with self._uow_factory() as uow:
            return await self.authorize_in(uow, id_tag, check_concurrency=False)

    async def authorize_in(
        self, uow: UnitOfWork, id_tag: str, *, check_concurrency: bool
    ) -> IdTagInfo:
        """Decide inside a caller's unit of work (StartTransaction needs the same view)."""
        tag = await uow.id_tags.get(id_tag)
        if tag is None:
            return IdTagInfo(status=AuthorizationStatus.INVALID)
        status = tag.status
        if status is AuthorizationStatus.ACCEPTED:
            if tag.expiry_date is not None and tag.expiry_date <= self._clock():
                status = AuthorizationStatus.EXPIRED
            elif tag.parent_id_tag is not None and not await self._parent_accepted(
                uow, tag.parent_id_tag
            ):
                status = AuthorizationStatus.BLOCKED
            elif check_concurrency:
                active = await uow.transactions.count_active_for_tag(id_tag)
                if active >= tag.max_active_transactions:
                    status = AuthorizationStatus.CONCURRENT_TX
        return IdTagInfo(
            status=status, expiry_date=tag.expiry_date, parent_id_tag=tag.parent_id_tag
        )

    async def _parent_accepted(self, uow: UnitOfWork, parent_id_tag: str) -> bool:
        parent = await uow.id_tags.get(parent_id_tag)
        if parent is None or parent.status is not AuthorizationStatus.ACCEPTED:
            return False
        return parent.expiry_date is None or parent.expiry_date > self._clock()

    # --- operator management -------------------------------------------------------

    async def list_id_tags(self, query: IdTagQuery) -> tuple[list[IdTag], int]:
        async with self._uow_factory() as uow:
            return await uow.id_tags.search(query)

    async def get_id_tag(self, id_tag: str) -> IdTag:
        async with self._uow_factory() as uow:
            tag = await uow.id_tags.get(id_tag)
        if tag is None:
            raise NotFoundError("id tag", id_tag)
        return tag

    async def create_id_tag(
        self,
        id_tag: str,
        status: AuthorizationStatus = AuthorizationStatus.ACCEPTED,
        expiry_date: datetime | None = None,
        parent_id_tag: str | None = None,
        name: str | None = None,
        max_active_transactions: int = 1,
    ) -> IdTag:
        _check_tag_value(id_tag)
        tag = IdTag(
            id_tag=id_tag,
            status=status,
            created_at=self._clock(),
            expiry_date=expiry_date,
            parent_id_tag=parent_id_tag,
            name=name,
            max_active_transactions=max_active_transactions,
        )
        _check_tag(tag)
        async with self._uow_factory() as uow:
            if await uow.id_tags.get(id_tag) is not None:
                raise ConflictError(f"id tag {id_tag!r} already exists")
            await self._check_parent(uow, tag)
            await uow.id_tags.add(tag)
            await uow.commit()
        return tag

    async def update_id_tag(self, id_tag: str, changes: IdTagChanges) -> IdTag:
        async with self._uow_factory() as uow:
            tag = await uow.id_tags.get(id_tag)
            if tag is None:
                raise NotFoundError("id tag", id_tag)
            updated = replace(
                tag,
                status=changes.status or tag.status,
                expiry_date=None
                if changes.clear_expiry_date
                else (changes.expiry_date or tag.expiry_date),
                parent_id_tag=None
                if changes.clear_parent_id_tag
                else (changes.parent_id_tag or tag.parent_id_tag),
                name=changes.name if changes.name is not None else tag.name,
                max_active_transactions=changes.max_active_transactions
                or tag.max_active_transactions,
            )
            _check_tag(updated)
            await self._check_parent(uow, updated)
            await uow.id_tags.update(updated)
            await uow.commit()
        return updated

    async def delete_id_tag(self, id_tag: str) -> None:
        async with self._uow_factory() as uow:
            if await uow.id_tags.get(id_tag) is None:
                raise NotFoundError("id tag", id_tag)
            await uow.id_tags.delete(id_tag)
            await uow.commit()

    async def _check_parent(self, uow: UnitOfWork, tag: IdTag) -> None:
        if tag.parent_id_tag is None:
            return
        if await uow.id_tags.get(tag.parent_id_tag) is None:
            # The request is well formed; what it names is not there (404, like any lookup).
            raise NotFoundError("parent id tag", tag.parent_id_tag)


def _check_tag_value(id_tag: str) -> None:
    if not id_tag or len(id_tag) > MAX_ID_TAG_LENGTH or id_tag != id_tag.strip():
        raise InvalidInputError(
            f"id tag must be 1 to {MAX_ID_TAG_LENGTH} characters without surrounding spaces"
        )


def _check_tag(tag: IdTag) -> None:
    if tag.parent_id_tag is not None:
        _check_tag_value(tag.parent_id_tag)
        if tag.parent_id_tag == tag.id_tag:
            raise InvalidInputError("an id tag cannot be its own parent")
    if tag.status in (AuthorizationStatus.CONCURRENT_TX, AuthorizationStatus.UNKNOWN):
        raise InvalidInputError(f"{tag.status.value} is decided per request, it cannot be stored")
    if tag.max_active_transactions < 1:
        raise InvalidInputError("max_active_transactions must be at least 1")
