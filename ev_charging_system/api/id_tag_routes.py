"""Id tags (the seed's "users"): who may charge."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from ev_charging_system.api.dependencies import Operator, Services
from ev_charging_system.api.schemas import (
    ErrorOut,
    IdTagCreate,
    IdTagOut,
    IdTagPageOut,
    IdTagUpdate,
)
from ev_charging_system.business_logic.auth_service import IdTagChanges

router = APIRouter(prefix="/api/id-tags", tags=["id tags"])
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorOut}}


@router.get("", response_model=IdTagPageOut)
async def list_id_tags(
    services: Services,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> IdTagPageOut:
    tags, total = await services.auth.list_id_tags(limit, offset)
    return IdTagPageOut(
        items=[IdTagOut.of(t) for t in tags], total=total, limit=limit, offset=offset
    )


@router.post(
    "",
    response_model=IdTagOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=[Operator],
    responses={409: {"model": ErrorOut}},
)
async def create_id_tag(body: IdTagCreate, services: Services) -> IdTagOut:
    tag = await services.auth.create_id_tag(
        body.id_tag,
        status=body.status,
        expiry_date=body.expiry_date,
        parent_id_tag=body.parent_id_tag,
        name=body.name,
        max_active_transactions=body.max_active_transactions,
    )
    return IdTagOut.of(tag)


@router.get("/{id_tag}", response_model=IdTagOut, responses=NOT_FOUND)
async def get_id_tag(id_tag: str, services: Services) -> IdTagOut:
    return IdTagOut.of(await services.auth.get_id_tag(id_tag))


@router.patch("/{id_tag}", response_model=IdTagOut, dependencies=[Operator], responses=NOT_FOUND)
async def update_id_tag(id_tag: str, body: IdTagUpdate, services: Services) -> IdTagOut:
    sent = body.model_fields_set
    changes = IdTagChanges(
        status=body.status,
        expiry_date=body.expiry_date,
        clear_expiry_date="expiry_date" in sent and body.expiry_date is None,
        parent_id_tag=body.parent_id_tag,
        clear_parent_id_tag="parent_id_tag" in sent and body.parent_id_tag is None,
        name=body.name,
        max_active_transactions=body.max_active_transactions,
    )
    return IdTagOut.of(await services.auth.update_id_tag(id_tag, changes))


@router.delete(
    "/{id_tag}",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[Operator],
    responses=NOT_FOUND,
)
async def delete_id_tag(id_tag: str, services: Services) -> Response:
    await services.auth.delete_id_tag(id_tag)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
