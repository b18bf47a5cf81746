"""Charging sessions and their meter values."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field, PlainSerializer

from ev_charging_system.models.id_token import AuthorizationStatus
from ev_charging_system.models.transaction import MeterSample, Transaction, TransactionPage


class TransactionOut(BaseModel):
    id: int = Field(description="CSMS transaction id (use it to stop the session)")
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
    total: int = Field(description="matching transactions in all pages")
    limit: int
    offset: int

    @classmethod
    def of(cls, page: TransactionPage, limit: int, offset: int) -> TransactionPageOut:
        return cls(
            items=[TransactionOut.of(t) for t in page.items],
            total=page.total,
            limit=limit,
            offset=offset,
        )


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
