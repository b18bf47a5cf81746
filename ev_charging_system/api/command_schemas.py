"""Request and response shapes of the remote-operation endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ev_charging_system.models import commands as c
from ev_charging_system.models.charging_profile import (
    ChargingProfile,
    ProfileKind,
    ProfilePurpose,
    RateUnit,
    SchedulePeriod,
)
from ev_charging_system.models.id_token import AuthorizationStatus, IdTagInfo

ConnectorId = Annotated[int, Field(ge=0, le=1000, description="1.6 connector / 2.0.1 EVSE id")]
PositiveConnectorId = Annotated[int, Field(ge=1, le=1000)]
TagValue = Annotated[str, Field(min_length=1, max_length=36)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SchedulePeriodIn(Strict):
    start_period_seconds: Annotated[int, Field(ge=0)]
    limit: Annotated[float, Field(ge=0, description="in the profile's rate unit (W or A)")]
    number_phases: Annotated[int, Field(ge=1, le=3)] | None = None


class ChargingProfileIn(Strict):
    id: Annotated[int, Field(ge=1)]
    stack_level: Annotated[int, Field(ge=0, le=100)] = 0
    purpose: ProfilePurpose = ProfilePurpose.TX_DEFAULT
    kind: ProfileKind = ProfileKind.ABSOLUTE
    rate_unit: RateUnit = RateUnit.AMPERES
    periods: Annotated[list[SchedulePeriodIn], Field(min_length=1, max_length=1024)]
    duration_seconds: Annotated[int, Field(ge=1)] | None = None
    start_schedule: datetime | None = None
    min_charging_rate: Annotated[float, Field(ge=0)] | None = None
    recurrency: Annotated[str, Field(pattern="^(Daily|Weekly)$")] | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    transaction_id: Annotated[str, Field(max_length=36)] | None = Field(
        default=None, description="OCPP transaction id, required for TxProfile"
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        starts = [p.start_period_seconds for p in self.periods]
        if starts[0] != 0 or starts != sorted(set(starts)):
            raise ValueError("periods must start at 0 s and be strictly increasing")
        if self.kind is ProfileKind.RECURRING and self.recurrency is None:
            raise ValueError("a Recurring profile needs recurrency Daily or Weekly")
        if self.purpose is ProfilePurpose.TX and self.transaction_id is None:
            raise ValueError("a TxProfile needs the transaction_id it applies to")
        if self.valid_from and self.valid_to and self.valid_from >= self.valid_to:
            raise ValueError("valid_from must be before valid_to")
        return self

    def to_domain(self) -> ChargingProfile:
        return ChargingProfile(
            id=self.id,
            stack_level=self.stack_level,
            purpose=self.purpose,
            kind=self.kind,
            rate_unit=self.rate_unit,
            periods=tuple(
                SchedulePeriod(p.start_period_seconds, p.limit, p.number_phases)
                for p in self.periods
            ),
            duration_seconds=self.duration_seconds,
            start_schedule=self.start_schedule,
            min_charging_rate=self.min_charging_rate,
            recurrency=self.recurrency,
            valid_from=self.valid_from,
            valid_to=self.valid_to,
            transaction_id=self.transaction_id,
        )


class RemoteStartIn(Strict):
    id_tag: TagValue
    connector_id: PositiveConnectorId | None = None
    charging_profile: ChargingProfileIn | None = None

    def to_command(self) -> c.RemoteStart:
        profile = self.charging_profile.to_domain() if self.charging_profile else None
        return c.RemoteStart(self.id_tag, self.connector_id, profile)


class RemoteStopIn(Strict):
    transaction_id: Annotated[int, Field(ge=1, description="the CSMS transaction id")]


class ResetIn(Strict):
    type: c.ResetType = c.ResetType.SOFT
    when: c.ResetWhen = c.ResetWhen.IMMEDIATE

    def to_command(self) -> c.Reset:
        return c.Reset(self.type, self.when)


class UnlockConnectorIn(Strict):
    connector_id: PositiveConnectorId

    def to_command(self) -> c.UnlockConnector:
        return c.UnlockConnector(self.connector_id)


class ChangeAvailabilityIn(Strict):
    operative: bool
    connector_id: ConnectorId | None = Field(default=None, description="omit or 0: whole station")

    def to_command(self) -> c.ChangeAvailability:
        return c.ChangeAvailability(self.operative, self.connector_id)


class GetConfigurationIn(Strict):
    keys: Annotated[
        list[Annotated[str, Field(min_length=1, max_length=100)]], Field(max_length=100)
    ] = []

    def to_command(self) -> c.GetConfiguration:
        return c.GetConfiguration(tuple(self.keys))


class SetConfigurationIn(Strict):
    key: Annotated[str, Field(min_length=1, max_length=100)]
    value: Annotated[str, Field(max_length=1000)]

    def to_command(self) -> c.SetConfiguration:
        return c.SetConfiguration(self.key, self.value)


class GetBaseReportIn(Strict):
    report_base: c.ReportBase = c.ReportBase.FULL

    def to_command(self) -> c.GetBaseReport:
        return c.GetBaseReport(self.report_base)


class TriggerMessageIn(Strict):
    message: c.TriggerableMessage
    connector_id: PositiveConnectorId | None = None

    def to_command(self) -> c.TriggerMessage:
        return c.TriggerMessage(self.message, self.connector_id)


class LocalListEntryIn(Strict):
    id_tag: TagValue
    status: AuthorizationStatus | None = Field(
        default=None, description="omit to remove the tag in a Differential update"
    )
    expiry_date: datetime | None = None
    parent_id_tag: TagValue | None = None


class SendLocalListIn(Strict):
    version: Annotated[int, Field(ge=1)]
    update_type: c.LocalListUpdate = c.LocalListUpdate.FULL
    entries: Annotated[list[LocalListEntryIn], Field(max_length=10_000)] = []

    def to_command(self) -> c.SendLocalList:
        return c.SendLocalList(
            self.version,
            self.update_type,
            tuple(
                c.LocalListEntry(
                    e.id_tag,
                    IdTagInfo(e.status, e.expiry_date, e.parent_id_tag) if e.status else None,
                )
                for e in self.entries
            ),
        )


class ReserveNowIn(Strict):
    reservation_id: Annotated[int, Field(ge=1)]
    id_tag: TagValue
    expiry: datetime
    connector_id: ConnectorId | None = None
    parent_id_tag: TagValue | None = None

    def to_command(self) -> c.ReserveNow:
        return c.ReserveNow(
            self.reservation_id, self.id_tag, self.expiry, self.connector_id, self.parent_id_tag
        )


class CancelReservationIn(Strict):
    reservation_id: Annotated[int, Field(ge=1)]

    def to_command(self) -> c.CancelReservation:
        return c.CancelReservation(self.reservation_id)


class SetChargingProfileIn(Strict):
    connector_id: ConnectorId = 0
    profile: ChargingProfileIn

    def to_command(self) -> c.SetChargingProfile:
        return c.SetChargingProfile(self.profile.to_domain(), self.connector_id)


class ClearChargingProfileIn(Strict):
    profile_id: Annotated[int, Field(ge=1)] | None = None
    connector_id: ConnectorId | None = None
    purpose: ProfilePurpose | None = None
    stack_level: Annotated[int, Field(ge=0)] | None = None

    def to_command(self) -> c.ClearChargingProfile:
        return c.ClearChargingProfile(
            self.profile_id, self.connector_id, self.purpose, self.stack_level
        )


class GetChargingProfilesIn(Strict):
    connector_id: ConnectorId | None = None
    purpose: ProfilePurpose | None = None

    def to_command(self) -> c.GetChargingProfiles:
        return c.GetChargingProfiles(connector_id=self.connector_id, purpose=self.purpose)


class GetCompositeScheduleIn(Strict):
    connector_id: ConnectorId
    duration_seconds: Annotated[int, Field(ge=1, le=7 * 86_400)]
    rate_unit: RateUnit | None = None

    def to_command(self) -> c.GetCompositeSchedule:
        return c.GetCompositeSchedule(self.connector_id, self.duration_seconds, self.rate_unit)


class UpdateFirmwareIn(Strict):
    location: Annotated[str, Field(min_length=1, max_length=512)]
    retrieve_date: datetime
    retries: Annotated[int, Field(ge=0)] | None = None
    retry_interval_seconds: Annotated[int, Field(ge=0)] | None = None

    def to_command(self) -> c.UpdateFirmware:
        return c.UpdateFirmware(
            self.location, self.retrieve_date, self.retries, self.retry_interval_seconds
        )


class GetDiagnosticsIn(Strict):
    location: Annotated[str, Field(min_length=1, max_length=512)]
    start: datetime | None = None
    stop: datetime | None = None
    retries: Annotated[int, Field(ge=0)] | None = None
    retry_interval_seconds: Annotated[int, Field(ge=0)] | None = None

    def to_command(self) -> c.GetDiagnostics:
        return c.GetDiagnostics(
            self.location, self.start, self.stop, self.retries, self.retry_interval_seconds
        )


class DataTransferIn(Strict):
    vendor_id: Annotated[str, Field(min_length=1, max_length=255)]
    message_id: Annotated[str, Field(max_length=50)] | None = None
    data: str | None = None

    def to_command(self) -> c.DataTransfer:
        return c.DataTransfer(self.vendor_id, self.message_id, self.data)


class CommandResultOut(BaseModel):
    status: str = Field(description="the station's own answer: Accepted, Rejected, ...")
    data: dict[str, Any] = {}


class CommandRecordOut(BaseModel):
    id: int | None
    charge_point_id: str
    action: str
    parameters: dict[str, Any]
    requested_by: str
    requested_at: datetime
    completed_at: datetime
    outcome: c.CommandOutcome
    status: str | None
    response: dict[str, Any]
    error_code: str | None
    error_description: str | None

    @classmethod
    def of(cls, record: c.CommandRecord) -> CommandRecordOut:
        return cls(
            id=record.id,
            charge_point_id=record.charge_point_id,
            action=record.action,
            parameters=record.parameters,
            requested_by=record.requested_by,
            requested_at=record.requested_at,
            completed_at=record.completed_at,
            outcome=record.outcome,
            status=record.status,
            response=record.response,
            error_code=record.error_code,
            error_description=record.error_description,
        )


class CommandErrorOut(BaseModel):
    detail: str
    error_code: str | None = None
    error_description: str | None = None
