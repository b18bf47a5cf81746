"""Remote operation of any station, 1.6 or 2.0.1, with the station's real answer.

HTTP 200 carries the station's own status (Accepted, Rejected, ...); 409 means the station
is offline, 504 that it did not answer in time, 502 that it answered with a CALLERROR
(its code and description are in the body), 422 that the operation does not exist in the
station's OCPP version.
"""

# No `from __future__ import annotations` here: the route factory below builds endpoints
# whose body type is a runtime value, and FastAPI must see real annotations.

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query

from ev_charging_system.api import command_schemas as s
from ev_charging_system.api.dependencies import Operator, Services
from ev_charging_system.api.schemas import ErrorOut
from ev_charging_system.models.commands import ClearCache, Command, GetLocalListVersion

router = APIRouter(tags=["remote operation"])

REQUESTED_BY = "rest:operator"
COMMAND_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "unknown charge point"},
    409: {"model": ErrorOut, "description": "the station is offline"},
    422: {"model": ErrorOut, "description": "invalid input or not possible in this OCPP version"},
    429: {"model": ErrorOut, "description": "too many commands queued for this station"},
    502: {"model": s.CommandErrorOut, "description": "the station answered with a CALLERROR"},
    504: {"model": ErrorOut, "description": "the station did not answer in time"},
}

_COMMANDS: list[tuple[str, Any, str]] = [
    (
        "remote-start",
        s.RemoteStartIn,
        "Start a session (1.6 RemoteStartTransaction / 2.0.1 RequestStartTransaction)",
    ),
    ("reset", s.ResetIn, "Reset the station (1.6 Soft/Hard; 2.0.1 Immediate/OnIdle)"),
    ("unlock-connector", s.UnlockConnectorIn, "Unlock a connector"),
    (
        "change-availability",
        s.ChangeAvailabilityIn,
        "Make the station or one connector (in)operative",
    ),
    ("get-configuration", s.GetConfigurationIn, "Read configuration keys (2.0.1: GetVariables)"),
    ("set-configuration", s.SetConfigurationIn, "Change a configuration key (2.0.1: SetVariables)"),
    ("get-base-report", s.GetBaseReportIn, "Ask for the device model (1.6: whole configuration)"),
    ("trigger-message", s.TriggerMessageIn, "Ask the station to send a message now"),
    ("clear-cache", None, "Clear the station's authorization cache"),
    ("send-local-list", s.SendLocalListIn, "Send the local authorization list"),
    ("get-local-list-version", None, "Read the local authorization list version"),
    ("reserve-now", s.ReserveNowIn, "Reserve a connector (or the station) for an id tag"),
    ("cancel-reservation", s.CancelReservationIn, "Cancel a reservation"),
    ("set-charging-profile", s.SetChargingProfileIn, "Install a charging profile"),
    ("clear-charging-profile", s.ClearChargingProfileIn, "Remove charging profiles"),
    ("get-charging-profiles", s.GetChargingProfilesIn, "Ask for installed profiles (2.0.1)"),
    ("get-composite-schedule", s.GetCompositeScheduleIn, "Read the effective schedule"),
    ("update-firmware", s.UpdateFirmwareIn, "Install firmware from a URL"),
    ("get-diagnostics", s.GetDiagnosticsIn, "Upload diagnostics (2.0.1: GetLog)"),
    ("data-transfer", s.DataTransferIn, "Vendor-specific DataTransfer"),
]

_EMPTY: dict[str, Callable[[], Command]] = {
    "clear-cache": ClearCache,
    "get-local-list-version": GetLocalListVersion,
}


def _add_command_route(name: str, body_model: Any, summary: str) -> None:
    path = f"/api/charge-points/{{charge_point_id}}/commands/{name}"
    options: dict[str, Any] = {
        "response_model": s.CommandResultOut,
        "dependencies": [Operator],
        "responses": COMMAND_ERRORS,
        "summary": summary,
        "name": name,
    }
    if body_model is None:
        make = _EMPTY[name]

        async def send_plain(charge_point_id: str, services: Services) -> s.CommandResultOut:
            result = await services.commands.execute(charge_point_id, make(), REQUESTED_BY)
            return s.CommandResultOut(status=result.status, data=result.data)

        router.post(path, **options)(send_plain)
        return

    async def send(
        charge_point_id: str, body: Annotated[body_model, Body()], services: Services
    ) -> s.CommandResultOut:
        result = await services.commands.execute(charge_point_id, body.to_command(), REQUESTED_BY)
        return s.CommandResultOut(status=result.status, data=result.data)

    router.post(path, **options)(send)


for _name, _model, _summary in _COMMANDS:
    _add_command_route(_name, _model, _summary)


@router.post(
    "/api/charge-points/{charge_point_id}/commands/remote-stop",
    response_model=s.CommandResultOut,
    dependencies=[Operator],
    responses=COMMAND_ERRORS,
    summary="Stop a running session by its CSMS transaction id",
)
async def remote_stop(
    charge_point_id: str, body: s.RemoteStopIn, services: Services
) -> s.CommandResultOut:
    result = await services.commands.stop_transaction(
        charge_point_id, body.transaction_id, REQUESTED_BY
    )
    return s.CommandResultOut(status=result.status, data=result.data)


@router.get(
    "/api/charge-points/{charge_point_id}/commands",
    response_model=list[s.CommandRecordOut],
    responses={404: {"model": ErrorOut}},
    summary="Commands sent to this station: who, what, when, and the answer",
)
async def station_commands(
    charge_point_id: str,
    services: Services,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[s.CommandRecordOut]:
    records = await services.commands.recent(charge_point_id, limit)
    return [s.CommandRecordOut.of(r) for r in records]


@router.get("/api/commands", response_model=list[s.CommandRecordOut])
async def all_commands(
    services: Services, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> list[s.CommandRecordOut]:
    return [s.CommandRecordOut.of(r) for r in await services.commands.recent(None, limit)]
