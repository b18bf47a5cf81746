"""Things that happened at a station that an operator may need to look at."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class EventKind(StrEnum):
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    BOOT = "boot"
    REGISTRATION_CHANGED = "registration_changed"
    UNKNOWN_TRANSACTION_STOP = "unknown_transaction_stop"
    UNKNOWN_TRANSACTION_METER_VALUES = "unknown_transaction_meter_values"
    REPEATED_STOP = "repeated_stop"
    FIRMWARE_STATUS = "firmware_status"
    DIAGNOSTICS_STATUS = "diagnostics_status"
    LOG_STATUS = "log_status"
    SECURITY_EVENT = "security_event"
    DATA_TRANSFER = "data_transfer"
    SIGN_CERTIFICATE = "sign_certificate"
    AUTH_FAILED = "auth_failed"
    SECURITY_PROFILE_CHANGED = "security_profile_changed"
    PROTOCOL_ERROR = "protocol_error"
    METER_ANOMALY = "meter_anomaly"
    NOTIFY_EVENT = "notify_event"
    MONITORING_REPORT = "monitoring_report"
    CHARGING_LIMIT = "charging_limit"
    CHARGING_PROFILES_REPORT = "charging_profiles_report"
    EV_CHARGING_NEEDS = "ev_charging_needs"
    EV_CHARGING_SCHEDULE = "ev_charging_schedule"
    RESERVATION_STATUS = "reservation_status"
    CUSTOMER_INFORMATION = "customer_information"
    DISPLAY_MESSAGES = "display_messages"
    CERTIFICATE_REQUEST = "certificate_request"
    PUBLISH_FIRMWARE_STATUS = "publish_firmware_status"
    TRANSACTION_CLOSED_BY_CSMS = "transaction_closed_by_csms"
    LATE_STOP_OF_CLOSED_TRANSACTION = "late_stop_of_closed_transaction"


@dataclass(frozen=True, slots=True)
class StationEvent:
    charge_point_id: str
    kind: EventKind
    occurred_at: datetime
    detail: dict[str, Any] = field(default_factory=dict)
    id: int | None = None
