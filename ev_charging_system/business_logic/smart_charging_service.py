"""Power limits for a connector, as charging profiles, whatever the station's OCPP version.

The energy coordinator decides how many watts a bound vehicle may draw; this service turns
that into a SetChargingProfile: a TxProfile for the running session (so it ends with the
session) or, between sessions, a TxDefaultProfile that the next session starts with.
"""

from __future__ import annotations

from ev_charging_system.business_logic.ports import Clock, UnitOfWorkFactory
from ev_charging_system.business_logic.remote_command_service import RemoteCommandService
from ev_charging_system.models.charging_profile import (
    ChargingProfile,
    ProfileKind,
    ProfilePurpose,
    RateUnit,
    SchedulePeriod,
)
from ev_charging_system.models.commands import CommandResult, SetChargingProfile
from ev_charging_system.models.errors import CommandError
from ev_charging_system.models.transaction import Transaction, TransactionFilter

REQUESTED_BY = "energy:coordinator"
# Profile ids are chosen per owner and connector, so a new limit replaces the previous one
# instead of stacking up profiles on the station. An operator's limit sits one stack
# level above the coordinator's, so it wins while it lasts.
PROFILE_ID_BASE = 9_000  # the energy coordinator's, TxProfile or TxDefaultProfile
OPERATOR_TX_DEFAULT_PROFILE_BASE = 7_100_000
OPERATOR_TX_PROFILE_BASE = 7_200_000
STACK_LEVEL = 5
OPERATOR_STACK_LEVEL = 6


class SmartChargingService:
    """Implements the energy package's ChargerControl port."""

    def __init__(
        self, uow_factory: UnitOfWorkFactory, commands: RemoteCommandService, clock: Clock
    ) -> None:
        self._uow_factory = uow_factory
        self._commands = commands
        self._clock = clock

    async def set_operator_limit(
        self,
        charge_point_id: str,
        *,
        limit: float,
        unit: RateUnit,
        connector_id: int,
        transaction_id: int | None,
        duration_seconds: int | None,
        requested_by: str,
    ) -> CommandResult:
        """An operator's cap: on one running session (TxProfile) or, with no session
        given, the default for new sessions on a connector (0: all) (TxDefaultProfile)."""
        target, ocpp_transaction_id = connector_id, None
        purpose, base = ProfilePurpose.TX_DEFAULT, OPERATOR_TX_DEFAULT_PROFILE_BASE
        if transaction_id is not None:
            running = await self._commands.running_transaction(charge_point_id, transaction_id)
            target = running.connector_id
            ocpp_transaction_id = running.ocpp_transaction_id or str(running.id)
            purpose, base = ProfilePurpose.TX, OPERATOR_TX_PROFILE_BASE
        start = self._clock().replace(microsecond=0)
        profile = ChargingProfile(
            id=base + target,
            stack_level=OPERATOR_STACK_LEVEL,
            purpose=purpose,
            kind=ProfileKind.ABSOLUTE,
            rate_unit=unit,
            periods=(SchedulePeriod(0, limit),),
            duration_seconds=duration_seconds,
            start_schedule=start,
            transaction_id=ocpp_transaction_id,
        )
        return await self._commands.execute(
            charge_point_id, SetChargingProfile(profile, target), requested_by
        )

    async def apply_power_limit(
        self, charge_point_id: str, connector_id: int, watts: float
    ) -> None:
        if watts < 0:
            raise ValueError("a power limit cannot be negative")
        running = await self._running_transaction(charge_point_id, connector_id)
        profile = ChargingProfile(
            id=PROFILE_ID_BASE + connector_id,
            stack_level=STACK_LEVEL,
            purpose=ProfilePurpose.TX if running else ProfilePurpose.TX_DEFAULT,
            kind=ProfileKind.ABSOLUTE if running else ProfileKind.RELATIVE,
            rate_unit=RateUnit.WATTS,
            periods=(SchedulePeriod(0, round(watts, 1)),),
            transaction_id=(running.ocpp_transaction_id or str(running.id)) if running else None,
        )
        result = await self._commands.execute(
            charge_point_id, SetChargingProfile(profile, connector_id), REQUESTED_BY
        )
        if result.status != "Accepted":
            raise CommandError(
                f"charge point {charge_point_id!r} answered {result.status} to a "
                f"{watts:.0f} W limit on connector {connector_id}"
            )

    async def _running_transaction(
        self, charge_point_id: str, connector_id: int
    ) -> Transaction | None:
        async with self._uow_factory() as uow:
            page = await uow.transactions.search(
                TransactionFilter(charge_point_id=charge_point_id, active=True, limit=50)
            )
        return next((t for t in page.items if t.connector_id == connector_id), None)
