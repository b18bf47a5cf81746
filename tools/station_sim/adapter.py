"""What both OCPP versions do with the station model.

A CSMS call reaches a version adapter's handler (v16.py, v201.py), which reads the
message's fields and calls one of the request methods here. These apply the scripted
behaviour and the model's rules, queue the messages a station sends afterwards, and return
the status for the answer. The follow-up sequences (remote start, stop, reboot, firmware
and log progress) are written once, here, in terms of the few messages each version
spells its own way: the abstract methods at the end, which the version adapters implement.
"""

from __future__ import annotations

import abc
import dataclasses
import functools
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any, ClassVar, Generic

from websockets.asyncio.client import ClientConnection

from tools.station_sim.behaviour import ScriptedChargePoint, on
from tools.station_sim.model import (
    ChargingProfile,
    IdToken,
    ProfilePurpose,
    Reservation,
    Schedule,
    StationModel,
    Transaction,
    TxId,
)
from tools.station_sim.settings import (
    AUTHORIZE_REMOTE_START,
    HEARTBEAT_INTERVAL,
    STOP_TX_ON_INVALID_ID,
    Setting,
)

Notify = Callable[[str], Awaitable[object]]

ACCEPTED = "Accepted"
REJECTED = "Rejected"
DEAUTHORIZED = "DeAuthorized"  # the stop reason of a refused token, in both versions


def accepted_if(ok: bool) -> str:
    """The Accepted/Rejected status most answers carry, in both versions."""
    return ACCEPTED if ok else REJECTED


@dataclass(frozen=True)
class Start:
    """A transaction about to start: where, for whom, and on whose request."""

    connector_id: int
    id_token: IdToken
    remote: bool = False
    remote_start_id: int | None = None  # 2.0.1: the CSMS's id of the start request
    reservation_id: int | None = None  # the reservation the start uses up


