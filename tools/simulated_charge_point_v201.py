"""A simulated OCPP 2.0.1 charging station, built on the `ocpp` library's own ChargePoint.

The 2.0.1 counterpart of tools/simulated_charge_point.py: convenience calls for what a
station sends (boot, status, authorize, TransactionEvent sessions, meter values, reports)
and handlers for the CSMS-initiated calls, follow-up messages included (a remote start
is followed by TransactionEvent Started, GetBaseReport by NotifyReport pages, ...). Tests
script failures per action with `station.behave(...)` (see tools/station_behaviour.py).

Simplifications: every EVSE has one connector (connector 1); only the Actual attribute of
a variable exists; variable instances are ignored; reservations do not expire.
"""

from __future__ import annotations

import contextlib
import functools
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ocpp.v201 import ChargePoint, call, call_result
from ocpp.v201.enums import (
    Action,
    AttributeEnumType,
    AuthorizationStatusEnumType,
    CancelReservationStatusEnumType,
    ChangeAvailabilityStatusEnumType,
    ChargingProfileStatusEnumType,
    ClearCacheStatusEnumType,
    ClearChargingProfileStatusEnumType,
    ConnectorStatusEnumType,
    DataTransferStatusEnumType,
    FirmwareStatusEnumType,
    GenericDeviceModelStatusEnumType,
    GenericStatusEnumType,
    GetChargingProfileStatusEnumType,
    GetVariableStatusEnumType,
    LogStatusEnumType,
    MessageTriggerEnumType,
    MutabilityEnumType,
    OperationalStatusEnumType,
    ReasonEnumType,
    ReportBaseEnumType,
    RequestStartStopStatusEnumType,
    ReserveNowStatusEnumType,
    ResetEnumType,
    ResetStatusEnumType,
    SetVariableStatusEnumType,
    TransactionEventEnumType,
    TriggerMessageStatusEnumType,
    TriggerReasonEnumType,
    UnlockStatusEnumType,
    UpdateEnumType,
    UpdateFirmwareStatusEnumType,
    UploadLogStatusEnumType,
)
from websockets.asyncio.client import ClientConnection

from tools.station_behaviour import (
    Behaviour,
    FollowUp,
    ScriptedChargePoint,
    compose_periods,
    now_iso,
    on,
    open_websocket,
    pages,
    periods_in,
    running,
    update_local_list,
)

__all__ = [
    "Behaviour",
    "DeviceVariable",
    "InstalledProfile201",
    "Reservation201",
    "SimulatedStation201",
    "Transaction201",
    "VariableKey",
    "connected_station_201",
]

OPERATIVE = OperationalStatusEnumType.operative
INOPERATIVE = OperationalStatusEnumType.inoperative
STATION_MAX = "ChargingStationMaxProfile"
TX_DEFAULT = "TxDefaultProfile"
TX_PROFILE = "TxProfile"


class VariableKey(NamedTuple):
    """Where a variable lives in the device model (component, variable, EVSE, connector)."""

    component: str
    variable: str
    evse_id: int | None = None
    connector_id: int | None = None


@dataclass
class DeviceVariable:
    value: str
    mutability: str = MutabilityEnumType.read_write
    data_type: str = "string"  # DataEnumType: string, integer, boolean, decimal, OptionList...


@dataclass
class Transaction201:
    transaction_id: str
    evse_id: int
    connector_id: int
    id_token: dict[str, str] | None
    remote_start_id: int | None = None
    next_seq_no: int = 0
    stopping: bool = False  # a stop was accepted; its TransactionEvent Ended is on its way

    def take_seq_no(self) -> int:
        """seqNo counts the TransactionEvents of one transaction, from 0."""
        seq_no, self.next_seq_no = self.next_seq_no, self.next_seq_no + 1
        return seq_no


@dataclass
class Reservation201:
    reservation_id: int
    evse_id: int | None  # None: any EVSE
    id_token: dict[str, str]
    expiry_date_time: str


@dataclass
class InstalledProfile201:
    """A charging profile as the CSMS sent it (the library's snake_case keys)."""

    evse_id: int
    profile: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> int:
        return int(self.profile["id"])

    @property
    def purpose(self) -> str:
        return str(self.profile["charging_profile_purpose"])

    @property
    def stack_level(self) -> int:
        return int(self.profile["stack_level"])

    @property
    def schedule(self) -> dict[str, Any]:
        first: dict[str, Any] = self.profile["charging_schedule"][0]
        return first


def id_token_of(token: str | dict[str, str], type: str = "ISO14443") -> dict[str, str]:
    """An IdTokenType (snake_case keys) from a bare token or an IdTokenType."""
    return dict(token) if isinstance(token, dict) else {"id_token": token, "type": type}


