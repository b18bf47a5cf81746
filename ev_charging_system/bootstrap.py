"""The one place that wires settings -> database -> services -> adapters.

`System(settings)` builds the whole object graph and starts nothing; `application.py`
runs it (listeners, background tasks, signals, orderly shutdown).
"""

from __future__ import annotations

import dataclasses
import hmac
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine

from ev_charging_system.api.chat_routes import install_chat
from ev_charging_system.api.dependencies import ApiServices
from ev_charging_system.api.metrics import PrometheusObserver, SystemLevels
from ev_charging_system.api.rest_api import HttpLimits, create_rest_app
from ev_charging_system.business_logic.alarm_service import AlarmPolicy, AlarmService
from ev_charging_system.business_logic.audit_service import AuditService
from ev_charging_system.business_logic.auth_service import AuthService
from ev_charging_system.business_logic.certificate_service import CertificateService
from ev_charging_system.business_logic.conversation_service import ConversationService
from ev_charging_system.business_logic.device_management_service import (
    DeviceManagementService,
    RegistrationPolicy,
)
from ev_charging_system.business_logic.diagnostics_service import DiagnosticsService
from ev_charging_system.business_logic.event_bus import InProcessEventBus
from ev_charging_system.business_logic.last_seen import LastSeenTracker
from ev_charging_system.business_logic.meter_history import MeterHistoryService
from ev_charging_system.business_logic.operations import build_catalogue
from ev_charging_system.business_logic.operations.runner import OperationRunner
from ev_charging_system.business_logic.operations.services import (
    EnergyServices,
    OperationServices,
)
from ev_charging_system.business_logic.plan_events import PublishingPlanRecorder
from ev_charging_system.business_logic.ports import (
    BatchedWrites,
    ChargerGateway,
    StationPresence,
    UnitOfWork,
)
from ev_charging_system.business_logic.remote_command_service import RemoteCommandService
from ev_charging_system.business_logic.reporting_service import ReportingService
from ev_charging_system.business_logic.site_service import SiteService, planner_grid_limit
from ev_charging_system.business_logic.smart_charging_service import SmartChargingService
from ev_charging_system.business_logic.token_service import TokenService
from ev_charging_system.business_logic.transaction_event_service import TransactionEventService
from ev_charging_system.business_logic.transaction_service import TransactionService
from ev_charging_system.cluster.event_bus import NatsEventBus
from ev_charging_system.cluster.invalidation import registration_invalidator
from ev_charging_system.cluster.node import ClusterNode, ClusterOptions
from ev_charging_system.cluster.session_feed import remote_session_feed
from ev_charging_system.config.settings import Settings
from ev_charging_system.core.admission import AdmissionPolicy
from ev_charging_system.core.connection_manager import ConnectionManager
from ev_charging_system.core.gateway import OcppGateway
from ev_charging_system.core.ocpp_server import (
    OcppServer,
    OcppServerOptions,
    TlsListener,
)
from ev_charging_system.core.rate_limit import RateLimit
from ev_charging_system.core.services import OcppServices
from ev_charging_system.data.alarm_store import SqlAlarmStore
from ev_charging_system.data.certificate_authority import CertificateAuthorityStore
from ev_charging_system.data.database import (
    create_autocommit_session_factory,
    create_engine,
    create_session_factory,
)
from ev_charging_system.data.database_health import DatabaseHealth
from ev_charging_system.data.energy_store import (
    SqlHistoryStore,
    SqlPlanLog,
    SqlSiteSettingsStore,
)
from ev_charging_system.data.meter_archive import SqlMeterArchive
from ev_charging_system.data.secret_box import FernetSecretBox, development_key
from ev_charging_system.data.unit_of_work import SqlAlchemyUnitOfWork
from ev_charging_system.energy.coordinator import Coordinator, CoordinatorSettings
from ev_charging_system.energy.history_store import HistoryKeepingRecorder
from ev_charging_system.energy.models import FlatTariff, SiteConfig
from ev_charging_system.energy.policies import OptimizeSettings, default_policies
from ev_charging_system.energy.session_feed import VehicleSessionFeed
from ev_charging_system.energy.site_settings import SiteSettingsService, SiteSettingsStore
from ev_charging_system.llm_integration.chat import ChatSettings, build_chat_engine
from ev_charging_system.llm_integration.chat_tools import ChatTools
from ev_charging_system.llm_integration.mcp_server import McpSettings, build_mcp
from ev_charging_system.notifications.webhooks import WebhookNotifier

logger = logging.getLogger(__name__)

# Until an operator sets the site's tariff (PUT /energy/tariff): a typical flat price.
DEFAULT_TARIFF = FlatTariff(import_price=0.30, feed_in_price=0.08)


