"""Station certificates: signing what stations ask for (SignCertificate), and handing the
result back (CertificateSigned) once the station has its answer."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from ev_charging_system.business_logic.device_management_service import DeviceManagementService
from ev_charging_system.business_logic.ports import StationCertificateSigner
from ev_charging_system.business_logic.remote_command_service import RemoteCommandService
from ev_charging_system.models.certificates import SignedCertificateKind
from ev_charging_system.models.commands import CertificateSigned
from ev_charging_system.models.errors import CertificateRequestRejectedError, CommandError
from ev_charging_system.models.station_event import EventKind

logger = logging.getLogger(__name__)

SYSTEM_ACTOR = "system:certificate-authority"


@dataclass(frozen=True, slots=True)
class SigningDecision:
    accepted: bool
    reason: str
    chain_pem: str | None = None
    kind: SignedCertificateKind = SignedCertificateKind.CHARGING_STATION


class CertificateService:
    def __init__(
        self,
        signer: StationCertificateSigner,
        devices: DeviceManagementService,
        commands: RemoteCommandService,
    ) -> None:
        self._signer = signer
        self._devices = devices
        self._commands = commands

    @property
    def authority_certificate_pem(self) -> str:
        return self._signer.certificate_pem

    async def review_signing_request(
        self, charge_point_id: str, csr_pem: str, kind: SignedCertificateKind
    ) -> SigningDecision:
        """Sign the station's CSR now (the answer says whether it will get a certificate)."""
        if kind is SignedCertificateKind.V2G:
            decision = SigningDecision(
                False, "V2G certificates come from an ISO 15118 PKI, not this CSMS's CA", kind=kind
            )
        else:
            try:
                # Key generation and signing are CPU work: off the event loop.
                issued = await asyncio.to_thread(
                    self._signer.sign_station_csr, csr_pem, charge_point_id
                )
            except CertificateRequestRejectedError as refused:
                decision = SigningDecision(False, str(refused), kind=kind)
            else:
                decision = SigningDecision(
                    True,
                    f"signed, serial {issued.serial_number:x}, valid until "
                    f"{issued.not_after.date().isoformat()}",
                    issued.chain_pem,
                    kind,
                )
        await self._devices.record_event(
            charge_point_id,
            EventKind.SIGN_CERTIFICATE,
            {
                "answer": "Accepted" if decision.accepted else "Rejected",
                "reason": decision.reason,
                "certificate_type": kind.value,
            },
        )
        return decision

    async def deliver(self, charge_point_id: str, decision: SigningDecision) -> None:
        """Send the signed chain (CertificateSigned); the command log records the answer."""
        if decision.chain_pem is None:
            return
        try:
            result = await self._commands.execute(
                charge_point_id,
                CertificateSigned(decision.chain_pem, decision.kind),
                requested_by=SYSTEM_ACTOR,
            )
        except CommandError as error:
            logger.warning("%s: CertificateSigned not delivered: %s", charge_point_id, error)
            return
        logger.info("%s: CertificateSigned answered %s", charge_point_id, result.status)
