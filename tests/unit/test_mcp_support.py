"""Shared set-up for the MCP and chat unit tests (no tests here): the real services over the
in-memory fakes, a gateway that answers like a station, and the MCP endpoint built on them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from ev_charging_system.business_logic.audit_service import AuditService
from ev_charging_system.business_logic.auth_service import AuthService
from ev_charging_system.business_logic.conversation_service import ConversationService
from ev_charging_system.business_logic.device_management_service import (
    DeviceManagementService,
    RegistrationPolicy,
    StatusReport,
    UnknownStationPolicy,
)
from ev_charging_system.business_logic.diagnostics_service import DiagnosticsService
from ev_charging_system.business_logic.last_seen import LastSeenTracker
from ev_charging_system.business_logic.remote_command_service import RemoteCommandService
from ev_charging_system.business_logic.reporting_service import ReportingService
from ev_charging_system.business_logic.transaction_service import TransactionService
from ev_charging_system.llm_integration.mcp_auth import OPERATE, READ, Caller, acting_as
from ev_charging_system.llm_integration.mcp_server import (
    McpEndpoint,
    McpServices,
    McpSettings,
    build_mcp,
)
from ev_charging_system.models.commands import Command, CommandResult
from tests.unit.fakes import FakeClock, FakeStore, FakeUnitOfWork

OPERATOR = Caller("mcp:operate-token", "mcp", frozenset({READ, OPERATE}))
READER = Caller("mcp:read-token", "mcp", frozenset({READ}))


class FakePresence:
    def __init__(self) -> None:
        self.online: set[str] = set()

    def is_online(self, charge_point_id: str) -> bool:
        return charge_point_id in self.online

    def online_ids(self) -> frozenset[str]:
        return frozenset(self.online)


class FakeGateway:
    """Answers every command Accepted unless told otherwise; remembers what was sent."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Command]] = []
        self.answers: dict[type, CommandResult | Exception] = {}

    async def send(self, charge_point_id: str, command: Command) -> CommandResult:
        self.sent.append((charge_point_id, command))
        answer = self.answers.get(type(command), CommandResult("Accepted"))
        if isinstance(answer, Exception):
            raise answer
        return answer


@dataclass
class World:
    store: FakeStore = field(default_factory=FakeStore)
    clock: FakeClock = field(default_factory=FakeClock)
    presence: FakePresence = field(default_factory=FakePresence)
    gateway: FakeGateway = field(default_factory=FakeGateway)

    def __post_init__(self) -> None:
        def uow() -> FakeUnitOfWork:
            return FakeUnitOfWork(self.store)

        auth = AuthService(uow, self.clock)
        self.devices = DeviceManagementService(
            uow,
            self.clock,
            RegistrationPolicy(UnknownStationPolicy.ACCEPT, 300, 60),
            LastSeenTracker(),
            presence=self.presence,
        )
        self.audit = AuditService(uow, self.clock)
        self.conversations = ConversationService(uow, self.clock)
        self.services = McpServices(
            devices=self.devices,
            auth=auth,
            transactions=TransactionService(uow, self.clock, auth),
            commands=RemoteCommandService(uow, self.gateway, self.clock),
            diagnostics=DiagnosticsService(uow, self.clock, self.presence),
            reporting=ReportingService(uow),
            audit=self.audit,
        )

    def endpoint(self, ttl_seconds: float = 120) -> McpEndpoint:
        settings = McpSettings(
            "read-secret", "operate-secret", confirmation_ttl_seconds=ttl_seconds
        )
        return build_mcp(self.services, settings)

    async def station(self, charge_point_id: str, *statuses: str, online: bool = True) -> None:
        """A known station with connectors 1..n reporting `statuses`."""
        await self.devices.create_charge_point(charge_point_id)
        for number, status in enumerate(statuses, start=1):
            error = "GroundFailure" if status == "Faulted" else "NoError"
            await self.devices.status_notification(
                charge_point_id, StatusReport(number, status, error, self.clock())
            )
        if online:
            self.presence.online.add(charge_point_id)


@contextmanager
def as_caller(caller: Caller) -> Iterator[Caller]:
    with acting_as(caller):
        yield caller
