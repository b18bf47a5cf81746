"""Version-neutral commands spelled as OCPP 1.6 calls, and 1.6 answers read back."""

from __future__ import annotations

from typing import Any

from ocpp.v16 import call

from ev_charging_system.core.certificates import hash_data, hash_fields
from ev_charging_system.core.frames import format_timestamp
from ev_charging_system.core.profiles import v16_profile, v16_purpose
from ev_charging_system.core.v16 import id_tag_info
from ev_charging_system.models import commands as c
from ev_charging_system.models.certificates import CertificateUse, SignedCertificateKind
from ev_charging_system.models.errors import CommandNotSupportedError

_TRIGGERS_16 = {
    c.TriggerableMessage.BOOT_NOTIFICATION: "BootNotification",
    c.TriggerableMessage.HEARTBEAT: "Heartbeat",
    c.TriggerableMessage.STATUS_NOTIFICATION: "StatusNotification",
    c.TriggerableMessage.METER_VALUES: "MeterValues",
    c.TriggerableMessage.FIRMWARE_STATUS: "FirmwareStatusNotification",
    c.TriggerableMessage.DIAGNOSTICS_STATUS: "DiagnosticsStatusNotification",
}


_USES_16 = {
    CertificateUse.CSMS_ROOT: "CentralSystemRootCertificate",
    CertificateUse.MANUFACTURER_ROOT: "ManufacturerRootCertificate",
}


def _use_16(use: CertificateUse) -> str:
    if use not in _USES_16:
        raise _not_in_16(f"{use.value} certificates")
    return _USES_16[use]


def _not_in_16(what: str) -> CommandNotSupportedError:
    return CommandNotSupportedError(f"OCPP 1.6 has no {what}")


