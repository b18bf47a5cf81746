"""The station both OCPP versions describe: its state and the rules that change it.

No I/O and no OCPP message here: the version adapters (v16.py, v201.py) translate a CSMS
call into these methods and their results back into the version's answer and follow-up
messages. Numbering is version-neutral: connector n is 1.6's connector n and 2.0.1's EVSE
n (each EVSE has a single connector, 1); 0 is the whole station.

Statuses the methods return ("Accepted", "Scheduled", "Occupied", "VersionMismatch" ...)
are spelled the same in both versions' enumerations, so adapters pass them on unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Generic, TypeVar

from tools.station_sim.schedules import compose_periods, periods_in
from tools.station_sim.settings import LOCAL_LIST_MAX_ENTRIES, Settings, default_settings

TxId = TypeVar("TxId", int, str)  # 1.6: the CSMS numbers transactions; 2.0.1: the station

OPERATIVE = "Operative"  # ChangeAvailability's two values, the same in both versions
INOPERATIVE = "Inoperative"

FIRMWARE_STEPS = ("Downloading", "Downloaded", "Installing", "Installed")
LOG_UPLOAD_STEPS = ("Uploading", "Uploaded")
IDLE = "Idle"


class ConnectorState(StrEnum):
    AVAILABLE = "Available"
    PREPARING = "Preparing"  # a remote start was accepted, the transaction has not started
    CHARGING = "Charging"
    RESERVED = "Reserved"
    UNAVAILABLE = "Unavailable"


class ProfilePurpose(StrEnum):
    STATION_MAX = "StationMax"
    TX_DEFAULT = "TxDefault"
    TX = "Tx"
    EXTERNAL_CONSTRAINTS = "ExternalConstraints"  # 2.0.1 only


@dataclass(frozen=True)
class IdToken:
    value: str
    type: str = "ISO14443"  # 2.0.1's IdTokenEnumType; a 1.6 idTag is the value alone


@dataclass
class Transaction(Generic[TxId]):
    transaction_id: TxId
    connector_id: int
    id_token: str | None
    meter_start: int = 0
    remote_start_id: int | None = None
    next_seq_no: int = 0
    stopping: bool = False  # a stop was accepted; the message ending it is on its way

    def take_seq_no(self) -> int:
        """2.0.1 seqNo: counts the TransactionEvents of one transaction, from 0."""
        seq_no, self.next_seq_no = self.next_seq_no, self.next_seq_no + 1
        return seq_no


@dataclass
class Reservation:
    reservation_id: int
    connector_id: int | None  # None: any connector (2.0.1 without evseId)
    id_token: str
    expiry: str
    parent_id_token: str | None = None


@dataclass
class ChargingProfile:
    id: int
    connector_id: int
    purpose: ProfilePurpose
    stack_level: int
    unit: str  # "A" or "W"
    periods: list[dict[str, Any]]
    """Schedule periods as the CSMS sent them (snake_case keys)."""
    transaction_id: int | str | None = None
    """The transaction a TxProfile is meant for, when the CSMS named one."""
    sent: dict[str, Any] = field(default_factory=dict)
    """The whole profile as the CSMS sent it (reported back as it came)."""


@dataclass(frozen=True)
class Schedule:
    unit: str
    periods: list[dict[str, Any]]


class StationModel(Generic[TxId]):
    """A station's connectors, transactions, meter registers, configuration, reservations,
    charging profiles, local authorization list and firmware/log upload state."""

    def __init__(self, connectors: int = 2) -> None:
        if connectors < 1:
            raise ValueError(f"a station needs at least one connector, not {connectors}")
        self.connectors = connectors
        self.settings = Settings(default_settings(connectors))
        self.availability: dict[int, str] = dict.fromkeys(range(connectors + 1), OPERATIVE)
        self.scheduled_availability: dict[int, str] = {}
        """Changes to Inoperative that wait for the transactions they would interrupt."""
        self.transactions: dict[int, Transaction[TxId]] = {}
        self.preparing: set[int] = set()
        self.meter_wh: dict[int, int] = dict.fromkeys(self.connector_ids, 0)
        self.reservations: dict[int, Reservation] = {}
        self.charging_profiles: dict[int, ChargingProfile] = {}
        self.local_list: dict[str, dict[str, Any]] = {}
        """Local authorization list: id token -> its info as the CSMS sent it."""
        self.local_list_version = 0
        self.firmware_status = IDLE
        self.log_status = IDLE
        self.reset_when_idle: str | None = None
        """The reason of a reset that waits for the last transaction to end."""

    # --- connectors --------------------------------------------------------------------

    @property
    def connector_ids(self) -> range:
        return range(1, self.connectors + 1)

    def is_connector(self, connector_id: int | None) -> bool:
        return connector_id is not None and 1 <= connector_id <= self.connectors

    def state(self, connector_id: int) -> ConnectorState:
        """What the connector (0: the station) is doing right now."""
        if INOPERATIVE in (self.availability[0], self.availability[connector_id]):
            return ConnectorState.UNAVAILABLE
        if connector_id in self.transactions:
            return ConnectorState.CHARGING
        if connector_id in self.preparing:
            return ConnectorState.PREPARING
        if self.reservation_on(connector_id) is not None:
            return ConnectorState.RESERVED
        return ConnectorState.AVAILABLE

    def affected(self, target: int) -> list[int]:
        """The connectors a station-wide (0) or connector-level command applies to."""
        return list(self.connector_ids) if target == 0 else [target]

    def is_free(self, connector_id: int, id_token: str | None = None) -> bool:
        """Whether `id_token` could start charging here (a reservation only lets its own
        token in)."""
        reservation = self.reservation_on(connector_id)
        return self.state(connector_id) in (
            ConnectorState.AVAILABLE,
            ConnectorState.RESERVED,
        ) and (reservation is None or reservation.id_token == id_token)

    # --- transactions ------------------------------------------------------------------

    def transaction(self, transaction_id: TxId) -> Transaction[TxId] | None:
        return next(
            (t for t in self.transactions.values() if t.transaction_id == transaction_id), None
        )

    def prepare_remote_start(self, requested: int | None, id_token: str) -> int | None:
        """Claim a connector for a remote start: the one requested, else the first free one.

        None when the start must be refused; otherwise the connector is Preparing until
        `remote_start_done`.
        """
        if requested is None:
            free = [c for c in self.connector_ids if self.is_free(c, id_token)]
            requested = free[0] if free else 0
        if not self.is_connector(requested) or not self.is_free(requested, id_token):
            return None
        self.preparing.add(requested)
        return requested

    def remote_start_done(self, connector_id: int) -> None:
        self.preparing.discard(connector_id)

    def begin(self, transaction: Transaction[TxId]) -> None:
        self.transactions[transaction.connector_id] = transaction

    def request_stop(self, transaction_id: TxId) -> Transaction[TxId] | None:
        """Mark the transaction as stopping; None if unknown or already being stopped."""
        transaction = self.transaction(transaction_id)
        if transaction is None or transaction.stopping:
            return None
        transaction.stopping = True
        return transaction

    def end(self, connector_id: int) -> str | None:
        """Forget the connector's transaction; return the reason of a reset now due.

        A TxProfile lives as long as its transaction; an availability change that waited
        for the transaction happens now.
        """
        del self.transactions[connector_id]
        for profile_id, profile in list(self.charging_profiles.items()):
            if profile.connector_id == connector_id and profile.purpose is ProfilePurpose.TX:
                del self.charging_profiles[profile_id]
        for target, wanted in list(self.scheduled_availability.items()):
            if not self._charging_on(self.affected(target)):
                self.availability[target] = wanted
                del self.scheduled_availability[target]
        if self.reset_when_idle is not None and not self.transactions:
            reason, self.reset_when_idle = self.reset_when_idle, None
            return reason
        return None

    def _charging_on(self, connectors: Iterable[int]) -> bool:
        return any(c in self.transactions for c in connectors)

    # --- availability and reset --------------------------------------------------------

    def change_availability(self, target: int, wanted: str) -> str:
        """ "Accepted", "Scheduled" (after the transactions it would interrupt) or
        "Rejected" (no such connector)."""
        if target not in self.availability:
            return "Rejected"
        if wanted == INOPERATIVE and self._charging_on(self.affected(target)):
            self.scheduled_availability[target] = wanted
            return "Scheduled"
        self.scheduled_availability.pop(target, None)
        self.availability[target] = wanted
        return "Accepted"

    def reset(self, reason: str, when_idle: bool) -> str:
        """ "Accepted" (reset now) or "Scheduled" (when the last transaction ends)."""
        if when_idle and self.transactions:
            self.reset_when_idle = reason
            return "Scheduled"
        return "Accepted"

    # --- reservations ------------------------------------------------------------------

    def reservation_on(self, connector_id: int) -> Reservation | None:
        return next((r for r in self.reservations.values() if r.connector_id == connector_id), None)

    def reserve(self, reservation: Reservation) -> str:
        """ "Accepted", "Occupied", "Unavailable" or "Rejected"; a known reservation id is
        replaced, and kept when its replacement is refused."""
        previous = self.reservations.pop(reservation.reservation_id, None)
        status = self._reservation_status(reservation.connector_id, reservation.id_token)
        if status == "Accepted":
            self.reservations[reservation.reservation_id] = reservation
        elif previous is not None:
            self.reservations[reservation.reservation_id] = previous
        return status

    def _reservation_status(self, connector_id: int | None, id_token: str) -> str:
        if connector_id is not None and not self.is_connector(connector_id):
            return "Rejected"  # connector 0 too: ReserveConnectorZeroSupported is false
        candidates = [connector_id] if connector_id is not None else list(self.connector_ids)
        if all(self.state(c) is ConnectorState.UNAVAILABLE for c in candidates):
            return "Unavailable"
        if not any(self.is_free(c, id_token) for c in candidates):
            return "Occupied"
        return "Accepted"

    def cancel_reservation(self, reservation_id: int) -> Reservation | None:
        return self.reservations.pop(reservation_id, None)

    def take_reservation(self, connector_id: int) -> Reservation | None:
        """The connector's reservation, used up: its token has arrived to charge."""
        reservation = self.reservation_on(connector_id)
        if reservation is not None:
            del self.reservations[reservation.reservation_id]
        return reservation

    # --- charging profiles -------------------------------------------------------------

    def install_profile(self, profile: ChargingProfile, checked: bool = True) -> bool:
        """Install `profile` unless (`checked`) it does not fit the station.

        A profile with the same id, or the same purpose and stack level on the same
        connector, is replaced.
        """
        if checked and not self._fits(profile):
            return False
        for profile_id, installed in list(self.charging_profiles.items()):
            if installed.connector_id == profile.connector_id and (
                installed.purpose,
                installed.stack_level,
            ) == (profile.purpose, profile.stack_level):
                del self.charging_profiles[profile_id]
        self.charging_profiles[profile.id] = profile
        return True

    def _fits(self, profile: ChargingProfile) -> bool:
        connector_id = profile.connector_id
        if profile.purpose is ProfilePurpose.STATION_MAX:
            return connector_id == 0
        if profile.purpose is ProfilePurpose.TX:
            transaction = self.transactions.get(connector_id)
            return transaction is not None and profile.transaction_id in (
                None,
                transaction.transaction_id,
            )
        return connector_id == 0 or self.is_connector(connector_id)

    def clear_profiles(
        self,
        profile_id: int | None = None,
        connector_id: int | None = None,
        purpose: ProfilePurpose | None = None,
        stack_level: int | None = None,
    ) -> bool:
        """Remove the profile with `profile_id`, or those matching every criterion given;
        False when none matched."""

        def matches(profile: ChargingProfile) -> bool:
            if profile_id is not None:
                return profile.id == profile_id
            return (
                connector_id in (None, profile.connector_id)
                and purpose in (None, profile.purpose)
                and stack_level in (None, profile.stack_level)
            )

        cleared = [pid for pid, profile in self.charging_profiles.items() if matches(profile)]
        for pid in cleared:
            del self.charging_profiles[pid]
        return bool(cleared)

    def composite_schedule(
        self, connector_id: int, duration: int, unit: str | None = None
    ) -> Schedule | None:
        """The limits the connector will follow for `duration` s; None without a profile.

        Simplified: every profile is taken to start now (see schedules.compose_periods).
        """
        profiles = self._governing_profiles(connector_id)
        if not profiles:
            return None
        unit = unit or profiles[0].unit
        schedules = [periods_in(p.periods, p.unit, unit) for p in profiles]
        return Schedule(unit, compose_periods(schedules, duration))

    def _governing_profiles(self, connector_id: int) -> list[ChargingProfile]:
        """The profile that limits the connector (Tx over TxDefault, connector over station,
        highest stack level), then the station-wide maximum."""

        def best(connector: int, purpose: ProfilePurpose) -> ChargingProfile | None:
            candidates = [
                p
                for p in self.charging_profiles.values()
                if p.connector_id == connector and p.purpose is purpose
            ]
            return max(candidates, key=lambda p: p.stack_level, default=None)

        tx_default = ProfilePurpose.TX_DEFAULT
        governing = (
            best(connector_id, ProfilePurpose.TX)
            or best(connector_id, tx_default)
            or best(0, tx_default)
        )
        if connector_id == 0:
            governing = None
        cap = best(0, ProfilePurpose.STATION_MAX)
        return [p for p in (governing, cap) if p is not None]

    # --- local authorization list ------------------------------------------------------

    def update_local_list(
        self, version: int, full: bool, changes: Iterable[tuple[str, dict[str, Any] | None]]
    ) -> str:
        """Apply a SendLocalList: "Accepted", "VersionMismatch" or "Failed" (too long).

        A differential update must raise the version; an entry without info is removed.
        """
        if not full and version <= self.local_list_version:
            return "VersionMismatch"
        updated = {} if full else dict(self.local_list)
        for id_token, info in changes:
            if info is None:
                updated.pop(id_token, None)
            else:
                updated[id_token] = info
        if len(updated) > self.settings.number(LOCAL_LIST_MAX_ENTRIES):
            return "Failed"
        self.local_list.clear()
        self.local_list.update(updated)
        self.local_list_version = version
        return "Accepted"
