"""OCPP 2.0.1 for the simulated station: its messages, and the CSMS's calls translated to
the shared model (adapter.py, model.py).

Convenience calls for what a station sends (boot, status, authorize, TransactionEvent
sessions, meter values, reports) and handlers for the CSMS-initiated calls, follow-up
messages included (a remote start is followed by TransactionEvent Started, GetBaseReport
by NotifyReport pages, ...).

Simplifications: every EVSE has one connector (connector 1); reservations do not expire;
see v201_device_model.py for the device model.
"""

from __future__ import annotations

import contextlib
import functools
import ssl
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from ocpp.v201 import call, call_result
from ocpp.v201.enums import (
    Action,
    ConnectorStatusEnumType,
    MessageTriggerEnumType,
    ReasonEnumType,
    ResetEnumType,
    TransactionEventEnumType,
    TriggerReasonEnumType,
    UnlockStatusEnumType,
    UpdateEnumType,
)

from tools.station_sim import v201_device_model as device
from tools.station_sim.adapter import ACCEPTED, REJECTED, Start, StationAdapter, accepted_if
from tools.station_sim.behaviour import FollowUp, now_iso, on
from tools.station_sim.connection import connected
from tools.station_sim.library import V201ChargePoint
from tools.station_sim.model import (
    FIRMWARE_STEPS,
    INOPERATIVE,
    LOG_UPLOAD_STEPS,
    ChargingProfile,
    ConnectorState,
    IdToken,
    ProfilePurpose,
    Reservation,
    Transaction,
)
from tools.station_sim.settings import Setting, VariableKey

PURPOSES = {
    "ChargingStationMaxProfile": ProfilePurpose.STATION_MAX,
    "TxDefaultProfile": ProfilePurpose.TX_DEFAULT,
    "TxProfile": ProfilePurpose.TX,
    "ChargingStationExternalConstraints": ProfilePurpose.EXTERNAL_CONSTRAINTS,
}

# Why a transaction ended (stoppedReason) -> what the event reports as its trigger.
_TRIGGER_OF_STOP = {
    ReasonEnumType.remote: TriggerReasonEnumType.remote_stop,
    ReasonEnumType.de_authorized: TriggerReasonEnumType.deauthorized,
    ReasonEnumType.immediate_reset: TriggerReasonEnumType.reset_command,
    ReasonEnumType.reboot: TriggerReasonEnumType.reset_command,
}

_EVENT_CONTEXT = {
    TransactionEventEnumType.started: "Transaction.Begin",
    TransactionEventEnumType.updated: "Sample.Periodic",
    TransactionEventEnumType.ended: "Transaction.End",
}


def id_token_of(token: str | dict[str, str], type: str = "ISO14443") -> dict[str, str]:
    """An IdTokenType (snake_case keys) from a bare token or an IdTokenType."""
    return dict(token) if isinstance(token, dict) else {"id_token": token, "type": type}


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


def read_profile(evse_id: int, sent: dict[str, Any]) -> ChargingProfile:
    """A ChargingProfileType (snake_case keys) as the model's profile (its first schedule)."""
    schedule = sent["charging_schedule"][0]
    return ChargingProfile(
        id=int(sent["id"]),
        connector_id=evse_id,
        purpose=PURPOSES[sent["charging_profile_purpose"]],
        stack_level=int(sent["stack_level"]),
        unit=str(schedule["charging_rate_unit"]),
        periods=list(schedule["charging_schedule_period"]),
        transaction_id=sent.get("transaction_id"),
        sent=sent,
    )


def _profile_matches(profile: ChargingProfile, criterion: dict[str, Any]) -> bool:
    """GetChargingProfiles' chargingProfile criterion (every given field must match)."""
    purpose = criterion.get("charging_profile_purpose")
    ids = criterion.get("charging_profile_id")
    return (
        (purpose is None or PURPOSES[purpose] is profile.purpose)
        and criterion.get("stack_level") in (None, profile.stack_level)
        and (not ids or profile.id in ids)
        and "CSO" in criterion.get("charging_limit_source", ["CSO"])
    )