class V16Commands:
    def request(self, command: c.Command) -> Any:
        match command:
            case c.RemoteStart():
                return call.RemoteStartTransaction(
                    id_tag=command.id_tag,
                    connector_id=command.connector_id,
                    charging_profile=v16_profile(command.charging_profile)
                    if command.charging_profile
                    else None,
                )
            case c.RemoteStop():
                if not command.ocpp_transaction_id.isdigit():
                    raise CommandNotSupportedError(
                        f"{command.ocpp_transaction_id!r} is not a 1.6 transaction id"
                    )
                return call.RemoteStopTransaction(transaction_id=int(command.ocpp_transaction_id))
            case c.Reset():
                if command.when is c.ResetWhen.ON_IDLE:
                    raise _not_in_16("reset on idle: a 1.6 reset ends running transactions")
                return call.Reset(type=command.type.value)
            case c.UnlockConnector():
                return call.UnlockConnector(connector_id=command.connector_id)
            case c.ChangeAvailability():
                return call.ChangeAvailability(
                    connector_id=command.connector_id or 0,
                    type="Operative" if command.operative else "Inoperative",
                )
            case c.GetConfiguration():
                return call.GetConfiguration(key=list(command.keys) or None)
            case c.GetBaseReport():
                # 1.6's nearest equivalent: the whole configuration.
                return call.GetConfiguration()
            case c.SetConfiguration():
                return call.ChangeConfiguration(key=command.key, value=command.value)
            case c.TriggerMessage() if command.message is c.TriggerableMessage.SIGN_CERTIFICATE:
                return call.ExtendedTriggerMessage(
                    requested_message="SignChargePointCertificate",
                    connector_id=command.connector_id,
                )
            case c.TriggerMessage():
                if command.message not in _TRIGGERS_16:
                    raise _not_in_16(f"{command.message.value} to trigger")
                return call.TriggerMessage(
                    requested_message=_TRIGGERS_16[command.message],
                    connector_id=command.connector_id,
                )
            case c.ClearCache():
                return call.ClearCache()
            case c.SendLocalList():
                entries = [
                    {"id_tag": e.id_tag, **({"id_tag_info": id_tag_info(e.info)} if e.info else {})}
                    for e in command.entries
                ]
                return call.SendLocalList(
                    list_version=command.version,
                    update_type=command.update_type.value,
                    # OCPP-J leaves an empty optional list out; a Full update without one
                    # empties the station's list.
                    local_authorization_list=entries or None,
                )
            case c.GetLocalListVersion():
                return call.GetLocalListVersion()
            case c.ReserveNow():
                return call.ReserveNow(
                    connector_id=command.connector_id or 0,
                    expiry_date=format_timestamp(command.expiry),
                    id_tag=command.id_tag,
                    reservation_id=command.reservation_id,
                    parent_id_tag=command.parent_id_tag,
                )
            case c.CancelReservation():
                return call.CancelReservation(reservation_id=command.reservation_id)
            case c.SetChargingProfile():
                return call.SetChargingProfile(
                    connector_id=command.connector_id,
                    cs_charging_profiles=v16_profile(command.profile),
                )
            case c.ClearChargingProfile():
                return call.ClearChargingProfile(
                    id=command.profile_id,
                    connector_id=command.connector_id,
                    charging_profile_purpose=v16_purpose(command.purpose)
                    if command.purpose
                    else None,
                    stack_level=command.stack_level,
                )
            case c.GetChargingProfiles():
                raise _not_in_16("GetChargingProfiles; use get-composite-schedule")
            case c.GetCompositeSchedule():
                return call.GetCompositeSchedule(
                    connector_id=command.connector_id,
                    duration=command.duration_seconds,
                    charging_rate_unit=command.rate_unit.value if command.rate_unit else None,
                )
            case c.UpdateFirmware():
                return call.UpdateFirmware(
                    location=command.location,
                    retrieve_date=format_timestamp(command.retrieve_date),
                    retries=command.retries,
                    retry_interval=command.retry_interval_seconds,
                )
            case c.GetDiagnostics():
                return call.GetDiagnostics(
                    location=command.location,
                    retries=command.retries,
                    retry_interval=command.retry_interval_seconds,
                    start_time=format_timestamp(command.start) if command.start else None,
                    stop_time=format_timestamp(command.stop) if command.stop else None,
                )
            case c.DataTransfer():
                return call.DataTransfer(
                    vendor_id=command.vendor_id, message_id=command.message_id, data=command.data
                )
            case c.CertificateSigned():
                if command.kind is not SignedCertificateKind.CHARGING_STATION:
                    raise _not_in_16(f"{command.kind.value} to install")
                return call.CertificateSigned(certificate_chain=command.certificate_chain)
            case c.InstallCertificate():
                return call.InstallCertificate(
                    certificate_type=_use_16(command.use), certificate=command.certificate
                )
            case c.GetInstalledCertificateIds():
                if len(command.uses) != 1:
                    raise CommandNotSupportedError(
                        "OCPP 1.6 lists one kind of certificate at a time: name one use"
                    )
                return call.GetInstalledCertificateIds(certificate_type=_use_16(command.uses[0]))
            case c.DeleteCertificate():
                return call.DeleteCertificate(certificate_hash_data=hash_data(command.certificate))
        raise CommandNotSupportedError(f"unknown command {type(command).__name__}")

    def result(self, command: c.Command, response: Any) -> c.CommandResult:
        match command:
            case c.GetConfiguration() | c.GetBaseReport():
                return c.CommandResult(
                    "Accepted",
                    {
                        "configuration": [
                            {
                                "key": item["key"],
                                "value": item.get("value"),
                                "readonly": item.get("readonly"),
                            }
                            for item in response.configuration_key or []
                        ],
                        "unknown_keys": list(response.unknown_key or []),
                    },
                )
            case c.GetLocalListVersion():
                return c.CommandResult("Accepted", {"list_version": response.list_version})
            case c.UpdateFirmware():
                return c.CommandResult("Accepted")
            case c.GetDiagnostics():
                return c.CommandResult("Accepted", {"file_name": response.file_name})
            case c.GetCompositeSchedule():
                return c.CommandResult(
                    str(response.status),
                    {
                        "connector_id": response.connector_id,
                        "schedule_start": response.schedule_start,
                        "charging_schedule": response.charging_schedule,
                    },
                )
            case c.DataTransfer():
                return c.CommandResult(str(response.status), {"data": response.data})
            case c.GetInstalledCertificateIds():
                use = command.uses[0].value
                return c.CommandResult(
                    str(response.status),
                    {
                        "certificates": [
                            {"use": use, **hash_fields(item)}
                            for item in response.certificate_hash_data or []
                        ]
                    },
                )
        return c.CommandResult(str(response.status))
