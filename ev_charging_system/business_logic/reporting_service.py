"""Usage reports: sessions and energy per station, id tag or day, over a period."""

from __future__ import annotations

from datetime import datetime

from ev_charging_system.business_logic.ports import UnitOfWorkFactory
from ev_charging_system.models.diagnostics import UsageGrouping, UsageRow
from ev_charging_system.models.errors import InvalidInputError
from ev_charging_system.models.transaction import TransactionFilter


class ReportingService:
    def __init__(self, uow_factory: UnitOfWorkFactory) -> None:
        self._uow_factory = uow_factory

    async def usage(
        self,
        group_by: UsageGrouping,
        started_from: datetime | None = None,
        started_to: datetime | None = None,
        charge_point_id: str | None = None,
        id_tag: str | None = None,
    ) -> list[UsageRow]:
        if started_from and started_to and started_from >= started_to:
            raise InvalidInputError("'from' must be before 'to'")
        criteria = TransactionFilter(
            charge_point_id=charge_point_id,
            id_tag=id_tag,
            started_from=started_from,
            started_to=started_to,
            active=False,
        )
        async with self._uow_factory() as uow:
            return await uow.transactions.usage(criteria, group_by)
