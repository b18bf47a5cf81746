"""The CSMS's own certificate authority: it signs station certificates (OCPP security
profile 3, SignCertificate) and, when no server certificate is given, the OCPP TLS
listener's certificate.

Created on first use under the data folder (`ca/`), or loaded from files the operator
gives. The private keys are written with owner-only permissions; they never leave them.
"""

from __future__ import annotations

import ipaddress
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ev_charging_system.models.certificates import IssuedCertificate
from ev_charging_system.models.errors import CertificateRequestRejectedError

CA_NAME = "ev_charging_system local CA"
CA_LIFETIME = timedelta(days=3650)
STATION_CERTIFICATE_LIFETIME = timedelta(days=365)
SERVER_CERTIFICATE_LIFETIME = timedelta(days=825)
# Anything weaker is refused in a CSR (OCPP 2.0.1 A00.FR.3xx: RSA >= 2048, EC >= 224 bits).
MIN_RSA_BITS = 2048
MIN_EC_BITS = 224
MAX_CSR_CHARS = 5500  # the schema's limit for SignCertificate.csr in 2.0.1


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)


def _common_name(name: x509.Name) -> str | None:
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not values:
        return None
    value = values[0].value
    return value if isinstance(value, str) else value.decode()


class LocalCertificateAuthority:
    def __init__(self, certificate: x509.Certificate, key: CertificateIssuerPrivateKeyTypes):
        self._certificate = certificate
        self._key = key

    @classmethod
    def load_or_create(cls, directory: Path) -> LocalCertificateAuthority:
        """The CA kept in `directory` (ca.pem, ca-key.pem), created there if missing."""
        certificate_path, key_path = directory / "ca.pem", directory / "ca-key.pem"
        if certificate_path.exists() and key_path.exists():
            return cls.from_files(certificate_path, key_path)
        key = ec.generate_private_key(ec.SECP384R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME)])
        now = datetime.now(UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + CA_LIFETIME)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    key_cert_sign=True,
                    crl_sign=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .sign(key, hashes.SHA384())
        )
        _write_private(
            key_path,
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
        )
        certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        return cls(certificate, key)

    @classmethod
    def from_files(cls, certificate_path: Path, key_path: Path) -> LocalCertificateAuthority:
        certificate = x509.load_pem_x509_certificate(certificate_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        if not isinstance(key, (ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey)):
            raise ValueError(f"{key_path}: the CA key must be an EC or RSA key")
        return cls(certificate, key)

    @property
    def certificate_pem(self) -> str:
        return self._certificate.public_bytes(serialization.Encoding.PEM).decode()

    def sign_station_csr(self, csr_pem: str, charge_point_id: str) -> IssuedCertificate:
        """A client certificate for `charge_point_id` from the station's CSR.

        Refused (CertificateRequestRejectedError, with the reason) unless the CSR is well
        formed, signed by the key it carries, uses a strong enough key, and names the
        station itself as its subject's common name.
        """
        if len(csr_pem) > MAX_CSR_CHARS:
            raise CertificateRequestRejectedError("the CSR is too long")
        try:
            csr = x509.load_pem_x509_csr(csr_pem.encode())
        except ValueError as error:
            raise CertificateRequestRejectedError("the CSR is not a PEM request") from error
        try:
            if not csr.is_signature_valid:
                raise CertificateRequestRejectedError("the CSR's signature does not verify")
        except InvalidSignature as error:
            raise CertificateRequestRejectedError("the CSR's signature does not verify") from error
        public_key = csr.public_key()
        if isinstance(public_key, rsa.RSAPublicKey):
            if public_key.key_size < MIN_RSA_BITS:
                raise CertificateRequestRejectedError(f"RSA keys need {MIN_RSA_BITS} bits")
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            if public_key.curve.key_size < MIN_EC_BITS:
                raise CertificateRequestRejectedError(f"EC keys need {MIN_EC_BITS} bits")
        else:
            raise CertificateRequestRejectedError("only RSA and EC keys are signed")
        subject = _common_name(csr.subject)
        if subject != charge_point_id:
            raise CertificateRequestRejectedError(
                f"the CSR's common name {subject!r} is not the station id"
            )
        return self._issue(
            csr.subject,
            public_key,
            STATION_CERTIFICATE_LIFETIME,
            usage=ExtendedKeyUsageOID.CLIENT_AUTH,
            alternative_names=[],
        )

    def issue_server_certificate(self, hostnames: list[str]) -> tuple[IssuedCertificate, str]:
        """A TLS server certificate (and its new private key, PEM) for the OCPP listener."""
        key = ec.generate_private_key(ec.SECP256R1())
        names: list[x509.GeneralName] = []
        for host in hostnames:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        issued = self._issue(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostnames[0])]),
            key.public_key(),
            SERVER_CERTIFICATE_LIFETIME,
            usage=ExtendedKeyUsageOID.SERVER_AUTH,
            alternative_names=names,
        )
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        return issued, key_pem

    def write_server_credentials(self, directory: Path, hostnames: list[str]) -> tuple[Path, Path]:
        """Server certificate chain and key files for `hostnames`, issued once and kept."""
        certificate_path, key_path = (
            directory / "ocpp-server.pem",
            directory / "ocpp-server-key.pem",
        )
        if not (certificate_path.exists() and key_path.exists()):
            issued, key_pem = self.issue_server_certificate(hostnames)
            _write_private(key_path, key_pem.encode())
            certificate_path.write_text(issued.chain_pem)
        return certificate_path, key_path

    def _issue(
        self,
        subject: x509.Name,
        public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey,
        lifetime: timedelta,
        *,
        usage: x509.ObjectIdentifier,
        alternative_names: list[x509.GeneralName],
    ) -> IssuedCertificate:
        now = datetime.now(UTC)
        serial = x509.random_serial_number()
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self._certificate.subject)
            .public_key(public_key)
            .serial_number(serial)
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + lifetime)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()),
                critical=False,
            )
        )
        if alternative_names:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(alternative_names), critical=False
            )
        certificate = builder.sign(self._key, hashes.SHA256())
        certificate_pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
        return IssuedCertificate(
            certificate_pem=certificate_pem,
            chain_pem=certificate_pem + self.certificate_pem,
            serial_number=serial,
            not_after=certificate.not_valid_after_utc,
        )


class CertificateAuthorityStore:
    """The CA made or loaded on first use, so a CSMS that never signs writes no key."""

    def __init__(
        self, directory: Path, certificate_file: Path | None = None, key_file: Path | None = None
    ) -> None:
        self._directory = directory
        self._files = (
            (certificate_file, key_file)
            if certificate_file is not None and key_file is not None
            else None
        )
        self._authority: LocalCertificateAuthority | None = None

    def authority(self) -> LocalCertificateAuthority:
        if self._authority is None:
            self._authority = (
                LocalCertificateAuthority.from_files(*self._files)
                if self._files is not None
                else LocalCertificateAuthority.load_or_create(self._directory)
            )
        return self._authority

    @property
    def certificate_pem(self) -> str:
        return self.authority().certificate_pem

    def sign_station_csr(self, csr_pem: str, charge_point_id: str) -> IssuedCertificate:
        return self.authority().sign_station_csr(csr_pem, charge_point_id)

    def certificate_file(self) -> Path:
        """The CA certificate as a file (what client certificates are verified against)."""
        if self._files is not None:
            return self._files[0]
        self.authority()
        return self._directory / "ca.pem"
