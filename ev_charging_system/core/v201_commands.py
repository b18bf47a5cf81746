"""Version-neutral commands spelled as OCPP 2.0.1 calls, and 2.0.1 answers read back."""

from __future__ import annotations

from typing import Any

from ocpp.v201 import call

from ev_charging_system.business_logic.transaction_event_service import TransactionEventService
from ev_charging_system.core.certificates import hash_data, hash_fields
from ev_charging_system.core.command_dispatcher import BeforeSend
from ev_charging_system.core.frames import format_timestamp
from ev_charging_system.core.profiles import v201_profile
from ev_charging_system.core.v201 import id_token_info
from ev_charging_system.models import commands as c
from ev_charging_system.models.certificates import CertificateUse
from ev_charging_system.models.charging_profile import ProfilePurpose
from ev_charging_system.models.errors import CommandNotSupportedError

# Well-known 1.6 configuration keys and their 2.0.1 (component, variable).
KEYS_16_TO_201: dict[str, tuple[str, str]] = {
    "HeartbeatInterval": ("OCPPCommCtrlr", "HeartbeatInterval"),
    "WebSocketPingInterval": ("OCPPCommCtrlr", "WebSocketPingInterval"),
    "ResetRetries": ("OCPPCommCtrlr", "ResetRetries"),
    "MeterValueSampleInterval": ("SampledDataCtrlr", "TxUpdatedInterval"),
    "MeterValuesSampledData": ("SampledDataCtrlr", "TxUpdatedMeasurands"),
    "ClockAlignedDataInterval": ("AlignedDataCtrlr", "Interval"),
    "ConnectionTimeOut": ("TxCtrlr", "EVConnectionTimeOut"),
    "StopTransactionOnEVSideDisconnect": ("TxCtrlr", "StopTxOnEVSideDisconnect"),
    "LocalAuthListEnabled": ("LocalAuthListCtrlr", "Enabled"),
    "AuthorizeRemoteTxRequests": ("AuthCtrlr", "AuthorizeRemoteStart"),
    "LocalPreAuthorize": ("AuthCtrlr", "LocalPreAuthorize"),
}

_TRIGGERS_201 = {
    c.TriggerableMessage.BOOT_NOTIFICATION: "BootNotification",
    c.TriggerableMessage.HEARTBEAT: "Heartbeat",
    c.TriggerableMessage.STATUS_NOTIFICATION: "StatusNotification",
    c.TriggerableMessage.METER_VALUES: "MeterValues",
    c.TriggerableMessage.FIRMWARE_STATUS: "FirmwareStatusNotification",
    c.TriggerableMessage.DIAGNOSTICS_STATUS: "LogStatusNotification",
    c.TriggerableMessage.TRANSACTION_EVENT: "TransactionEvent",
    c.TriggerableMessage.SIGN_CERTIFICATE: "SignChargingStationCertificate",
}

_USES_201 = {
    CertificateUse.CSMS_ROOT: "CSMSRootCertificate",
    CertificateUse.MANUFACTURER_ROOT: "ManufacturerRootCertificate",
    CertificateUse.V2G_ROOT: "V2GRootCertificate",
    CertificateUse.MO_ROOT: "MORootCertificate",
}
_USE_OF_201 = {name: use for use, name in _USES_201.items()}

LOCAL_TOKEN_TYPE = "ISO14443"  # RFID cards: what a local authorization list mostly holds
REMOTE_TOKEN_TYPE = "Central"  # a token the CSMS vouches for


def component_variable(key: str) -> tuple[str, str]:
    """`HeartbeatInterval` -> OCPPCommCtrlr/HeartbeatInterval; `Comp.Var` -> Comp/Var."""
    if key in KEYS_16_TO_201:
        return KEYS_16_TO_201[key]
    component, dot, variable = key.partition(".")
    if not dot or not component or not variable:
        raise CommandNotSupportedError(
            f"{key!r} is not a known 1.6 key; name 2.0.1 variables as Component.Variable"
        )
    return component, variable


def _key_of(component: str, variable: str) -> str:
    for key, pair in KEYS_16_TO_201.items():
        if pair == (component, variable):
            return key
    return f"{component}.{variable}"


def _evse(connector_id: int | None) -> dict[str, int] | None:
    return {"id": connector_id} if connector_id else None


