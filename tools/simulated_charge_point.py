"""A simulated OCPP 1.6J charge point, built on the `ocpp` library's own ChargePoint.

It sends what a station sends (boot, status, authorize, transactions, meter values) and
answers every CSMS-initiated call of the Core, Firmware Management, Local Auth List
Management, Reservation, Smart Charging and Remote Trigger profiles the way a station
would, follow-up messages included (a remote start is followed by StartTransaction, a
firmware update by FirmwareStatusNotifications, ...). Tests script failures per action
with `station.behave(...)` (see tools/station_behaviour.py) and observe its state.

Used by the README tour and by the tests. Run it against a running system:

    .venv/bin/python -m tools.simulated_charge_point --id CP-1 --id-tag RFID-0001
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import (
    Action,
    AuthorizationStatus,
    AvailabilityStatus,
    AvailabilityType,
    CancelReservationStatus,
    ChargePointErrorCode,
    ChargePointStatus,
    ChargingProfilePurposeType,
    ChargingProfileStatus,
    ClearCacheStatus,
    ClearChargingProfileStatus,
    ConfigurationStatus,
    DataTransferStatus,
    DiagnosticsStatus,
    FirmwareStatus,
    GetCompositeScheduleStatus,
    MessageTrigger,
    Reason,
    RemoteStartStopStatus,
    ReservationStatus,
    ResetStatus,
    ResetType,
    TriggerMessageStatus,
    UnlockStatus,
    UpdateType,
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
    periods_in,
    running,
    update_local_list,
)

__all__ = [
    "Behaviour",
    "ConfigurationValue",
    "InstalledProfile",
    "Reservation",
    "RunningTransaction",
    "SimulatedStation",
    "charging_session",
    "connected_station",
    "now_iso",
]


@dataclass
class RunningTransaction:
    transaction_id: int
    connector_id: int
    id_tag: str
    meter_start: int
    stopping: bool = False  # a stop was accepted; its StopTransaction is on its way


@dataclass
class ConfigurationValue:
    value: str
    readonly: bool = False


@dataclass
class Reservation:
    reservation_id: int
    connector_id: int
    id_tag: str
    expiry_date: str
    parent_id_tag: str | None = None


@dataclass
class InstalledProfile:
    """A charging profile as the CSMS sent it (the library's snake_case keys)."""

    connector_id: int
    profile: dict[str, Any]

    @property
    def purpose(self) -> str:
        return str(self.profile["charging_profile_purpose"])

    @property
    def stack_level(self) -> int:
        return int(self.profile["stack_level"])

    @property
    def unit(self) -> str:
        return str(self.profile["charging_schedule"]["charging_rate_unit"])

    @property
    def periods(self) -> list[dict[str, Any]]:
        return list(self.profile["charging_schedule"]["charging_schedule_period"])


def default_configuration(connectors: int) -> dict[str, ConfigurationValue]:
    """The configuration keys a modest 1.6 station reports (values are strings in 1.6)."""
    writable = {
        "AuthorizeRemoteTxRequests": "false",
        "ClockAlignedDataInterval": "0",
        "ConnectionTimeOut": "60",
        "HeartbeatInterval": "300",
        "LocalAuthListEnabled": "true",
        "LocalAuthorizeOffline": "true",
        "LocalPreAuthorize": "false",
        "MeterValuesAlignedData": "Energy.Active.Import.Register",
        "MeterValuesSampledData": "Energy.Active.Import.Register,Power.Active.Import",
        "MeterValueSampleInterval": "60",
        "ResetRetries": "3",
        "StopTransactionOnEVSideDisconnect": "true",
        "StopTransactionOnInvalidId": "true",
        "StopTxnAlignedData": "",
        "StopTxnSampledData": "Energy.Active.Import.Register",
        "TransactionMessageAttempts": "3",
        "TransactionMessageRetryInterval": "60",
        "UnlockConnectorOnEVSideDisconnect": "true",
    }
    readonly = {
        "ChargeProfileMaxStackLevel": "10",
        "ChargingScheduleAllowedChargingRateUnit": "Current,Power",
        "ChargingScheduleMaxPeriods": "24",
        "GetConfigurationMaxKeys": "50",
        "LocalAuthListMaxLength": "100",
        "MaxChargingProfilesInstalled": "10",
        "NumberOfConnectors": str(connectors),
        "ReserveConnectorZeroSupported": "false",
        "SendLocalListMaxLength": "100",
        "SupportedFeatureProfiles": (
            "Core,FirmwareManagement,LocalAuthListManagement,Reservation,"
            "SmartCharging,RemoteTrigger"
        ),
    }
    configuration = {key: ConfigurationValue(value) for key, value in writable.items()}
    configuration |= {key: ConfigurationValue(value, True) for key, value in readonly.items()}
    return dict(sorted(configuration.items()))


class SimulatedStation(ScriptedChargePoint, ChargePoint):  # type: ignore[misc]
    """The station side of OCPP 1.6: convenience calls that return the CSMS's answers,
    and handlers for the CSMS's calls.

    Observable state: `received` (every CSMS call), `configuration`, `availability`
    (connector -> Operative/Inoperative, 0 = the whole station), `scheduled_availability`,
    `transactions` (connector -> RunningTransaction), `meter_wh` (connector -> register),
    `reservations` (by id), `charging_profiles` (by chargingProfileId), `local_list`
    (idTag -> idTagInfo) and `local_list_version`, `firmware_status`, `diagnostics_status`.
    """

    websocket: ClientConnection

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
        super().__init__(station_id, connection, response_timeout=response_timeout)
        self.connectors = connectors
        self.configuration = default_configuration(connectors)
        self.availability: dict[int, str] = dict.fromkeys(
            range(connectors + 1), AvailabilityType.operative
        )
        self.scheduled_availability: dict[int, str] = {}
        self.transactions: dict[int, RunningTransaction] = {}
        self.meter_wh: dict[int, int] = dict.fromkeys(range(1, connectors + 1), 0)
        self.reservations: dict[int, Reservation] = {}
        self.charging_profiles: dict[int, InstalledProfile] = {}
        self.local_list: dict[str, dict[str, Any]] = {}
        self.local_list_version = 0
        self.firmware_status: str = FirmwareStatus.idle
        self.diagnostics_status: str = DiagnosticsStatus.idle
        self._preparing: set[int] = set()  # remote start accepted, StartTransaction pending
        self._boot_fields: dict[str, Any] = {"vendor": "Simulated", "model": "SIM-1"}

    # --- messages the station sends ----------------------------------------------------

    async def boot(
        self, vendor: str = "Simulated", model: str = "SIM-1", **optional: str
    ) -> call_result.BootNotification:
        self._boot_fields = {"vendor": vendor, "model": model, **optional}
        answer = await self.call(
            call.BootNotification(charge_point_vendor=vendor, charge_point_model=model, **optional),
            suppress=False,
        )
        if answer.status == "Accepted":
            self.configuration["HeartbeatInterval"].value = str(answer.interval)
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
            self.transactions[connector_id] = RunningTransaction(
                answer.transaction_id, connector_id, id_tag, meter_start
            )
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
        self._forget_transaction(transaction_id, meter_stop)
        return answer

    async def firmware_status_notification(self, status: str) -> None:
        self.firmware_status = status
        await self.call(call.FirmwareStatusNotification(status=status), suppress=False)

    async def diagnostics_status_notification(self, status: str) -> None:
        self.diagnostics_status = status
        await self.call(call.DiagnosticsStatusNotification(status=status), suppress=False)

    # --- derived state -----------------------------------------------------------------

    def connector_status(self, connector_id: int) -> ChargePointStatus:
        """The status this station reports for a connector right now."""
        inoperative = AvailabilityType.inoperative
        if inoperative in (self.availability[0], self.availability[connector_id]):
            return ChargePointStatus.unavailable
        if connector_id == 0:
            return ChargePointStatus.available
        if connector_id in self.transactions:
            return ChargePointStatus.charging
        if connector_id in self._preparing:
            return ChargePointStatus.preparing
        if self._reservation_on(connector_id) is not None:
            return ChargePointStatus.reserved
        return ChargePointStatus.available

    def _is_connector(self, connector_id: int) -> bool:
        return 1 <= connector_id <= self.connectors

    def _is_free(self, connector_id: int, id_tag: str | None = None) -> bool:
        reservation = self._reservation_on(connector_id)
        return self.connector_status(connector_id) in (
            ChargePointStatus.available,
            ChargePointStatus.reserved,
        ) and (reservation is None or reservation.id_tag == id_tag)

    def _reservation_on(self, connector_id: int) -> Reservation | None:
        return next((r for r in self.reservations.values() if r.connector_id == connector_id), None)

    def _transaction(self, transaction_id: int) -> RunningTransaction | None:
        return next(
            (t for t in self.transactions.values() if t.transaction_id == transaction_id), None
        )

    def _flag(self, key: str) -> bool:
        return self.configuration[key].value.lower() == "true"

    def _forget_transaction(self, transaction_id: int, meter_stop: int) -> None:
        transaction = self._transaction(transaction_id)
        if transaction is None:
            return
        connector_id = transaction.connector_id
        del self.transactions[connector_id]
        self.meter_wh[connector_id] = meter_stop
        # A TxProfile lives as long as its transaction.
        for profile_id, installed in list(self.charging_profiles.items()):
            if installed.connector_id == connector_id and installed.purpose == "TxProfile":
                del self.charging_profiles[profile_id]
        self._apply_scheduled_availability()

    def _apply_scheduled_availability(self) -> None:
        for connector_id, wanted in list(self.scheduled_availability.items()):
            if not self._charging_on(self._affected(connector_id)):
                self.availability[connector_id] = wanted
                del self.scheduled_availability[connector_id]

    def _affected(self, connector_id: int) -> list[int]:
        return list(range(1, self.connectors + 1)) if connector_id == 0 else [connector_id]

    def _charging_on(self, connectors: list[int]) -> bool:
        return any(c in self.transactions for c in connectors)

    # --- follow-up sequences -----------------------------------------------------------

    async def send_statuses(self, connector_ids: list[int]) -> None:
        for connector_id in connector_ids:
            await self.status(connector_id, self.connector_status(connector_id))

    async def _remote_start(self, connector_id: int, id_tag: str) -> None:
        try:
            await self.send_statuses([connector_id])  # Preparing
            if await self._may_start(id_tag):
                await self._start_remotely(connector_id, id_tag)
        finally:
            self._preparing.discard(connector_id)
        await self.send_statuses([connector_id])  # Charging, or Available again

    async def _may_start(self, id_tag: str) -> bool:
        if not self._flag("AuthorizeRemoteTxRequests"):
            return True
        authorized = await self.authorize(id_tag)
        return bool(authorized.id_tag_info["status"] == AuthorizationStatus.accepted)

    async def _start_remotely(self, connector_id: int, id_tag: str) -> None:
        reservation = self._reservation_on(connector_id)
        if reservation is not None:  # the reserved idTag arrived: the reservation is used up
            del self.reservations[reservation.reservation_id]
        meter = self.meter_wh[connector_id]
        started = await self.start_transaction(
            connector_id,
            id_tag,
            meter,
            reservation_id=reservation.reservation_id if reservation else None,
        )
        if connector_id not in self.transactions and self._flag("StopTransactionOnInvalidId"):
            # The CSMS refused the idTag, but the transaction has its id: end it at once.
            await self.stop_transaction(started.transaction_id, meter, Reason.de_authorized)

    async def _stop(self, transaction: RunningTransaction, reason: str) -> None:
        before = self._statuses()
        meter = self.meter_wh[transaction.connector_id]
        await self.stop_transaction(transaction.transaction_id, meter, reason)
        # The connector, and any connector a scheduled availability change just reached.
        after = self._statuses()
        changed = [c for c in after if c == transaction.connector_id or after[c] != before[c]]
        await self.send_statuses(changed)

    def _statuses(self) -> dict[int, ChargePointStatus]:
        return {c: self.connector_status(c) for c in range(self.connectors + 1)}

    async def _reboot(self, reason: str) -> None:
        """What a reset looks like from the CSMS: transactions end, the station boots again.

        The simulated station keeps its WebSocket; a real one reconnects.
        """
        for transaction in list(self.transactions.values()):
            meter = self.meter_wh[transaction.connector_id]
            await self.stop_transaction(transaction.transaction_id, meter, reason)
        await self.boot(**self._boot_fields)
        await self.send_statuses(list(range(self.connectors + 1)))

    async def _update_firmware(self) -> None:
        for status in (
            FirmwareStatus.downloading,
            FirmwareStatus.downloaded,
            FirmwareStatus.installing,
            FirmwareStatus.installed,
        ):
            await self._pause()
            await self.firmware_status_notification(status)

    async def _upload_diagnostics(self) -> None:
        for status in (DiagnosticsStatus.uploading, DiagnosticsStatus.uploaded):
            await self._pause()
            await self.diagnostics_status_notification(status)

    async def _send_meter_values(self, connector_ids: list[int]) -> None:
        for connector_id in connector_ids:
            transaction = self.transactions.get(connector_id)
            await self.meter_values(
                connector_id,
                transaction.transaction_id if transaction else None,
                self.meter_wh[connector_id],
                context="Trigger",
            )

    # --- Core profile ------------------------------------------------------------------

    @on(Action.remote_start_transaction)
    def on_remote_start_transaction(
        self, id_tag: str, connector_id: int | None = None, charging_profile: Any = None, **_: Any
    ) -> call_result.RemoteStartTransaction:
        if connector_id is None:  # any free connector will do
            free = [c for c in range(1, self.connectors + 1) if self._is_free(c, id_tag)]
            connector_id = free[0] if free else 0
        if (
            self.rejecting()
            or not self._is_connector(connector_id)
            or not self._is_free(connector_id, id_tag)
        ):
            return call_result.RemoteStartTransaction(RemoteStartStopStatus.rejected)
        if charging_profile is not None:
            profile_id = int(charging_profile["charging_profile_id"])
            self.charging_profiles[profile_id] = InstalledProfile(connector_id, charging_profile)
        self._preparing.add(connector_id)
        self.follow_up(functools.partial(self._remote_start, connector_id, id_tag))
        return call_result.RemoteStartTransaction(RemoteStartStopStatus.accepted)

    @on(Action.remote_stop_transaction)
    def on_remote_stop_transaction(
        self, transaction_id: int, **_: Any
    ) -> call_result.RemoteStopTransaction:
        transaction = self._transaction(transaction_id)
        if self.rejecting() or transaction is None or transaction.stopping:
            return call_result.RemoteStopTransaction(RemoteStartStopStatus.rejected)
        transaction.stopping = True
        self.follow_up(functools.partial(self._stop, transaction, Reason.remote))
        return call_result.RemoteStopTransaction(RemoteStartStopStatus.accepted)

    @on(Action.reset)
    def on_reset(self, type: str, **_: Any) -> call_result.Reset:
        if self.rejecting():
            return call_result.Reset(ResetStatus.rejected)
        reason = Reason.hard_reset if type == ResetType.hard else Reason.soft_reset
        self.follow_up(functools.partial(self._reboot, reason))
        return call_result.Reset(ResetStatus.accepted)

    @on(Action.unlock_connector)
    def on_unlock_connector(self, connector_id: int, **_: Any) -> call_result.UnlockConnector:
        if not self._is_connector(connector_id):
            return call_result.UnlockConnector(UnlockStatus.not_supported)
        if self.rejecting():
            return call_result.UnlockConnector(UnlockStatus.unlock_failed)
        transaction = self.transactions.get(connector_id)
        if transaction is not None and not transaction.stopping:  # unplugging ends the session
            transaction.stopping = True
            self.follow_up(functools.partial(self._stop, transaction, Reason.unlock_command))
        return call_result.UnlockConnector(UnlockStatus.unlocked)

    @on(Action.change_availability)
    def on_change_availability(
        self, connector_id: int, type: str, **_: Any
    ) -> call_result.ChangeAvailability:
        if self.rejecting() or connector_id not in self.availability:
            return call_result.ChangeAvailability(AvailabilityStatus.rejected)
        affected = self._affected(connector_id)
        if type == AvailabilityType.inoperative and self._charging_on(affected):
            # Running sessions finish first; the change happens when they end.
            self.scheduled_availability[connector_id] = type
            return call_result.ChangeAvailability(AvailabilityStatus.scheduled)
        self.scheduled_availability.pop(connector_id, None)
        self.availability[connector_id] = type
        reported = [0, *affected] if connector_id == 0 else affected
        self.follow_up(functools.partial(self.send_statuses, reported))
        return call_result.ChangeAvailability(AvailabilityStatus.accepted)

    @on(Action.get_configuration)
    def on_get_configuration(
        self, key: list[str] | None = None, **_: Any
    ) -> call_result.GetConfiguration:
        requested = key or list(self.configuration)
        known = [k for k in requested if k in self.configuration]
        unknown = [k for k in requested if k not in self.configuration]
        return call_result.GetConfiguration(
            configuration_key=[
                {
                    "key": k,
                    "readonly": self.configuration[k].readonly,
                    "value": self.configuration[k].value,
                }
                for k in known
            ],
            unknown_key=unknown or None,
        )

    @on(Action.change_configuration)
    def on_change_configuration(
        self, key: str, value: str, **_: Any
    ) -> call_result.ChangeConfiguration:
        current = self.configuration.get(key)
        if current is None:
            return call_result.ChangeConfiguration(ConfigurationStatus.not_supported)
        if self.rejecting() or current.readonly or not _same_kind(current.value, value):
            return call_result.ChangeConfiguration(ConfigurationStatus.rejected)
        current.value = value
        return call_result.ChangeConfiguration(ConfigurationStatus.accepted)

    @on(Action.clear_cache)
    def on_clear_cache(self, **_: Any) -> call_result.ClearCache:
        status = ClearCacheStatus.rejected if self.rejecting() else ClearCacheStatus.accepted
        return call_result.ClearCache(status)

    @on(Action.data_transfer)
    def on_data_transfer(self, vendor_id: str, **_: Any) -> call_result.DataTransfer:
        if self.rejecting():
            return call_result.DataTransfer(DataTransferStatus.rejected)
        return call_result.DataTransfer(DataTransferStatus.unknown_vendor_id)

    # --- Remote Trigger profile --------------------------------------------------------

    @on(Action.trigger_message)
    def on_trigger_message(
        self, requested_message: str, connector_id: int | None = None, **_: Any
    ) -> call_result.TriggerMessage:
        if self.rejecting() or (connector_id is not None and connector_id not in self.availability):
            return call_result.TriggerMessage(TriggerMessageStatus.rejected)
        message = self._triggered(requested_message, connector_id)
        if message is None:
            return call_result.TriggerMessage(TriggerMessageStatus.not_implemented)
        self.follow_up(message)
        return call_result.TriggerMessage(TriggerMessageStatus.accepted)

    def _triggered(self, requested: str, connector_id: int | None) -> FollowUp | None:
        """The follow-up that sends the requested message, or None if not implemented."""
        all_connectors = list(range(1, self.connectors + 1))
        if requested == MessageTrigger.status_notification:
            connectors = [connector_id] if connector_id is not None else [0, *all_connectors]
            return functools.partial(self.send_statuses, connectors)
        if requested == MessageTrigger.meter_values:
            connectors = [connector_id] if connector_id else all_connectors
            return functools.partial(self._send_meter_values, connectors)
        simple: dict[str, FollowUp] = {
            MessageTrigger.boot_notification: functools.partial(self.boot, **self._boot_fields),
            MessageTrigger.heartbeat: self.heartbeat,
            MessageTrigger.firmware_status_notification: functools.partial(
                self.firmware_status_notification, self.firmware_status
            ),
            MessageTrigger.diagnostics_status_notification: functools.partial(
                self.diagnostics_status_notification, self.diagnostics_status
            ),
        }
        return simple.get(requested)

    # --- Local Auth List Management profile --------------------------------------------

    @on(Action.send_local_list)
    def on_send_local_list(
        self,
        list_version: int,
        update_type: str,
        local_authorization_list: list[dict[str, Any]] | None = None,
        **_: Any,
    ) -> call_result.SendLocalList:
        if self.rejecting():
            return call_result.SendLocalList("Failed")
        status = update_local_list(
            self.local_list,
            self.local_list_version,
            list_version,
            full=update_type == UpdateType.full,
            changes=[(e["id_tag"], e.get("id_tag_info")) for e in local_authorization_list or []],
            max_length=int(self.configuration["LocalAuthListMaxLength"].value),
        )
        if status == "Accepted":
            self.local_list_version = list_version
        return call_result.SendLocalList(status)

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
        # A reservation with a known id replaces that reservation.
        previous = self.reservations.pop(reservation_id, None)
        status = self._reservation_status(connector_id, id_tag)
        if status != ReservationStatus.accepted:
            if previous is not None:
                self.reservations[reservation_id] = previous
            return call_result.ReserveNow(status)
        self.reservations[reservation_id] = Reservation(
            reservation_id, connector_id, id_tag, expiry_date, parent_id_tag
        )
        self.follow_up(functools.partial(self.send_statuses, [connector_id]))
        return call_result.ReserveNow(ReservationStatus.accepted)

    def _reservation_status(self, connector_id: int, id_tag: str) -> ReservationStatus:
        if self.rejecting() or not self._is_connector(connector_id):
            return ReservationStatus.rejected  # connector 0: ReserveConnectorZeroSupported=false
        state = self.connector_status(connector_id)
        if state == ChargePointStatus.unavailable:
            return ReservationStatus.unavailable
        if not self._is_free(connector_id, id_tag):
            return ReservationStatus.occupied
        return ReservationStatus.accepted

    @on(Action.cancel_reservation)
    def on_cancel_reservation(self, reservation_id: int, **_: Any) -> call_result.CancelReservation:
        if self.rejecting() or reservation_id not in self.reservations:
            return call_result.CancelReservation(CancelReservationStatus.rejected)
        reservation = self.reservations.pop(reservation_id)
        self.follow_up(functools.partial(self.send_statuses, [reservation.connector_id]))
        return call_result.CancelReservation(CancelReservationStatus.accepted)

    # --- Smart Charging profile --------------------------------------------------------

    @on(Action.set_charging_profile)
    def on_set_charging_profile(
        self, connector_id: int, cs_charging_profiles: dict[str, Any], **_: Any
    ) -> call_result.SetChargingProfile:
        profile = InstalledProfile(connector_id, cs_charging_profiles)
        if self.rejecting() or not self._profile_fits(profile):
            return call_result.SetChargingProfile(ChargingProfileStatus.rejected)
        # Same id, or same purpose and stack level on the connector: the new one replaces it.
        for profile_id, installed in list(self.charging_profiles.items()):
            if installed.connector_id == connector_id and (
                installed.purpose,
                installed.stack_level,
            ) == (profile.purpose, profile.stack_level):
                del self.charging_profiles[profile_id]
        self.charging_profiles[int(cs_charging_profiles["charging_profile_id"])] = profile
        return call_result.SetChargingProfile(ChargingProfileStatus.accepted)

    def _profile_fits(self, profile: InstalledProfile) -> bool:
        connector_id = profile.connector_id
        if profile.purpose == ChargingProfilePurposeType.charge_point_max_profile:
            return connector_id == 0
        if profile.purpose == ChargingProfilePurposeType.tx_profile:
            return connector_id in self.transactions
        return connector_id == 0 or self._is_connector(connector_id)

    @on(Action.clear_charging_profile)
    def on_clear_charging_profile(
        self,
        id: int | None = None,
        connector_id: int | None = None,
        charging_profile_purpose: str | None = None,
        stack_level: int | None = None,
        **_: Any,
    ) -> call_result.ClearChargingProfile:
        def matches(profile_id: int, installed: InstalledProfile) -> bool:
            if id is not None:
                return profile_id == id
            return (
                connector_id in (None, installed.connector_id)
                and charging_profile_purpose in (None, installed.purpose)
                and stack_level in (None, installed.stack_level)
            )

        cleared = [pid for pid, p in self.charging_profiles.items() if matches(pid, p)]
        if self.rejecting() or not cleared:
            return call_result.ClearChargingProfile(ClearChargingProfileStatus.unknown)
        for profile_id in cleared:
            del self.charging_profiles[profile_id]
        return call_result.ClearChargingProfile(ClearChargingProfileStatus.accepted)

    @on(Action.get_composite_schedule)
    def on_get_composite_schedule(
        self, connector_id: int, duration: int, charging_rate_unit: str | None = None, **_: Any
    ) -> call_result.GetCompositeSchedule:
        profiles = self._governing_profiles(connector_id)
        if self.rejecting() or not profiles:
            return call_result.GetCompositeSchedule(GetCompositeScheduleStatus.rejected)
        unit = charging_rate_unit or profiles[0].unit
        periods = compose_periods([periods_in(p.periods, p.unit, unit) for p in profiles], duration)
        return call_result.GetCompositeSchedule(
            status=GetCompositeScheduleStatus.accepted,
            connector_id=connector_id,
            schedule_start=now_iso(),
            charging_schedule={
                "duration": duration,
                "start_schedule": now_iso(),
                "charging_rate_unit": unit,
                "charging_schedule_period": periods,
            },
        )

    def _governing_profiles(self, connector_id: int) -> list[InstalledProfile]:
        """The profile that limits the connector (Tx over TxDefault, connector over station,
        highest stack level), then the station-wide maximum."""

        def best(connector: int, purpose: str) -> InstalledProfile | None:
            candidates = [
                p
                for p in self.charging_profiles.values()
                if p.connector_id == connector and p.purpose == purpose
            ]
            return max(candidates, key=lambda p: p.stack_level, default=None)

        tx_default = ChargingProfilePurposeType.tx_default_profile
        governing = (
            best(connector_id, ChargingProfilePurposeType.tx_profile)
            or best(connector_id, tx_default)
            or best(0, tx_default)
        )
        cap = best(0, ChargingProfilePurposeType.charge_point_max_profile)
        if connector_id == 0:
            governing = None
        return [p for p in (governing, cap) if p is not None]

    # --- Firmware Management profile ---------------------------------------------------

    @on(Action.update_firmware)
    def on_update_firmware(
        self, location: str, retrieve_date: str, **_: Any
    ) -> call_result.UpdateFirmware:
        # Simulated at once: retrieveDate is not waited for, and there is no reboot.
        self.follow_up(self._update_firmware)
        return call_result.UpdateFirmware()

    @on(Action.get_diagnostics)
    def on_get_diagnostics(self, location: str, **_: Any) -> call_result.GetDiagnostics:
        if self.rejecting():  # no file name: there is nothing to upload
            return call_result.GetDiagnostics()
        self.follow_up(self._upload_diagnostics)
        return call_result.GetDiagnostics(file_name=f"diagnostics-{self.id}.log")


def _same_kind(current: str, new: str) -> bool:
    """A configuration value keeps its kind: integers stay integers, booleans booleans."""
    if current.lstrip("-").isdigit():
        return new.lstrip("-").isdigit()
    if current.lower() in ("true", "false"):
        return new.lower() in ("true", "false")
    return True


@contextlib.asynccontextmanager
async def connected_station(
    url: str,
    station_id: str,
    password: str | None = None,
    subprotocols: tuple[str, ...] = ("ocpp1.6",),
    response_timeout: float = 10,
    connectors: int = 2,
) -> AsyncIterator[SimulatedStation]:
    """Open a WebSocket to `url/station_id` and run the station's message loop."""
    async with open_websocket(url, station_id, password, subprotocols) as websocket:
        station = SimulatedStation(
            station_id, websocket, response_timeout=response_timeout, connectors=connectors
        )
        station.websocket = websocket
        async with running(station):
            yield station


async def charging_session(
    url: str, station_id: str, id_tag: str, energy_wh: int, samples: int, stay: bool = False
) -> None:
    async with connected_station(url, station_id) as station:
        boot = await station.boot(firmware_version="1.0.0", charge_point_serial_number="SIM-0001")
        print(f"BootNotification -> {boot.status} (heartbeat every {boot.interval} s)")
        if boot.status != "Accepted":
            print("The CSMS did not accept this station: accept it through the REST API first.")
            return
        await station.status(0)
        await station.status(1)
        auth = await station.authorize(id_tag)
        print(f"Authorize {id_tag} -> {auth.id_tag_info['status']}")
        meter_start = 1_000_000
        start = await station.start_transaction(1, id_tag, meter_start)
        transaction_id = start.transaction_id
        print(f"StartTransaction -> id {transaction_id}, {start.id_tag_info['status']}")
        await station.status(1, ChargePointStatus.charging)
        for step in range(1, samples + 1):
            await asyncio.sleep(0.2)
            await station.meter_values(1, transaction_id, meter_start + energy_wh * step / samples)
        await station.stop_transaction(transaction_id, meter_start + energy_wh, id_tag=id_tag)
        await station.status(1)
        print(f"StopTransaction -> {energy_wh} Wh charged in transaction {transaction_id}")
        if stay:
            print("Staying connected and answering the CSMS's calls; Ctrl-C to leave.")
            await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="ws://localhost:9000")
    parser.add_argument("--id", default="CP-1", help="charge point id")
    parser.add_argument("--id-tag", default="RFID-0001")
    parser.add_argument("--energy-wh", type=int, default=7400)
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument(
        "--stay", action="store_true", help="stay connected afterwards, answering remote commands"
    )
    args = parser.parse_args()
    session = charging_session(
        args.url, args.id, args.id_tag, args.energy_wh, args.samples, stay=args.stay
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(session)


if __name__ == "__main__":
    main()
