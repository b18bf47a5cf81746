"""Remote operation of stations: every command is sent through the gateway and audited."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from ev_charging_system.business_logic.events import (
    CommandCompleted,
    EventPublisher,
    NoEvents,
)
from ev_charging_system.business_logic.observability import NO_OBSERVER, Observer
from ev_charging_system.business_logic.ports import ChargerGateway, Clock, UnitOfWorkFactory
from ev_charging_system.business_logic.redaction import redact_value
from ev_charging_system.models.commands import (
    Command,
    CommandOutcome,
    CommandRecord,
    CommandResult,
    GetBaseReport,
    GetChargingProfiles,
    GetDiagnostics,
    RemoteStart,
    RemoteStop,
    UpdateFirmware,
)
from ev_charging_system.models.errors import (
    CommandError,
    CommandNotSupportedError,
    CommandTimeoutError,
    ConflictError,
    NotFoundError,
    StationCallError,
    StationOfflineError,
)
from ev_charging_system.models.listing import CommandQuery
from ev_charging_system.models.transaction import Transaction

_OUTCOME_OF_ERROR: list[tuple[type[CommandError], CommandOutcome]] = [
    (StationOfflineError, CommandOutcome.OFFLINE),
    (CommandTimeoutError, CommandOutcome.TIMEOUT),
    (StationCallError, CommandOutcome.CALL_ERROR),
    (CommandNotSupportedError, CommandOutcome.NOT_SUPPORTED),
]


_CORRELATED = (GetBaseReport, GetChargingProfiles, UpdateFirmware, GetDiagnostics)


def command_name(command: Command) -> str:
    return type(command).__name__


def plain(value: Any) -> Any:
    """A JSON-ready copy of a command's fields (for the audit log)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):  # the ocpp library parses some 1.6 schedules as Decimal
        return float(value)
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return value


class RemoteCommandService:
    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        gateway: ChargerGateway,
        clock: Clock,
        events: EventPublisher | None = None,
        observer: Observer = NO_OBSERVER,
    ) -> None:
        self._uow_factory = uow_factory
        self._observer = observer
        self._gateway = gateway
        self._clock = clock
        self._events: EventPublisher = events if events is not None else NoEvents()
        # Correlates a request with the station's later notifications (reports, firmware).
        self._request_ids = itertools.count(int(clock().timestamp()) % 100_000 * 10_000)

    def _with_request_id(self, command: Command) -> Command:
        if isinstance(command, RemoteStart) and command.remote_start_id is None:
            return dataclasses.replace(command, remote_start_id=next(self._request_ids))
        if isinstance(command, _CORRELATED) and command.request_id == 0:
            return dataclasses.replace(command, request_id=next(self._request_ids))
        return command

    async def execute(
        self, charge_point_id: str, command: Command, requested_by: str
    ) -> CommandResult:
        """Send `command`, record who asked and what came back, and return the answer."""
        async with self._uow_factory() as uow:
            if await uow.charge_points.get(charge_point_id, with_connectors=False) is None:
                raise NotFoundError("charge point", charge_point_id)
        command = self._with_request_id(command)
        requested_at = self._clock()
        try:
            result = await self._gateway.send(charge_point_id, command)
        except CommandError as error:
            await self._record(charge_point_id, command, requested_by, requested_at, error=error)
            raise
        # What a station answers may hold a credential (a GetConfiguration that returns its
        # AuthorizationKey): nobody downstream sees it, nor stores it.
        result = CommandResult(result.status, redact_value(plain(result.data)))
        await self._record(charge_point_id, command, requested_by, requested_at, result=result)
        return result

    async def running_transaction(self, charge_point_id: str, transaction_id: int) -> Transaction:
        """The session `transaction_id` running on `charge_point_id`, or why there is none."""
        async with self._uow_factory() as uow:
            transaction = await uow.transactions.get(transaction_id)
        if transaction is None or transaction.charge_point_id != charge_point_id:
            raise NotFoundError("transaction", transaction_id)
        if not transaction.active:
            raise ConflictError(f"transaction {transaction_id} has already stopped")
        return transaction

    async def stop_transaction(
        self, charge_point_id: str, transaction_id: int, requested_by: str
    ) -> CommandResult:
        """Remote stop by the CSMS's transaction id (the one the REST API lists)."""
        transaction = await self.running_transaction(charge_point_id, transaction_id)
        ocpp_id = transaction.ocpp_transaction_id or str(transaction.id)
        return await self.execute(charge_point_id, RemoteStop(ocpp_id), requested_by)

    async def page(self, query: CommandQuery) -> tuple[list[CommandRecord], int]:
        """Commands matching `query` (404 for a station that does not exist), and the total."""
        async with self._uow_factory() as uow:
            station = query.charge_point_id
            if (
                station is not None
                and await uow.charge_points.get(station, with_connectors=False) is None
            ):
                raise NotFoundError("charge point", station)
            return await uow.commands.search(query)

    async def recent(self, charge_point_id: str | None, limit: int = 100) -> list[CommandRecord]:
        async with self._uow_factory() as uow:
            if (
                charge_point_id is not None
                and await uow.charge_points.get(charge_point_id, with_connectors=False) is None
            ):
                raise NotFoundError("charge point", charge_point_id)
            return await uow.commands.recent(charge_point_id, limit)

    async def _record(
        self,
        charge_point_id: str,
        command: Command,
        requested_by: str,
        requested_at: datetime,
        result: CommandResult | None = None,
        error: CommandError | None = None,
    ) -> None:
        outcome = CommandOutcome.ANSWERED
        if error is not None:
            outcome = next(
                (o for kind, o in _OUTCOME_OF_ERROR if isinstance(error, kind)),
                CommandOutcome.FAILED,
            )
        record = CommandRecord(
            charge_point_id=charge_point_id,
            action=command_name(command),
            parameters=redact_value(plain(command)),
            requested_by=requested_by,
            requested_at=requested_at,
            completed_at=self._clock(),
            outcome=outcome,
            status=result.status if result else None,
            response=redact_value(plain(result.data)) if result else {},
            error_code=error.code if isinstance(error, StationCallError) else None,
            error_description=str(error) if error else None,
        )
        self._observer.command_finished(
            record.action,
            outcome.value,
            (record.completed_at - requested_at).total_seconds(),
            charge_point_id,
        )
        async with self._uow_factory() as uow:
            await uow.commands.add(record)
            await uow.commit()
        self._events.publish(
            CommandCompleted(
                at=record.completed_at,
                charge_point_id=charge_point_id,
                action=record.action,
                outcome=outcome.value,
                status=record.status,
                requested_by=requested_by,
            )
        )
