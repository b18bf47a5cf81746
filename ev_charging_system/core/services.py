"""The business services an OCPP handler translates messages into."""

from __future__ import annotations

from dataclasses import dataclass

from ev_charging_system.business_logic.auth_service import AuthService
from ev_charging_system.business_logic.certificate_service import CertificateService
from ev_charging_system.business_logic.device_management_service import DeviceManagementService
from ev_charging_system.business_logic.observability import NO_OBSERVER, Observer
from ev_charging_system.business_logic.ports import StorageHealth
from ev_charging_system.business_logic.transaction_event_service import TransactionEventService
from ev_charging_system.business_logic.transaction_service import TransactionService


@dataclass(frozen=True, slots=True)
class OcppServices:
    devices: DeviceManagementService
    auth: AuthService
    transactions: TransactionService
    transaction_events: TransactionEventService
    certificates: CertificateService
    storage: StorageHealth
    # The longest a station's message may wait on the database before it is answered
    # InternalError (DATABASE_TIMEOUT_SECONDS).
    database_timeout_seconds: float
    observer: Observer = NO_OBSERVER  # counts and times every call a station makes
