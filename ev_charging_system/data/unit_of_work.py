"""One database transaction spanning all repositories."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ev_charging_system.business_logic.ports import (
    ApiTokenRepository,
    AuditLogRepository,
    ChargePointRepository,
    CommandLogRepository,
    ConversationRepository,
    DeviceModelRepository,
    IdTagRepository,
    SiteRepository,
    StationEventRepository,
    StorageHealth,
    TransactionRepository,
)
from ev_charging_system.data.database_health import database_unavailable
from ev_charging_system.data.repositories import (
    SqlApiTokenRepository,
    SqlAuditLogRepository,
    SqlChargePointRepository,
    SqlCommandLogRepository,
    SqlConversationRepository,
    SqlDeviceModelRepository,
    SqlIdTagRepository,
    SqlSiteRepository,
    SqlStationEventRepository,
    SqlTransactionRepository,
)
from ev_charging_system.models.errors import StorageUnavailableError


class SqlAlchemyUnitOfWork:
    charge_points: ChargePointRepository
    id_tags: IdTagRepository
    transactions: TransactionRepository
    events: StationEventRepository
    commands: CommandLogRepository
    device_model: DeviceModelRepository
    audit: AuditLogRepository
    conversations: ConversationRepository
    api_tokens: ApiTokenRepository
    sites: SiteRepository

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        health: StorageHealth | None = None,
    ) -> None:
        self._session_factory = session_factory
        self._health = health
        self._session: AsyncSession | None = None

    async def __aenter__(self) -> Self:
        session = self._session_factory()
        self._session = session
        self.charge_points = SqlChargePointRepository(session)
        self.id_tags = SqlIdTagRepository(session)
        self.transactions = SqlTransactionRepository(session)
        self.events = SqlStationEventRepository(session)
        self.commands = SqlCommandLogRepository(session)
        self.device_model = SqlDeviceModelRepository(session)
        self.audit = SqlAuditLogRepository(session)
        self.conversations = SqlConversationRepository(session)
        self.api_tokens = SqlApiTokenRepository(session)
        self.sites = SqlSiteRepository(session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._session is not None
        unavailable = database_unavailable(exc)
        try:
            await self._session.rollback()
        except SQLAlchemyError:
            if exc is None:
                raise
            # The first failure is the one to report, not the rollback's after it.
        finally:
            try:
                await self._session.close()
            except SQLAlchemyError:
                if exc is None:
                    raise
            self._session = None
        if self._health is not None:
            if unavailable is not None:
                self._health.failed(unavailable)
            elif exc is None:
                self._health.succeeded()
        if unavailable is not None and exc is not None:
            raise StorageUnavailableError(unavailable) from exc

    async def commit(self) -> None:
        assert self._session is not None
        await self._session.commit()
