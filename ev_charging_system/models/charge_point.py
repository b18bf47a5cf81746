"""Charge points, their connectors and what they tell us about themselves."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum


class UnknownStationPolicy(StrEnum):
    """What happens to a station id nobody registered when it first connects."""

    ACCEPT = "accept"
    PENDING = "pending"
    REJECT = "reject"


class RegistrationStatus(StrEnum):
    ACCEPTED = "Accepted"
    PENDING = "Pending"
    REJECTED = "Rejected"


@dataclass(frozen=True, slots=True)
class BootInfo:
    """What a station reports about itself in BootNotification."""

    vendor: str
    model: str
    serial_number: str | None = None
    charge_box_serial_number: str | None = None
    firmware_version: str | None = None
    iccid: str | None = None
    imsi: str | None = None
    meter_type: str | None = None
    meter_serial_number: str | None = None


@dataclass(frozen=True, slots=True)
class BootRecord:
    """A BootNotification to store: what the station says it is, and when it booted."""

    charge_point_id: str
    boot: BootInfo
    at: datetime


@dataclass(slots=True)
class ConnectorStatus:
    """The last status a station reported for one connector (0 is the station itself).

    `connector_id` is the version-neutral address (1.6 connector, 2.0.1 EVSE id);
    `evse_connector_id` is the connector within a 2.0.1 EVSE (an EVSE may have several
    cables, each with its own status), None for 1.6 connectors.
    """

    connector_id: int
    status: str
    error_code: str
    reported_at: datetime
    info: str | None = None
    vendor_id: str | None = None
    vendor_error_code: str | None = None
    evse_connector_id: int | None = None


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One entry of a connector's status history."""

    charge_point_id: str
    connector_id: int
    status: str
    error_code: str
    reported_at: datetime
    received_at: datetime
    info: str | None = None
    vendor_id: str | None = None
    vendor_error_code: str | None = None
    evse_connector_id: int | None = None  # see ConnectorStatus


class SecurityProfile(IntEnum):
    """How a station must prove who it is (OCPP security profiles).

    1: plain WebSocket, HTTP Basic password when one is set; 2: TLS with the server's
    certificate, plus the Basic password; 3: TLS with a client certificate whose subject
    common name is the station id (no password).
    """

    BASIC_AUTH = 1
    TLS_BASIC_AUTH = 2
    TLS_CLIENT_CERTIFICATE = 3


@dataclass(frozen=True, slots=True)
class StationChannel:
    """What the connection a station opened offers: TLS, and a verified client certificate."""

    tls: bool = False
    certificate_subject: str | None = None  # the verified client certificate's common name


@dataclass(frozen=True, slots=True)
class AccessRefusal:
    """Why a station may not open a connection; `credentials_missing`: ask for a password."""

    reason: str
    credentials_missing: bool = False


@dataclass(slots=True)
class ChargePoint:
    id: str
    registration_status: RegistrationStatus
    created_at: datetime
    boot: BootInfo | None = None
    ocpp_version: str | None = None
    password_hash: str | None = None
    security_profile: SecurityProfile = SecurityProfile.BASIC_AUTH
    last_boot_at: datetime | None = None
    last_seen_at: datetime | None = None
    firmware_status: str | None = None
    diagnostics_status: str | None = None
    connectors: list[ConnectorStatus] = field(default_factory=list)
    site_id: int | None = None  # the site it stands at (models/site.py), if assigned

    @property
    def requires_password(self) -> bool:
        return self.password_hash is not None


@dataclass(frozen=True, slots=True)
class ChargePointView:
    """A charge point as an operator sees it: stored state plus live presence."""

    charge_point: ChargePoint
    online: bool
