"""SQLAlchemy implementations of the repository ports, one module per repository."""

from ev_charging_system.data.repositories.api_tokens import SqlApiTokenRepository
from ev_charging_system.data.repositories.audit import SqlAuditLogRepository
from ev_charging_system.data.repositories.charge_points import SqlChargePointRepository
from ev_charging_system.data.repositories.commands import SqlCommandLogRepository
from ev_charging_system.data.repositories.conversations import SqlConversationRepository
from ev_charging_system.data.repositories.device_model import SqlDeviceModelRepository
from ev_charging_system.data.repositories.id_tags import SqlIdTagRepository
from ev_charging_system.data.repositories.sites import SqlSiteRepository
from ev_charging_system.data.repositories.station_events import SqlStationEventRepository
from ev_charging_system.data.repositories.transactions import SqlTransactionRepository

__all__ = [
    "SqlApiTokenRepository",
    "SqlAuditLogRepository",
    "SqlChargePointRepository",
    "SqlCommandLogRepository",
    "SqlConversationRepository",
    "SqlDeviceModelRepository",
    "SqlIdTagRepository",
    "SqlSiteRepository",
    "SqlStationEventRepository",
    "SqlTransactionRepository",
]
