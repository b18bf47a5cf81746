"""CertificateHashDataType, the same shape in OCPP 1.6 (security extension) and 2.0.1."""

from __future__ import annotations

from typing import Any

from ev_charging_system.models.certificates import CertificateHash


def hash_data(certificate: CertificateHash) -> dict[str, str]:
    """The payload field (snake_case: the RPC layer turns it into camelCase)."""
    return {
        "hash_algorithm": certificate.hash_algorithm,
        "issuer_name_hash": certificate.issuer_name_hash,
        "issuer_key_hash": certificate.issuer_key_hash,
        "serial_number": certificate.serial_number,
    }


def hash_fields(item: dict[str, Any]) -> dict[str, str]:
    """A station's CertificateHashData (as the library hands it over) as plain fields."""
    return {
        "hash_algorithm": str(item["hash_algorithm"]),
        "issuer_name_hash": str(item["issuer_name_hash"]),
        "issuer_key_hash": str(item["issuer_key_hash"]),
        "serial_number": str(item["serial_number"]),
    }