def default_device_model(
    evses: int, vendor: str = "Simulated", model: str = "SIM-201"
) -> dict[VariableKey, DeviceVariable]:
    """A small device model: enough for GetVariables/SetVariables/GetBaseReport tests.

    AvailabilityState values are placeholders: they are computed when read.
    """
    read_only = MutabilityEnumType.read_only
    variables = {
        VariableKey("ChargingStation", "AvailabilityState"): DeviceVariable(
            "Available", read_only, "OptionList"
        ),
        VariableKey("ChargingStation", "Model"): DeviceVariable(model, read_only),
        VariableKey("ChargingStation", "VendorName"): DeviceVariable(vendor, read_only),
        VariableKey("OCPPCommCtrlr", "HeartbeatInterval"): DeviceVariable(
            "300", "ReadWrite", "integer"
        ),
        VariableKey("OCPPCommCtrlr", "RetryBackOffWaitMinimum"): DeviceVariable(
            "30", "ReadWrite", "integer"
        ),
        VariableKey("SampledDataCtrlr", "TxUpdatedInterval"): DeviceVariable(
            "60", "ReadWrite", "integer"
        ),
        VariableKey("SampledDataCtrlr", "TxUpdatedMeasurands"): DeviceVariable(
            "Energy.Active.Import.Register", "ReadWrite", "MemberList"
        ),
        VariableKey("AuthCtrlr", "AuthorizeRemoteStart"): DeviceVariable(
            "false", "ReadWrite", "boolean"
        ),
        VariableKey("AuthCtrlr", "LocalAuthorizeOffline"): DeviceVariable(
            "true", "ReadWrite", "boolean"
        ),
        VariableKey("LocalAuthListCtrlr", "Enabled"): DeviceVariable(
            "true", "ReadWrite", "boolean"
        ),
        VariableKey("LocalAuthListCtrlr", "EntriesMax"): DeviceVariable(
            "100", read_only, "integer"
        ),
        VariableKey("TxCtrlr", "EVConnectionTimeOut"): DeviceVariable("60", "ReadWrite", "integer"),
        VariableKey("TxCtrlr", "StopTxOnInvalidId"): DeviceVariable("true", "ReadWrite", "boolean"),
        VariableKey("SecurityCtrlr", "BasicAuthPassword"): DeviceVariable(
            "", MutabilityEnumType.write_only
        ),
    }
    for evse_id in range(1, evses + 1):
        variables[VariableKey("EVSE", "AvailabilityState", evse_id)] = DeviceVariable(
            "Available", read_only, "OptionList"
        )
        variables[VariableKey("EVSE", "Power", evse_id)] = DeviceVariable(
            "22000", read_only, "decimal"
        )
        variables[VariableKey("Connector", "AvailabilityState", evse_id, 1)] = DeviceVariable(
            "Available", read_only, "OptionList"
        )
        variables[VariableKey("Connector", "ConnectorType", evse_id, 1)] = DeviceVariable(
            "cType2", read_only
        )
    return variables


