"""No message a station may send is answered NotImplemented, in either version."""

from __future__ import annotations

from typing import Any

import pytest

from ev_charging_system.core.v16 import V16Handler
from ev_charging_system.core.v201 import V201Handler

CP_INITIATED_16 = {
    "Authorize",
    "BootNotification",
    "DataTransfer",
    "DiagnosticsStatusNotification",
    "FirmwareStatusNotification",
    "Heartbeat",
    "MeterValues",
    "StartTransaction",
    "StatusNotification",
    "StopTransaction",
    # OCPP 1.6 security whitepaper
    "SecurityEventNotification",
    "SignCertificate",
    "SignedFirmwareStatusNotification",
    "LogStatusNotification",
}
CP_INITIATED_201 = {
    "Authorize",
    "BootNotification",
    "ClearedChargingLimit",
    "DataTransfer",
    "FirmwareStatusNotification",
    "Get15118EVCertificate",
    "GetCertificateStatus",
    "Heartbeat",
    "LogStatusNotification",
    "MeterValues",
    "NotifyChargingLimit",
    "NotifyCustomerInformation",
    "NotifyDisplayMessages",
    "NotifyEVChargingNeeds",
    "NotifyEVChargingSchedule",
    "NotifyEvent",
    "NotifyMonitoringReport",
    "NotifyReport",
    "PublishFirmwareStatusNotification",
    "ReportChargingProfiles",
    "ReservationStatusUpdate",
    "SecurityEventNotification",
    "SignCertificate",
    "StatusNotification",
    "TransactionEvent",
}


@pytest.mark.parametrize(
    ("handler_class", "actions"),
    [(V16Handler, CP_INITIATED_16), (V201Handler, CP_INITIATED_201)],
    ids=["ocpp1.6", "ocpp2.0.1"],
)
def test_every_station_initiated_action_has_a_handler(
    handler_class: type[Any], actions: set[str]
) -> None:
    assert actions - set(handler_class.routes) == set()
