"""Predictive diagnostics: score a station's health from what it told us over time.

Each rule looks at one kind of evidence in the stored history (status notifications,
boots, connectivity, sessions, firmware and security events), produces a finding with the
evidence and a suggested action, and costs the score a bounded number of points. The
rules are deliberately simple and explainable: an operator (or an LLM) can check each.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from ev_charging_system.business_logic.ports import Clock, StationPresence, UnitOfWorkFactory
from ev_charging_system.models.charge_point import StatusChange
from ev_charging_system.models.diagnostics import Finding, HealthReport, Severity
from ev_charging_system.models.errors import InvalidInputError, NotFoundError
from ev_charging_system.models.id_token import AuthorizationStatus
from ev_charging_system.models.station_event import EventKind, StationEvent
from ev_charging_system.models.transaction import Transaction, TransactionFilter

HISTORY_LIMIT = 5000
ACCEPTED = AuthorizationStatus.ACCEPTED
FAILED_FIRMWARE = {
    "DownloadFailed",
    "InstallationFailed",
    "InstallVerificationFailed",
    "InvalidSignature",
    "SignatureVerified_Failed",
    "InvalidCertificate",
    "RevokedCertificate",
}
_PENALTY = {Severity.INFO: 0, Severity.WARNING: 15, Severity.CRITICAL: 35}


@dataclass(frozen=True, slots=True)
class Evidence:
    since: datetime
    until: datetime
    status_changes: list[StatusChange]
    events: list[StationEvent]
    transactions: list[Transaction]
    online: bool


Rule = Callable[[Evidence], Finding | None]


def faults(evidence: Evidence) -> Finding | None:
    faulted = [
        c
        for c in evidence.status_changes
        if c.status == "Faulted" or c.error_code not in ("NoError", "")
    ]
    if not faulted:
        return None
    codes = Counter(c.error_code for c in faulted)
    vendor_codes = Counter(c.vendor_error_code for c in faulted if c.vendor_error_code)
    midpoint = evidence.since + (evidence.until - evidence.since) / 2
    recent = sum(1 for c in faulted if c.received_at >= midpoint)
    trend = "rising" if recent > len(faulted) - recent else "steady or falling"
    severity = Severity.CRITICAL if len(faulted) >= 5 or recent >= 3 else Severity.WARNING
    return Finding(
        severity,
        f"{len(faulted)} fault reports ({trend})",
        {
            "error_codes": dict(codes),
            "vendor_error_codes": dict(vendor_codes),
            "connectors": sorted({c.connector_id for c in faulted}),
            "last_fault_at": max(c.received_at for c in faulted).isoformat(),
            "in_second_half_of_period": recent,
        },
        "Inspect the connectors named; look up the vendor error codes; schedule a site visit "
        "if faults keep rising.",
    )


def reboots(evidence: Evidence) -> Finding | None:
    boots = [e for e in evidence.events if e.kind is EventKind.BOOT]
    days = max(1.0, (evidence.until - evidence.since).total_seconds() / 86_400)
    if len(boots) < 3 or len(boots) / days < 0.5:
        return None
    reasons = Counter(str(e.detail.get("reason") or "unknown") for e in boots)
    return Finding(
        Severity.CRITICAL if len(boots) / days >= 2 else Severity.WARNING,
        f"{len(boots)} reboots in {days:.0f} days",
        {"boots": len(boots), "reasons": dict(reasons)},
        "Check power supply and firmware stability; compare with other stations on the same "
        "firmware version.",
    )


def connectivity(evidence: Evidence) -> Finding | None:
    drops = [c for c in evidence.status_changes if c.connector_id == 0 and c.status == "Offline"]
    findings: list[str] = []
    if not evidence.online:
        findings.append("offline now")
    if len(drops) >= 3:
        findings.append(f"{len(drops)} disconnections")
    if not findings:
        return None
    return Finding(
        Severity.CRITICAL if not evidence.online and len(drops) >= 3 else Severity.WARNING,
        "Unstable connection: " + ", ".join(findings),
        {
            "online": evidence.online,
            "disconnections": len(drops),
            "reasons": dict(Counter(c.info or "unknown" for c in drops)),
        },
        "Check the station's network (signal strength, SIM, router); a station that drops often "
        "loses meter values and delays remote commands.",
    )


def sessions(evidence: Evidence) -> Finding | None:
    finished = [t for t in evidence.transactions if not t.active]
    if len(finished) < 3:
        return None
    empty = [t for t in finished if (t.energy_wh or 0) == 0]
    refused = [t for t in evidence.transactions if t.authorization_status is not ACCEPTED]
    share = len(empty) / len(finished)
    if share < 0.3 and len(refused) < 3:
        return None
    return Finding(
        Severity.CRITICAL if share >= 0.6 else Severity.WARNING,
        f"{len(empty)} of {len(finished)} sessions delivered no energy",
        {
            "zero_energy_sessions": [t.id for t in empty][:20],
            "unauthorized_sessions": [t.id for t in refused][:20],
            "stop_reasons": dict(Counter(t.stop_reason or "unknown" for t in empty)),
        },
        "Zero-energy sessions usually mean a contactor, cable or EV communication fault: test "
        "a charge on the connector; check id tags if sessions are refused.",
    )


def firmware_and_security(evidence: Evidence) -> Finding | None:
    failed = [
        e
        for e in evidence.events
        if e.kind is EventKind.FIRMWARE_STATUS and e.detail.get("status") in FAILED_FIRMWARE
    ]
    security = [e for e in evidence.events if e.kind is EventKind.SECURITY_EVENT]
    auth_failures = [e for e in evidence.events if e.kind is EventKind.AUTH_FAILED]
    if not (failed or security or len(auth_failures) >= 3):
        return None
    return Finding(
        Severity.CRITICAL if failed or len(auth_failures) >= 10 else Severity.WARNING,
        "Firmware or security problems",
        {
            "failed_firmware_updates": [e.detail.get("status") for e in failed],
            "security_events": [e.detail.get("type") for e in security][:20],
            "failed_logins": len(auth_failures),
        },
        "Retry the firmware update from a verified image; review security events and rotate "
        "the station password if logins keep failing.",
    )


RULES: tuple[Rule, ...] = (faults, reboots, connectivity, sessions, firmware_and_security)


class DiagnosticsService:
    def __init__(
        self, uow_factory: UnitOfWorkFactory, clock: Clock, presence: StationPresence
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._presence = presence

    async def diagnose(self, charge_point_id: str, days: int = 14) -> HealthReport:
        if not 1 <= days <= 365:
            raise InvalidInputError("days must be between 1 and 365")
        until = self._clock()
        since = until - timedelta(days=days)
        async with self._uow_factory() as uow:
            if await uow.charge_points.get(charge_point_id, with_connectors=False) is None:
                raise NotFoundError("charge point", charge_point_id)
            changes = await uow.charge_points.list_status_changes(
                charge_point_id, None, HISTORY_LIMIT
            )
            events = await uow.events.recent(charge_point_id, HISTORY_LIMIT)
            page = await uow.transactions.search(
                TransactionFilter(charge_point_id=charge_point_id, started_from=since, limit=500)
            )
        evidence = Evidence(
            since=since,
            until=until,
            status_changes=[c for c in changes if c.received_at >= since],
            events=[e for e in events if e.occurred_at >= since],
            transactions=page.items,
            online=self._presence.is_online(charge_point_id),
        )
        findings = [f for rule in RULES if (f := rule(evidence)) is not None]
        findings.sort(key=lambda f: _PENALTY[f.severity], reverse=True)
        score = max(0, 100 - sum(_PENALTY[f.severity] for f in findings))
        return HealthReport(charge_point_id, score, since, until, evidence.online, findings)