class SimulatedStation201(StationAdapter[str], V201ChargePoint):
    """The station side of OCPP 2.0.1: convenience calls that return the CSMS's answers
    (CALLERRORs raise), and handlers for the CSMS's calls.

    Observable state, besides the model's (see StationAdapter; connector n is EVSE n):
    `device_model`, `scheduled_reset`, `log_status`.
    """

    answers = call_result
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
        super().__init__(station_id, connection, response_timeout, evses)
        self.report_page_size = 4
        """Report items per NotifyReport frame: small, so reports span several frames."""
        self._boot_fields: dict[str, Any] = {}

    @property
    def evses(self) -> int:
        return self.model.connectors

    @property
    def device_model(self) -> dict[VariableKey, Setting]:
        """The variables, in report order (AvailabilityState values: see variable_value)."""
        return self.model.settings.by_variable

    @property
    def scheduled_reset(self) -> bool:
        return self.model.reset_when_idle is not None

    @property
    def log_status(self) -> str:
        return self.model.log_status

    @property
    def status_connectors(self) -> list[int]:
        return list(self.model.connector_ids)

    def connector_status(self, evse_id: int) -> ConnectorStatusEnumType:
        """The status of the (single) connector of an EVSE right now."""
        state = self.model.state(evse_id)
        if state in (ConnectorState.PREPARING, ConnectorState.CHARGING):
            return ConnectorStatusEnumType.occupied
        return ConnectorStatusEnumType(state.value)

    def variable_value(self, key: VariableKey) -> str:
        """The Actual value of a variable; AvailabilityState follows the station's state."""
        if key.variable != "AvailabilityState":
            return self.device_model[key].value
        if key.evse_id is None:
            return "Unavailable" if self.availability[0] == INOPERATIVE else "Available"
        return str(self.connector_status(key.evse_id))

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
        self._booted(answer.status, answer.interval)
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
        if meter_wh is not None:
            self.meter_wh[evse_id] = meter_wh
        transaction = Transaction(
            str(uuid.uuid4()),
            evse_id,
            token["id_token"] if token else None,
            meter_start=self.meter_wh.get(evse_id, 0),
            remote_start_id=remote_start_id,
        )
        self.model.begin(transaction)
        answer = await self.transaction_event(
            TransactionEventEnumType.started,
            transaction.transaction_id,
            transaction.take_seq_no(),
            trigger_reason,
            evse_id,
            id_token=token,
            meter_wh=transaction.meter_start,
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
        id_token: str | dict[str, str] | None = None,
    ) -> call_result.TransactionEvent:
        """TransactionEvent Ended for the transaction running on `evse_id` (`id_token`:
        the token that stopped it, if one did)."""
        transaction = self.transactions[evse_id]
        if meter_wh is not None:
            self.meter_wh[evse_id] = meter_wh
        answer = await self.transaction_event(
            TransactionEventEnumType.ended,
            transaction.transaction_id,
            transaction.take_seq_no(),
            trigger_reason,
            evse_id,
            id_token=id_token,
            meter_wh=self.meter_wh[evse_id],
            charging_state="Idle",
            stopped_reason=stopped_reason,
        )
        self._ended(evse_id)
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
        self.model.firmware_status = status
        await self.call(
            call.FirmwareStatusNotification(status=status, request_id=request_id), suppress=False
        )

    async def log_status_notification(self, status: str, request_id: int | None = None) -> None:
        self.model.log_status = status
        await self.call(
            call.LogStatusNotification(status=status, request_id=request_id), suppress=False
        )

    # --- the version-neutral messages (StationAdapter) ----------------------------------

    async def _send_status(self, connector_id: int) -> None:
        await self.status(connector_id, 1, self.connector_status(connector_id))

    async def _boot_after_reset(self) -> None:
        await self.boot("RemoteReset", **self._boot_fields)

    async def power_up(
        self, firmware_version: str | None = None, serial_number: str | None = None
    ) -> call_result.BootNotification:
        return await self.boot(firmware_version=firmware_version, serial_number=serial_number)

    async def authorization_status(self, id_token: IdToken) -> str:
        answer = await self.authorize(id_token.value, id_token.type)
        return str(answer.id_token_info["status"])

    async def begin_transaction(self, start: Start) -> tuple[str, str]:
        trigger = (
            TriggerReasonEnumType.remote_start if start.remote else TriggerReasonEnumType.authorized
        )
        transaction_id, answer = await self.start_session(
            start.connector_id,
            id_token_of(start.id_token.value, start.id_token.type),
            trigger_reason=trigger,
            remote_start_id=start.remote_start_id,
            reservation_id=start.reservation_id,
        )
        # Without idTokenInfo the CSMS has nothing against the token.
        return transaction_id, str((answer.id_token_info or {}).get("status", ACCEPTED))

    async def report_energy(self, connector_id: int, energy_wh: float) -> None:
        await self.update_session(connector_id, meter_wh=round(energy_wh))

    async def end_transaction(
        self, connector_id: int, transaction_id: str, reason: str, stopped_by: str | None = None
    ) -> None:
        # 2.0.1 keeps every transaction it started until it ends: found by its EVSE.
        trigger = _TRIGGER_OF_STOP.get(reason, TriggerReasonEnumType.stop_authorized)
        await self.end_session(
            connector_id, stopped_reason=reason, trigger_reason=trigger, id_token=stopped_by
        )

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
        token = IdToken(id_token["id_token"], id_token["type"])
        profile = None if charging_profile is None else read_profile(0, charging_profile)
        started = self.accept_remote_start(evse_id, token, remote_start_id, profile)
        return call_result.RequestStartTransaction(accepted_if(started))

    @on(Action.request_stop_transaction)
    def on_request_stop_transaction(
        self, transaction_id: str, **_: Any
    ) -> call_result.RequestStopTransaction:
        stopping = self.remote_stop(transaction_id, ReasonEnumType.remote)
        return call_result.RequestStopTransaction(accepted_if(stopping))

    @on(Action.unlock_connector)
    def on_unlock_connector(
        self, evse_id: int, connector_id: int, **_: Any
    ) -> call_result.UnlockConnector:
        if not self.model.is_connector(evse_id) or connector_id != 1:
            return call_result.UnlockConnector(UnlockStatusEnumType.unknown_connector)
        if self.rejecting():
            return call_result.UnlockConnector(UnlockStatusEnumType.unlock_failed)
        if evse_id in self.transactions:  # the CSMS must stop the transaction first
            return call_result.UnlockConnector(UnlockStatusEnumType.ongoing_authorized_transaction)
        return call_result.UnlockConnector(UnlockStatusEnumType.unlocked)

    # --- availability and reset --------------------------------------------------------

    @on(Action.reset)
    def on_reset(self, type: str, evse_id: int | None = None, **_: Any) -> call_result.Reset:
        if evse_id is None:
            when_idle = type == ResetEnumType.on_idle
            return call_result.Reset(self.reset(ReasonEnumType.immediate_reset, when_idle))
        if self.rejecting() or not self.model.is_connector(evse_id):
            return call_result.Reset(REJECTED)
        self.stop_on(evse_id, ReasonEnumType.immediate_reset)  # ends its session, nothing else
        return call_result.Reset(ACCEPTED)

    @on(Action.change_availability)
    def on_change_availability(
        self, operational_status: str, evse: dict[str, int] | None = None, **_: Any
    ) -> call_result.ChangeAvailability:
        target = evse["id"] if evse else 0
        return call_result.ChangeAvailability(self.change_availability(target, operational_status))

    # --- device model ------------------------------------------------------------------

    @on(Action.get_variables)
    def on_get_variables(
        self, get_variable_data: list[dict[str, Any]], **_: Any
    ) -> call_result.GetVariables:
        refuse = self.rejecting()
        results = [
            device.get_result(self.device_model, item, self.variable_value, refuse)
            for item in get_variable_data
        ]
        return call_result.GetVariables(get_variable_result=results)

    @on(Action.set_variables)
    def on_set_variables(
        self, set_variable_data: list[dict[str, Any]], **_: Any
    ) -> call_result.SetVariables:
        results = [
            device.set_result(self.device_model, item, self.write_setting)
            for item in set_variable_data
        ]
        return call_result.SetVariables(set_variable_result=results)

    @on(Action.get_base_report)
    def on_get_base_report(
        self, request_id: int, report_base: str, **_: Any
    ) -> call_result.GetBaseReport:
        if self.rejecting():
            return call_result.GetBaseReport(REJECTED)
        variables = self.device_model
        report = [
            device.report_item(variables[key], key, self.variable_value)
            for key in device.report_keys(variables, report_base)
        ]
        if not report:
            return call_result.GetBaseReport("EmptyResultSet")
        self.follow_up(functools.partial(self._send_report, request_id, report))
        return call_result.GetBaseReport(ACCEPTED)

    async def _send_report(self, request_id: int, report: list[dict[str, Any]]) -> None:
        size = self.report_page_size
        chunks = [report[i : i + size] for i in range(0, len(report), size)]
        for seq_no, chunk in enumerate(chunks):
            await self.notify_report(request_id, chunk, seq_no, tbc=seq_no < len(chunks) - 1)

    # --- remote trigger, cache, data transfer ------------------------------------------

    @on(Action.trigger_message)
    def on_trigger_message(
        self, requested_message: str, evse: dict[str, int] | None = None, **_: Any
    ) -> call_result.TriggerMessage:
        evse_id = evse["id"] if evse else None
        if self.rejecting() or (evse_id is not None and not self.model.is_connector(evse_id)):
            return call_result.TriggerMessage(REJECTED)
        evse_ids = [evse_id] if evse_id is not None else self.status_connectors
        if requested_message == MessageTriggerEnumType.transaction_event:
            evse_ids = [e for e in evse_ids if e in self.transactions]
            if not evse_ids:  # nothing to report on
                return call_result.TriggerMessage(REJECTED)
        message = self._triggered(requested_message, evse_ids)
        if message is None:
            return call_result.TriggerMessage("NotImplemented")
        self.follow_up(message)
        return call_result.TriggerMessage(ACCEPTED)

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

    async def _send_meter_values(self, evse_ids: Iterable[int]) -> None:
        for evse_id in evse_ids:
            await self.meter_values(evse_id, self.meter_wh[evse_id], context="Trigger")

    async def _send_transaction_updates(self, evse_ids: Iterable[int]) -> None:
        for evse_id in evse_ids:
            await self.update_session(evse_id, trigger_reason=TriggerReasonEnumType.trigger)

    # --- local authorization list ------------------------------------------------------

    @on(Action.send_local_list)
    def on_send_local_list(
        self,
        version_number: int,
        update_type: str,
        local_authorization_list: list[dict[str, Any]] | None = None,
        **_: Any,
    ) -> call_result.SendLocalList:
        entries = local_authorization_list or []
        changes = [(e["id_token"]["id_token"], e.get("id_token_info")) for e in entries]
        full = update_type == UpdateEnumType.full
        return call_result.SendLocalList(self.update_local_list(version_number, full, changes))

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
        reservation = Reservation(id, evse_id, id_token["id_token"], expiry_date_time)
        return call_result.ReserveNow(self.reserve(reservation))

    # --- smart charging ----------------------------------------------------------------

    @on(Action.set_charging_profile)
    def on_set_charging_profile(
        self, evse_id: int, charging_profile: dict[str, Any], **_: Any
    ) -> call_result.SetChargingProfile:
        installed = self.set_profile(read_profile(evse_id, charging_profile))
        return call_result.SetChargingProfile(accepted_if(installed))

    @on(Action.clear_charging_profile)
    def on_clear_charging_profile(
        self,
        charging_profile_id: int | None = None,
        charging_profile_criteria: dict[str, Any] | None = None,
        **_: Any,
    ) -> call_result.ClearChargingProfile:
        criteria = charging_profile_criteria or {}
        purpose = criteria.get("charging_profile_purpose")
        cleared = self.clear_profiles(
            charging_profile_id,
            criteria.get("evse_id"),
            PURPOSES[purpose] if purpose else None,
            criteria.get("stack_level"),
        )
        return call_result.ClearChargingProfile(ACCEPTED if cleared else "Unknown")

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
            if evse_id in (None, p.connector_id) and _profile_matches(p, charging_profile)
        ]
        if self.rejecting() or not found:
            return call_result.GetChargingProfiles("NoProfiles")
        self.follow_up(functools.partial(self._report_profiles, request_id, found))
        return call_result.GetChargingProfiles(ACCEPTED)

    async def _report_profiles(self, request_id: int, profiles: Sequence[ChargingProfile]) -> None:
        evse_ids = sorted({p.connector_id for p in profiles})
        for index, evse_id in enumerate(evse_ids):
            await self.call(
                call.ReportChargingProfiles(
                    request_id=request_id,
                    charging_limit_source="CSO",
                    charging_profile=[p.sent for p in profiles if p.connector_id == evse_id],
                    evse_id=evse_id,
                    tbc=index < len(evse_ids) - 1,
                ),
                suppress=False,
            )

    @on(Action.get_composite_schedule)
    def on_get_composite_schedule(
        self, duration: int, evse_id: int, charging_rate_unit: str | None = None, **_: Any
    ) -> call_result.GetCompositeSchedule:
        schedule = self.composite_schedule(evse_id, duration, charging_rate_unit)
        if schedule is None:
            return call_result.GetCompositeSchedule(REJECTED)
        return call_result.GetCompositeSchedule(
            status=ACCEPTED,
            schedule={
                "evse_id": evse_id,
                "duration": duration,
                "schedule_start": now_iso(),
                "charging_rate_unit": schedule.unit,
                "charging_schedule_period": schedule.periods,
            },
        )

    # --- firmware and logs -------------------------------------------------------------

    @on(Action.update_firmware)
    def on_update_firmware(
        self, request_id: int, firmware: dict[str, Any], **_: Any
    ) -> call_result.UpdateFirmware:
        if self.rejecting():
            return call_result.UpdateFirmware(REJECTED)
        # Simulated at once: retrieveDateTime is not waited for, and there is no reboot.
        notify = functools.partial(self.firmware_status_notification, request_id=request_id)
        self.progress(FIRMWARE_STEPS, notify)
        return call_result.UpdateFirmware(ACCEPTED)

    @on(Action.get_log)
    def on_get_log(
        self, log: dict[str, Any], log_type: str, request_id: int, **_: Any
    ) -> call_result.GetLog:
        if self.rejecting():
            return call_result.GetLog(REJECTED)
        self.progress(
            LOG_UPLOAD_STEPS, functools.partial(self.log_status_notification, request_id=request_id)
        )
        return call_result.GetLog(ACCEPTED, filename=f"{log_type}-{self.id}.log")


def connected_station_201(
    url: str,
    station_id: str,
    password: str | None = None,
    subprotocols: tuple[str, ...] = ("ocpp2.0.1",),
    response_timeout: float = 10,
    evses: int = 2,
    tls: ssl.SSLContext | None = None,
) -> contextlib.AbstractAsyncContextManager[SimulatedStation201]:
    """Open a WebSocket to `url/station_id` and run the station's message loop."""
    return connected(
        SimulatedStation201, url, station_id, password, subprotocols, response_timeout, evses, tls
    )
