"""OCPP 1.6J for the simulated station: its messages, and the CSMS's calls translated to
the shared model (adapter.py, model.py).

It answers every CSMS-initiated call of the Core, Firmware Management, Local Auth List
Management, Reservation, Smart Charging and Remote Trigger profiles the way a station
would, follow-up messages included (a remote start is followed by StartTransaction, a
firmware update by FirmwareStatusNotifications, ...).
"""

from __future__ import annotations

import contextlib
import functools
import ssl
from typing import Any

from ocpp.v16 import call, call_result
from ocpp.v16.enums import (
    Action,
    AuthorizationStatus,
    ChargePointErrorCode,
    ChargePointStatus,
    MessageTrigger,
    Reason,
    ResetType,
    UnlockStatus,
    UpdateType,
)

from tools.station_sim.adapter import ACCEPTED, REJECTED, Start, StationAdapter, accepted_if
from tools.station_sim.behaviour import FollowUp, now_iso, on
from tools.station_sim.connection import connected
from tools.station_sim.library import V16ChargePoint
from tools.station_sim.model import (
    FIRMWARE_STEPS,
    LOG_UPLOAD_STEPS,
    ChargingProfile,
    IdToken,
    ProfilePurpose,
    Reservation,
    Transaction,
)
from tools.station_sim.settings import Setting

PURPOSES = {
    "ChargePointMaxProfile": ProfilePurpose.STATION_MAX,
    "TxDefaultProfile": ProfilePurpose.TX_DEFAULT,
    "TxProfile": ProfilePurpose.TX,
}


def read_profile(connector_id: int, sent: dict[str, Any]) -> ChargingProfile:
    """A csChargingProfiles (snake_case keys) as the model's profile."""
    schedule = sent["charging_schedule"]
    return ChargingProfile(
        id=int(sent["charging_profile_id"]),
        connector_id=connector_id,
        purpose=PURPOSES[sent["charging_profile_purpose"]],
        stack_level=int(sent["stack_level"]),
        unit=str(schedule["charging_rate_unit"]),
        periods=list(schedule["charging_schedule_period"]),
        sent=sent,
    )