class StationAdapter(ScriptedChargePoint, Generic[TxId], metaclass=abc.ABCMeta):
    """A station-side OCPP connection serving one StationModel.

    Observable state (the model's, under the names tests read): `transactions`
    (connector -> Transaction), `meter_wh` (connector -> register in Wh), `availability`
    (connector -> Operative/Inoperative, 0 = the whole station), `scheduled_availability`,
    `reservations` (by id), `charging_profiles` (by id), `local_list`,
    `local_list_version`, `firmware_status`; and `received`, every CSMS call.
    """

    websocket: ClientConnection  # set by the version's connected_station
    answers: ClassVar[ModuleType]
    """The version's `ocpp` call_result module (answers to CSMS calls)."""

    def __init__(
        self, station_id: str, connection: Any, response_timeout: float = 30, connectors: int = 2
    ) -> None:
        super().__init__(station_id, connection, response_timeout=response_timeout)
        self.model: StationModel[TxId] = StationModel(connectors)

    # --- the model's state -------------------------------------------------------------

    @property
    def transactions(self) -> dict[int, Transaction[TxId]]:
        return self.model.transactions

    @property
    def meter_wh(self) -> dict[int, int]:
        return self.model.meter_wh

    @property
    def availability(self) -> dict[int, str]:
        return self.model.availability

    @property
    def scheduled_availability(self) -> dict[int, str]:
        return self.model.scheduled_availability

    @property
    def reservations(self) -> dict[int, Reservation]:
        return self.model.reservations

    @property
    def charging_profiles(self) -> dict[int, ChargingProfile]:
        return self.model.charging_profiles

    @property
    def local_list(self) -> dict[str, dict[str, Any]]:
        return self.model.local_list

    @property
    def local_list_version(self) -> int:
        return self.model.local_list_version

    @property
    def firmware_status(self) -> str:
        return self.model.firmware_status

    async def send_statuses(self, connector_ids: Iterable[int]) -> None:
        """A StatusNotification with the current status of each connector, in order."""
        for connector_id in connector_ids:
            await self._send_status(connector_id)

    def _statuses(self) -> dict[int, str]:
        return {c: self.connector_status(c) for c in self.status_connectors}

    def _booted(self, status: str, interval: int) -> None:
        if status == ACCEPTED:
            self.model.settings[HEARTBEAT_INTERVAL].value = str(interval)

    def _ended(self, connector_id: int) -> None:
        """The message ending the connector's transaction was answered."""
        reset_reason = self.model.end(connector_id)
        if reset_reason is not None:  # a reset that waited for this transaction
            self.spawn(functools.partial(self._reboot, reset_reason))

    # --- requests: the handlers' shared part -------------------------------------------

    def accept_remote_start(
        self,
        requested: int | None,
        id_token: IdToken,
        remote_start_id: int | None = None,
        profile: ChargingProfile | None = None,
    ) -> bool:
        """Claim a connector and start charging there after the answer; False: refused.

        `profile` (its connector is the claimed one) is installed without checks, as the
        start request carries it for the transaction about to start.
        """
        if self.rejecting():
            return False
        connector_id = self.model.prepare_remote_start(requested, id_token.value)
        if connector_id is None:
            return False
        if profile is not None:
            claimed = dataclasses.replace(profile, connector_id=connector_id)
            self.model.install_profile(claimed, checked=False)
        self.follow_up(
            functools.partial(self._remote_start, connector_id, id_token, remote_start_id)
        )
        return True

    def remote_stop(self, transaction_id: TxId, reason: str) -> bool:
        """Stop the transaction after the answer; False if unknown or already stopping."""
        transaction = None if self.rejecting() else self.model.request_stop(transaction_id)
        if transaction is None:
            return False
        self.follow_up(functools.partial(self._stop, transaction, reason))
        return True

    def stop_on(self, connector_id: int, reason: str) -> None:
        """Stop the connector's transaction, if one runs, after the answer."""
        transaction = self.model.transactions.get(connector_id)
        if transaction is not None and self.model.request_stop(transaction.transaction_id):
            self.follow_up(functools.partial(self._stop, transaction, reason))

    def change_availability(self, target: int, wanted: str) -> str:
        if self.rejecting():
            return REJECTED
        status = self.model.change_availability(target, wanted)
        if status == ACCEPTED:
            affected = self.model.affected(target)
            reported = [c for c in self.status_connectors if c == target or c in affected]
            self.follow_up(functools.partial(self.send_statuses, reported))
        return status

    def reset(self, reason: str, when_idle: bool = False) -> str:
        """Reboot after the answer ("Accepted"), or once idle ("Scheduled")."""
        if self.rejecting():
            return REJECTED
        status = self.model.reset(reason, when_idle)
        if status == ACCEPTED:
            self.follow_up(functools.partial(self._reboot, reason))
        return status

    def write_setting(self, setting: Setting, value: str) -> bool:
        if self.rejecting() or not setting.accepts(value):
            return False
        setting.value = value
        return True

    def reserve(self, reservation: Reservation) -> str:
        if self.rejecting():
            return REJECTED
        status = self.model.reserve(reservation)
        if status == ACCEPTED and reservation.connector_id is not None:
            self.follow_up(functools.partial(self.send_statuses, [reservation.connector_id]))
        return status

    def cancel_reservation(self, reservation_id: int) -> bool:
        reservation = None if self.rejecting() else self.model.cancel_reservation(reservation_id)
        if reservation is None:
            return False
        if reservation.connector_id is not None:
            self.follow_up(functools.partial(self.send_statuses, [reservation.connector_id]))
        return True

    def set_profile(self, profile: ChargingProfile) -> bool:
        return not self.rejecting() and self.model.install_profile(profile)

    def clear_profiles(
        self,
        profile_id: int | None,
        connector_id: int | None,
        purpose: ProfilePurpose | None,
        stack_level: int | None,
    ) -> bool:
        if self.rejecting():
            return False
        return self.model.clear_profiles(profile_id, connector_id, purpose, stack_level)

    def composite_schedule(
        self, connector_id: int, duration: int, unit: str | None
    ) -> Schedule | None:
        if self.rejecting():
            return None
        return self.model.composite_schedule(connector_id, duration, unit)

    def update_local_list(
        self, version: int, full: bool, changes: Iterable[tuple[str, dict[str, Any] | None]]
    ) -> str:
        return (
            "Failed" if self.rejecting() else self.model.update_local_list(version, full, changes)
        )

    def progress(self, steps: Sequence[str], notify: Notify) -> None:
        """After the answer, report each step of a slow operation (firmware, log upload)."""
        self.follow_up(functools.partial(self._progress, steps, notify))

    # --- calls both versions spell alike ------------------------------------------------

    @on("ClearCache")
    def on_clear_cache(self, **_: Any) -> Any:
        return self.answers.ClearCache(accepted_if(not self.rejecting()))

    @on("DataTransfer")
    def on_data_transfer(self, vendor_id: str, **_: Any) -> Any:
        return self.answers.DataTransfer(REJECTED if self.rejecting() else "UnknownVendorId")

    @on("CancelReservation")
    def on_cancel_reservation(self, reservation_id: int, **_: Any) -> Any:
        return self.answers.CancelReservation(accepted_if(self.cancel_reservation(reservation_id)))

    # --- follow-up sequences -----------------------------------------------------------

    async def _remote_start(
        self, connector_id: int, id_token: IdToken, remote_start_id: int | None
    ) -> None:
        announced = self.connector_status(connector_id)  # Preparing (1.6), Occupied (2.0.1)
        try:
            await self.send_statuses([connector_id])
            if await self._may_start(id_token):
                await self._start_remotely(connector_id, id_token, remote_start_id)
        finally:
            self.model.remote_start_done(connector_id)
        if self.connector_status(connector_id) != announced:  # charging, or free again
            await self.send_statuses([connector_id])

    async def _may_start(self, id_token: IdToken) -> bool:
        if not self.model.settings.flag(AUTHORIZE_REMOTE_START):
            return True
        return await self.authorization_status(id_token) == ACCEPTED

    async def _start_remotely(
        self, connector_id: int, id_token: IdToken, remote_start_id: int | None
    ) -> None:
        reservation = self.model.take_reservation(connector_id)  # its token has arrived
        reservation_id = reservation.reservation_id if reservation else None
        start = Start(connector_id, id_token, True, remote_start_id, reservation_id)
        transaction_id, status = await self.begin_transaction(start)
        if status != ACCEPTED and self.model.settings.flag(STOP_TX_ON_INVALID_ID):
            # The CSMS refused the token, but the transaction exists: end it at once.
            await self.end_transaction(connector_id, transaction_id, DEAUTHORIZED)

    async def _stop(self, transaction: Transaction[TxId], reason: str) -> None:
        before = self._statuses()
        connector_id = transaction.connector_id
        await self.end_transaction(connector_id, transaction.transaction_id, reason)
        # The connector, and any connector a scheduled availability change just reached.
        after = self._statuses()
        await self.send_statuses(c for c in after if c == connector_id or after[c] != before[c])

    async def _reboot(self, reason: str) -> None:
        """A reset as the CSMS sees it: transactions end, the station boots again.

        The simulated station keeps its WebSocket; a real one reconnects.
        """
        for transaction in list(self.model.transactions.values()):
            await self.end_transaction(transaction.connector_id, transaction.transaction_id, reason)
        await self._boot_after_reset()
        await self.send_statuses(self.status_connectors)

    async def _progress(self, steps: Sequence[str], notify: Notify) -> None:
        for step in steps:
            await self._pause()
            await notify(step)

    # --- what each version spells its own way ------------------------------------------

    @property
    @abc.abstractmethod
    def status_connectors(self) -> list[int]:
        """The connectors a StatusNotification can be about, in reporting order."""

    @abc.abstractmethod
    def connector_status(self, connector_id: int) -> str:
        """The version's status for what the connector is doing now."""

    @abc.abstractmethod
    async def _send_status(self, connector_id: int) -> None: ...

    @abc.abstractmethod
    async def _boot_after_reset(self) -> None: ...

    @abc.abstractmethod
    async def power_up(
        self, firmware_version: str | None = None, serial_number: str | None = None
    ) -> Any:
        """BootNotification after power-up; the CSMS's answer (status, interval)."""

    @abc.abstractmethod
    async def authorization_status(self, id_token: IdToken) -> str:
        """Authorize `id_token`; the status the CSMS answered."""

    @abc.abstractmethod
    async def begin_transaction(self, start: Start) -> tuple[TxId, str]:
        """Start a transaction at the connector's meter register; (its id, the token's
        status as the CSMS answered)."""

    @abc.abstractmethod
    async def report_energy(self, connector_id: int, energy_wh: float) -> None:
        """Report the running transaction's meter register."""

    @abc.abstractmethod
    async def end_transaction(
        self, connector_id: int, transaction_id: TxId, reason: str, stopped_by: str | None = None
    ) -> None:
        """End the transaction at the connector's meter register, for `reason`
        (`stopped_by`: the token that stopped it, if one did)."""
