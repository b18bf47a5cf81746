"""The business services an OCPP handler translates messages into."""

from __future__ import annotations

from dataclasses import dataclass

from ev_charging_system.business_logic.auth_service import AuthService
from ev_charging_system.business_logic.device_management_service import DeviceManagementService
from ev_charging_system.business_logic.observability import NO_OBSERVER, Observer
from ev_charging_system.business_logic.transaction_event_service import TransactionEventService
from ev_charging_system.business_logic.transaction_service import TransactionService


@dataclass(frozen=True, slots=True)
class OcppServices:
    devices: DeviceManagementService
    auth: AuthService
    transactions: TransactionService
    transaction_events: TransactionEventService
    observer: Observer = NO_OBSERVER  # counts and times every call a station makes
