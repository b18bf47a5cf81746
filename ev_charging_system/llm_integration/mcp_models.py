"""Typed inputs and structured outputs of the MCP tools and resources.

Outputs are built from domain objects here, so tools stay one service call plus a
conversion. Nothing secret is ever copied: a station's password hash is not a field.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from ev_charging_system.models.charge_point import ChargePointView, ConnectorStatus, StatusChange
from ev_charging_system.models.diagnostics import HealthReport, UsageRow
from ev_charging_system.models.id_token import IdTag
from ev_charging_system.models.station_event import StationEvent
from ev_charging_system.models.transaction import Transaction

# --- inputs ----------------------------------------------------------------------------

ChargePointId = Annotated[
    str, Field(min_length=1, max_length=48, description="charge point id, e.g. 'CP-1'")
]
ConnectorId = Annotated[
    int, Field(ge=1, le=1000, description="connector (1.6) / EVSE (2.0.1) number, from 1")
]
StationOrConnectorId = Annotated[
    int, Field(ge=0, le=1000, description="connector number; 0 means the whole station")
]
TransactionId = Annotated[
    int, Field(ge=1, description="the CSMS transaction id, as list_transactions shows it")
]
IdTagValue = Annotated[str, Field(min_length=1, max_length=36, description="RFID / id tag")]
ConfirmToken = Annotated[
    str | None,
    Field(
        max_length=64,
        description=(
            "leave empty on the first call; if the answer says confirmation_required, ask the "
            "user and repeat the identical call with the confirm_token it returned"
        ),
    ),
]

# --- charge points ---------------------------------------------------------------------


class ConnectorOut(BaseModel):
    connector_id: int = Field(description="0 is the station as a whole")
    status: str
    error_code: str
    reported_at: datetime
    info: str | None = None
    vendor_error_code: str | None = None

    @classmethod
    def of(cls, connector: ConnectorStatus) -> ConnectorOut:
        return cls(
            connector_id=connector.connector_id,
            status=connector.status,
            error_code=connector.error_code,
            reported_at=connector.reported_at,
            info=connector.info,
            vendor_error_code=connector.vendor_error_code,
        )


class ChargePointSummary(BaseModel):
    id: str
    online: bool
    registration_status: str
    ocpp_version: str | None
    vendor: str | None
    model: str | None
    firmware_version: str | None
    last_heartbeat_at: datetime | None
    connectors: list[ConnectorOut]

    @classmethod
    def of(cls, view: ChargePointView) -> ChargePointSummary:
        station = view.charge_point
        return cls(
            id=station.id,
            online=view.online,
            registration_status=station.registration_status.value,
            ocpp_version=station.ocpp_version,
            vendor=station.boot.vendor if station.boot else None,
            model=station.boot.model if station.boot else None,
            firmware_version=station.boot.firmware_version if station.boot else None,
            last_heartbeat_at=station.last_seen_at,
            connectors=[ConnectorOut.of(c) for c in station.connectors],
        )


class ChargePointDetails(ChargePointSummary):
    serial_number: str | None
    requires_password: bool
    created_at: datetime
    last_boot_at: datetime | None
    firmware_status: str | None
    diagnostics_status: str | None

    @classmethod
    def of(cls, view: ChargePointView) -> ChargePointDetails:
        station = view.charge_point
        return cls(
            **ChargePointSummary.of(view).model_dump(),
            serial_number=station.boot.serial_number if station.boot else None,
            requires_password=station.requires_password,
            created_at=station.created_at,
            last_boot_at=station.last_boot_at,
            firmware_status=station.firmware_status,
            diagnostics_status=station.diagnostics_status,
        )


class ChargePointList(BaseModel):
    charge_points: list[ChargePointSummary]
    count: int = Field(description="number of charge points listed")


class StatusChangeOut(BaseModel):
    connector_id: int
    status: str
    error_code: str
    reported_at: datetime
    info: str | None = None

    @classmethod
    def of(cls, change: StatusChange) -> StatusChangeOut:
        return cls(
            connector_id=change.connector_id,
            status=change.status,
            error_code=change.error_code,
            reported_at=change.reported_at,
            info=change.info,
        )


class TransactionOut(BaseModel):
    id: int = Field(description="CSMS transaction id (use it for stop_charging_session)")
    charge_point_id: str
    connector_id: int
    id_tag: str
    authorization_status: str
    started_at: datetime
    stopped_at: datetime | None
    active: bool
    meter_start_wh: int
    meter_stop_wh: int | None
    energy_wh: int | None
    stop_reason: str | None

    @classmethod
    def of(cls, transaction: Transaction) -> TransactionOut:
        return cls(
            id=transaction.id,
            charge_point_id=transaction.charge_point_id,
            connector_id=transaction.connector_id,
            id_tag=transaction.id_tag,
            authorization_status=transaction.authorization_status.value,
            started_at=transaction.started_at,
            stopped_at=transaction.stopped_at,
            active=transaction.active,
            meter_start_wh=transaction.meter_start_wh,
            meter_stop_wh=transaction.meter_stop_wh,
            energy_wh=transaction.energy_wh,
            stop_reason=transaction.stop_reason,
        )


class ChargePointStatus(BaseModel):
    charge_point: ChargePointSummary
    active_transactions: list[TransactionOut]
    recent_status_changes: list[StatusChangeOut] = Field(description="newest first")


class AvailableConnector(BaseModel):
    charge_point_id: str
    connector_id: int
    status: str
    since: datetime


class AvailableConnectors(BaseModel):
    connectors: list[AvailableConnector] = Field(
        description="connectors reporting Available on connected, accepted stations"
    )
    count: int


class TransactionList(BaseModel):
    transactions: list[TransactionOut]
    total: int = Field(description="matching transactions in all pages")
    limit: int
    offset: int


# --- events, id tags ---------------------------------------------------------------------


class EventOut(BaseModel):
    id: int | None
    charge_point_id: str
    kind: str
    occurred_at: datetime
    detail: dict[str, Any]

    @classmethod
    def of(cls, event: StationEvent) -> EventOut:
        return cls(
            id=event.id,
            charge_point_id=event.charge_point_id,
            kind=event.kind.value,
            occurred_at=event.occurred_at,
            detail=event.detail,
        )


class EventList(BaseModel):
    events: list[EventOut] = Field(description="newest first")
    count: int


class IdTagOut(BaseModel):
    id_tag: str
    status: str
    name: str | None
    expiry_date: datetime | None
    parent_id_tag: str | None
    max_active_transactions: int

    @classmethod
    def of(cls, tag: IdTag) -> IdTagOut:
        return cls(
            id_tag=tag.id_tag,
            status=tag.status.value,
            name=tag.name,
            expiry_date=tag.expiry_date,
            parent_id_tag=tag.parent_id_tag,
            max_active_transactions=tag.max_active_transactions,
        )


class IdTagList(BaseModel):
    id_tags: list[IdTagOut]
    total: int
    limit: int
    offset: int


# --- insight ---------------------------------------------------------------------------


class FindingOut(BaseModel):
    severity: str
    title: str
    evidence: dict[str, Any]
    suggested_action: str


class HealthReportOut(BaseModel):
    charge_point_id: str
    score: int = Field(description="100 healthy .. 0 unusable")
    grade: str
    online: bool
    period_start: datetime
    period_end: datetime
    findings: list[FindingOut]

    @classmethod
    def of(cls, report: HealthReport) -> HealthReportOut:
        return cls(
            charge_point_id=report.charge_point_id,
            score=report.score,
            grade=report.grade,
            online=report.online,
            period_start=report.period_start,
            period_end=report.period_end,
            findings=[
                FindingOut(
                    severity=f.severity.value,
                    title=f.title,
                    evidence=f.evidence,
                    suggested_action=f.suggested_action,
                )
                for f in report.findings
            ],
        )


class UsageRowOut(BaseModel):
    key: str = Field(description="station id, id tag or UTC day, by the grouping")
    sessions: int
    energy_wh: int

    @classmethod
    def of(cls, row: UsageRow) -> UsageRowOut:
        return cls(key=row.key, sessions=row.sessions, energy_wh=row.energy_wh)


class UsageReport(BaseModel):
    group_by: str
    rows: list[UsageRowOut]
    total_sessions: int
    total_energy_wh: int


# --- station operations ------------------------------------------------------------------


class ConfigurationEntry(BaseModel):
    key: str
    value: str | None
    readonly: bool | None


class ConfigurationOut(BaseModel):
    charge_point_id: str
    station_status: str
    entries: list[ConfigurationEntry]
    unknown_keys: list[str]


class ActionOutcome(BaseModel):
    """The answer of every tool that acts on a station."""

    state: Literal["executed", "confirmation_required", "cancelled"]
    action: str = Field(description="what the call does, in words")
    message: str = Field(description="what happened, or what to do next")
    status: str | None = Field(
        default=None,
        description="the answer of whoever carried it out: for station commands the "
        "station's own Accepted, Rejected, Unlocked, ...",
    )
    data: dict[str, Any] = Field(default_factory=dict)
    confirm_token: str | None = Field(
        default=None, description="only with confirmation_required: pass it to the second call"
    )
    confirm_expires_at: datetime | None = None
