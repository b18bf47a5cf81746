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
    PROTOCOL_ERROR = "protocol_error"
    METER_ANOMALY = "meter_anomaly"


@dataclass(frozen=True, slots=True)
class StationEvent:
    charge_point_id: str
    kind: EventKind
    occurred_at: datetime
    detail: dict[str, Any] = field(default_factory=dict)
    id: int | None = None
