"""OCPP 1.6J: every message a charge point may send, translated into service calls.

No business rule lives here: each handler parses the payload into plain values, calls a
service, and turns the result back into the 1.6 response.
"""

from __future__ import annotations

import logging
from typing import Any

from ocpp.v16 import call_result
from ocpp.v16.enums import Action, DataTransferStatus, GenericStatus, RegistrationStatus

from ev_charging_system.business_logic.device_management_service import StatusReport
from ev_charging_system.core.frames import format_timestamp, parse_timestamp
from ev_charging_system.core.routing import on
from ev_charging_system.core.rpc import OcppEndpoint
from ev_charging_system.models.certificates import SignedCertificateKind
from ev_charging_system.models.charge_point import BootInfo
from ev_charging_system.models.id_token import IdTagInfo
from ev_charging_system.models.station_event import EventKind
from ev_charging_system.models.transaction import RawSampledValue

logger = logging.getLogger(__name__)

OCPP_VERSION = "1.6"
AVAILABLE = "Available"
_MAX_STORED_DATA = 2000  # characters of DataTransfer data kept in the event log


def id_tag_info(info: IdTagInfo) -> dict[str, Any]:
    result: dict[str, Any] = {"status": info.status.value}
    if info.expiry_date is not None:
        result["expiry_date"] = format_timestamp(info.expiry_date)
    if info.parent_id_tag is not None:
        result["parent_id_tag"] = info.parent_id_tag
    return result


def sampled_values(meter_values: list[dict[str, Any]]) -> list[RawSampledValue]:
    raw = []
    for meter_value in meter_values:
        timestamp = parse_timestamp(meter_value["timestamp"])
        for sample in meter_value.get("sampled_value", []):
            raw.append(
                RawSampledValue(
                    timestamp=timestamp,
                    value=sample["value"],
                    measurand=sample.get("measurand"),
                    unit=sample.get("unit"),
                    phase=sample.get("phase"),
                    context=sample.get("context"),
                    location=sample.get("location"),
                    format=sample.get("format"),
                )
            )
    return raw


