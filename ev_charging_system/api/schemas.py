"""JSON shapes of the REST API (pydantic at the edge; domain dataclasses inside)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from ev_charging_system.models.charge_point import (
    BootInfo,
    ChargePointView,
    ConnectorStatus,
    RegistrationStatus,
    StatusChange,
)
from ev_charging_system.models.device_model import DeviceModelEntry
from ev_charging_system.models.id_token import AuthorizationStatus, IdTag
from ev_charging_system.models.station_event import StationEvent
from ev_charging_system.models.transaction import MeterSample, Transaction

ChargePointId = Annotated[str, Field(min_length=1, max_length=48, examples=["CP-1"])]
IdTagValue = Annotated[str, Field(min_length=1, max_length=36, examples=["RFID-0001"])]
StationPassword = Annotated[str, Field(min_length=16, max_length=40)]


class ErrorOut(BaseModel):
    detail: str


class HealthOut(BaseModel):
    status: str
    database: str
    stations_online: int


class BootInfoOut(BaseModel):
    vendor: str
    model: str
    serial_number: str | None
    charge_box_serial_number: str | None
    firmware_version: str | None
    iccid: str | None
    imsi: str | None
    meter_type: str | None
    meter_serial_number: str | None

    @classmethod
    def of(cls, boot: BootInfo) -> BootInfoOut:
        return cls(
            vendor=boot.vendor,
            model=boot.model,
            serial_number=boot.serial_number,
            charge_box_serial_number=boot.charge_box_serial_number,
            firmware_version=boot.firmware_version,
            iccid=boot.iccid,
            imsi=boot.imsi,
            meter_type=boot.meter_type,
            meter_serial_number=boot.meter_serial_number,
        )


class ConnectorOut(BaseModel):
    connector_id: int
    status: str
    error_code: str
    info: str | None
    vendor_id: str | None
    vendor_error_code: str | None
    reported_at: datetime

    @classmethod
    def of(cls, connector: ConnectorStatus) -> ConnectorOut:
        return cls(
            connector_id=connector.connector_id,
            status=connector.status,
            error_code=connector.error_code,
            info=connector.info,
            vendor_id=connector.vendor_id,
            vendor_error_code=connector.vendor_error_code,
            reported_at=connector.reported_at,
        )


class ChargePointOut(BaseModel):
    id: str
    registration_status: RegistrationStatus
    online: bool
    ocpp_version: str | None
    password_protected: bool
    created_at: datetime
    last_boot_at: datetime | None
    last_heartbeat_at: datetime | None = Field(
        description="Last message of any kind from the station (heartbeats included)"
    )
    firmware_status: str | None
    diagnostics_status: str | None
    boot: BootInfoOut | None
    connectors: list[ConnectorOut]

    @classmethod
    def of(cls, view: ChargePointView) -> ChargePointOut:
        station = view.charge_point
        return cls(
            id=station.id,
            registration_status=station.registration_status,
            online=view.online,
            ocpp_version=station.ocpp_version,
            password_protected=station.requires_password,
            created_at=station.created_at,
            last_boot_at=station.last_boot_at,
            last_heartbeat_at=station.last_seen_at,
            firmware_status=station.firmware_status,
            diagnostics_status=station.diagnostics_status,
            boot=BootInfoOut.of(station.boot) if station.boot else None,
            connectors=[ConnectorOut.of(c) for c in station.connectors],
        )


class ChargePointCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: ChargePointId
    password: StationPassword | None = Field(
        default=None, description="HTTP Basic password the station must present (Profile 1)"
    )
    registration_status: RegistrationStatus = RegistrationStatus.ACCEPTED


class PasswordUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: StationPassword | None = Field(description="null removes the password")


class DeviceModelEntryOut(BaseModel):
    component: str
    component_instance: str
    evse_id: int | None
    connector_id: int | None
    variable: str
    variable_instance: str
    attribute_type: str
    value: str | None
    mutability: str | None
    persistent: bool | None
    constant: bool | None
    characteristics: dict[str, object]
    updated_at: datetime | None

    @classmethod
    def of(cls, entry: DeviceModelEntry) -> DeviceModelEntryOut:
        return cls(
            component=entry.component_name,
            component_instance=entry.component_instance,
            evse_id=entry.evse_id or None,
            connector_id=entry.connector_id or None,
            variable=entry.variable_name,
            variable_instance=entry.variable_instance,
            attribute_type=entry.attribute_type,
            value=entry.value,
            mutability=entry.mutability,
            persistent=entry.persistent,
            constant=entry.constant,
            characteristics=entry.characteristics,
            updated_at=entry.updated_at,
        )


class StatusChangeOut(BaseModel):
    connector_id: int
    status: str
    error_code: str
    info: str | None
    vendor_id: str | None
    vendor_error_code: str | None
    reported_at: datetime
    received_at: datetime

    @classmethod
    def of(cls, change: StatusChange) -> StatusChangeOut:
        return cls(
            connector_id=change.connector_id,
            status=change.status,
            error_code=change.error_code,
            info=change.info,
            vendor_id=change.vendor_id,
            vendor_error_code=change.vendor_error_code,
            reported_at=change.reported_at,
            received_at=change.received_at,
        )


class StationEventOut(BaseModel):
    id: int | None
    charge_point_id: str
    kind: str
    occurred_at: datetime
    detail: dict[str, object]

    @classmethod
    def of(cls, event: StationEvent) -> StationEventOut:
        return cls(
            id=event.id,
            charge_point_id=event.charge_point_id,
            kind=event.kind.value,
            occurred_at=event.occurred_at,
            detail=event.detail,
        )


StoredAuthorizationStatus = Annotated[
    AuthorizationStatus,
    Field(description="Accepted, Blocked, Expired or Invalid (ConcurrentTx is never stored)"),
]


class IdTagCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id_tag: IdTagValue
    status: StoredAuthorizationStatus = AuthorizationStatus.ACCEPTED
    expiry_date: datetime | None = None
    parent_id_tag: IdTagValue | None = None
    name: Annotated[str, Field(max_length=255)] | None = None
    max_active_transactions: Annotated[int, Field(ge=1, le=100)] = 1


class IdTagUpdate(BaseModel):
    """Partial update: omitted fields stay; expiry_date/parent_id_tag null clears them."""

    model_config = ConfigDict(extra="forbid")

    status: StoredAuthorizationStatus | None = None
    expiry_date: datetime | None = None
    parent_id_tag: IdTagValue | None = None
    name: Annotated[str, Field(max_length=255)] | None = None
    max_active_transactions: Annotated[int, Field(ge=1, le=100)] | None = None


class IdTagOut(BaseModel):
    id_tag: str
    status: AuthorizationStatus
    expiry_date: datetime | None
    parent_id_tag: str | None
    name: str | None
    max_active_transactions: int
    created_at: datetime

    @classmethod
    def of(cls, tag: IdTag) -> IdTagOut:
        return cls(
            id_tag=tag.id_tag,
            status=tag.status,
            expiry_date=tag.expiry_date,
            parent_id_tag=tag.parent_id_tag,
            name=tag.name,
            max_active_transactions=tag.max_active_transactions,
            created_at=tag.created_at,
        )


class IdTagPageOut(BaseModel):
    items: list[IdTagOut]
    total: int
    limit: int
    offset: int


class TransactionOut(BaseModel):
    id: int
    charge_point_id: str
    connector_id: int
    id_tag: str
    authorization_status: AuthorizationStatus
    reservation_id: int | None
    active: bool
    meter_start_wh: int
    meter_stop_wh: int | None
    energy_wh: int | None
    started_at: datetime
    stopped_at: datetime | None
    stop_reason: str | None
    stop_id_tag: str | None

    @classmethod
    def of(cls, transaction: Transaction) -> TransactionOut:
        return cls(
            id=transaction.id,
            charge_point_id=transaction.charge_point_id,
            connector_id=transaction.connector_id,
            id_tag=transaction.id_tag,
            authorization_status=transaction.authorization_status,
            reservation_id=transaction.reservation_id,
            active=transaction.active,
            meter_start_wh=transaction.meter_start_wh,
            meter_stop_wh=transaction.meter_stop_wh,
            energy_wh=transaction.energy_wh,
            started_at=transaction.started_at,
            stopped_at=transaction.stopped_at,
            stop_reason=transaction.stop_reason,
            stop_id_tag=transaction.stop_id_tag,
        )


class TransactionPageOut(BaseModel):
    items: list[TransactionOut]
    total: int
    limit: int
    offset: int


# Stored exactly; sent as a JSON number, which is what dashboards and scripts expect.
JsonNumber = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]


class MeterSampleOut(BaseModel):
    timestamp: datetime
    measurand: str
    value: JsonNumber | None = Field(description="In `unit`; energy is always Wh")
    unit: str | None
    raw_value: str
    phase: str | None
    context: str | None
    location: str | None
    format: str | None

    @classmethod
    def of(cls, sample: MeterSample) -> MeterSampleOut:
        return cls(
            timestamp=sample.timestamp,
            measurand=sample.measurand,
            value=sample.value,
            unit=sample.unit,
            raw_value=sample.raw_value,
            phase=sample.phase,
            context=sample.context,
            location=sample.location,
            format=sample.format,
        )


class TransactionDetailOut(TransactionOut):
    meter_values: list[MeterSampleOut]
