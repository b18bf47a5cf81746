"""OCPP 1.6 security whitepaper (Improved security for OCPP 1.6-J), CSMS side."""

from __future__ import annotations

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.typing import Subprotocol

from ev_charging_system.application import Application
from tests.conformance.ocpp16 import SECURITY, SUITE
from tests.conformance.station import OCPP16, Operator, raw_station
from tests.conftest import ocpp_url

PASSWORD = "0123456789abcdef-station"
NO_TLS = (
    "the CSMS serves plain ws:// and leaves TLS to a terminating proxy (docs/operator-guide.md), "
    "so it cannot run Security Profile 2/3 or check client certificates itself"
)
NO_CA = (
    "no certificate authority or certificate store is configured: SignCertificate is "
    "answered Rejected, and CertificateSigned, InstallCertificate, DeleteCertificate, "
    "GetInstalledCertificateIds and ExtendedTriggerMessage are not among the CSMS's commands"
)


@SUITE.case("TC_085_CSMS", "Basic Authentication - Valid username/password combination", SECURITY)
async def test_basic_authentication(csms: Application, operator: Operator) -> None:
    created = await operator.post("/api/charge-points", {"id": "TC_085", "password": PASSWORD})
    assert created.status_code == 201
    async with raw_station(csms, "TC_085", OCPP16, password=PASSWORD) as station:
        assert (await station.call("Heartbeat"))["currentTime"]
    for password in (None, "wrong-password-1234"):
        with pytest.raises(InvalidStatus) as refused:
            async with raw_station(csms, "TC_085", OCPP16, password=password):
                pass
        assert refused.value.response.status_code == 401


@SUITE.case("TC_077_CSMS", "Invalid ChargePointCertificate Security Event", SECURITY)
@SUITE.case("TC_078_CSMS", "Invalid CentralSystemCertificate Security Event", SECURITY)
async def test_security_events(csms: Application, operator: Operator) -> None:
    async with raw_station(csms, "TC_077", OCPP16) as station:
        for kind in ("InvalidChargePointCertificate", "InvalidCentralSystemCertificate"):
            answer = await station.call(
                "SecurityEventNotification",
                {"type": kind, "timestamp": "2026-05-01T08:00:00Z", "techInfo": "expired"},
            )
            assert answer == {}
    events = await operator.get("/api/charge-points/TC_077/events")
    kinds = [e["detail"]["type"] for e in events if e["kind"] == "security_event"]
    assert sorted(kinds) == ["InvalidCentralSystemCertificate", "InvalidChargePointCertificate"]


@SUITE.case("TC_088_CSMS", "WebSocket Subprotocol Negotiation", SECURITY)
async def test_subprotocol_negotiation(csms: Application) -> None:
    for offered in (["ocpp1.6"], ["ocpp1.5", "ocpp1.6"]):
        async with connect(
            f"{ocpp_url(csms)}/TC_088", subprotocols=[Subprotocol(p) for p in offered]
        ) as websocket:
            assert websocket.subprotocol == "ocpp1.6"
    async with connect(f"{ocpp_url(csms)}/TC_088", subprotocols=[Subprotocol("ocpp1.2")]) as ws:
        assert ws.subprotocol is None  # handshake completed without the header...
        with pytest.raises(ConnectionClosed):
            await ws.recv()  # ...then closed at once
    assert ws.close_code == 1002


SUITE.not_supported(
    "TC_073_CSMS",
    "Update Charge Point Password for HTTP Basic Authentication",
    SECURITY,
    "no operation changes the station's AuthorizationKey and the password the CSMS checks "
    "together; an operator can send ChangeConfiguration(AuthorizationKey) and then set the "
    "stored password, but a failure between the two steps locks the station out",
)
SUITE.not_supported(
    "TC_074_CSMS", "Update Charge Point Certificate by request of Central System", SECURITY, NO_CA
)
SUITE.not_supported(
    "TC_075_1_CSMS",
    "Install a certificate on the Charge Point - ManufacturerRootCertificate",
    SECURITY,
    NO_CA,
)
SUITE.not_supported(
    "TC_075_2_CSMS",
    "Install a certificate on the Charge Point - CentralSystemRootCertificate",
    SECURITY,
    NO_CA,
)
SUITE.not_supported(
    "TC_076_CSMS", "Delete a specific certificate from the Charge Point", SECURITY, NO_CA
)
SUITE.not_supported(
    "TC_079_CSMS",
    "Get Security Log",
    SECURITY,
    "GetLog (logType SecurityLog) is not among the CSMS's 1.6 commands; diagnostics use "
    "GetDiagnostics",
)
SUITE.not_supported(
    "TC_080_CSMS",
    "Secure Firmware Update",
    SECURITY,
    "SignedUpdateFirmware is not among the CSMS's commands (no firmware signing certificate "
    "is managed); SignedFirmwareStatusNotification from a station is answered and recorded",
)
SUITE.not_supported(
    "TC_081_CSMS",
    "Secure Firmware Update - Invalid Signature",
    SECURITY,
    "SignedUpdateFirmware is not among the CSMS's commands",
)
SUITE.not_supported(
    "TC_083_CSMS", "Upgrade Charge Point Security Profile - Accepted", SECURITY, NO_TLS
)
SUITE.not_supported(
    "TC_086_CSMS", "TLS - server-side certificate - Valid certificate", SECURITY, NO_TLS
)
SUITE.not_supported(
    "TC_087_CSMS", "TLS - Client-side certificate - valid certificate", SECURITY, NO_TLS
)
