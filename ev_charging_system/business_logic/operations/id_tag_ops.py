"""Id tags (the seed's "users"): who may charge."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from ev_charging_system.business_logic.auth_service import IdTagChanges
from ev_charging_system.business_logic.operations.actor import Role
from ev_charging_system.business_logic.operations.catalogue import (
    AnyOperation,
    Effect,
    Http,
    Operation,
    OperationContext,
)
from ev_charging_system.business_logic.operations.fields import (
    IdTagValue,
    Offset,
    PageSize,
    Strict,
    UtcDateTime,
)
from ev_charging_system.business_logic.read_models.id_tags import IdTagOut, IdTagPageOut
from ev_charging_system.models.id_token import AuthorizationStatus
from ev_charging_system.models.listing import IdTagQuery, IdTagSort, SortOrder

# What a tag can be stored as; ConcurrentTx and Unknown are decided per request.
StoredStatus = Annotated[
    Literal[
        AuthorizationStatus.ACCEPTED,
        AuthorizationStatus.BLOCKED,
        AuthorizationStatus.EXPIRED,
        AuthorizationStatus.INVALID,
    ],
    Field(description="Accepted, Blocked, Expired or Invalid"),
]
OwnerName = Annotated[str, Field(max_length=255)]
MaxActive = Annotated[int, Field(ge=1, le=100)]


class ListIdTagsIn(Strict):
    q: Annotated[str, Field(max_length=100)] | None = Field(
        default=None, description="text in the tag or its holder's name"
    )
    status: StoredStatus | None = None
    parent_id_tag: IdTagValue | None = Field(default=None, description="the tags of one group")
    sort: IdTagSort = IdTagSort.ID_TAG
    order: SortOrder = SortOrder.ASC
    limit: PageSize = 50
    offset: Offset = 0


class IdTagTarget(Strict):
    id_tag: IdTagValue


class CreateIdTagIn(Strict):
    """A tag and, optionally, its parent (a group: all its children share its limits)."""

    id_tag: IdTagValue
    status: StoredStatus = AuthorizationStatus.ACCEPTED
    expiry_date: UtcDateTime | None = None
    parent_id_tag: IdTagValue | None = None
    name: OwnerName | None = None
    max_active_transactions: MaxActive = 1

    @model_validator(mode="after")
    def _not_its_own_parent(self) -> Self:
        if self.parent_id_tag is not None and self.parent_id_tag == self.id_tag:
            raise ValueError("an id tag cannot be its own parent")
        return self


class UpdateIdTagIn(Strict):
    """Partial update: omitted fields stay; expiry_date/parent_id_tag null clears them."""

    id_tag: IdTagValue
    status: StoredStatus | None = None
    expiry_date: UtcDateTime | None = None
    parent_id_tag: IdTagValue | None = None
    name: OwnerName | None = None
    max_active_transactions: MaxActive | None = None

    @model_validator(mode="after")
    def _not_its_own_parent(self) -> Self:
        if self.parent_id_tag is not None and self.parent_id_tag == self.id_tag:
            raise ValueError("an id tag cannot be its own parent")
        return self

    def changes(self) -> IdTagChanges:
        sent = self.model_fields_set
        return IdTagChanges(
            status=self.status,
            expiry_date=self.expiry_date,
            clear_expiry_date="expiry_date" in sent and self.expiry_date is None,
            parent_id_tag=self.parent_id_tag,
            clear_parent_id_tag="parent_id_tag" in sent and self.parent_id_tag is None,
            name=self.name,
            max_active_transactions=self.max_active_transactions,
        )


async def list_id_tags(ctx: OperationContext, i: ListIdTagsIn) -> IdTagPageOut:
    tags, total = await ctx.services.auth.list_id_tags(
        IdTagQuery(
            text=(i.q or "").strip() or None,
            status=i.status.value if i.status else None,
            parent_id_tag=i.parent_id_tag,
            sort=i.sort,
            order=i.order,
            limit=i.limit,
            offset=i.offset,
        )
    )
    return IdTagPageOut(
        items=[IdTagOut.of(t) for t in tags], total=total, limit=i.limit, offset=i.offset
    )


async def get_id_tag(ctx: OperationContext, i: IdTagTarget) -> IdTagOut:
    return IdTagOut.of(await ctx.services.auth.get_id_tag(i.id_tag))


async def create_id_tag(ctx: OperationContext, i: CreateIdTagIn) -> IdTagOut:
    tag = await ctx.services.auth.create_id_tag(
        i.id_tag,
        status=i.status,
        expiry_date=i.expiry_date,
        parent_id_tag=i.parent_id_tag,
        name=i.name,
        max_active_transactions=i.max_active_transactions,
    )
    return IdTagOut.of(tag)


async def update_id_tag(ctx: OperationContext, i: UpdateIdTagIn) -> IdTagOut:
    return IdTagOut.of(await ctx.services.auth.update_id_tag(i.id_tag, i.changes()))


async def delete_id_tag(ctx: OperationContext, i: IdTagTarget) -> None:
    await ctx.services.auth.delete_id_tag(i.id_tag)


async def known_tag(ctx: OperationContext, i: IdTagTarget) -> None:
    await ctx.services.auth.get_id_tag(i.id_tag)


def _update_sentence(i: UpdateIdTagIn) -> str:
    changed = sorted(i.model_fields_set - {"id_tag"})
    return f"Change {', '.join(changed) or 'nothing'} of id tag {i.id_tag}"


TAGS = "/api/id-tags"

ID_TAG_OPERATIONS: tuple[AnyOperation, ...] = (
    Operation(
        name="list_id_tags",
        title="Id tags",
        description="Id tags (RFID cards, tokens) and whether they may charge, a page at a "
        "time: search the tag or name, filter by status or group, sort.",
        input=ListIdTagsIn,
        output=IdTagPageOut,
        role=Role.VIEWER,
        perform=list_id_tags,
        http=(Http("GET", TAGS),),
    ),
    Operation(
        name="get_id_tag",
        title="Id tag",
        description="An id tag (RFID card / token): whether it may charge, expiry, parent, name.",
        input=IdTagTarget,
        output=IdTagOut,
        role=Role.VIEWER,
        perform=get_id_tag,
        http=(Http("GET", f"{TAGS}/{{id_tag}}"),),
    ),
    Operation(
        name="create_id_tag",
        title="Add an id tag",
        description="Allow a new id tag to charge (or register it as blocked).",
        input=CreateIdTagIn,
        output=IdTagOut,
        role=Role.ADMIN,
        perform=create_id_tag,
        effect=Effect.ACT,
        describe=lambda i: f"Add id tag {i.id_tag} as {i.status.value}",
        http=(Http("POST", TAGS, status_code=201),),
        tool=False,
    ),
    Operation(
        name="update_id_tag",
        title="Change an id tag",
        description="Change an id tag's status, expiry, parent, name or session limit.",
        input=UpdateIdTagIn,
        output=IdTagOut,
        role=Role.ADMIN,
        perform=update_id_tag,
        effect=Effect.ACT,
        destructive=True,
        describe=_update_sentence,
        precheck=known_tag,
        http=(Http("PATCH", f"{TAGS}/{{id_tag}}"),),
        tool=False,
    ),
    Operation(
        name="delete_id_tag",
        title="Delete an id tag",
        description="Remove an id tag: it can no longer charge.",
        input=IdTagTarget,
        output=None,
        role=Role.ADMIN,
        perform=delete_id_tag,
        effect=Effect.ACT,
        destructive=True,
        describe=lambda i: f"Delete id tag {i.id_tag}",
        precheck=known_tag,
        http=(Http("DELETE", f"{TAGS}/{{id_tag}}", status_code=204),),
        tool=False,
    ),
)