class SimulatedStation(StationAdapter[int], V16ChargePoint):
    """The station side of OCPP 1.6: convenience calls that return the CSMS's answers
    (CALLERRORs raise), and handlers for the CSMS's calls.

    Observable state, besides the model's (see StationAdapter): `configuration` (key ->
    value, readonly), `diagnostics_status`.
    """

    answers = call_result
    rejectable = frozenset(
        {
            Action.cancel_reservation,
            Action.change_availability,
            Action.change_configuration,
            Action.clear_cache,
            Action.clear_charging_profile,
            Action.data_transfer,
            Action.get_composite_schedule,
            Action.get_diagnostics,
            Action.remote_start_transaction,
            Action.remote_stop_transaction,
            Action.reserve_now,
            Action.reset,
            Action.send_local_list,
            Action.set_charging_profile,
            Action.trigger_message,
            Action.unlock_connector,
        }
    )

    def __init__(
        self,
        station_id: str,
        connection: Any,
        response_timeout: float = 30,
        connectors: int = 2,
    ) -> None:
        super().__init__(station_id, connection, response_timeout, connectors)
        self._boot_fields: dict[str, Any] = {"vendor": "Simulated", "model": "SIM-1"}

    @property
    def connectors(self) -> int:
        return self.model.connectors

    @property
    def configuration(self) -> dict[str, Setting]:
        """The configuration keys, alphabetically (values are strings in 1.6)."""
        return self.model.settings.by_key16

    @property
    def diagnostics_status(self) -> str:
        return self.model.log_status

    @property
    def status_connectors(self) -> list[int]:
        return [0, *self.model.connector_ids]

    def connector_status(self, connector_id: int) -> ChargePointStatus:
        """The status this station reports for a connector right now."""
        return ChargePointStatus(self.model.state(connector_id).value)  # 1.6's own names

    # --- messages the station sends ----------------------------------------------------

    async def boot(
        self, vendor: str = "Simulated", model: str = "SIM-1", **optional: str
    ) -> call_result.BootNotification:
        self._boot_fields = {"vendor": vendor, "model": model, **optional}
        answer = await self.call(
            call.BootNotification(charge_point_vendor=vendor, charge_point_model=model, **optional),
            suppress=False,
        )
        self._booted(answer.status, answer.interval)
        return answer

    async def heartbeat(self) -> call_result.Heartbeat:
        return await self.call(call.Heartbeat(), suppress=False)

    async def status(
        self,
        connector_id: int,
        status: ChargePointStatus = ChargePointStatus.available,
        error_code: ChargePointErrorCode = ChargePointErrorCode.no_error,
        **optional: Any,
    ) -> call_result.StatusNotification:
        return await self.call(
            call.StatusNotification(
                connector_id=connector_id,
                error_code=error_code,
                status=status,
                timestamp=now_iso(),
                **optional,
            ),
            suppress=False,
        )

    async def authorize(self, id_tag: str) -> call_result.Authorize:
        return await self.call(call.Authorize(id_tag=id_tag), suppress=False)

    async def start_transaction(
        self,
        connector_id: int,
        id_tag: str,
        meter_start: int,
        timestamp: str | None = None,
        reservation_id: int | None = None,
    ) -> call_result.StartTransaction:
        """StartTransaction; the transaction is tracked if the CSMS accepts the idTag."""
        answer = await self.call(
            call.StartTransaction(
                connector_id=connector_id,
                id_tag=id_tag,
                meter_start=meter_start,
                timestamp=timestamp or now_iso(),
                reservation_id=reservation_id,
            ),
            suppress=False,
        )
        self.meter_wh[connector_id] = meter_start
        if answer.id_tag_info["status"] == AuthorizationStatus.accepted:
            self.model.begin(Transaction(answer.transaction_id, connector_id, id_tag, meter_start))
        return answer

    async def meter_values(
        self,
        connector_id: int,
        transaction_id: int | None,
        energy_wh: float,
        power_w: float | None = None,
        unit: str = "Wh",
        context: str = "Sample.Periodic",
    ) -> call_result.MeterValues:
        self.meter_wh[connector_id] = int(energy_wh)
        value = energy_wh / 1000 if unit == "kWh" else energy_wh
        sampled: list[dict[str, Any]] = [
            {
                "value": f"{value:.3f}",
                "measurand": "Energy.Active.Import.Register",
                "unit": unit,
                "context": context,
                "location": "Outlet",
            }
        ]
        if power_w is not None:
            sampled.append(
                {"value": f"{power_w:.1f}", "measurand": "Power.Active.Import", "unit": "W"}
            )
        return await self.call(
            call.MeterValues(
                connector_id=connector_id,
                transaction_id=transaction_id,
                meter_value=[{"timestamp": now_iso(), "sampled_value": sampled}],
            ),
            suppress=False,
        )

    async def stop_transaction(
        self,
        transaction_id: int,
        meter_stop: int,
        reason: str | None = "Local",
        id_tag: str | None = None,
        timestamp: str | None = None,
        transaction_data: list[dict[str, Any]] | None = None,
    ) -> call_result.StopTransaction:
        answer = await self.call(
            call.StopTransaction(
                meter_stop=meter_stop,
                timestamp=timestamp or now_iso(),
                transaction_id=transaction_id,
                reason=reason,
                id_tag=id_tag,
                transaction_data=transaction_data,
            ),
            suppress=False,
        )
        transaction = self.model.transaction(transaction_id)
        if transaction is not None:
            self.meter_wh[transaction.connector_id] = meter_stop
            self._ended(transaction.connector_id)
        return answer

    async def firmware_status_notification(self, status: str) -> None:
        self.model.firmware_status = status
        await self.call(call.FirmwareStatusNotification(status=status), suppress=False)

    async def diagnostics_status_notification(self, status: str) -> None:
        self.model.log_status = status
        await self.call(call.DiagnosticsStatusNotification(status=status), suppress=False)

    # --- the version-neutral messages (StationAdapter) ----------------------------------

    async def _send_status(self, connector_id: int) -> None:
        await self.status(connector_id, self.connector_status(connector_id))

    async def _boot_after_reset(self) -> None:
        await self.boot(**self._boot_fields)

    async def power_up(
        self, firmware_version: str | None = None, serial_number: str | None = None
    ) -> call_result.BootNotification:
        optional = {
            "firmware_version": firmware_version,
            "charge_point_serial_number": serial_number,
        }
        return await self.boot(**{k: v for k, v in optional.items() if v is not None})

    async def authorization_status(self, id_token: IdToken) -> str:
        return str((await self.authorize(id_token.value)).id_tag_info["status"])

    async def begin_transaction(self, start: Start) -> tuple[int, str]:
        connector_id = start.connector_id
        answer = await self.start_transaction(
            connector_id,
            start.id_token.value,
            self.meter_wh[connector_id],
            reservation_id=start.reservation_id,
        )
        return int(answer.transaction_id), str(answer.id_tag_info["status"])

    async def report_energy(self, connector_id: int, energy_wh: float) -> None:
        transaction = self.transactions.get(connector_id)
        transaction_id = transaction.transaction_id if transaction else None
        await self.meter_values(connector_id, transaction_id, energy_wh)

    async def end_transaction(
        self, connector_id: int, transaction_id: int, reason: str, stopped_by: str | None = None
    ) -> None:
        meter = self.meter_wh[connector_id]
        await self.stop_transaction(transaction_id, meter, reason, id_tag=stopped_by)

    # --- Core profile ------------------------------------------------------------------

    @on(Action.remote_start_transaction)
    def on_remote_start_transaction(
        self, id_tag: str, connector_id: int | None = None, charging_profile: Any = None, **_: Any
    ) -> call_result.RemoteStartTransaction:
        profile = None if charging_profile is None else read_profile(0, charging_profile)
        started = self.accept_remote_start(connector_id, IdToken(id_tag), profile=profile)
        return call_result.RemoteStartTransaction(accepted_if(started))

    @on(Action.remote_stop_transaction)
    def on_remote_stop_transaction(
        self, transaction_id: int, **_: Any
    ) -> call_result.RemoteStopTransaction:
        stopping = self.remote_stop(transaction_id, Reason.remote)
        return call_result.RemoteStopTransaction(accepted_if(stopping))

    @on(Action.reset)
    def on_reset(self, type: str, **_: Any) -> call_result.Reset:
        reason = Reason.hard_reset if type == ResetType.hard else Reason.soft_reset
        return call_result.Reset(self.reset(reason))

    @on(Action.unlock_connector)
    def on_unlock_connector(self, connector_id: int, **_: Any) -> call_result.UnlockConnector:
        if not self.model.is_connector(connector_id):
            return call_result.UnlockConnector(UnlockStatus.not_supported)
        if self.rejecting():
            return call_result.UnlockConnector(UnlockStatus.unlock_failed)
        self.stop_on(connector_id, Reason.unlock_command)  # unplugging ends the session
        return call_result.UnlockConnector(UnlockStatus.unlocked)

    @on(Action.change_availability)
    def on_change_availability(
        self, connector_id: int, type: str, **_: Any
    ) -> call_result.ChangeAvailability:
        return call_result.ChangeAvailability(self.change_availability(connector_id, type))

    @on(Action.get_configuration)
    def on_get_configuration(
        self, key: list[str] | None = None, **_: Any
    ) -> call_result.GetConfiguration:
        configuration = self.configuration
        requested = key or list(configuration)
        known = [k for k in requested if k in configuration]
        unknown = [k for k in requested if k not in configuration]
        return call_result.GetConfiguration(
            configuration_key=[
                {"key": k, "readonly": configuration[k].readonly, "value": configuration[k].value}
                for k in known
            ],
            unknown_key=unknown or None,
        )

    @on(Action.change_configuration)
    def on_change_configuration(
        self, key: str, value: str, **_: Any
    ) -> call_result.ChangeConfiguration:
        setting = self.configuration.get(key)
        if setting is None:
            return call_result.ChangeConfiguration("NotSupported")
        return call_result.ChangeConfiguration(accepted_if(self.write_setting(setting, value)))

    # --- Remote Trigger profile --------------------------------------------------------

    @on(Action.trigger_message)
    def on_trigger_message(
        self, requested_message: str, connector_id: int | None = None, **_: Any
    ) -> call_result.TriggerMessage:
        if self.rejecting() or (connector_id is not None and connector_id not in self.availability):
            return call_result.TriggerMessage(REJECTED)
        message = self._triggered(requested_message, connector_id)
        if message is None:
            return call_result.TriggerMessage("NotImplemented")
        self.follow_up(message)
        return call_result.TriggerMessage(ACCEPTED)

    def _triggered(self, requested: str, connector_id: int | None) -> FollowUp | None:
        """The follow-up that sends the requested message, or None if not implemented."""
        all_connectors = list(self.model.connector_ids)
        if requested == MessageTrigger.status_notification:
            connectors = [connector_id] if connector_id is not None else self.status_connectors
            return functools.partial(self.send_statuses, connectors)
        if requested == MessageTrigger.meter_values:
            connectors = [connector_id] if connector_id else all_connectors
            return functools.partial(self._send_meter_values, connectors)
        simple: dict[str, FollowUp] = {
            MessageTrigger.boot_notification: self._boot_after_reset,
            MessageTrigger.heartbeat: self.heartbeat,
            MessageTrigger.firmware_status_notification: functools.partial(
                self.firmware_status_notification, self.firmware_status
            ),
            MessageTrigger.diagnostics_status_notification: functools.partial(
                self.diagnostics_status_notification, self.diagnostics_status
            ),
        }
        return simple.get(requested)

    async def _send_meter_values(self, connector_ids: list[int]) -> None:
        for connector_id in connector_ids:
            transaction = self.transactions.get(connector_id)
            await self.meter_values(
                connector_id,
                transaction.transaction_id if transaction else None,
                self.meter_wh[connector_id],
                context="Trigger",
            )

    # --- Local Auth List Management profile --------------------------------------------

    @on(Action.send_local_list)
    def on_send_local_list(
        self,
        list_version: int,
        update_type: str,
        local_authorization_list: list[dict[str, Any]] | None = None,
        **_: Any,
    ) -> call_result.SendLocalList:
        changes = [(e["id_tag"], e.get("id_tag_info")) for e in local_authorization_list or []]
        full = update_type == UpdateType.full
        return call_result.SendLocalList(self.update_local_list(list_version, full, changes))

    @on(Action.get_local_list_version)
    def on_get_local_list_version(self, **_: Any) -> call_result.GetLocalListVersion:
        return call_result.GetLocalListVersion(list_version=self.local_list_version)

    # --- Reservation profile -----------------------------------------------------------

    @on(Action.reserve_now)
    def on_reserve_now(
        self,
        connector_id: int,
        expiry_date: str,
        id_tag: str,
        reservation_id: int,
        parent_id_tag: str | None = None,
        **_: Any,
    ) -> call_result.ReserveNow:
        reservation = Reservation(reservation_id, connector_id, id_tag, expiry_date, parent_id_tag)
        return call_result.ReserveNow(self.reserve(reservation))

    # --- Smart Charging profile --------------------------------------------------------

    @on(Action.set_charging_profile)
    def on_set_charging_profile(
        self, connector_id: int, cs_charging_profiles: dict[str, Any], **_: Any
    ) -> call_result.SetChargingProfile:
        installed = self.set_profile(read_profile(connector_id, cs_charging_profiles))
        return call_result.SetChargingProfile(accepted_if(installed))

    @on(Action.clear_charging_profile)
    def on_clear_charging_profile(
        self,
        id: int | None = None,
        connector_id: int | None = None,
        charging_profile_purpose: str | None = None,
        stack_level: int | None = None,
        **_: Any,
    ) -> call_result.ClearChargingProfile:
        purpose = PURPOSES[charging_profile_purpose] if charging_profile_purpose else None
        cleared = self.clear_profiles(id, connector_id, purpose, stack_level)
        return call_result.ClearChargingProfile(ACCEPTED if cleared else "Unknown")

    @on(Action.get_composite_schedule)
    def on_get_composite_schedule(
        self, connector_id: int, duration: int, charging_rate_unit: str | None = None, **_: Any
    ) -> call_result.GetCompositeSchedule:
        schedule = self.composite_schedule(connector_id, duration, charging_rate_unit)
        if schedule is None:
            return call_result.GetCompositeSchedule(REJECTED)
        return call_result.GetCompositeSchedule(
            status=ACCEPTED,
            connector_id=connector_id,
            schedule_start=now_iso(),
            charging_schedule={
                "duration": duration,
                "start_schedule": now_iso(),
                "charging_rate_unit": schedule.unit,
                "charging_schedule_period": schedule.periods,
            },
        )

    # --- Firmware Management profile ---------------------------------------------------

    @on(Action.update_firmware)
    def on_update_firmware(
        self, location: str, retrieve_date: str, **_: Any
    ) -> call_result.UpdateFirmware:
        # Simulated at once: retrieveDate is not waited for, and there is no reboot.
        self.progress(FIRMWARE_STEPS, self.firmware_status_notification)
        return call_result.UpdateFirmware()

    @on(Action.get_diagnostics)
    def on_get_diagnostics(self, location: str, **_: Any) -> call_result.GetDiagnostics:
        if self.rejecting():  # no file name: there is nothing to upload
            return call_result.GetDiagnostics()
        self.progress(LOG_UPLOAD_STEPS, self.diagnostics_status_notification)
        return call_result.GetDiagnostics(file_name=f"diagnostics-{self.id}.log")


def connected_station(
    url: str,
    station_id: str,
    password: str | None = None,
    subprotocols: tuple[str, ...] = ("ocpp1.6",),
    response_timeout: float = 10,
    connectors: int = 2,
    tls: ssl.SSLContext | None = None,
) -> contextlib.AbstractAsyncContextManager[SimulatedStation]:
    """Open a WebSocket to `url/station_id` and run the station's message loop."""
    return connected(
        SimulatedStation, url, station_id, password, subprotocols, response_timeout, connectors, tls
    )
