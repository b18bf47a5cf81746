"""Charging sessions: search them and look into one."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from ev_charging_system.business_logic.operations.actor import Role
from ev_charging_system.business_logic.operations.catalogue import (
    AnyOperation,
    CsvRows,
    Http,
    Operation,
    OperationContext,
)
from ev_charging_system.business_logic.operations.fields import (
    PERIOD_ALIASES,
    ChargePointId,
    IdTagValue,
    Offset,
    Period,
    Strict,
    TransactionId,
)
from ev_charging_system.business_logic.read_models.transactions import (
    MeterSampleOut,
    TransactionDetailOut,
    TransactionOut,
    TransactionPageOut,
)
from ev_charging_system.business_logic.transaction_service import MAX_PAGE_SIZE
from ev_charging_system.models.listing import SortOrder, TransactionSort
from ev_charging_system.models.transaction import TransactionFilter


class ListTransactionsIn(Period):
    charge_point_id: ChargePointId | None = None
    id_tag: IdTagValue | None = None
    active: bool | None = Field(default=None, description="true: running; false: finished")
    sort: TransactionSort = TransactionSort.STARTED
    order: SortOrder = Field(default=SortOrder.DESC, description="desc: newest first")
    limit: Annotated[int, Field(ge=1, le=MAX_PAGE_SIZE)] = 50
    offset: Offset = 0


class TransactionTarget(Strict):
    transaction_id: TransactionId


async def list_transactions(ctx: OperationContext, i: ListTransactionsIn) -> TransactionPageOut:
    page = await ctx.services.transactions.list_transactions(
        TransactionFilter(
            charge_point_id=i.charge_point_id,
            id_tag=i.id_tag,
            started_from=i.started_from,
            started_to=i.started_to,
            active=i.active,
            limit=i.limit,
            offset=i.offset,
            sort=i.sort,
            order=i.order,
        )
    )
    return TransactionPageOut.of(page, i.limit, i.offset)


async def get_transaction(ctx: OperationContext, i: TransactionTarget) -> TransactionDetailOut:
    detail = await ctx.services.transactions.get_transaction(i.transaction_id)
    return TransactionDetailOut(
        **TransactionOut.of(detail.transaction).model_dump(),
        meter_values=[MeterSampleOut.of(s) for s in detail.meter_samples],
    )


TRANSACTION_OPERATIONS: tuple[AnyOperation, ...] = (
    Operation(
        name="list_transactions",
        title="List transactions",
        description="Charging sessions, newest first, filtered by station, id tag, state and "
        "start time, a page at a time (total says how many match).",
        input=ListTransactionsIn,
        output=TransactionPageOut,
        role=Role.VIEWER,
        perform=list_transactions,
        http=(
            Http("GET", "/api/transactions", query_aliases=PERIOD_ALIASES),
            Http(
                "GET",
                "/api/transactions/export.csv",
                query_aliases=PERIOD_ALIASES,
                csv=CsvRows(items="items", paged=True, filename="transactions.csv"),
            ),
        ),
    ),
    Operation(
        name="get_transaction",
        title="Transaction",
        description="One session by its CSMS transaction id, with its meter values.",
        input=TransactionTarget,
        output=TransactionDetailOut,
        role=Role.VIEWER,
        perform=get_transaction,
        http=(Http("GET", "/api/transactions/{transaction_id}"),),
    ),
)
