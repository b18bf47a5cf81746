"""What a station does with certificates in tests: make a key and CSR, trust the CSMS's
CA, present a client certificate (security profile 3)."""

from __future__ import annotations

import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def new_csr(common_name: str) -> tuple[str, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .sign(key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.PEM).decode(), key


def common_name(certificate_pem: str) -> str:
    leaf = x509.load_pem_x509_certificates(certificate_pem.encode())[0]
    value = leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    return value if isinstance(value, str) else value.decode()


def trusting(ca_pem: str) -> ssl.SSLContext:
    """What a station configured with the CSMS root certificate verifies the server with."""
    return ssl.create_default_context(cadata=ca_pem)


def with_client_certificate(
    ca_pem: str, chain_pem: str, key: ec.EllipticCurvePrivateKey, folder: Path
) -> ssl.SSLContext:
    context = trusting(ca_pem)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "chain.pem").write_text(chain_pem)
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context.load_cert_chain(folder / "chain.pem", folder / "key.pem")
    return context