def pool_levels(engine: AsyncEngine) -> dict[str, int]:
    """Connections of a queue pool (PostgreSQL); SQLite's pool has no counts to give."""
    pool = engine.sync_engine.pool
    levels: dict[str, int] = {}
    for state, method in (("checked_out", "checkedout"), ("idle", "checkedin"), ("size", "size")):
        read = getattr(pool, method, None)
        if callable(read):
            value = read()
            if isinstance(value, int):
                levels[state] = value
    return levels


def _leader_call_bound(settings: Settings) -> float:
    """How long an operation forwarded to the leader may take there: a plan made on
    demand (the optimiser's whole budget) or a setpoint sent to a station, plus the hop."""
    plan = settings.energy_optimize_time_limit_seconds * 4
    return max(plan, settings.ocpp_call_timeout_seconds) + 5.0


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Services:
    devices: DeviceManagementService
    auth: AuthService
    transactions: TransactionService
    commands: RemoteCommandService
    diagnostics: DiagnosticsService
    reporting: ReportingService
    audit: AuditService
    conversations: ConversationService
    last_seen: LastSeenTracker


class System:
    """Every part of the system, wired from the settings; `Application` runs it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine: AsyncEngine = create_engine(
            settings.database_url, timeout_seconds=settings.database_timeout_seconds
        )
        session_factory = create_session_factory(self.engine)
        self.database_health = DatabaseHealth(self.engine, settings.database_timeout_seconds)

        def unit_of_work() -> UnitOfWork:
            return SqlAlchemyUnitOfWork(session_factory, self.database_health)

        self.uow_factory = unit_of_work
        statement_sessions = create_autocommit_session_factory(self.engine)

        def statement_unit_of_work() -> UnitOfWork:
            return SqlAlchemyUnitOfWork(statement_sessions, self.database_health)

        # The one metrics registry of this application (never the library's global one).
        self.metrics_registry = CollectorRegistry(auto_describe=True)
        observer = PrometheusObserver(self.metrics_registry)
        self.metrics_observer = observer
        key = settings.secret_key
        self._secret_key = (
            key.get_secret_value().encode()
            if key is not None
            else development_key(settings.data_dir / "secret.key")
        )
        self.secret_box = FernetSecretBox(self._secret_key)
        self.connections = ConnectionManager()
        local_gateway = OcppGateway(self.connections)
        # One process (the default) or one node of a cluster: only the event bus, the
        # gateway and presence differ; every service is wired the same way below.
        self.cluster: ClusterNode | None = None
        self.events: InProcessEventBus | NatsEventBus
        gateway: ChargerGateway = local_gateway
        presence: StationPresence = self.connections
        if settings.cluster_nats_url is not None:
            self.cluster = ClusterNode(
                ClusterOptions(
                    nats_url=settings.cluster_nats_url,
                    node_id=settings.node_id,
                    cluster_name=settings.cluster_name,
                    database_url=settings.database_url,
                    lease_seconds=settings.cluster_lease_seconds,
                    connect_timeout_seconds=settings.cluster_connect_timeout_seconds,
                    call_timeout_seconds=settings.ocpp_call_timeout_seconds,
                    event_replay_seconds=settings.cluster_event_replay_seconds,
                    leader_call_timeout_seconds=_leader_call_bound(settings),
                ),
                local_gateway,
                self.connections,
            )
            self.events = self.cluster.events
            gateway, presence = self.cluster.gateway, self.cluster.presence
        else:
            self.events = InProcessEventBus()
        last_seen = LastSeenTracker()
        auth = AuthService(unit_of_work, utc_now)
        devices = DeviceManagementService(
            unit_of_work,
            utc_now,
            RegistrationPolicy(
                unknown_stations=settings.unknown_station_policy,
                heartbeat_interval_seconds=settings.heartbeat_interval_seconds,
                retry_interval_seconds=settings.boot_retry_interval_seconds,
            ),
            last_seen,
            presence=presence,
            events=self.events,
            write_timeout_seconds=settings.database_timeout_seconds,
            # SQLite has one writer at a time (see the transactions' batches below).
            concurrent_writes=1 if self.engine.dialect.name == "sqlite" else 2,
            # SQLite: plain sessions (an autocommit aiosqlite connection returned to the
            # pool left database-wide locks behind under parallel tests).
            read_uow_factory=(
                None if self.engine.dialect.name == "sqlite" else statement_unit_of_work
            ),
        )
        if self.cluster is not None:
            self.cluster.events.add_remote_tap(
                registration_invalidator(devices.forget_registration)
            )
        commands = RemoteCommandService(unit_of_work, gateway, utc_now, self.events, observer)
        smart_charging = SmartChargingService(unit_of_work, commands, utc_now)
        self.plan_log = SqlPlanLog(
            session_factory, timedelta(days=settings.energy_plan_retention_days)
        )
        self.history_store = SqlHistoryStore(session_factory)
        history_recorder = HistoryKeepingRecorder(self.plan_log, self.history_store)
        self.coordinator = Coordinator(
            config=SiteConfig(),
            tariff=DEFAULT_TARIFF,
            recorder=PublishingPlanRecorder(history_recorder, self.events, observer),
            clock=utc_now,
            policies=default_policies(
                OptimizeSettings(time_limit_s=settings.energy_optimize_time_limit_seconds)
            ),
            policy=settings.energy_policy,
            settings=CoordinatorSettings(
                period=timedelta(seconds=settings.energy_tick_seconds),
                time_budget_s=settings.energy_optimize_time_limit_seconds * 4,
            ),
            charger=smart_charging,
        )
        history_recorder.attach(self.coordinator.history)
        site_store: SiteSettingsStore = SqlSiteSettingsStore(session_factory)
        if self.cluster is not None:  # changes through any node reach every planner
            site_store = self.cluster.site.store(site_store)
        # The planner's site's grid limit, when it has one, is the import limit the planner
        # obeys (docs/ARCHITECTURE.md, "The planner's grid limit").
        self.site = SiteSettingsService(
            self.coordinator, site_store, partial(planner_grid_limit, unit_of_work)
        )
        sessions = VehicleSessionFeed(self.coordinator)
        if self.cluster is not None:  # sessions on other nodes' stations, too
            self.cluster.site.on_change(self.site.restore)
            self.cluster.events.add_remote_tap(remote_session_feed(sessions))
        sqlite = self.engine.dialect.name == "sqlite"
        sample_writes = BatchedWrites(
            timeout_seconds=settings.database_timeout_seconds,
            # SQLite has one writer at a time: a second batch in flight would only wait
            # for the lock (and hold a connection while it does).
            in_flight=1 if sqlite else 2,
            # One statement per batch on PostgreSQL; SQLite's multi-row insert may be
            # several statements, which must share a transaction.
            single_statement=None if sqlite else statement_unit_of_work,
        )
        transactions = TransactionService(
            unit_of_work, utc_now, auth, sessions, self.events, sample_writes
        )
        transaction_events = TransactionEventService(
            unit_of_work, utc_now, auth, sessions, self.events, sample_writes
        )
        diagnostics = DiagnosticsService(unit_of_work, utc_now, presence)
        reporting = ReportingService(unit_of_work)
        audit = AuditService(unit_of_work, utc_now)
        conversations = ConversationService(unit_of_work, utc_now)
        self.webhooks = WebhookNotifier(
            {rule: url.get_secret_value() for rule, url in settings.alarm_webhooks.items()},
            settings.alarm_webhook_timeout_seconds,
        )
        self.alarms = AlarmService(
            SqlAlarmStore(session_factory),
            self.events,
            devices,
            utc_now,
            AlarmPolicy(
                offline_after=timedelta(minutes=settings.alarm_offline_minutes),
                sweep_every=timedelta(seconds=settings.alarm_check_seconds),
            ),
            storage=self.database_health,
            notifier=self.webhooks if settings.alarm_webhooks else None,
        )
        self.meter_history = MeterHistoryService(
            SqlMeterArchive(session_factory),
            devices,
            utc_now,
            retention=timedelta(days=settings.meter_sample_retention_days),
        )
        self.services = Services(
            devices,
            auth,
            transactions,
            commands,
            diagnostics,
            reporting,
            audit,
            conversations,
            last_seen,
        )
        self.certificate_authority = CertificateAuthorityStore(
            settings.data_dir / "ca", settings.ca_cert_file, settings.ca_key_file
        )
        certificates = CertificateService(self.certificate_authority, devices, commands)
        self.ocpp = OcppServer(
            OcppServices(
                devices,
                auth,
                transactions,
                transaction_events,
                certificates,
                storage=self.database_health,
                database_timeout_seconds=settings.database_timeout_seconds,
                observer=observer,
            ),
            self.connections,
            OcppServerOptions(
                host=settings.ocpp_server_host,
                port=settings.ocpp_server_port,
                ping_interval=settings.ocpp_ping_interval_seconds,
                ping_timeout=settings.ocpp_ping_timeout_seconds,
                close_timeout=settings.ocpp_close_timeout_seconds,
                call_timeout=settings.ocpp_call_timeout_seconds,
                max_frame_bytes=settings.ocpp_max_frame_bytes,
                plain=settings.ocpp_plain_enabled,
                tls=self._tls_listener(settings),
                admission=AdmissionPolicy(
                    max_pending=settings.ocpp_admission_max_pending,
                    rate_per_second=settings.ocpp_admission_rate,
                ),
                station_message_limit=RateLimit(
                    settings.ocpp_station_message_rate, settings.ocpp_station_message_burst
                ),
            ),
        )
        tokens = TokenService(unit_of_work, utc_now, settings.api_token.get_secret_value())
        self.operations = OperationRunner(
            build_catalogue(),
            OperationServices(
                devices=devices,
                auth=auth,
                transactions=transactions,
                commands=commands,
                smart_charging=smart_charging,
                diagnostics=diagnostics,
                reporting=reporting,
                audit=audit,
                energy=EnergyServices(self.coordinator, self.site, self.plan_log),
                tokens=tokens,
                certificates=certificates,
                alarms=self.alarms,
                meter_history=self.meter_history,
                sites=SiteService(
                    unit_of_work, utc_now, devices, self.meter_history, planner=self.site
                ),
            ),
            audit,
            observer,
            read_timeout_seconds=settings.api_read_timeout_seconds,
        )
        if self.cluster is not None:  # the planner's operations run on the leader's planner
            self.operations.route_to_leader(self.cluster.leader_calls)
            self.cluster.leader_calls.serve(self.operations.perform_forwarded)
        self.rest_app = create_rest_app(
            ApiServices(
                operations=self.operations,
                events=self.events,
                database=self.database_health,
                online_count=devices.online_count,
                tokens=tokens,
            ),
            HttpLimits(settings.max_request_body_bytes, settings.rest_allowed_hosts),
            self.metrics_registry,
        )
        observer.watch(
            lambda: SystemLevels(
                stations_connected=self.connections.count_by_version(),
                stations_accepted=devices.accepted_online_count(),
                event_subscribers=self.events.subscriber_count,
                events_published=self.events.published,
                events_dropped=self.events.dropped_total,
                database_pool=pool_levels(self.engine),
                meter_batches=dataclasses.asdict(transactions.sample_batches()),
                event_batches=dataclasses.asdict(transaction_events.event_batches()),
                station_batches=dataclasses.asdict(devices.activity_batches()),
                handshakes=dataclasses.asdict(self.ocpp.admission.counts()),
            )
        )
        self.mcp = build_mcp(
            self.operations,
            self.events,
            McpSettings(
                read_token=settings.mcp_read_token.get_secret_value(),
                operate_token=settings.mcp_operate_token.get_secret_value(),
                confirmation_ttl_seconds=settings.mcp_confirmation_ttl_seconds,
                allowed_hosts=settings.mcp_allowed_hosts,
                allowed_origins=settings.mcp_allowed_origins,
                token_holder=tokens.holder,
                actions_per_minute=settings.mcp_actions_per_minute,
                **self._shared_mcp_state(settings),
            ),
        )
        api_key = settings.anthropic_api_key
        self.chat = build_chat_engine(
            ChatTools(self.operations),
            conversations,
            ChatSettings(
                model=settings.anthropic_model,
                max_tokens=settings.chat_max_tokens,
                max_tool_steps=settings.chat_max_tool_steps,
                confirmation_ttl_seconds=settings.mcp_confirmation_ttl_seconds,
            ),
            api_key=api_key.get_secret_value() if api_key is not None else None,
            base_url=settings.anthropic_base_url,
            box=self.secret_box,
        )
        install_chat(self.rest_app, self.chat)

    def _shared_mcp_state(self, settings: Settings) -> dict[str, Any]:
        """A cluster's nodes share confirm tokens and rate limits; one process keeps them."""
        if self.cluster is None:
            return {}
        limit = settings.mcp_actions_per_minute
        # A 2026-protocol client answers a confirmation by repeating its call with the
        # sealed request state, maybe through another node: every node must unseal it.
        request_state_key = hmac.digest(self._secret_key, b"evcs mcp request state", "sha256")
        return {
            "session_node": settings.node_id,
            "request_state_keys": (request_state_key,),
            "confirmation_store": self.cluster.confirmation_tokens(
                settings.mcp_confirmation_ttl_seconds
            ),
            "action_limiter": self.cluster.rate_limiter(limit) if limit > 0 else None,
        }

    def _tls_listener(self, settings: Settings) -> TlsListener | None:
        """The wss:// listener's files: the operator's, or issued by the CSMS's own CA."""
        if settings.ocpp_tls_port is None:
            return None
        if settings.ocpp_tls_cert_file is not None and settings.ocpp_tls_key_file is not None:
            certificate, key = settings.ocpp_tls_cert_file, settings.ocpp_tls_key_file
        else:
            certificate, key = self.certificate_authority.authority().write_server_credentials(
                settings.data_dir / "ca", settings.ocpp_tls_hostnames
            )
        client_ca = settings.ocpp_tls_ca_file or self.certificate_authority.certificate_file()
        return TlsListener(settings.ocpp_tls_port, certificate, key, client_ca)