class SimulatedStation201(ScriptedChargePoint, ChargePoint):  # type: ignore[misc]
    """The station side of OCPP 2.0.1: convenience calls that return the CSMS's answers
    (CALLERRORs raise), and handlers for the CSMS's calls.

    Observable state: `received` (every CSMS call), `device_model`, `availability` (EVSE ->
    Operative/Inoperative, 0 = the whole station), `scheduled_availability`,
    `scheduled_reset`, `transactions` (EVSE -> Transaction201), `meter_wh` (EVSE ->
    register), `reservations`, `charging_profiles` (by id), `local_list` (idToken ->
    idTokenInfo), `local_list_version`, `firmware_status`, `log_status`.
    """

    websocket: ClientConnection

    rejectable = frozenset(
        {
            Action.cancel_reservation,
            Action.change_availability,
            Action.clear_cache,
            Action.clear_charging_profile,
            Action.data_transfer,
            Action.get_base_report,
            Action.get_charging_profiles,
            Action.get_composite_schedule,
            Action.get_log,
            Action.get_variables,
            Action.request_start_transaction,
            Action.request_stop_transaction,
            Action.reserve_now,
            Action.reset,
            Action.send_local_list,
            Action.set_charging_profile,
            Action.set_variables,
            Action.trigger_message,
            Action.unlock_connector,
            Action.update_firmware,
        }
    )

    def __init__(
        self,
        station_id: str,
        connection: Any,
        response_timeout: float = 30,
        evses: int = 2,
    ) -> None:
        super().__init__(station_id, connection, response_timeout=response_timeout)
        self.evses = evses
        self.device_model = default_device_model(evses)
        self.availability: dict[int, str] = dict.fromkeys(range(evses + 1), OPERATIVE)
        self.scheduled_availability: dict[int, str] = {}
        self.scheduled_reset = False
        self.transactions: dict[int, Transaction201] = {}
        self.meter_wh: dict[int, int] = dict.fromkeys(range(1, evses + 1), 0)
        self.reservations: dict[int, Reservation201] = {}
        self.charging_profiles: dict[int, InstalledProfile201] = {}
        self.local_list: dict[str, dict[str, Any]] = {}
        self.local_list_version = 0
        self.firmware_status: str = FirmwareStatusEnumType.idle
        self.log_status: str = UploadLogStatusEnumType.idle
        self.report_page_size = 4
        """Report items per NotifyReport frame: small, so reports span several frames."""
        self._preparing: set[int] = set()  # remote start accepted, Started not sent yet
        self._boot_fields: dict[str, Any] = {}

    # --- messages the station sends ----------------------------------------------------

    async def boot(
        self,
        reason: str = "PowerUp",
        vendor: str = "Simulated",
        model: str = "SIM-201",
        firmware_version: str | None = None,
        serial_number: str | None = None,
    ) -> call_result.BootNotification:
        self._boot_fields = {
            "vendor": vendor,
            "model": model,
            "firmware_version": firmware_version,
            "serial_number": serial_number,
        }
        station = {"vendor_name": vendor, "model": model}
        if firmware_version is not None:
            station["firmware_version"] = firmware_version
        if serial_number is not None:
            station["serial_number"] = serial_number
        answer = await self.call(
            call.BootNotification(charging_station=station, reason=reason), suppress=False
        )
        if answer.status == "Accepted":
            heartbeat = VariableKey("OCPPCommCtrlr", "HeartbeatInterval")
            self.device_model[heartbeat].value = str(answer.interval)
        return answer

    async def heartbeat(self) -> call_result.Heartbeat:
        return await self.call(call.Heartbeat(), suppress=False)

    async def status(
        self, evse_id: int, connector_id: int = 1, status: str = ConnectorStatusEnumType.available
    ) -> call_result.StatusNotification:
        return await self.call(
            call.StatusNotification(
                timestamp=now_iso(),
                connector_status=status,
                evse_id=evse_id,
                connector_id=connector_id,
            ),
            suppress=False,
        )

    async def authorize(
        self, id_token: str | dict[str, str], type: str = "ISO14443"
    ) -> call_result.Authorize:
        return await self.call(call.Authorize(id_token=id_token_of(id_token, type)), suppress=False)

    async def transaction_event(
        self,
        event_type: str,
        transaction_id: str,
        seq_no: int,
        trigger_reason: str,
        evse_id: int,
        connector_id: int = 1,
        id_token: str | dict[str, str] | None = None,
        meter_wh: int | None = None,
        charging_state: str | None = None,
        stopped_reason: str | None = None,
        offline: bool = False,
        timestamp: str | None = None,
        context: str | None = None,
        remote_start_id: int | None = None,
        reservation_id: int | None = None,
    ) -> call_result.TransactionEvent:
        """One TransactionEvent; `context` defaults to what `event_type` implies."""
        info: dict[str, Any] = {"transaction_id": transaction_id}
        optional = {
            "charging_state": charging_state,
            "stopped_reason": stopped_reason,
            "remote_start_id": remote_start_id,
        }
        info |= {key: value for key, value in optional.items() if value is not None}
        meter_value = None
        if meter_wh is not None:
            context = context or _EVENT_CONTEXT[event_type]
            meter_value = [energy_sample(meter_wh, context, timestamp)]
        return await self.call(
            call.TransactionEvent(
                event_type=event_type,
                timestamp=timestamp or now_iso(),
                trigger_reason=trigger_reason,
                seq_no=seq_no,
                transaction_info=info,
                meter_value=meter_value,
                offline=offline or None,
                reservation_id=reservation_id,
                evse={"id": evse_id, "connector_id": connector_id},
                id_token=id_token_of(id_token) if id_token is not None else None,
            ),
            suppress=False,
        )

    async def start_session(
        self,
        evse_id: int = 1,
        id_token: str | dict[str, str] | None = "RFID-0001",
        meter_wh: int | None = None,
        trigger_reason: str = TriggerReasonEnumType.authorized,
        remote_start_id: int | None = None,
        reservation_id: int | None = None,
        charging_state: str = "Charging",
    ) -> tuple[str, call_result.TransactionEvent]:
        """TransactionEvent Started on `evse_id`; returns (transactionId, the CSMS's answer).

        The transaction is tracked in `transactions` from now on, with its seqNo.
        """
        token = id_token_of(id_token) if id_token is not None else None
        transaction = Transaction201(str(uuid.uuid4()), evse_id, 1, token, remote_start_id)
        self.transactions[evse_id] = transaction
        if meter_wh is not None:
            self.meter_wh[evse_id] = meter_wh
        answer = await self.transaction_event(
            TransactionEventEnumType.started,
            transaction.transaction_id,
            transaction.take_seq_no(),
            trigger_reason,
            evse_id,
            id_token=token,
            meter_wh=self.meter_wh.get(evse_id, 0),
            charging_state=charging_state,
            remote_start_id=remote_start_id,
            reservation_id=reservation_id,
        )
        return transaction.transaction_id, answer

    async def update_session(
        self,
        evse_id: int = 1,
        meter_wh: int | None = None,
        trigger_reason: str = TriggerReasonEnumType.meter_value_periodic,
        charging_state: str | None = None,
    ) -> call_result.TransactionEvent:
        """TransactionEvent Updated for the transaction running on `evse_id`."""
        transaction = self.transactions[evse_id]
        if meter_wh is not None:
            self.meter_wh[evse_id] = meter_wh
        return await self.transaction_event(
            TransactionEventEnumType.updated,
            transaction.transaction_id,
            transaction.take_seq_no(),
            trigger_reason,
            evse_id,
            meter_wh=self.meter_wh[evse_id],
            charging_state=charging_state,
            context="Trigger" if trigger_reason == TriggerReasonEnumType.trigger else None,
        )

    async def end_session(
        self,
        evse_id: int = 1,
        meter_wh: int | None = None,
        stopped_reason: str = ReasonEnumType.local,
        trigger_reason: str = TriggerReasonEnumType.stop_authorized,
    ) -> call_result.TransactionEvent:
        """TransactionEvent Ended for the transaction running on `evse_id`."""
        transaction = self.transactions[evse_id]
        if meter_wh is not None:
            self.meter_wh[evse_id] = meter_wh
        answer = await self.transaction_event(
            TransactionEventEnumType.ended,
            transaction.transaction_id,
            transaction.take_seq_no(),
            trigger_reason,
            evse_id,
            meter_wh=self.meter_wh[evse_id],
            charging_state="Idle",
            stopped_reason=stopped_reason,
        )
        self._forget_transaction(evse_id)
        return answer

    async def meter_values(
        self, evse_id: int, energy_wh: int, context: str = "Sample.Periodic"
    ) -> call_result.MeterValues:
        self.meter_wh[evse_id] = energy_wh
        return await self.call(
            call.MeterValues(evse_id=evse_id, meter_value=[energy_sample(energy_wh, context)]),
            suppress=False,
        )

    async def notify_report(
        self, request_id: int, report_data: list[dict[str, Any]], seq_no: int, tbc: bool
    ) -> call_result.NotifyReport:
        return await self.call(
            call.NotifyReport(
                request_id=request_id,
                generated_at=now_iso(),
                seq_no=seq_no,
                report_data=report_data or None,
                tbc=tbc,
            ),
            suppress=False,
        )

    async def firmware_status_notification(
        self, status: str, request_id: int | None = None
    ) -> None:
        self.firmware_status = status
        await self.call(
            call.FirmwareStatusNotification(status=status, request_id=request_id), suppress=False
        )

    async def log_status_notification(self, status: str, request_id: int | None = None) -> None:
        self.log_status = status
        await self.call(
            call.LogStatusNotification(status=status, request_id=request_id), suppress=False
        )

    # --- derived state -----------------------------------------------------------------

    def connector_status(self, evse_id: int) -> ConnectorStatusEnumType:
        """The status of the (single) connector of an EVSE right now."""
        if INOPERATIVE in (self.availability[0], self.availability[evse_id]):
            return ConnectorStatusEnumType.unavailable
        if evse_id in self.transactions or evse_id in self._preparing:
            return ConnectorStatusEnumType.occupied
        if self._reservation_on(evse_id) is not None:
            return ConnectorStatusEnumType.reserved
        return ConnectorStatusEnumType.available

    def variable_value(self, key: VariableKey) -> str:
        """The Actual value of a variable; AvailabilityState follows the station's state."""
        if key.variable != "AvailabilityState":
            return self.device_model[key].value
        if key.evse_id is None:
            return "Unavailable" if self.availability[0] == INOPERATIVE else "Available"
        return str(self.connector_status(key.evse_id))

    def _is_evse(self, evse_id: int | None) -> bool:
        return evse_id is not None and 1 <= evse_id <= self.evses

    def _is_free(self, evse_id: int, id_token: str | None = None) -> bool:
        reservation = self._reservation_on(evse_id)
        return self.connector_status(evse_id) in (
            ConnectorStatusEnumType.available,
            ConnectorStatusEnumType.reserved,
        ) and (reservation is None or reservation.id_token["id_token"] == id_token)

    def _reservation_on(self, evse_id: int) -> Reservation201 | None:
        return next((r for r in self.reservations.values() if r.evse_id == evse_id), None)

    def _transaction(self, transaction_id: str) -> Transaction201 | None:
        return next(
            (t for t in self.transactions.values() if t.transaction_id == transaction_id), None
        )

    def _flag(self, component: str, variable: str) -> bool:
        return self.device_model[VariableKey(component, variable)].value.lower() == "true"

    def _affected(self, evse_id: int) -> list[int]:
        return list(range(1, self.evses + 1)) if evse_id == 0 else [evse_id]

    def _statuses(self) -> dict[int, ConnectorStatusEnumType]:
        return {evse_id: self.connector_status(evse_id) for evse_id in range(1, self.evses + 1)}

    def _forget_transaction(self, evse_id: int) -> None:
        del self.transactions[evse_id]
        # A TxProfile lives as long as its transaction.
        for profile_id, installed in list(self.charging_profiles.items()):
            if installed.purpose == TX_PROFILE and installed.evse_id == evse_id:
                del self.charging_profiles[profile_id]
        for target, wanted in list(self.scheduled_availability.items()):
            if not any(e in self.transactions for e in self._affected(target)):
                self.availability[target] = wanted
                del self.scheduled_availability[target]
        if self.scheduled_reset and not self.transactions:
            self.scheduled_reset = False
            self.spawn(functools.partial(self._reboot, ReasonEnumType.reboot))

    # --- follow-up sequences -----------------------------------------------------------

    async def send_statuses(self, evse_ids: Iterable[int]) -> None:
        for evse_id in evse_ids:
            await self.status(evse_id, 1, self.connector_status(evse_id))

    async def _remote_start(
        self, evse_id: int, id_token: dict[str, str], remote_start_id: int
    ) -> None:
        try:
            await self.send_statuses([evse_id])  # Occupied: the EV is being plugged in
            if await self._may_start(id_token):
                await self._start_remotely(evse_id, id_token, remote_start_id)
        finally:
            self._preparing.discard(evse_id)
        if evse_id not in self.transactions:
            await self.send_statuses([evse_id])  # Available again

    async def _may_start(self, id_token: dict[str, str]) -> bool:
        if not self._flag("AuthCtrlr", "AuthorizeRemoteStart"):
            return True
        authorized = await self.authorize(id_token)
        return bool(authorized.id_token_info["status"] == AuthorizationStatusEnumType.accepted)

    async def _start_remotely(
        self, evse_id: int, id_token: dict[str, str], remote_start_id: int
    ) -> None:
        reservation = self._reservation_on(evse_id)
        if reservation is not None:  # the reserved idToken arrived: the reservation is used up
            del self.reservations[reservation.reservation_id]
        _, answer = await self.start_session(
            evse_id,
            id_token,
            trigger_reason=TriggerReasonEnumType.remote_start,
            remote_start_id=remote_start_id,
            reservation_id=reservation.reservation_id if reservation else None,
        )
        status = (answer.id_token_info or {}).get("status", "Accepted")
        if status != "Accepted" and self._flag("TxCtrlr", "StopTxOnInvalidId"):
            await self.end_session(
                evse_id,
                stopped_reason=ReasonEnumType.de_authorized,
                trigger_reason=TriggerReasonEnumType.deauthorized,
            )

    async def _stop(self, evse_id: int, reason: str, trigger_reason: str) -> None:
        before = self._statuses()
        await self.end_session(evse_id, stopped_reason=reason, trigger_reason=trigger_reason)
        # The EVSE, and any EVSE a scheduled availability change just reached.
        after = self._statuses()
        await self.send_statuses(e for e in after if e == evse_id or after[e] != before[e])

    async def _reboot(self, reason: str) -> None:
        """A station reset as the CSMS sees it: transactions end, then a new boot.

        The simulated station keeps its WebSocket; a real one reconnects.
        """
        for evse_id in list(self.transactions):
            await self.end_session(
                evse_id, stopped_reason=reason, trigger_reason=TriggerReasonEnumType.reset_command
            )
        await self.boot("RemoteReset", **self._boot_fields)
        await self.send_statuses(range(1, self.evses + 1))

    async def _send_report(self, request_id: int, report: list[dict[str, Any]]) -> None:
        chunks = pages(report, self.report_page_size)
        for seq_no, chunk in enumerate(chunks):
            await self.notify_report(request_id, chunk, seq_no, tbc=seq_no < len(chunks) - 1)

    async def _report_profiles(self, request_id: int, profiles: list[InstalledProfile201]) -> None:
        evse_ids = sorted({p.evse_id for p in profiles})
        for index, evse_id in enumerate(evse_ids):
            await self.call(
                call.ReportChargingProfiles(
                    request_id=request_id,
                    charging_limit_source="CSO",
                    charging_profile=[p.profile for p in profiles if p.evse_id == evse_id],
                    evse_id=evse_id,
                    tbc=index < len(evse_ids) - 1,
                ),
                suppress=False,
            )

    async def _update_firmware(self, request_id: int) -> None:
        for status in (
            FirmwareStatusEnumType.downloading,
            FirmwareStatusEnumType.downloaded,
            FirmwareStatusEnumType.installing,
            FirmwareStatusEnumType.installed,
        ):
            await self._pause()
            await self.firmware_status_notification(status, request_id)

    async def _upload_log(self, request_id: int) -> None:
        for status in (UploadLogStatusEnumType.uploading, UploadLogStatusEnumType.uploaded):
            await self._pause()
            await self.log_status_notification(status, request_id)

    async def _send_meter_values(self, evse_ids: Iterable[int]) -> None:
        for evse_id in evse_ids:
            await self.meter_values(evse_id, self.meter_wh[evse_id], context="Trigger")

    async def _send_transaction_updates(self, evse_ids: Iterable[int]) -> None:
        for evse_id in evse_ids:
            await self.update_session(evse_id, trigger_reason=TriggerReasonEnumType.trigger)

    # --- transactions ------------------------------------------------------------------

    @on(Action.request_start_transaction)
    def on_request_start_transaction(
        self,
        id_token: dict[str, str],
        remote_start_id: int,
        evse_id: int | None = None,
        charging_profile: dict[str, Any] | None = None,
        **_: Any,
    ) -> call_result.RequestStartTransaction:
        token = id_token["id_token"]
        if evse_id is None:  # any free EVSE will do
            free = [e for e in range(1, self.evses + 1) if self._is_free(e, token)]
            evse_id = free[0] if free else 0
        if self.rejecting() or not self._is_evse(evse_id) or not self._is_free(evse_id, token):
            return call_result.RequestStartTransaction(RequestStartStopStatusEnumType.rejected)
        if charging_profile is not None:
            profile = InstalledProfile201(evse_id, charging_profile)
            self.charging_profiles[profile.id] = profile
        self._preparing.add(evse_id)
        self.follow_up(functools.partial(self._remote_start, evse_id, id_token, remote_start_id))
        return call_result.RequestStartTransaction(RequestStartStopStatusEnumType.accepted)

    @on(Action.request_stop_transaction)
    def on_request_stop_transaction(
        self, transaction_id: str, **_: Any
    ) -> call_result.RequestStopTransaction:
        transaction = self._transaction(transaction_id)
        if self.rejecting() or transaction is None or transaction.stopping:
            return call_result.RequestStopTransaction(RequestStartStopStatusEnumType.rejected)
        transaction.stopping = True
        self.follow_up(
            functools.partial(
                self._stop,
                transaction.evse_id,
                ReasonEnumType.remote,
                TriggerReasonEnumType.remote_stop,
            )
        )
        return call_result.RequestStopTransaction(RequestStartStopStatusEnumType.accepted)

    @on(Action.unlock_connector)
    def on_unlock_connector(
        self, evse_id: int, connector_id: int, **_: Any
    ) -> call_result.UnlockConnector:
        if not self._is_evse(evse_id) or connector_id != 1:
            return call_result.UnlockConnector(UnlockStatusEnumType.unknown_connector)
        if self.rejecting():
            return call_result.UnlockConnector(UnlockStatusEnumType.unlock_failed)
        if evse_id in self.transactions:  # the CSMS must stop the transaction first
            return call_result.UnlockConnector(UnlockStatusEnumType.ongoing_authorized_transaction)
        return call_result.UnlockConnector(UnlockStatusEnumType.unlocked)

    # --- availability and reset --------------------------------------------------------

    @on(Action.reset)
    def on_reset(self, type: str, evse_id: int | None = None, **_: Any) -> call_result.Reset:
        if self.rejecting() or (evse_id is not None and not self._is_evse(evse_id)):
            return call_result.Reset(ResetStatusEnumType.rejected)
        if evse_id is not None:  # resetting one EVSE ends its session, nothing else
            if evse_id in self.transactions:
                self.follow_up(
                    functools.partial(
                        self._stop,
                        evse_id,
                        ReasonEnumType.immediate_reset,
                        TriggerReasonEnumType.reset_command,
                    )
                )
            return call_result.Reset(ResetStatusEnumType.accepted)
        if type == ResetEnumType.on_idle and self.transactions:
            self.scheduled_reset = True  # rebooted when the last transaction ends
            return call_result.Reset(ResetStatusEnumType.scheduled)
        self.follow_up(functools.partial(self._reboot, ReasonEnumType.immediate_reset))
        return call_result.Reset(ResetStatusEnumType.accepted)

    @on(Action.change_availability)
    def on_change_availability(
        self, operational_status: str, evse: dict[str, int] | None = None, **_: Any
    ) -> call_result.ChangeAvailability:
        target = evse["id"] if evse else 0
        if self.rejecting() or target not in self.availability:
            return call_result.ChangeAvailability(ChangeAvailabilityStatusEnumType.rejected)
        affected = self._affected(target)
        if operational_status == INOPERATIVE and any(e in self.transactions for e in affected):
            # Running sessions finish first; the change happens when they end.
            self.scheduled_availability[target] = operational_status
            return call_result.ChangeAvailability(ChangeAvailabilityStatusEnumType.scheduled)
        self.scheduled_availability.pop(target, None)
        self.availability[target] = operational_status
        self.follow_up(functools.partial(self.send_statuses, affected))
        return call_result.ChangeAvailability(ChangeAvailabilityStatusEnumType.accepted)

    # --- device model ------------------------------------------------------------------

    @on(Action.get_variables)
    def on_get_variables(
        self, get_variable_data: list[dict[str, Any]], **_: Any
    ) -> call_result.GetVariables:
        return call_result.GetVariables(
            get_variable_result=[self._get_variable(item) for item in get_variable_data]
        )

    def _get_variable(self, item: dict[str, Any]) -> dict[str, Any]:
        key = _key_of(item["component"], item["variable"])
        attribute = item.get("attribute_type", AttributeEnumType.actual)
        status = self._lookup_status(key, attribute)
        write_only = MutabilityEnumType.write_only
        if status == GetVariableStatusEnumType.accepted and (
            self.rejecting() or self.device_model[key].mutability == write_only
        ):
            status = GetVariableStatusEnumType.rejected
        result = {
            "attribute_status": status,
            "attribute_type": attribute,
            "component": item["component"],
            "variable": item["variable"],
        }
        if status == GetVariableStatusEnumType.accepted:
            result["attribute_value"] = self.variable_value(key)
        return result

    def _lookup_status(self, key: VariableKey, attribute: str) -> str:
        """Get/SetVariableStatus before checking mutability (both enums share these)."""
        if not any(_same_component(key, known) for known in self.device_model):
            return "UnknownComponent"
        if key not in self.device_model:
            return "UnknownVariable"
        if attribute != AttributeEnumType.actual:
            return "NotSupportedAttributeType"
        return "Accepted"

    @on(Action.set_variables)
    def on_set_variables(
        self, set_variable_data: list[dict[str, Any]], **_: Any
    ) -> call_result.SetVariables:
        return call_result.SetVariables(
            set_variable_result=[self._set_variable(item) for item in set_variable_data]
        )

    def _set_variable(self, item: dict[str, Any]) -> dict[str, Any]:
        key = _key_of(item["component"], item["variable"])
        attribute = item.get("attribute_type", AttributeEnumType.actual)
        status = self._lookup_status(key, attribute)
        if status == SetVariableStatusEnumType.accepted:
            variable = self.device_model[key]
            value = str(item["attribute_value"])
            if (
                self.rejecting()
                or variable.mutability == MutabilityEnumType.read_only
                or not _fits(variable.data_type, value)
            ):
                status = SetVariableStatusEnumType.rejected
            else:
                variable.value = value
        return {
            "attribute_status": status,
            "attribute_type": attribute,
            "component": item["component"],
            "variable": item["variable"],
        }

    @on(Action.get_base_report)
    def on_get_base_report(
        self, request_id: int, report_base: str, **_: Any
    ) -> call_result.GetBaseReport:
        if self.rejecting():
            return call_result.GetBaseReport(GenericDeviceModelStatusEnumType.rejected)
        report = [self._report_item(key) for key in self._report_keys(report_base)]
        if not report:
            return call_result.GetBaseReport(GenericDeviceModelStatusEnumType.empty_result_set)
        self.follow_up(functools.partial(self._send_report, request_id, report))
        return call_result.GetBaseReport(GenericDeviceModelStatusEnumType.accepted)

    def _report_keys(self, report_base: str) -> list[VariableKey]:
        keys = list(self.device_model)
        if report_base == ReportBaseEnumType.configuration_inventory:
            return [k for k in keys if self.device_model[k].mutability != "ReadOnly"]
        if report_base == ReportBaseEnumType.summary_inventory:
            return [k for k in keys if k.variable == "AvailabilityState"]
        return keys

    def _report_item(self, key: VariableKey) -> dict[str, Any]:
        variable = self.device_model[key]
        attribute: dict[str, Any] = {"type": "Actual", "mutability": variable.mutability}
        if variable.mutability != MutabilityEnumType.write_only:
            attribute["value"] = self.variable_value(key)
        return {
            "component": _component_of(key),
            "variable": {"name": key.variable},
            "variable_attribute": [attribute],
            "variable_characteristics": {
                "data_type": variable.data_type,
                "supports_monitoring": False,
            },
        }

    # --- remote trigger, cache, data transfer ------------------------------------------

    @on(Action.trigger_message)
    def on_trigger_message(
        self, requested_message: str, evse: dict[str, int] | None = None, **_: Any
    ) -> call_result.TriggerMessage:
        evse_id = evse["id"] if evse else None
        if self.rejecting() or (evse_id is not None and not self._is_evse(evse_id)):
            return call_result.TriggerMessage(TriggerMessageStatusEnumType.rejected)
        evse_ids = [evse_id] if evse_id is not None else list(range(1, self.evses + 1))
        if requested_message == MessageTriggerEnumType.transaction_event:
            evse_ids = [e for e in evse_ids if e in self.transactions]
            if not evse_ids:  # nothing to report on
                return call_result.TriggerMessage(TriggerMessageStatusEnumType.rejected)
        message = self._triggered(requested_message, evse_ids)
        if message is None:
            return call_result.TriggerMessage(TriggerMessageStatusEnumType.not_implemented)
        self.follow_up(message)
        return call_result.TriggerMessage(TriggerMessageStatusEnumType.accepted)

    def _triggered(self, requested: str, evse_ids: list[int]) -> FollowUp | None:
        """The follow-up that sends the requested message, or None if not implemented."""
        messages: dict[str, FollowUp] = {
            MessageTriggerEnumType.boot_notification: functools.partial(
                self.boot, "Triggered", **self._boot_fields
            ),
            MessageTriggerEnumType.heartbeat: self.heartbeat,
            MessageTriggerEnumType.status_notification: functools.partial(
                self.send_statuses, evse_ids
            ),
            MessageTriggerEnumType.meter_values: functools.partial(
                self._send_meter_values, evse_ids
            ),
            MessageTriggerEnumType.transaction_event: functools.partial(
                self._send_transaction_updates, evse_ids
            ),
            MessageTriggerEnumType.firmware_status_notification: functools.partial(
                self.firmware_status_notification, self.firmware_status
            ),
            MessageTriggerEnumType.log_status_notification: functools.partial(
                self.log_status_notification, self.log_status
            ),
        }
        return messages.get(requested)

    @on(Action.clear_cache)
    def on_clear_cache(self, **_: Any) -> call_result.ClearCache:
        if self.rejecting():
            return call_result.ClearCache(ClearCacheStatusEnumType.rejected)
        return call_result.ClearCache(ClearCacheStatusEnumType.accepted)

    @on(Action.data_transfer)
    def on_data_transfer(self, vendor_id: str, **_: Any) -> call_result.DataTransfer:
        if self.rejecting():
            return call_result.DataTransfer(DataTransferStatusEnumType.rejected)
        return call_result.DataTransfer(DataTransferStatusEnumType.unknown_vendor_id)

    # --- local authorization list ------------------------------------------------------

    @on(Action.send_local_list)
    def on_send_local_list(
        self,
        version_number: int,
        update_type: str,
        local_authorization_list: list[dict[str, Any]] | None = None,
        **_: Any,
    ) -> call_result.SendLocalList:
        if self.rejecting():
            return call_result.SendLocalList("Failed")
        entries = local_authorization_list or []
        status = update_local_list(
            self.local_list,
            self.local_list_version,
            version_number,
            full=update_type == UpdateEnumType.full,
            changes=[(e["id_token"]["id_token"], e.get("id_token_info")) for e in entries],
            max_length=int(
                self.device_model[VariableKey("LocalAuthListCtrlr", "EntriesMax")].value
            ),
        )
        if status == "Accepted":
            self.local_list_version = version_number
        return call_result.SendLocalList(status)

    @on(Action.get_local_list_version)
    def on_get_local_list_version(self, **_: Any) -> call_result.GetLocalListVersion:
        return call_result.GetLocalListVersion(version_number=self.local_list_version)

    # --- reservations ------------------------------------------------------------------

    @on(Action.reserve_now)
    def on_reserve_now(
        self,
        id: int,
        expiry_date_time: str,
        id_token: dict[str, str],
        evse_id: int | None = None,
        **_: Any,
    ) -> call_result.ReserveNow:
        # A reservation with a known id replaces that reservation.
        previous = self.reservations.pop(id, None)
        status = self._reservation_status(evse_id, id_token["id_token"])
        if status != ReserveNowStatusEnumType.accepted:
            if previous is not None:
                self.reservations[id] = previous
            return call_result.ReserveNow(status)
        self.reservations[id] = Reservation201(id, evse_id, id_token, expiry_date_time)
        if evse_id is not None:
            self.follow_up(functools.partial(self.send_statuses, [evse_id]))
        return call_result.ReserveNow(ReserveNowStatusEnumType.accepted)

    def _reservation_status(self, evse_id: int | None, token: str) -> ReserveNowStatusEnumType:
        if self.rejecting() or (evse_id is not None and not self._is_evse(evse_id)):
            return ReserveNowStatusEnumType.rejected
        candidates = [evse_id] if evse_id is not None else list(range(1, self.evses + 1))
        if all(self.connector_status(e) == "Unavailable" for e in candidates):
            return ReserveNowStatusEnumType.unavailable
        if not any(self._is_free(e, token) for e in candidates):
            return ReserveNowStatusEnumType.occupied
        return ReserveNowStatusEnumType.accepted

    @on(Action.cancel_reservation)
    def on_cancel_reservation(self, reservation_id: int, **_: Any) -> call_result.CancelReservation:
        if self.rejecting() or reservation_id not in self.reservations:
            return call_result.CancelReservation(CancelReservationStatusEnumType.rejected)
        reservation = self.reservations.pop(reservation_id)
        if reservation.evse_id is not None:
            self.follow_up(functools.partial(self.send_statuses, [reservation.evse_id]))
        return call_result.CancelReservation(CancelReservationStatusEnumType.accepted)

    # --- smart charging ----------------------------------------------------------------

    @on(Action.set_charging_profile)
    def on_set_charging_profile(
        self, evse_id: int, charging_profile: dict[str, Any], **_: Any
    ) -> call_result.SetChargingProfile:
        profile = InstalledProfile201(evse_id, charging_profile)
        if self.rejecting() or not self._profile_fits(profile):
            return call_result.SetChargingProfile(ChargingProfileStatusEnumType.rejected)
        # Same id, or same purpose and stack level on the EVSE: the new one replaces it.
        for profile_id, installed in list(self.charging_profiles.items()):
            if installed.evse_id == evse_id and (installed.purpose, installed.stack_level) == (
                profile.purpose,
                profile.stack_level,
            ):
                del self.charging_profiles[profile_id]
        self.charging_profiles[profile.id] = profile
        return call_result.SetChargingProfile(ChargingProfileStatusEnumType.accepted)

    def _profile_fits(self, profile: InstalledProfile201) -> bool:
        evse_id = profile.evse_id
        if profile.purpose == STATION_MAX:
            return evse_id == 0
        if profile.purpose == TX_PROFILE:
            transaction = self.transactions.get(evse_id)
            wanted = profile.profile.get("transaction_id")
            return transaction is not None and wanted in (None, transaction.transaction_id)
        return evse_id == 0 or self._is_evse(evse_id)

    @on(Action.clear_charging_profile)
    def on_clear_charging_profile(
        self,
        charging_profile_id: int | None = None,
        charging_profile_criteria: dict[str, Any] | None = None,
        **_: Any,
    ) -> call_result.ClearChargingProfile:
        criteria = charging_profile_criteria or {}

        def matches(installed: InstalledProfile201) -> bool:
            if charging_profile_id is not None:
                return installed.id == charging_profile_id
            return (
                criteria.get("evse_id") in (None, installed.evse_id)
                and criteria.get("charging_profile_purpose") in (None, installed.purpose)
                and criteria.get("stack_level") in (None, installed.stack_level)
            )

        cleared = [pid for pid, p in self.charging_profiles.items() if matches(p)]
        if self.rejecting() or not cleared:
            return call_result.ClearChargingProfile(ClearChargingProfileStatusEnumType.unknown)
        for profile_id in cleared:
            del self.charging_profiles[profile_id]
        return call_result.ClearChargingProfile(ClearChargingProfileStatusEnumType.accepted)

    @on(Action.get_charging_profiles)
    def on_get_charging_profiles(
        self,
        request_id: int,
        charging_profile: dict[str, Any],
        evse_id: int | None = None,
        **_: Any,
    ) -> call_result.GetChargingProfiles:
        found = [
            p
            for p in self.charging_profiles.values()
            if evse_id in (None, p.evse_id) and _profile_matches(p, charging_profile)
        ]
        if self.rejecting() or not found:
            return call_result.GetChargingProfiles(GetChargingProfileStatusEnumType.no_profiles)
        self.follow_up(functools.partial(self._report_profiles, request_id, found))
        return call_result.GetChargingProfiles(GetChargingProfileStatusEnumType.accepted)

    @on(Action.get_composite_schedule)
    def on_get_composite_schedule(
        self, duration: int, evse_id: int, charging_rate_unit: str | None = None, **_: Any
    ) -> call_result.GetCompositeSchedule:
        profiles = self._governing_profiles(evse_id)
        if self.rejecting() or not profiles:
            return call_result.GetCompositeSchedule(GenericStatusEnumType.rejected)
        unit = charging_rate_unit or profiles[0].schedule["charging_rate_unit"]
        schedules = [
            periods_in(
                p.schedule["charging_schedule_period"], p.schedule["charging_rate_unit"], unit
            )
            for p in profiles
        ]
        return call_result.GetCompositeSchedule(
            status=GenericStatusEnumType.accepted,
            schedule={
                "evse_id": evse_id,
                "duration": duration,
                "schedule_start": now_iso(),
                "charging_rate_unit": unit,
                "charging_schedule_period": compose_periods(schedules, duration),
            },
        )

    def _governing_profiles(self, evse_id: int) -> list[InstalledProfile201]:
        """The profile that limits the EVSE (Tx over TxDefault, EVSE over station, highest
        stack level), then the station-wide maximum."""

        def best(evse: int, purpose: str) -> InstalledProfile201 | None:
            candidates = [
                p
                for p in self.charging_profiles.values()
                if p.evse_id == evse and p.purpose == purpose
            ]
            return max(candidates, key=lambda p: p.stack_level, default=None)

        governing = best(evse_id, TX_PROFILE) or best(evse_id, TX_DEFAULT) or best(0, TX_DEFAULT)
        if evse_id == 0:
            governing = None
        cap = best(0, STATION_MAX)
        return [p for p in (governing, cap) if p is not None]

    # --- firmware and logs -------------------------------------------------------------

    @on(Action.update_firmware)
    def on_update_firmware(
        self, request_id: int, firmware: dict[str, Any], **_: Any
    ) -> call_result.UpdateFirmware:
        if self.rejecting():
            return call_result.UpdateFirmware(UpdateFirmwareStatusEnumType.rejected)
        # Simulated at once: retrieveDateTime is not waited for, and there is no reboot.
        self.follow_up(functools.partial(self._update_firmware, request_id))
        return call_result.UpdateFirmware(UpdateFirmwareStatusEnumType.accepted)

    @on(Action.get_log)
    def on_get_log(
        self, log: dict[str, Any], log_type: str, request_id: int, **_: Any
    ) -> call_result.GetLog:
        if self.rejecting():
            return call_result.GetLog(LogStatusEnumType.rejected)
        self.follow_up(functools.partial(self._upload_log, request_id))
        return call_result.GetLog(LogStatusEnumType.accepted, filename=f"{log_type}-{self.id}.log")


