"""OCPP 2.0.1: every message a charging station may send, translated into service calls.

Like the 1.6 handler, no business rule lives here. Addressing follows the rest of the
system: an EVSE id is the "connector id" services and the REST API speak of.
"""

from __future__ import annotations

import logging
from typing import Any

from ocpp.v201 import call_result
from ocpp.v201.enums import Action

from ev_charging_system.business_logic.device_management_service import StatusReport
from ev_charging_system.core.frames import format_timestamp, parse_timestamp
from ev_charging_system.core.routing import on
from ev_charging_system.core.rpc import OcppEndpoint
from ev_charging_system.models.certificates import SignedCertificateKind
from ev_charging_system.models.charge_point import BootInfo
from ev_charging_system.models.device_model import DeviceModelEntry
from ev_charging_system.models.id_token import IdTagInfo
from ev_charging_system.models.station_event import EventKind
from ev_charging_system.models.transaction import (
    RawSampledValue,
    SignedMeterValue,
    TransactionEventInput,
)

logger = logging.getLogger(__name__)

OCPP_VERSION = "2.0.1"
_MAX_STORED_TEXT = 2000


def id_token_info(info: IdTagInfo) -> dict[str, Any]:
    result: dict[str, Any] = {"status": info.status.value}
    if info.expiry_date is not None:
        result["cache_expiry_date_time"] = format_timestamp(info.expiry_date)
    if info.parent_id_tag is not None:
        result["group_id_token"] = {"id_token": info.parent_id_tag, "type": "Central"}
    return result


def sampled_values(meter_values: list[dict[str, Any]] | None) -> list[RawSampledValue]:
    raw = []
    for meter_value in meter_values or []:
        timestamp = parse_timestamp(meter_value["timestamp"])
        for sample in meter_value.get("sampled_value", []):
            unit = sample.get("unit_of_measure") or {}
            signed = sample.get("signed_meter_value")
            raw.append(
                RawSampledValue(
                    timestamp=timestamp,
                    value=str(sample["value"]),
                    measurand=sample.get("measurand"),
                    unit=unit.get("unit"),
                    multiplier=int(unit.get("multiplier", 0)),
                    phase=sample.get("phase"),
                    context=sample.get("context"),
                    location=sample.get("location"),
                    signed=signed_meter_value(signed) if signed else None,
                )
            )
    return raw


def signed_meter_value(signed: dict[str, Any]) -> SignedMeterValue:
    return SignedMeterValue(
        signed_meter_data=signed["signed_meter_data"],
        signing_method=signed.get("signing_method"),
        encoding_method=signed.get("encoding_method"),
        public_key=signed.get("public_key"),
    )


def device_model_entries(report_data: list[dict[str, Any]] | None) -> list[DeviceModelEntry]:
    entries = []
    for item in report_data or []:
        component, variable = item["component"], item["variable"]
        evse = component.get("evse") or {}
        characteristics = item.get("variable_characteristics") or {}
        for attribute in item.get("variable_attribute", []):
            entries.append(
                DeviceModelEntry(
                    component_name=component["name"],
                    component_instance=component.get("instance", ""),
                    evse_id=evse.get("id", 0),
                    connector_id=evse.get("connector_id", 0),
                    variable_name=variable["name"],
                    variable_instance=variable.get("instance", ""),
                    attribute_type=attribute.get("type", "Actual"),
                    value=attribute.get("value"),
                    mutability=attribute.get("mutability"),
                    persistent=attribute.get("persistent"),
                    constant=attribute.get("constant"),
                    characteristics=characteristics,
                )
            )
    return entries


