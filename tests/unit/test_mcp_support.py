"""Shared set-up for the MCP and chat unit tests (no tests here): the real services and the
operations catalogue over the in-memory fakes, a gateway that answers like a station, and
the MCP endpoint built on them."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ev_charging_system.business_logic.alarm_service import AlarmService
from ev_charging_system.business_logic.audit_service import AuditService
from ev_charging_system.business_logic.auth_service import AuthService
from ev_charging_system.business_logic.certificate_service import CertificateService
from ev_charging_system.business_logic.conversation_service import ConversationService
from ev_charging_system.business_logic.device_management_service import (
    DeviceManagementService,
    RegistrationPolicy,
    StatusReport,
)
from ev_charging_system.business_logic.diagnostics_service import DiagnosticsService
from ev_charging_system.business_logic.event_bus import InProcessEventBus
from ev_charging_system.business_logic.last_seen import LastSeenTracker
from ev_charging_system.business_logic.meter_history import MeterHistoryService
from ev_charging_system.business_logic.operations import build_catalogue
from ev_charging_system.business_logic.operations.actor import Actor, Channel, Role
from ev_charging_system.business_logic.operations.runner import OperationRunner
from ev_charging_system.business_logic.operations.services import (
    EnergyServices,
    OperationServices,
)
from ev_charging_system.business_logic.remote_command_service import RemoteCommandService
from ev_charging_system.business_logic.reporting_service import ReportingService
from ev_charging_system.business_logic.site_service import SiteService
from ev_charging_system.business_logic.smart_charging_service import SmartChargingService
from ev_charging_system.business_logic.token_service import TokenService
from ev_charging_system.business_logic.transaction_service import TransactionService
from ev_charging_system.data.certificate_authority import CertificateAuthorityStore
from ev_charging_system.energy.coordinator import Coordinator
from ev_charging_system.energy.models import FlatTariff, SiteConfig
from ev_charging_system.energy.recorder import InMemoryPlanRecorder
from ev_charging_system.energy.site_settings import SiteSettingsService, StoredSite
from ev_charging_system.llm_integration.mcp_auth import acting_as
from ev_charging_system.llm_integration.mcp_server import McpEndpoint, McpSettings, build_mcp
from ev_charging_system.models.charge_point import UnknownStationPolicy
from ev_charging_system.models.commands import Command, CommandResult
from tests.unit.fakes import (
    FakeClock,
    FakeStore,
    FakeUnitOfWork,
    MemoryAlarmStore,
    NoMeterArchive,
)

OPERATOR = Actor("mcp:operate-token", Channel.MCP, Role.OPERATOR)
READER = Actor("mcp:read-token", Channel.MCP, Role.VIEWER)


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


class MemorySiteStore:
    def __init__(self) -> None:
        self.saved: StoredSite | None = None

    async def load(self) -> StoredSite | None:
        return self.saved

    async def save(self, site: StoredSite) -> None:
        self.saved = site


class MemoryPlanLog:
    def __init__(self) -> None:
        self.documents: list[dict[str, Any]] = []

    async def recent(self, limit: int) -> list[dict[str, Any]]:
        return list(reversed(self.documents))[:limit]

    async def in_force_at(self, moment: datetime) -> dict[str, Any] | None:
        return None


@dataclass
class World:
    store: FakeStore = field(default_factory=FakeStore)
    clock: FakeClock = field(default_factory=FakeClock)
    presence: FakePresence = field(default_factory=FakePresence)
    gateway: FakeGateway = field(default_factory=FakeGateway)
    events: InProcessEventBus = field(default_factory=InProcessEventBus)

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
            events=self.events,
        )
        self.audit = AuditService(uow, self.clock)
        self.conversations = ConversationService(uow, self.clock)
        commands = RemoteCommandService(uow, self.gateway, self.clock, self.events)
        self.coordinator = Coordinator(
            config=SiteConfig(),
            tariff=FlatTariff(0.3),
            recorder=InMemoryPlanRecorder(),
            clock=lambda: datetime(2026, 6, 1, 12, tzinfo=UTC),
            policy="rule",
        )
        meter_history = MeterHistoryService(
            NoMeterArchive(), self.devices, self.clock, timedelta(days=90)
        )
        self.services = OperationServices(
            devices=self.devices,
            auth=auth,
            transactions=TransactionService(uow, self.clock, auth, events=self.events),
            commands=commands,
            smart_charging=SmartChargingService(uow, commands, self.clock),
            diagnostics=DiagnosticsService(uow, self.clock, self.presence),
            reporting=ReportingService(uow),
            audit=self.audit,
            energy=EnergyServices(
                self.coordinator,
                SiteSettingsService(self.coordinator, MemorySiteStore()),
                MemoryPlanLog(),
            ),
            tokens=TokenService(uow, self.clock, "bootstrap-admin-secret"),
            certificates=CertificateService(
                CertificateAuthorityStore(Path(tempfile.mkdtemp())), self.devices, commands
            ),
            alarms=AlarmService(MemoryAlarmStore(), self.events, self.devices, self.clock),
            meter_history=meter_history,
            sites=SiteService(uow, self.clock, self.devices, meter_history),
        )
        self.runner = OperationRunner(build_catalogue(), self.services, self.audit)

    def endpoint(self, ttl_seconds: float = 120, actions_per_minute: int = 0) -> McpEndpoint:
        settings = McpSettings(
            "read-secret",
            "operate-secret",
            confirmation_ttl_seconds=ttl_seconds,
            actions_per_minute=actions_per_minute,
        )
        return build_mcp(self.runner, self.events, settings)

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
def as_caller(actor: Actor) -> Iterator[Actor]:
    with acting_as(actor):
        yield actor
