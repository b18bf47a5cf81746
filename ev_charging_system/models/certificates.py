"""Certificates a station holds or asks for (OCPP 1.6 security extension, 2.0.1 block A/M)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class CertificateUse(StrEnum):
    """What an installed root certificate is trusted for, in version-neutral words."""

    CSMS_ROOT = "csms_root"  # 1.6 CentralSystemRootCertificate, 2.0.1 CSMSRootCertificate
    MANUFACTURER_ROOT = "manufacturer_root"  # firmware signatures
    V2G_ROOT = "v2g_root"  # 2.0.1 only (ISO 15118)
    MO_ROOT = "mo_root"  # 2.0.1 only (mobility operator)


class SignedCertificateKind(StrEnum):
    """What a station asks the CSMS to sign (2.0.1 CertificateSigningUseEnumType)."""

    CHARGING_STATION = "ChargingStationCertificate"
    V2G = "V2GCertificate"


@dataclass(frozen=True, slots=True)
class CertificateHash:
    """How OCPP names an installed certificate (CertificateHashDataType)."""

    hash_algorithm: str  # SHA256 | SHA384 | SHA512
    issuer_name_hash: str
    issuer_key_hash: str
    serial_number: str


@dataclass(frozen=True, slots=True)
class IssuedCertificate:
    certificate_pem: str
    chain_pem: str  # the certificate followed by the issuing CA's: what a station installs
    serial_number: int
    not_after: datetime
