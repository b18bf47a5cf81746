"""OCPP security profiles 2 and 3 over real TLS connections, and station certificates
signed by the CSMS's own CA (SignCertificate -> CertificateSigned), for 1.6 and 2.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import InvalidHandshake, InvalidStatus

from ev_charging_system.application import Application
from ev_charging_system.data.certificate_authority import LocalCertificateAuthority
from tests.conformance.station import OCPP16, OCPP201, raw_station
from tests.conftest import ADMIN_HEADERS, AppFactory, expecting
from tests.station_certificates import common_name, new_csr, trusting, with_client_certificate
from tools.simulated_charge_point import connected_station
from tools.station_sim import cli

PASSWORD = "a-station-password-0123"
VERSIONS = [OCPP16, OCPP201]


@pytest.fixture
async def csms(app_factory: AppFactory, tmp_path: Path) -> AsyncIterator[Application]:
    yield await app_factory(ocpp_tls_port=0, data_dir=tmp_path / "data")


@pytest.fixture
async def admin(csms: Application) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{csms.rest_port}", headers=ADMIN_HEADERS
    ) as client:
        yield client


async def register(
    admin: httpx.AsyncClient, station_id: str, profile: int, password: str | None = None
) -> None:
    created = await admin.post("/api/charge-points", json={"id": station_id, "password": password})
    assert created.status_code == 201, created.text
    changed = await admin.put(
        f"/api/charge-points/{station_id}/security-profile", json={"security_profile": profile}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["security_profile"] == profile


async def refusal(csms: Application, station_id: str, version: str, **how: object) -> int:
    with pytest.raises(InvalidStatus) as refused:
        async with raw_station(csms, station_id, version, **how):  # type: ignore[arg-type]
            pass
    return refused.value.response.status_code


@pytest.mark.parametrize("version", VERSIONS)
async def test_profile_2_connects_over_tls_with_its_password_and_nowhere_else(
    csms: Application, admin: httpx.AsyncClient, version: str
) -> None:
    ca_pem = (await admin.get("/api/certificate-authority")).json()["certificate_pem"]
    station = f"TLS2-{version}"
    await register(admin, station, 2, PASSWORD)

    async with raw_station(csms, station, version, password=PASSWORD, tls=trusting(ca_pem)) as cp:
        assert (await cp.call("Heartbeat"))["currentTime"]

    assert await refusal(csms, station, version, password=PASSWORD) == 403  # plain ws://
    assert await refusal(csms, station, version, tls=trusting(ca_pem)) == 401  # no password
    wrong = await refusal(
        csms, station, version, password="not-the-password-99", tls=trusting(ca_pem)
    )
    assert wrong == 401
    events = (await admin.get(f"/api/charge-points/{station}/events")).json()
    reasons = [e["detail"]["reason"] for e in events if e["kind"] == "auth_failed"]
    assert "security profile 2 requires TLS (wss://)" in reasons
    assert PASSWORD not in str(events)


async def test_profile_2_needs_a_password_before_it_is_chosen(admin: httpx.AsyncClient) -> None:
    await admin.post("/api/charge-points", json={"id": "NO-PASSWORD"})
    answer = await admin.put(
        "/api/charge-points/NO-PASSWORD/security-profile", json={"security_profile": 2}
    )
    assert answer.status_code == 409
    assert "password" in answer.json()["detail"]


@pytest.mark.parametrize("version", VERSIONS)
async def test_profile_3_needs_a_client_certificate_issued_to_the_station(
    csms: Application, admin: httpx.AsyncClient, version: str, tmp_path: Path
) -> None:
    ca_pem = (await admin.get("/api/certificate-authority")).json()["certificate_pem"]
    station, other = f"MTLS-{version}", f"OTHER-{version}"
    await register(admin, station, 3)
    authority = csms.certificate_authority
    csr, key = new_csr(station)
    own = with_client_certificate(
        ca_pem, authority.sign_station_csr(csr, station).chain_pem, key, tmp_path / "own"
    )
    other_csr, other_key = new_csr(other)
    foreign = with_client_certificate(
        ca_pem, authority.sign_station_csr(other_csr, other).chain_pem, other_key, tmp_path / "o"
    )

    async with raw_station(csms, station, version, tls=own) as cp:
        assert (await cp.call("Heartbeat"))["currentTime"]

    assert await refusal(csms, station, version, tls=trusting(ca_pem)) == 403  # no certificate
    assert await refusal(csms, station, version, tls=foreign) == 403  # another station's
    assert await refusal(csms, station, version) == 403  # plain ws://
    # A password is no substitute for the certificate.
    assert await refusal(csms, station, version, password=PASSWORD, tls=trusting(ca_pem)) == 403


async def test_a_certificate_from_another_ca_is_refused_at_the_tls_handshake(
    csms: Application, admin: httpx.AsyncClient, tmp_path: Path
) -> None:
    ca_pem = (await admin.get("/api/certificate-authority")).json()["certificate_pem"]
    await register(admin, "FORGED", 3)
    stranger = LocalCertificateAuthority.load_or_create(tmp_path / "stranger-ca")
    csr, key = new_csr("FORGED")
    forged = with_client_certificate(
        ca_pem, stranger.sign_station_csr(csr, "FORGED").chain_pem, key, tmp_path / "forged"
    )
    # The server's TLS layer refuses the certificate; the client sees the connection end.
    with pytest.raises((InvalidHandshake, OSError)):
        async with raw_station(csms, "FORGED", OCPP16, tls=forged):
            pass


@pytest.mark.parametrize("version", VERSIONS)
async def test_a_station_asks_for_a_certificate_and_then_connects_with_it(
    csms: Application, admin: httpx.AsyncClient, version: str, tmp_path: Path
) -> None:
    """Moving a station from profile 1 to 3: it sends a CSR over its current connection,
    receives CertificateSigned, and connects over mutual TLS with what it got."""
    ca_pem = (await admin.get("/api/certificate-authority")).json()["certificate_pem"]
    station = f"CSR-{version}"
    await register(admin, station, 1)
    csr, key = new_csr(station)
    async with raw_station(csms, station, version) as cp:
        assert (await cp.call("SignCertificate", {"csr": csr}))["status"] == "Accepted"
        signed = await cp.expect_call("CertificateSigned")
        chain = signed.payload["certificateChain"]
        if version == OCPP201:
            assert signed.payload["certificateType"] == "ChargingStationCertificate"
        async with expecting(csms, "command.completed", station) as recorded:
            await cp.reply(signed, {"status": "Accepted"})
            await recorded()

        foreign_csr, _ = new_csr("SOMEONE-ELSE")
        rejected = await cp.call("SignCertificate", {"csr": foreign_csr})
        assert rejected["status"] == "Rejected"
        assert (await cp.call("SignCertificate", {"csr": "not a CSR"}))["status"] == "Rejected"
        assert cp.pending_calls() == 0  # nothing is sent for a refused request

    assert common_name(chain) == station
    commands = (await admin.get(f"/api/charge-points/{station}/commands")).json()["items"]
    delivered = [c for c in commands if c["action"] == "CertificateSigned"]
    assert delivered and delivered[0]["status"] == "Accepted"

    await admin.put(f"/api/charge-points/{station}/security-profile", json={"security_profile": 3})
    tls = with_client_certificate(ca_pem, chain, key, tmp_path / station)
    async with raw_station(csms, station, version, tls=tls) as cp:
        assert (await cp.call("Heartbeat"))["currentTime"]
    assert await refusal(csms, station, version) == 403


@pytest.mark.parametrize("version", VERSIONS)
async def test_root_certificates_are_installed_listed_and_deleted_through_the_api(
    csms: Application, admin: httpx.AsyncClient, version: str
) -> None:
    ca_pem = (await admin.get("/api/certificate-authority")).json()["certificate_pem"]
    station = f"ROOTS-{version}"
    await register(admin, station, 1)
    base = f"/api/charge-points/{station}/commands"
    hash_data = {
        "hashAlgorithm": "SHA256",
        "issuerNameHash": "aa11",
        "issuerKeyHash": "bb22",
        "serialNumber": "0c",
    }
    async with raw_station(csms, station, version) as cp:
        install = admin.post(
            f"{base}/install-certificate", json={"use": "csms_root", "certificate": ca_pem}
        )
        pending = asyncio.ensure_future(install)
        incoming = await cp.expect_call("InstallCertificate")
        expected_type = (
            "CentralSystemRootCertificate" if version == OCPP16 else "CSMSRootCertificate"
        )
        assert incoming.payload == {"certificateType": expected_type, "certificate": ca_pem.strip()}
        await cp.reply(incoming, {"status": "Accepted"})
        assert (await pending).json()["status"] == "Accepted"

        listing = asyncio.ensure_future(
            admin.post(f"{base}/get-installed-certificate-ids", json={"uses": ["csms_root"]})
        )
        incoming = await cp.expect_call("GetInstalledCertificateIds")
        if version == OCPP16:
            assert incoming.payload == {"certificateType": expected_type}
            await cp.reply(incoming, {"status": "Accepted", "certificateHashData": [hash_data]})
        else:
            assert incoming.payload == {"certificateType": [expected_type]}
            await cp.reply(
                incoming,
                {
                    "status": "Accepted",
                    "certificateHashDataChain": [
                        {"certificateType": expected_type, "certificateHashData": hash_data}
                    ],
                },
            )
        listed = (await listing).json()
        assert listed["data"]["certificates"] == [
            {
                "use": "csms_root",
                "hash_algorithm": "SHA256",
                "issuer_name_hash": "aa11",
                "issuer_key_hash": "bb22",
                "serial_number": "0c",
            }
        ]

        deleting = asyncio.ensure_future(
            admin.post(
                f"{base}/delete-certificate",
                json={
                    "hash_algorithm": "SHA256",
                    "issuer_name_hash": "aa11",
                    "issuer_key_hash": "bb22",
                    "serial_number": "0c",
                },
            )
        )
        incoming = await cp.expect_call("DeleteCertificate")
        assert incoming.payload == {"certificateHashData": hash_data}
        await cp.reply(incoming, {"status": "Accepted"})
        assert (await deleting).json()["status"] == "Accepted"

    not_pem = await admin.post(
        f"{base}/install-certificate", json={"use": "csms_root", "certificate": "x" * 100}
    )
    assert not_pem.status_code == 422


async def test_the_station_simulator_charges_over_mutual_tls(
    csms: Application, admin: httpx.AsyncClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What the operator guide tells a user to try: the simulator as a profile-3 station."""
    await admin.post("/api/id-tags", json={"id_tag": "RFID-TLS"})
    await register(admin, "SIM-TLS", 3)
    csr, key = new_csr("SIM-TLS")
    chain = csms.certificate_authority.sign_station_csr(csr, "SIM-TLS").chain_pem
    with_client_certificate(csms.certificate_authority.certificate_pem, chain, key, tmp_path)
    ca_file = tmp_path / "ca.pem"
    ca_file.write_text(csms.certificate_authority.certificate_pem)
    argv = [
        *("--url", f"wss://localhost:{csms.ocpp_tls_port}", "--id", "SIM-TLS"),
        *("--id-tag", "RFID-TLS", "--samples", "2", "--ca", str(ca_file)),
        *("--cert", str(tmp_path / "chain.pem"), "--key", str(tmp_path / "key.pem")),
    ]
    assert await cli.run(connected_station, cli.parse(argv, "simulator", "CP-1")) == 0
    assert "7400 Wh charged" in capsys.readouterr().out
    without_certificate = cli.parse(argv[:-4], "simulator", "CP-1")
    assert await cli.run(connected_station, without_certificate) == 1
    assert "HTTP 403" in capsys.readouterr().err
