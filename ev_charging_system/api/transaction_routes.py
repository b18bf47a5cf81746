"""Charging sessions with filters, pagination and their meter values."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from ev_charging_system.api.dependencies import Services
from ev_charging_system.api.schemas import (
    ErrorOut,
    MeterSampleOut,
    TransactionDetailOut,
    TransactionOut,
    TransactionPageOut,
)
from ev_charging_system.business_logic.transaction_service import MAX_PAGE_SIZE
from ev_charging_system.models.transaction import TransactionFilter

router = APIRouter(prefix="/api/transactions", tags=["transactions"])


@router.get("", response_model=TransactionPageOut)
async def list_transactions(
    services: Services,
    charge_point_id: str | None = None,
    id_tag: str | None = None,
    started_from: Annotated[
        datetime | None, Query(alias="from", description="started at or after")
    ] = None,
    started_to: Annotated[datetime | None, Query(alias="to", description="started before")] = None,
    active: Annotated[bool | None, Query(description="true: running; false: finished")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> TransactionPageOut:
    page = await services.transactions.list_transactions(
        TransactionFilter(
            charge_point_id=charge_point_id,
            id_tag=id_tag,
            started_from=started_from,
            started_to=started_to,
            active=active,
            limit=limit,
            offset=offset,
        )
    )
    return TransactionPageOut(
        items=[TransactionOut.of(t) for t in page.items],
        total=page.total,
        limit=limit,
        offset=offset,
    )


@router.get(
    "/{transaction_id}", response_model=TransactionDetailOut, responses={404: {"model": ErrorOut}}
)
async def get_transaction(transaction_id: int, services: Services) -> TransactionDetailOut:
    detail = await services.transactions.get_transaction(transaction_id)
    return TransactionDetailOut(
        **TransactionOut.of(detail.transaction).model_dump(),
        meter_values=[MeterSampleOut.of(s) for s in detail.meter_samples],
    )