_EVENT_CONTEXT = {
    TransactionEventEnumType.started: "Transaction.Begin",
    TransactionEventEnumType.updated: "Sample.Periodic",
    TransactionEventEnumType.ended: "Transaction.End",
}


def energy_sample(energy_wh: int, context: str, timestamp: str | None = None) -> dict[str, Any]:
    """A MeterValueType with the energy register (2.0.1 values are numbers, not strings)."""
    return {
        "timestamp": timestamp or now_iso(),
        "sampled_value": [
            {
                "value": energy_wh,
                "measurand": "Energy.Active.Import.Register",
                "context": context,
                "unit_of_measure": {"unit": "Wh"},
            }
        ],
    }


def _key_of(component: dict[str, Any], variable: dict[str, Any]) -> VariableKey:
    evse = component.get("evse") or {}
    return VariableKey(
        component["name"], variable["name"], evse.get("id"), evse.get("connector_id")
    )


def _same_component(a: VariableKey, b: VariableKey) -> bool:
    return (a.component, a.evse_id, a.connector_id) == (b.component, b.evse_id, b.connector_id)


def _component_of(key: VariableKey) -> dict[str, Any]:
    component: dict[str, Any] = {"name": key.component}
    if key.evse_id is not None:
        component["evse"] = {"id": key.evse_id}
        if key.connector_id is not None:
            component["evse"]["connector_id"] = key.connector_id
    return component


