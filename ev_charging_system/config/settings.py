"""Every knob of the system, read from the environment and `.env` (pydantic-settings)."""

from __future__ import annotations

import base64
import os
import re
import socket
from enum import StrEnum
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ev_charging_system.models.alarm import AlarmRule
from ev_charging_system.models.charge_point import UnknownStationPolicy

DEFAULT_SQLITE_PATH = Path("data") / "ev_charging.db"
DEVELOPMENT_API_TOKEN = "dev-token"  # documented demo values, refused in production
DEVELOPMENT_MCP_READ_TOKEN = "dev-mcp-read"
DEVELOPMENT_MCP_OPERATE_TOKEN = "dev-mcp-operate"


# A node id is a NATS subject token and a database key: letters, digits, '-' and '_'.
NODE_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def default_node_id() -> str:
    """host-pid, reduced to the characters a node id may hold."""
    host = re.sub(r"[^A-Za-z0-9_-]", "-", socket.gethostname())[:48] or "node"
    return f"{host}-{os.getpid()}"


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


def normalise_database_url(url: str) -> str:
    """Pick the async driver we ship for the plain URL forms people paste."""
    for plain, async_form in (
        ("postgres://", "postgresql+psycopg://"),
        ("postgresql://", "postgresql+psycopg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return async_form + url[len(plain) :]
    return url


def _check_fernet_key(key: str) -> None:
    try:
        raw = base64.urlsafe_b64decode(key.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raw = b""
    if len(raw) != 32:
        raise ValueError("SECRET_KEY must be a Fernet key: 32 bytes, url-safe base64")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Environment = Environment.DEVELOPMENT
    log_level: str = "INFO"
    # json: one JSON object per line (station id, message id, action, latency where known)
    log_format: Literal["text", "json"] = "text"
    # warnings/errors of one kind logged at most this often a minute (0: no limit)
    log_repeats_per_minute: int = Field(default=10, ge=0, le=10_000)

    database_url: str = f"sqlite+aiosqlite:///{DEFAULT_SQLITE_PATH}"
    migrate_on_start: bool = True

    ocpp_server_host: str = "0.0.0.0"
    ocpp_server_port: int = Field(default=9000, ge=0, le=65535)
    fastapi_host: str = "0.0.0.0"
    fastapi_port: int = Field(default=8001, ge=0, le=65535)
    mcp_server_host: str = "127.0.0.1"
    mcp_server_port: int = Field(default=8000, ge=0, le=65535)
    mcp_allowed_hosts: list[str] = Field(default_factory=list)
    mcp_allowed_origins: list[str] = Field(default_factory=list)
    # Host names the REST API and dashboard answer to (a JSON list; "*.example.com" for a
    # domain, "*" for any). Add the names people use to reach this server.
    rest_allowed_hosts: list[str] = Field(
        default_factory=lambda: ["localhost", "127.0.0.1", "[::1]"]
    )
    max_request_body_bytes: int = Field(default=1_048_576, ge=1024, le=1_073_741_824)
    mcp_max_request_body_bytes: int = Field(default=1_048_576, ge=1024, le=1_073_741_824)

    api_token: SecretStr = SecretStr(DEVELOPMENT_API_TOKEN)
    # MCP bearer tokens: "read" sees the network, "operate" may also act on it.
    mcp_read_token: SecretStr = SecretStr(DEVELOPMENT_MCP_READ_TOKEN)
    mcp_operate_token: SecretStr = SecretStr(DEVELOPMENT_MCP_OPERATE_TOKEN)
    mcp_confirmation_ttl_seconds: int = Field(default=120, ge=10, le=3600)
    # Acting MCP tool calls one caller may make per minute (0: no limit); cluster-wide.
    mcp_actions_per_minute: int = Field(default=60, ge=0, le=100_000)

    # Fernet key for secrets kept at rest (python main.py new-secret-key prints one);
    # development makes one in DATA_DIR when unset.
    secret_key: SecretStr | None = None
    data_dir: Path = Path("data")

    anthropic_api_key: SecretStr | None = None
    anthropic_model: str = "claude-sonnet-4-5"
    anthropic_base_url: str | None = None
    chat_max_tool_steps: int = Field(default=8, ge=1, le=50)
    chat_max_tokens: int = Field(default=2048, ge=64, le=64_000)

    heartbeat_interval_seconds: int = Field(default=300, ge=10, le=86_400)
    boot_retry_interval_seconds: int = Field(default=60, ge=5, le=86_400)
    unknown_station_policy: UnknownStationPolicy = UnknownStationPolicy.ACCEPT
    ocpp_ping_interval_seconds: float = Field(default=30, gt=0)
    # interval + timeout + close timeout = 85 s: a dead station is offline within 90 s.
    ocpp_ping_timeout_seconds: float = Field(default=50, gt=0)
    ocpp_close_timeout_seconds: float = Field(default=5, gt=0)
    ocpp_call_timeout_seconds: float = Field(default=30, gt=0)
    # Largest OCPP-J frame a station may send; a larger one closes its connection with
    # 1009 (message too big). 1 MiB holds any realistic OCPP message (a 2.0.1 NotifyReport
    # page, a 1.6 local list of thousands of tags); raise it for stations that send more.
    ocpp_max_frame_bytes: int = Field(default=1024 * 1024, ge=4096, le=64 * 1024 * 1024)
    last_seen_flush_seconds: float = Field(default=10, gt=0)
    # Reconnect storms: at most this many new connections are being set up at once
    # (credential check, connection record); more get HTTP 503 with a Retry-After spread
    # over the time the backlog needs at the measured rate. 0 = no bound. Setups share
    # their database reads and writes (batches), so this bound is not the pool's size: 100
    # booted 2,000 stations in 9-11 s on a loaded 2-core machine, 50 in 15-18 s.
    ocpp_admission_max_pending: int = Field(default=100, ge=0, le=100_000)
    # And at most this many new connections start per second (0 = only the bound above).
    ocpp_admission_rate: float = Field(default=0, ge=0)
    # A station sending faster than this (messages per second, after a burst) is held
    # back: its frames are read later, nothing is lost. 0 = no limit. The burst lets a
    # station replay what it queued offline at full speed.
    ocpp_station_message_rate: float = Field(default=20, ge=0)
    ocpp_station_message_burst: int = Field(default=200, ge=1)
    # OCPP security profiles 2 and 3: a wss:// listener beside (or instead of) ws://.
    # Without certificate files, the CSMS's own CA (under DATA_DIR/ca, or CA_CERT_FILE /
    # CA_KEY_FILE) issues the server certificate for OCPP_TLS_HOSTNAMES.
    ocpp_plain_enabled: bool = True
    ocpp_tls_port: int | None = Field(default=None, ge=0, le=65535)
    ocpp_tls_cert_file: Path | None = None
    ocpp_tls_key_file: Path | None = None
    # Client certificates (profile 3) must chain to these CAs; default: the CSMS's own CA.
    ocpp_tls_ca_file: Path | None = None
    ocpp_tls_hostnames: list[str] = Field(default_factory=lambda: ["localhost", "127.0.0.1"])
    # The CA that signs station certificates (SignCertificate); default: made in DATA_DIR/ca.
    ca_cert_file: Path | None = None
    ca_key_file: Path | None = None
    # The longest a station's message may wait on the database (a hung or unreachable
    # database, a lock): then it is answered CALLERROR InternalError and the station
    # retries. Also bounds pool checkouts and (PostgreSQL) new connections.
    database_timeout_seconds: float = Field(default=5, gt=0, le=300)
    # A REST/MCP/chat read of the CSMS's own data (lists, reports) answers within this,
    # or 503 with Retry-After: longer than a station's bound, reports may scan a lot.
    api_read_timeout_seconds: float = Field(default=15, gt=0, le=600)

    # Raw meter samples are kept this long, then folded into 15-minute rollups (signed
    # readings and transaction begin/end readings are kept: they are billing evidence).
    meter_sample_retention_days: float = Field(default=90, gt=0, le=36_500)
    # Alarms (docs/operator-guide.md): a station is "offline" after this long without a
    # connection; webhooks get a JSON POST when an alarm is raised or cleared
    # (ALARM_WEBHOOKS='{"*": "https://...", "connector_faulted": "https://..."}').
    alarm_offline_minutes: float = Field(default=10, gt=0, le=10_080)
    alarm_check_seconds: float = Field(default=30, ge=1, le=3600)
    alarm_webhooks: dict[str, SecretStr] = Field(default_factory=dict)
    alarm_webhook_timeout_seconds: float = Field(default=5, gt=0, le=60)

    # Site energy coordination. The site itself (PV, battery, vehicles, tariff) is
    # configured through the REST API and stored; these only set the planner's rhythm.
    energy_tick_seconds: float = Field(default=60, ge=1)
    # Used until an operator chooses one (then the stored choice wins).
    energy_policy: Literal["optimize", "pv_surplus", "rule"] = "optimize"
    energy_optimize_time_limit_seconds: float = Field(default=0.5, gt=0, le=30)
    energy_plan_retention_days: int = Field(default=14, ge=1, le=3650)
    # Stopping (SIGTERM/SIGINT): no new station connections, every call in flight
    # answered, sockets closed with 1001, buffered state flushed; all within this.
    shutdown_timeout_seconds: float = Field(default=10, gt=0)

    # Scale-out (docs/scaling.md). Unset: one process, no broker, nothing below is used.
    # Set (nats://host:4222): this process is one node of a cluster sharing PostgreSQL.
    cluster_nats_url: str | None = None
    node_id: str = Field(default_factory=default_node_id)
    # Prefix of every NATS subject and key of the advisory lock: clusters sharing a NATS
    # server or a database stay apart.
    cluster_name: str = Field(default="evcs", pattern=r"^[A-Za-z0-9_-]{1,32}$")
    # A node that stops renewing loses its stations (and they count as offline elsewhere)
    # after this long; it renews every third of it.
    cluster_lease_seconds: float = Field(default=15, ge=1, le=600)
    cluster_connect_timeout_seconds: float = Field(default=10, gt=0, le=120)
    # How long the cluster's event log (JetStream) keeps events for replay: a node back
    # from a NATS blip, or an SSE client resuming on another node, gets what it missed.
    cluster_event_replay_seconds: float = Field(default=300, ge=10, le=86_400)

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        return normalise_database_url(value)

    @field_validator("cluster_nats_url")
    @classmethod
    def _empty_url_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None

    @field_validator("node_id")
    @classmethod
    def _node_id_token(cls, value: str) -> str:
        if not NODE_ID_PATTERN.match(value):
            raise ValueError("NODE_ID must be 1 to 64 letters, digits, '-' or '_'")
        return value

    @field_validator("anthropic_api_key")
    @classmethod
    def _empty_key_is_none(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().strip():
            return None
        return value

    @model_validator(mode="after")
    def _shutdown_outlasts_a_database_wait(self) -> Self:
        # Stopping answers every station call in flight; each may wait this long.
        if self.shutdown_timeout_seconds <= self.database_timeout_seconds + 1:
            raise ValueError(
                "SHUTDOWN_TIMEOUT_SECONDS must exceed DATABASE_TIMEOUT_SECONDS by more than "
                "1 s, so every station call in flight can be answered before stopping"
            )
        return self

    @model_validator(mode="after")
    def _refuse_unsafe_production_defaults(self) -> Self:
        if self.environment is Environment.PRODUCTION:
            demo_values = {
                DEVELOPMENT_API_TOKEN,
                DEVELOPMENT_MCP_READ_TOKEN,
                DEVELOPMENT_MCP_OPERATE_TOKEN,
            }
            for name, secret in (
                ("API_TOKEN", self.api_token),
                ("MCP_READ_TOKEN", self.mcp_read_token),
                ("MCP_OPERATE_TOKEN", self.mcp_operate_token),
            ):
                token = secret.get_secret_value()
                if token in demo_values or len(token) < 16:
                    raise ValueError(
                        f"{name} must be set to a secret of at least 16 characters "
                        "when ENVIRONMENT=production"
                    )
        if self.environment is Environment.PRODUCTION and self.secret_key is None:
            raise ValueError("SECRET_KEY must be set when ENVIRONMENT=production")
        if self.secret_key is not None:
            _check_fernet_key(self.secret_key.get_secret_value())
        if self.mcp_read_token == self.mcp_operate_token:
            raise ValueError("MCP_READ_TOKEN and MCP_OPERATE_TOKEN must differ")
        if not self.api_token.get_secret_value():
            raise ValueError("API_TOKEN must not be empty")
        if (self.ocpp_tls_cert_file is None) != (self.ocpp_tls_key_file is None):
            raise ValueError("OCPP_TLS_CERT_FILE and OCPP_TLS_KEY_FILE go together")
        if (self.ca_cert_file is None) != (self.ca_key_file is None):
            raise ValueError("CA_CERT_FILE and CA_KEY_FILE go together")
        rules = {rule.value for rule in AlarmRule} | {"*"}
        for rule, url in self.alarm_webhooks.items():
            if rule not in rules:
                raise ValueError(
                    f"ALARM_WEBHOOKS: {rule!r} is not an alarm rule ({', '.join(sorted(rules))})"
                )
            if not url.get_secret_value().startswith(("https://", "http://")):
                raise ValueError(f"ALARM_WEBHOOKS[{rule}] must be an http(s) URL")
        if not self.ocpp_plain_enabled and self.ocpp_tls_port is None:
            raise ValueError("OCPP_PLAIN_ENABLED=false needs OCPP_TLS_PORT: no OCPP listener")
        for name, path in (
            ("OCPP_TLS_CERT_FILE", self.ocpp_tls_cert_file),
            ("OCPP_TLS_KEY_FILE", self.ocpp_tls_key_file),
            ("OCPP_TLS_CA_FILE", self.ocpp_tls_ca_file),
            ("CA_CERT_FILE", self.ca_cert_file),
            ("CA_KEY_FILE", self.ca_key_file),
        ):
            if path is not None and not path.is_file():
                raise ValueError(f"{name}: {path} is not a readable file")
        if self.cluster_nats_url is not None and not self.database_url.startswith("postgresql"):
            raise ValueError(
                "CLUSTER_NATS_URL needs a shared PostgreSQL database: set DATABASE_URL to "
                "postgresql://... (every node uses the same one), or unset CLUSTER_NATS_URL "
                "to run a single process"
            )
        if self.cluster_nats_url is not None and self.secret_key is None:
            # Without it each node would make its own key: secrets one node stores, and
            # the MCP request state it seals, would be unreadable on the others.
            raise ValueError(
                "CLUSTER_NATS_URL needs SECRET_KEY, the same on every node (python main.py "
                "new-secret-key makes one)"
            )
        return self

    @property
    def is_cluster(self) -> bool:
        return self.cluster_nats_url is not None

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
