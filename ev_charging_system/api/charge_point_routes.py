"""Charge points: inventory, registration, passwords, status history and events."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from ev_charging_system.api.dependencies import Operator, Services
from ev_charging_system.api.schemas import (
    ChargePointCreate,
    ChargePointOut,
    DeviceModelEntryOut,
    ErrorOut,
    PasswordUpdate,
    StationEventOut,
    StatusChangeOut,
)
from ev_charging_system.models.charge_point import RegistrationStatus

router = APIRouter(prefix="/api/charge-points", tags=["charge points"])
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorOut}}
Limit = Annotated[int, Query(ge=1, le=1000)]


@router.get("", response_model=list[ChargePointOut])
async def list_charge_points(services: Services) -> list[ChargePointOut]:
    return [ChargePointOut.of(view) for view in await services.devices.list_charge_points()]


@router.post(
    "",
    response_model=ChargePointOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=[Operator],
    responses={409: {"model": ErrorOut}},
)
async def create_charge_point(body: ChargePointCreate, services: Services) -> ChargePointOut:
    view = await services.devices.create_charge_point(
        body.id, password=body.password, registration_status=body.registration_status
    )
    return ChargePointOut.of(view)


@router.get("/{charge_point_id}", response_model=ChargePointOut, responses=NOT_FOUND)
async def get_charge_point(charge_point_id: str, services: Services) -> ChargePointOut:
    return ChargePointOut.of(await services.devices.get_charge_point(charge_point_id))


@router.post(
    "/{charge_point_id}/accept",
    response_model=ChargePointOut,
    dependencies=[Operator],
    responses=NOT_FOUND,
    summary="Accept a pending or rejected station (its next BootNotification is Accepted)",
)
async def accept_charge_point(charge_point_id: str, services: Services) -> ChargePointOut:
    view = await services.devices.set_registration_status(
        charge_point_id, RegistrationStatus.ACCEPTED
    )
    return ChargePointOut.of(view)


@router.post(
    "/{charge_point_id}/reject",
    response_model=ChargePointOut,
    dependencies=[Operator],
    responses=NOT_FOUND,
    summary="Reject a station (its messages get SecurityError until accepted again)",
)
async def reject_charge_point(charge_point_id: str, services: Services) -> ChargePointOut:
    view = await services.devices.set_registration_status(
        charge_point_id, RegistrationStatus.REJECTED
    )
    return ChargePointOut.of(view)


@router.put(
    "/{charge_point_id}/password",
    response_model=ChargePointOut,
    dependencies=[Operator],
    responses=NOT_FOUND,
    summary="Set or remove the station's HTTP Basic password (Security Profile 1)",
)
async def set_password(
    charge_point_id: str, body: PasswordUpdate, services: Services
) -> ChargePointOut:
    return ChargePointOut.of(await services.devices.set_password(charge_point_id, body.password))


@router.get(
    "/{charge_point_id}/status-history",
    response_model=list[StatusChangeOut],
    responses=NOT_FOUND,
)
async def status_history(
    charge_point_id: str,
    services: Services,
    connector_id: Annotated[int | None, Query(ge=0)] = None,
    limit: Limit = 100,
) -> list[StatusChangeOut]:
    changes = await services.devices.status_history(charge_point_id, connector_id, limit)
    return [StatusChangeOut.of(change) for change in changes]


@router.get(
    "/{charge_point_id}/device-model",
    response_model=list[DeviceModelEntryOut],
    responses=NOT_FOUND,
    summary="Components and variables the station reported (OCPP 2.0.1 NotifyReport)",
)
async def device_model(charge_point_id: str, services: Services) -> list[DeviceModelEntryOut]:
    entries = await services.devices.device_model(charge_point_id)
    return [DeviceModelEntryOut.of(entry) for entry in entries]


@router.get("/{charge_point_id}/events", response_model=list[StationEventOut], responses=NOT_FOUND)
async def station_events(
    charge_point_id: str, services: Services, limit: Limit = 100
) -> list[StationEventOut]:
    events = await services.devices.list_events(charge_point_id, limit)
    return [StationEventOut.of(event) for event in events]