class V16Handler(OcppEndpoint):
    ocpp_version = OCPP_VERSION
    call_results = call_result
    actions = frozenset(action.value for action in Action)

    @on(Action.boot_notification)
    async def on_boot_notification(
        self, charge_point_vendor: str, charge_point_model: str, **optional: str
    ) -> call_result.BootNotification:
        result = await self._services.devices.boot(
            self.id,
            BootInfo(
                vendor=charge_point_vendor,
                model=charge_point_model,
                serial_number=optional.get("charge_point_serial_number"),
                charge_box_serial_number=optional.get("charge_box_serial_number"),
                firmware_version=optional.get("firmware_version"),
                iccid=optional.get("iccid"),
                imsi=optional.get("imsi"),
                meter_type=optional.get("meter_type"),
                meter_serial_number=optional.get("meter_serial_number"),
            ),
        )
        return call_result.BootNotification(
            current_time=format_timestamp(result.current_time),
            interval=result.interval_seconds,
            status=RegistrationStatus(result.status.value),
        )

    @on(Action.heartbeat)
    async def on_heartbeat(self) -> call_result.Heartbeat:
        now = self._services.devices.heartbeat(self.id)
        return call_result.Heartbeat(current_time=format_timestamp(now))

    @on(Action.status_notification)
    async def on_status_notification(
        self,
        connector_id: int,
        error_code: str,
        status: str,
        timestamp: str | None = None,
        info: str | None = None,
        vendor_id: str | None = None,
        vendor_error_code: str | None = None,
    ) -> call_result.StatusNotification:
        reported_at = parse_timestamp(timestamp) if timestamp else None
        await self._services.devices.status_notification(
            self.id,
            StatusReport(
                connector_id=connector_id,
                status=status,
                error_code=error_code,
                timestamp=reported_at,
                info=info,
                vendor_id=vendor_id,
                vendor_error_code=vendor_error_code,
            ),
        )
        if status == AVAILABLE and connector_id > 0:
            # 1.6: Available means "ready for a new user", so no session runs there.
            await self._services.transactions.connector_available(
                self.id, connector_id, reported_at
            )
        return call_result.StatusNotification()

    @on(Action.authorize)
    async def on_authorize(self, id_tag: str) -> call_result.Authorize:
        info = await self._services.auth.authorize(id_tag)
        return call_result.Authorize(id_tag_info=id_tag_info(info))

    @on(Action.start_transaction)
    async def on_start_transaction(
        self,
        connector_id: int,
        id_tag: str,
        meter_start: int,
        timestamp: str,
        reservation_id: int | None = None,
    ) -> call_result.StartTransaction:
        result = await self._services.transactions.start(
            self.id,
            connector_id=connector_id,
            id_tag=id_tag,
            meter_start_wh=meter_start,
            started_at=parse_timestamp(timestamp),
            reservation_id=reservation_id,
        )
        return call_result.StartTransaction(
            transaction_id=result.transaction.id, id_tag_info=id_tag_info(result.id_tag_info)
        )

    @on(Action.meter_values)
    async def on_meter_values(
        self,
        connector_id: int,
        meter_value: list[dict[str, Any]],
        transaction_id: int | None = None,
    ) -> call_result.MeterValues:
        await self._services.transactions.meter_values(
            self.id, connector_id, transaction_id, sampled_values(meter_value)
        )
        return call_result.MeterValues()

    @on(Action.stop_transaction)
    async def on_stop_transaction(
        self,
        meter_stop: int,
        timestamp: str,
        transaction_id: int,
        reason: str | None = None,
        id_tag: str | None = None,
        transaction_data: list[dict[str, Any]] | None = None,
    ) -> call_result.StopTransaction:
        result = await self._services.transactions.stop(
            self.id,
            transaction_id=transaction_id,
            meter_stop_wh=meter_stop,
            stopped_at=parse_timestamp(timestamp),
            reason=reason,
            id_tag=id_tag,
            transaction_data=sampled_values(transaction_data or []),
        )
        info = id_tag_info(result.id_tag_info) if result.id_tag_info else None
        return call_result.StopTransaction(id_tag_info=info)

    @on(Action.data_transfer)
    async def on_data_transfer(
        self, vendor_id: str, message_id: str | None = None, data: str | None = None
    ) -> call_result.DataTransfer:
        # No vendor extensions are installed: say so clearly, and keep what was sent.
        await self._services.devices.record_event(
            self.id,
            EventKind.DATA_TRANSFER,
            {
                "vendor_id": vendor_id,
                "message_id": message_id,
                "data": (data or "")[:_MAX_STORED_DATA],
                "answer": DataTransferStatus.unknown_vendor_id.value,
            },
        )
        return call_result.DataTransfer(status=DataTransferStatus.unknown_vendor_id)

    @on(Action.firmware_status_notification)
    async def on_firmware_status_notification(
        self, status: str
    ) -> call_result.FirmwareStatusNotification:
        await self._services.devices.firmware_status(self.id, status)
        return call_result.FirmwareStatusNotification()

    @on(Action.diagnostics_status_notification)
    async def on_diagnostics_status_notification(
        self, status: str
    ) -> call_result.DiagnosticsStatusNotification:
        await self._services.devices.diagnostics_status(self.id, status)
        return call_result.DiagnosticsStatusNotification()

    # --- OCPP 1.6 Security Whitepaper extension -----------------------------------------

    @on(Action.security_event_notification)
    async def on_security_event_notification(
        self, type: str, timestamp: str, tech_info: str | None = None
    ) -> call_result.SecurityEventNotification:
        await self._services.devices.record_event(
            self.id,
            EventKind.SECURITY_EVENT,
            {"type": type, "timestamp": timestamp, "tech_info": tech_info},
        )
        return call_result.SecurityEventNotification()

    @on(Action.signed_firmware_status_notification)
    async def on_signed_firmware_status_notification(
        self, status: str, request_id: int | None = None
    ) -> call_result.SignedFirmwareStatusNotification:
        await self._services.devices.firmware_status(self.id, status)
        return call_result.SignedFirmwareStatusNotification()

    @on(Action.log_status_notification)
    async def on_log_status_notification(
        self, status: str, request_id: int | None = None
    ) -> call_result.LogStatusNotification:
        await self._services.devices.record_event(
            self.id, EventKind.LOG_STATUS, {"status": status, "request_id": request_id}
        )
        return call_result.LogStatusNotification()

    @on(Action.sign_certificate)
    async def on_sign_certificate(self, csr: str) -> call_result.SignCertificate:
        certificates = self._services.certificates
        decision = await certificates.review_signing_request(
            self.id, csr, SignedCertificateKind.CHARGING_STATION
        )
        if not decision.accepted:
            return call_result.SignCertificate(status=GenericStatus.rejected)
        self.after_reply(lambda: certificates.deliver(self.id, decision))
        return call_result.SignCertificate(status=GenericStatus.accepted)