def _fits(data_type: str, value: str) -> bool:
    """Whether `value` is a valid value of a variable of `data_type`."""
    if data_type == "integer":
        return value.lstrip("-").isdigit()
    if data_type == "boolean":
        return value.lower() in ("true", "false")
    if data_type == "decimal":
        try:
            float(value)
        except ValueError:
            return False
    return True


def _profile_matches(installed: InstalledProfile201, criterion: dict[str, Any]) -> bool:
    """GetChargingProfiles' chargingProfile criterion (every given field must match)."""
    ids = criterion.get("charging_profile_id")
    return (
        criterion.get("charging_profile_purpose") in (None, installed.purpose)
        and criterion.get("stack_level") in (None, installed.stack_level)
        and (not ids or installed.id in ids)
        and "CSO" in criterion.get("charging_limit_source", ["CSO"])
    )


@contextlib.asynccontextmanager
async def connected_station_201(
    url: str,
    station_id: str,
    password: str | None = None,
    subprotocols: tuple[str, ...] = ("ocpp2.0.1",),
    response_timeout: float = 10,
    evses: int = 2,
) -> AsyncIterator[SimulatedStation201]:
    """Open a WebSocket to `url/station_id` and run the station's message loop."""
    async with open_websocket(url, station_id, password, subprotocols) as websocket:
        station = SimulatedStation201(
            station_id, websocket, response_timeout=response_timeout, evses=evses
        )
        station.websocket = websocket
        async with running(station):
            yield station