class V201Handler(OcppEndpoint):
    ocpp_version = OCPP_VERSION
    call_results = call_result
    actions = frozenset(action.value for action in Action)

    async def _event(self, kind: EventKind, **detail: Any) -> None:
        await self._services.devices.record_event(self.id, kind, detail)

    # --- provisioning and availability ------------------------------------------------

    @on(Action.boot_notification)
    async def on_boot_notification(
        self, charging_station: dict[str, Any], reason: str
    ) -> call_result.BootNotification:
        modem = charging_station.get("modem") or {}
        result = await self._services.devices.boot(
            self.id,
            BootInfo(
                vendor=charging_station["vendor_name"],
                model=charging_station["model"],
                serial_number=charging_station.get("serial_number"),
                firmware_version=charging_station.get("firmware_version"),
                iccid=modem.get("iccid"),
                imsi=modem.get("imsi"),
            ),
            reason=reason,
        )
        return call_result.BootNotification(
            current_time=format_timestamp(result.current_time),
            interval=result.interval_seconds,
            status=result.status.value,
        )

    @on(Action.heartbeat)
    async def on_heartbeat(self) -> call_result.Heartbeat:
        now = self._services.devices.heartbeat(self.id)
        return call_result.Heartbeat(current_time=format_timestamp(now))

    @on(Action.status_notification)
    async def on_status_notification(
        self, timestamp: str, connector_status: str, evse_id: int, connector_id: int
    ) -> call_result.StatusNotification:
        await self._services.devices.status_notification(
            self.id,
            StatusReport(
                connector_id=evse_id,
                evse_connector_id=connector_id,
                status=connector_status,
                error_code="NoError",  # 2.0.1 reports faults through NotifyEvent
                timestamp=parse_timestamp(timestamp),
            ),
        )
        return call_result.StatusNotification()

    @on(Action.notify_report)
    async def on_notify_report(
        self,
        request_id: int,
        generated_at: str,
        seq_no: int,
        report_data: list[dict[str, Any]] | None = None,
        tbc: bool = False,
    ) -> call_result.NotifyReport:
        await self._services.devices.store_device_model(self.id, device_model_entries(report_data))
        return call_result.NotifyReport()

    @on(Action.notify_event)
    async def on_notify_event(
        self, generated_at: str, seq_no: int, event_data: list[dict[str, Any]], tbc: bool = False
    ) -> call_result.NotifyEvent:
        await self._event(EventKind.NOTIFY_EVENT, seq_no=seq_no, event_data=event_data)
        return call_result.NotifyEvent()

    @on(Action.notify_monitoring_report)
    async def on_notify_monitoring_report(
        self,
        request_id: int,
        seq_no: int,
        generated_at: str,
        monitor: list[dict[str, Any]] | None = None,
        tbc: bool = False,
    ) -> call_result.NotifyMonitoringReport:
        await self._event(EventKind.MONITORING_REPORT, request_id=request_id, monitor=monitor)
        return call_result.NotifyMonitoringReport()

    # --- authorization and transactions -------------------------------------------------

    @on(Action.authorize)
    async def on_authorize(
        self, id_token: dict[str, Any], **_certificates: Any
    ) -> call_result.Authorize:
        info = await self._services.transaction_events.authorize_token(
            id_token["id_token"], id_token["type"]
        )
        return call_result.Authorize(id_token_info=id_token_info(info))

    @on(Action.transaction_event)
    async def on_transaction_event(
        self,
        event_type: str,
        timestamp: str,
        trigger_reason: str,
        seq_no: int,
        transaction_info: dict[str, Any],
        meter_value: list[dict[str, Any]] | None = None,
        offline: bool = False,
        reservation_id: int | None = None,
        evse: dict[str, Any] | None = None,
        id_token: dict[str, Any] | None = None,
        **_extra: Any,
    ) -> call_result.TransactionEvent:
        result = await self._services.transaction_events.handle(
            TransactionEventInput(
                charge_point_id=self.id,
                event_type=event_type,
                ocpp_transaction_id=transaction_info["transaction_id"],
                seq_no=seq_no,
                timestamp=parse_timestamp(timestamp),
                trigger_reason=trigger_reason,
                connector_id=evse["id"] if evse else None,
                id_tag=id_token["id_token"] if id_token else None,
                id_tag_type=id_token["type"] if id_token else None,
                offline=offline,
                stopped_reason=transaction_info.get("stopped_reason"),
                remote_start_id=transaction_info.get("remote_start_id"),
                reservation_id=reservation_id,
                charging_state=transaction_info.get("charging_state"),
                meter_values=tuple(sampled_values(meter_value)),
            )
        )
        info = id_token_info(result.id_tag_info) if result.id_tag_info else None
        return call_result.TransactionEvent(id_token_info=info)

    @on(Action.meter_values)
    async def on_meter_values(
        self, evse_id: int, meter_value: list[dict[str, Any]]
    ) -> call_result.MeterValues:
        await self._services.transactions.meter_values(
            self.id, evse_id, None, sampled_values(meter_value)
        )
        return call_result.MeterValues()

    @on(Action.reservation_status_update)
    async def on_reservation_status_update(
        self, reservation_id: int, reservation_update_status: str
    ) -> call_result.ReservationStatusUpdate:
        await self._event(
            EventKind.RESERVATION_STATUS,
            reservation_id=reservation_id,
            status=reservation_update_status,
        )
        return call_result.ReservationStatusUpdate()

    # --- smart charging -------------------------------------------------------------------

    @on(Action.notify_charging_limit)
    async def on_notify_charging_limit(
        self,
        charging_limit: dict[str, Any],
        charging_schedule: list[dict[str, Any]] | None = None,
        evse_id: int | None = None,
    ) -> call_result.NotifyChargingLimit:
        await self._event(
            EventKind.CHARGING_LIMIT,
            charging_limit=charging_limit,
            charging_schedule=charging_schedule,
            evse_id=evse_id,
        )
        return call_result.NotifyChargingLimit()

    @on(Action.cleared_charging_limit)
    async def on_cleared_charging_limit(
        self, charging_limit_source: str, evse_id: int | None = None
    ) -> call_result.ClearedChargingLimit:
        await self._event(
            EventKind.CHARGING_LIMIT, cleared=True, source=charging_limit_source, evse_id=evse_id
        )
        return call_result.ClearedChargingLimit()

    @on(Action.report_charging_profiles)
    async def on_report_charging_profiles(
        self,
        request_id: int,
        charging_limit_source: str,
        charging_profile: list[dict[str, Any]],
        evse_id: int,
        tbc: bool = False,
    ) -> call_result.ReportChargingProfiles:
        await self._event(
            EventKind.CHARGING_PROFILES_REPORT,
            request_id=request_id,
            source=charging_limit_source,
            evse_id=evse_id,
            profiles=charging_profile,
        )
        return call_result.ReportChargingProfiles()

    @on(Action.notify_ev_charging_needs)
    async def on_notify_ev_charging_needs(
        self, charging_needs: dict[str, Any], evse_id: int, max_schedule_tuples: int | None = None
    ) -> call_result.NotifyEVChargingNeeds:
        await self._event(EventKind.EV_CHARGING_NEEDS, evse_id=evse_id, needs=charging_needs)
        # No ISO 15118 schedule is computed for the EV yet: say so rather than promise one.
        return call_result.NotifyEVChargingNeeds(status="Rejected")

    @on(Action.notify_ev_charging_schedule)
    async def on_notify_ev_charging_schedule(
        self, time_base: str, charging_schedule: dict[str, Any], evse_id: int
    ) -> call_result.NotifyEVChargingSchedule:
        await self._event(
            EventKind.EV_CHARGING_SCHEDULE,
            evse_id=evse_id,
            time_base=time_base,
            schedule=charging_schedule,
        )
        return call_result.NotifyEVChargingSchedule(status="Accepted")

    # --- firmware, diagnostics, security --------------------------------------------------

    @on(Action.firmware_status_notification)
    async def on_firmware_status_notification(
        self, status: str, request_id: int | None = None
    ) -> call_result.FirmwareStatusNotification:
        await self._services.devices.firmware_status(self.id, status)
        return call_result.FirmwareStatusNotification()

    @on(Action.publish_firmware_status_notification)
    async def on_publish_firmware_status_notification(
        self, status: str, location: list[str] | None = None, request_id: int | None = None
    ) -> call_result.PublishFirmwareStatusNotification:
        await self._event(EventKind.PUBLISH_FIRMWARE_STATUS, status=status, location=location)
        return call_result.PublishFirmwareStatusNotification()

    @on(Action.log_status_notification)
    async def on_log_status_notification(
        self, status: str, request_id: int | None = None
    ) -> call_result.LogStatusNotification:
        await self._services.devices.diagnostics_status(self.id, status)
        return call_result.LogStatusNotification()

    @on(Action.security_event_notification)
    async def on_security_event_notification(
        self, type: str, timestamp: str, tech_info: str | None = None
    ) -> call_result.SecurityEventNotification:
        await self._event(
            EventKind.SECURITY_EVENT, type=type, timestamp=timestamp, tech_info=tech_info
        )
        return call_result.SecurityEventNotification()

    @on(Action.sign_certificate)
    async def on_sign_certificate(
        self, csr: str, certificate_type: str | None = None
    ) -> call_result.SignCertificate:
        certificates = self._services.certificates
        decision = await certificates.review_signing_request(
            self.id, csr, SignedCertificateKind(certificate_type or "ChargingStationCertificate")
        )
        if not decision.accepted:
            return call_result.SignCertificate(
                status="Rejected", status_info={"reason_code": "InvalidCSR"}
            )
        self.after_reply(lambda: certificates.deliver(self.id, decision))
        return call_result.SignCertificate(status="Accepted")

    @on(Action.get_15118_ev_certificate)
    async def on_get_15118_ev_certificate(
        self, iso15118_schema_version: str, action: str, exi_request: str
    ) -> call_result.Get15118EVCertificate:
        await self._event(
            EventKind.CERTIFICATE_REQUEST, request="Get15118EVCertificate", answer="Failed"
        )
        return call_result.Get15118EVCertificate(status="Failed", exi_response="")

    @on(Action.get_certificate_status)
    async def on_get_certificate_status(
        self, ocsp_request_data: dict[str, Any]
    ) -> call_result.GetCertificateStatus:
        await self._event(
            EventKind.CERTIFICATE_REQUEST, request="GetCertificateStatus", answer="Failed"
        )
        return call_result.GetCertificateStatus(status="Failed")

    # --- customer information, display, vendor extensions ---------------------------------

    @on(Action.notify_customer_information)
    async def on_notify_customer_information(
        self, data: str, seq_no: int, generated_at: str, request_id: int, tbc: bool = False
    ) -> call_result.NotifyCustomerInformation:
        await self._event(
            EventKind.CUSTOMER_INFORMATION,
            request_id=request_id,
            seq_no=seq_no,
            data=data[:_MAX_STORED_TEXT],
        )
        return call_result.NotifyCustomerInformation()

    @on(Action.notify_display_messages)
    async def on_notify_display_messages(
        self,
        request_id: int,
        message_info: list[dict[str, Any]] | None = None,
        tbc: bool = False,
    ) -> call_result.NotifyDisplayMessages:
        await self._event(EventKind.DISPLAY_MESSAGES, request_id=request_id, messages=message_info)
        return call_result.NotifyDisplayMessages()

    @on(Action.data_transfer)
    async def on_data_transfer(
        self, vendor_id: str, message_id: str | None = None, data: Any = None
    ) -> call_result.DataTransfer:
        await self._event(
            EventKind.DATA_TRANSFER,
            vendor_id=vendor_id,
            message_id=message_id,
            data=str(data)[:_MAX_STORED_TEXT] if data is not None else None,
            answer="UnknownVendorId",
        )
        return call_result.DataTransfer(status="UnknownVendorId")