def remote_start_recorder(
    charge_point_id: str, transaction_events: TransactionEventService
) -> BeforeSend:
    """Before a RequestStartTransaction goes out, remember its remoteStartId's token: the
    station's TransactionEvent may name only the remoteStartId (and may arrive before the
    answer to the request)."""

    async def remember(command: c.Command, request: Any) -> None:
        if isinstance(command, c.RemoteStart):
            await transaction_events.remote_start_requested(
                charge_point_id, request.remote_start_id, command.id_tag
            )

    return remember


class V201Commands:
    def request(self, command: c.Command) -> Any:
        match command:
            case c.RemoteStart():
                profile = command.charging_profile
                return call.RequestStartTransaction(
                    id_token={"id_token": command.id_tag, "type": REMOTE_TOKEN_TYPE},
                    remote_start_id=command.remote_start_id or 0,
                    evse_id=command.connector_id,
                    charging_profile=v201_profile(profile) if profile else None,
                )
            case c.RemoteStop():
                return call.RequestStopTransaction(transaction_id=command.ocpp_transaction_id)
            case c.Reset():
                # 2.0.1 has no soft/hard distinction, only when to reset: Immediate is the
                # hard reset, OnIdle waits for transactions to end. Hard and OnIdle at once
                # cannot be expressed, and sending OnIdle would silently not be "hard".
                if command.type is c.ResetType.HARD and command.when is c.ResetWhen.ON_IDLE:
                    raise CommandNotSupportedError(
                        "OCPP 2.0.1 cannot reset Hard and OnIdle at once: a 2.0.1 reset is "
                        "either Immediate (use type Hard, when Immediate) or OnIdle, after "
                        "running transactions end (use type Soft, when OnIdle)"
                    )
                return call.Reset(type=command.when.value)
            case c.UnlockConnector():
                return call.UnlockConnector(evse_id=command.connector_id, connector_id=1)
            case c.ChangeAvailability():
                return call.ChangeAvailability(
                    operational_status="Operative" if command.operative else "Inoperative",
                    evse=_evse(command.connector_id),
                )
            case c.GetConfiguration():
                if not command.keys:
                    raise CommandNotSupportedError(
                        "OCPP 2.0.1 reads named variables only; use get-base-report for all"
                    )
                return call.GetVariables(
                    get_variable_data=[
                        {"component": {"name": comp}, "variable": {"name": var}}
                        for comp, var in map(component_variable, command.keys)
                    ]
                )
            case c.SetConfiguration():
                comp, var = component_variable(command.key)
                return call.SetVariables(
                    set_variable_data=[
                        {
                            "attribute_value": command.value,
                            "component": {"name": comp},
                            "variable": {"name": var},
                        }
                    ]
                )
            case c.GetBaseReport():
                return call.GetBaseReport(
                    request_id=command.request_id,
                    report_base=command.report_base.value,
                )
            case c.TriggerMessage():
                if command.message is c.TriggerableMessage.STATUS_NOTIFICATION and not (
                    command.connector_id
                ):
                    # F06.FR.13: a 2.0.1 StatusNotification is per connector, so the
                    # request must name the EVSE.
                    raise CommandNotSupportedError(
                        "OCPP 2.0.1 triggers StatusNotification for one EVSE: give connector_id"
                    )
                return call.TriggerMessage(
                    requested_message=_TRIGGERS_201[command.message],
                    evse=_evse(command.connector_id),
                )
            case c.ClearCache():
                return call.ClearCache()
            case c.SendLocalList():
                entries = [
                    {
                        "id_token": {"id_token": e.id_tag, "type": LOCAL_TOKEN_TYPE},
                        # Status, group (parent tag) and expiry, as Authorize answers them.
                        **({"id_token_info": id_token_info(e.info)} if e.info else {}),
                    }
                    for e in command.entries
                ]
                return call.SendLocalList(
                    version_number=command.version,
                    update_type=command.update_type.value,
                    # An empty list is omitted (minItems 1): a Full update without it
                    # clears the station's list.
                    local_authorization_list=entries or None,
                )
            case c.GetLocalListVersion():
                return call.GetLocalListVersion()
            case c.ReserveNow():
                return call.ReserveNow(
                    id=command.reservation_id,
                    expiry_date_time=format_timestamp(command.expiry),
                    id_token={"id_token": command.id_tag, "type": REMOTE_TOKEN_TYPE},
                    evse_id=command.connector_id or None,
                    group_id_token={"id_token": command.parent_id_tag, "type": REMOTE_TOKEN_TYPE}
                    if command.parent_id_tag
                    else None,
                )
            case c.CancelReservation():
                return call.CancelReservation(reservation_id=command.reservation_id)
            case c.SetChargingProfile():
                return call.SetChargingProfile(
                    evse_id=command.connector_id,
                    charging_profile=v201_profile(command.profile),
                )
            case c.ClearChargingProfile():
                criteria = {
                    k: v
                    for k, v in {
                        "evse_id": command.connector_id,
                        "charging_profile_purpose": command.purpose.value
                        if command.purpose
                        else None,
                        "stack_level": command.stack_level,
                    }.items()
                    if v is not None
                }
                return call.ClearChargingProfile(
                    charging_profile_id=command.profile_id,
                    charging_profile_criteria=criteria or None,
                )
            case c.GetChargingProfiles():
                purpose: ProfilePurpose | None = command.purpose
                return call.GetChargingProfiles(
                    request_id=command.request_id,
                    charging_profile={"charging_profile_purpose": purpose.value} if purpose else {},
                    evse_id=command.connector_id,
                )
            case c.GetCompositeSchedule():
                return call.GetCompositeSchedule(
                    duration=command.duration_seconds,
                    evse_id=command.connector_id,
                    charging_rate_unit=command.rate_unit.value if command.rate_unit else None,
                )
            case c.UpdateFirmware():
                return call.UpdateFirmware(
                    request_id=command.request_id,
                    firmware={
                        "location": command.location,
                        "retrieve_date_time": format_timestamp(command.retrieve_date),
                    },
                    retries=command.retries,
                    retry_interval=command.retry_interval_seconds,
                )
            case c.GetDiagnostics():
                log: dict[str, Any] = {"remote_location": command.location}
                if command.start:
                    log["oldest_timestamp"] = format_timestamp(command.start)
                if command.stop:
                    log["latest_timestamp"] = format_timestamp(command.stop)
                return call.GetLog(
                    log=log,
                    log_type="DiagnosticsLog",
                    request_id=command.request_id,
                    retries=command.retries,
                    retry_interval=command.retry_interval_seconds,
                )
            case c.DataTransfer():
                return call.DataTransfer(
                    vendor_id=command.vendor_id, message_id=command.message_id, data=command.data
                )
            case c.CertificateSigned():
                return call.CertificateSigned(
                    certificate_chain=command.certificate_chain,
                    certificate_type=command.kind.value,
                )
            case c.InstallCertificate():
                return call.InstallCertificate(
                    certificate_type=_USES_201[command.use], certificate=command.certificate
                )
            case c.GetInstalledCertificateIds():
                return call.GetInstalledCertificateIds(
                    certificate_type=[_USES_201[use] for use in command.uses] or None
                )
            case c.DeleteCertificate():
                return call.DeleteCertificate(certificate_hash_data=hash_data(command.certificate))
        raise CommandNotSupportedError(f"unknown command {type(command).__name__}")

    def result(self, command: c.Command, response: Any) -> c.CommandResult:
        match command:
            case c.GetConfiguration():
                found, unknown = [], []
                for item in response.get_variable_result:
                    key = _key_of(item["component"]["name"], item["variable"]["name"])
                    if item["attribute_status"] == "Accepted":
                        found.append(
                            {"key": key, "value": item.get("attribute_value"), "readonly": None}
                        )
                    else:
                        unknown.append(key)
                return c.CommandResult(
                    "Accepted", {"configuration": found, "unknown_keys": unknown}
                )
            case c.SetConfiguration():
                [item] = response.set_variable_result
                return c.CommandResult(str(item["attribute_status"]))
            case c.RemoteStart():
                return c.CommandResult(
                    str(response.status), {"transaction_id": response.transaction_id}
                )
            case c.GetLocalListVersion():
                return c.CommandResult("Accepted", {"list_version": response.version_number})
            case c.GetDiagnostics():
                return c.CommandResult(str(response.status), {"file_name": response.filename})
            case c.GetCompositeSchedule():
                return c.CommandResult(str(response.status), {"schedule": response.schedule})
            case c.DataTransfer():
                return c.CommandResult(str(response.status), {"data": response.data})
            case c.GetInstalledCertificateIds():
                chains = response.certificate_hash_data_chain or []
                return c.CommandResult(
                    str(response.status),
                    {
                        "certificates": [
                            {
                                "use": _USE_OF_201.get(
                                    item["certificate_type"], item["certificate_type"]
                                ),
                                **hash_fields(item["certificate_hash_data"]),
                            }
                            for item in chains
                        ]
                    },
                )
            case c.GetBaseReport() | c.GetChargingProfiles() | c.UpdateFirmware():
                return c.CommandResult(str(response.status), {"request_id": command.request_id})
        return c.CommandResult(str(response.status))
