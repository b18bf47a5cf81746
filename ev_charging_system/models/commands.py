"""Operations the CSMS asks of a station, independent of the OCPP version.

Addressing is version-neutral: `connector_id` is the 1.6 connector id, which is the EVSE id
in OCPP 2.0.1 (its connector 1). `None` or 0 means the station as a whole.
Configuration keys are 1.6 key names or, for 2.0.1, `Component.Variable` (well-known
1.6 keys are translated for 2.0.1 stations).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from ev_charging_system.models.certificates import (
    CertificateHash,
    CertificateUse,
    SignedCertificateKind,
)
from ev_charging_system.models.charging_profile import ChargingProfile, ProfilePurpose, RateUnit
from ev_charging_system.models.id_token import IdTagInfo


class ResetType(StrEnum):
    SOFT = "Soft"
    HARD = "Hard"


class ResetWhen(StrEnum):
    IMMEDIATE = "Immediate"
    ON_IDLE = "OnIdle"


class ReportBase(StrEnum):
    CONFIGURATION = "ConfigurationInventory"
    FULL = "FullInventory"
    SUMMARY = "SummaryInventory"


class TriggerableMessage(StrEnum):
    BOOT_NOTIFICATION = "BootNotification"
    HEARTBEAT = "Heartbeat"
    STATUS_NOTIFICATION = "StatusNotification"
    METER_VALUES = "MeterValues"
    FIRMWARE_STATUS = "FirmwareStatusNotification"
    DIAGNOSTICS_STATUS = "DiagnosticsStatusNotification"  # 2.0.1: LogStatusNotification
    TRANSACTION_EVENT = "TransactionEvent"  # 2.0.1 only
    # The station asks for a new client certificate (2.0.1 SignChargingStationCertificate,
    # 1.6 security extension: ExtendedTriggerMessage SignChargePointCertificate).
    SIGN_CERTIFICATE = "SignCertificate"


class LocalListUpdate(StrEnum):
    FULL = "Full"
    DIFFERENTIAL = "Differential"


@dataclass(frozen=True, slots=True)
class RemoteStart:
    id_tag: str
    connector_id: int | None = None
    charging_profile: ChargingProfile | None = None
    remote_start_id: int | None = None  # 2.0.1 correlates the TransactionEvent with this


@dataclass(frozen=True, slots=True)
class RemoteStop:
    ocpp_transaction_id: str


@dataclass(frozen=True, slots=True)
class Reset:
    type: ResetType = ResetType.SOFT
    when: ResetWhen = ResetWhen.IMMEDIATE


@dataclass(frozen=True, slots=True)
class UnlockConnector:
    connector_id: int


@dataclass(frozen=True, slots=True)
class ChangeAvailability:
    operative: bool
    connector_id: int | None = None


@dataclass(frozen=True, slots=True)
class GetConfiguration:
    keys: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class SetConfiguration:
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class GetBaseReport:
    report_base: ReportBase = ReportBase.FULL
    request_id: int = 0


@dataclass(frozen=True, slots=True)
class TriggerMessage:
    message: TriggerableMessage
    connector_id: int | None = None


@dataclass(frozen=True, slots=True)
class ClearCache:
    pass


@dataclass(frozen=True, slots=True)
class LocalListEntry:
    id_tag: str
    info: IdTagInfo | None  # None removes the tag (differential updates)


@dataclass(frozen=True, slots=True)
class SendLocalList:
    version: int
    update_type: LocalListUpdate
    entries: tuple[LocalListEntry, ...] = ()


@dataclass(frozen=True, slots=True)
class GetLocalListVersion:
    pass


@dataclass(frozen=True, slots=True)
class ReserveNow:
    reservation_id: int
    id_tag: str
    expiry: datetime
    connector_id: int | None = None
    parent_id_tag: str | None = None


@dataclass(frozen=True, slots=True)
class CancelReservation:
    reservation_id: int


@dataclass(frozen=True, slots=True)
class SetChargingProfile:
    profile: ChargingProfile
    connector_id: int = 0


@dataclass(frozen=True, slots=True)
class ClearChargingProfile:
    profile_id: int | None = None
    connector_id: int | None = None
    purpose: ProfilePurpose | None = None
    stack_level: int | None = None


@dataclass(frozen=True, slots=True)
class GetChargingProfiles:
    request_id: int = 0
    connector_id: int | None = None
    purpose: ProfilePurpose | None = None


@dataclass(frozen=True, slots=True)
class GetCompositeSchedule:
    connector_id: int
    duration_seconds: int
    rate_unit: RateUnit | None = None


@dataclass(frozen=True, slots=True)
class UpdateFirmware:
    location: str
    retrieve_date: datetime
    retries: int | None = None
    retry_interval_seconds: int | None = None
    request_id: int = 0


@dataclass(frozen=True, slots=True)
class GetDiagnostics:
    """1.6 GetDiagnostics; 2.0.1 GetLog (DiagnosticsLog)."""

    location: str
    start: datetime | None = None
    stop: datetime | None = None
    retries: int | None = None
    retry_interval_seconds: int | None = None
    request_id: int = 0


@dataclass(frozen=True, slots=True)
class CertificateSigned:
    """The certificate chain the CSMS signed for the station, answering its SignCertificate."""

    certificate_chain: str
    kind: SignedCertificateKind = SignedCertificateKind.CHARGING_STATION


@dataclass(frozen=True, slots=True)
class InstallCertificate:
    use: CertificateUse
    certificate: str  # PEM


@dataclass(frozen=True, slots=True)
class GetInstalledCertificateIds:
    uses: tuple[CertificateUse, ...] = ()  # empty: every kind (2.0.1); 1.6 asks one kind


@dataclass(frozen=True, slots=True)
class DeleteCertificate:
    certificate: CertificateHash


@dataclass(frozen=True, slots=True)
class DataTransfer:
    vendor_id: str
    message_id: str | None = None
    data: str | None = None


Command = (
    RemoteStart
    | RemoteStop
    | Reset
    | UnlockConnector
    | ChangeAvailability
    | GetConfiguration
    | SetConfiguration
    | GetBaseReport
    | TriggerMessage
    | ClearCache
    | SendLocalList
    | GetLocalListVersion
    | ReserveNow
    | CancelReservation
    | SetChargingProfile
    | ClearChargingProfile
    | GetChargingProfiles
    | GetCompositeSchedule
    | UpdateFirmware
    | GetDiagnostics
    | DataTransfer
    | CertificateSigned
    | InstallCertificate
    | GetInstalledCertificateIds
    | DeleteCertificate
)


@dataclass(frozen=True, slots=True)
class CommandResult:
    """The station's answer: its status word plus whatever else it returned."""

    status: str
    data: dict[str, Any] = field(default_factory=dict)


class CommandOutcome(StrEnum):
    ANSWERED = "answered"
    OFFLINE = "offline"
    TIMEOUT = "timeout"
    CALL_ERROR = "call_error"
    NOT_SUPPORTED = "not_supported"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class CommandRecord:
    """The audit trail of one operation: who asked what of which station, and the answer."""

    charge_point_id: str
    action: str
    parameters: dict[str, Any]
    requested_by: str
    requested_at: datetime
    completed_at: datetime
    outcome: CommandOutcome
    status: str | None = None
    response: dict[str, Any] = field(default_factory=dict)
    error_code: str | None = None
    error_description: str | None = None
    id: int | None = None
