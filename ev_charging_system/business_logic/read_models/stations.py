"""Charge points, connectors, status history, station events and the device model."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from ev_charging_system.business_logic.read_models.transactions import TransactionOut
from ev_charging_system.models.charge_point import (
    BootInfo,
    ChargePointView,
    ConnectorStatus,
    RegistrationStatus,
    SecurityProfile,
    StatusChange,
)
from ev_charging_system.models.device_model import DeviceModelEntry
from ev_charging_system.models.meter_rollup import PowerPoint
from ev_charging_system.models.station_event import StationEvent


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
    connector_id: int = Field(description="0 is the station as a whole")
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
    registration_status: RegistrationStatus | None = Field(
        description=(
            "The station's registration since its BootNotification (with any later "
            "operator decision); null while it has never booted: a station that only "
            "connected has not been accepted by anyone yet"
        )
    )
    booted: bool = Field(description="The station has sent a BootNotification")
    admission: RegistrationStatus = Field(
        description="How its next BootNotification will be answered (operator or policy)"
    )
    online: bool = Field(description="Connected now (booted or not)")
    ocpp_version: str | None
    password_protected: bool
    security_profile: SecurityProfile = Field(
        description="1: ws:// with its password if set; 2: wss:// with its password; "
        "3: wss:// with a client certificate issued to this station id"
    )
    created_at: datetime
    last_boot_at: datetime | None
    last_heartbeat_at: datetime | None = Field(
        description="Last message of any kind from the station (heartbeats included)"
    )
    firmware_status: str | None
    diagnostics_status: str | None
    boot: BootInfoOut | None
    connectors: list[ConnectorOut]
    site_id: int | None = Field(default=None, description="the site it stands at (null: none)")

    @classmethod
    def of(cls, view: ChargePointView) -> ChargePointOut:
        station = view.charge_point
        booted = station.last_boot_at is not None
        return cls(
            id=station.id,
            registration_status=station.registration_status if booted else None,
            booted=booted,
            admission=station.registration_status,
            online=view.online,
            ocpp_version=station.ocpp_version,
            password_protected=station.requires_password,
            security_profile=station.security_profile,
            created_at=station.created_at,
            last_boot_at=station.last_boot_at,
            last_heartbeat_at=station.last_seen_at,
            firmware_status=station.firmware_status,
            diagnostics_status=station.diagnostics_status,
            boot=BootInfoOut.of(station.boot) if station.boot else None,
            connectors=[ConnectorOut.of(c) for c in station.connectors],
            site_id=station.site_id,
        )


class ChargePointPageOut(BaseModel):
    items: list[ChargePointOut]
    total: int = Field(description="matching charge points in all pages")
    limit: int
    offset: int
    vendors: list[str] = Field(description="every vendor known, for a filter menu")


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
    detail: dict[str, Any]

    @classmethod
    def of(cls, event: StationEvent) -> StationEventOut:
        return cls(
            id=event.id,
            charge_point_id=event.charge_point_id,
            kind=event.kind.value,
            occurred_at=event.occurred_at,
            detail=event.detail,
        )


class AvailableConnectorOut(BaseModel):
    charge_point_id: str
    connector_id: int
    status: str
    since: datetime


class AvailableConnectorsOut(BaseModel):
    connectors: list[AvailableConnectorOut] = Field(
        description="connectors reporting Available on connected, accepted stations"
    )
    count: int


class FaultedConnectorOut(BaseModel):
    charge_point_id: str
    connector: ConnectorOut


class RecentErrorsOut(BaseModel):
    events: list[StationEventOut] = Field(description="newest first")
    faulted_connectors: list[FaultedConnectorOut]


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


class StationStatusOut(BaseModel):
    """A station now: connection, connectors, running sessions, latest status changes."""

    charge_point: ChargePointOut
    active_transactions: list[TransactionOut]
    recent_status_changes: list[StatusChangeOut] = Field(description="newest first")


class CertificateAuthorityOut(BaseModel):
    """The CA that signs station certificates and, unless others are configured, the
    wss:// server certificate: what stations install as their CSMS root."""

    certificate_pem: str


class PowerPointOut(BaseModel):
    bucket_start: datetime
    average_w: float | None = Field(description="mean power over the 15 minutes")
    maximum_w: float | None = Field(description="highest power sample (null: derived)")
    energy_wh: float | None = Field(description="energy register increase in the bucket")

    @classmethod
    def of(cls, point: PowerPoint) -> PowerPointOut:
        return cls(
            bucket_start=point.bucket_start,
            average_w=point.average_w,
            maximum_w=point.maximum_w,
            energy_wh=point.energy_wh,
        )


class StationPowerOut(BaseModel):
    charge_point_id: str
    connector_id: int | None = Field(description="null: every connector together")
    bucket_minutes: int
    points: list[PowerPointOut]
