"""Tables. The domain dataclasses in `models` stay free of SQLAlchemy; repositories map."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql import text
from sqlalchemy.sql.expression import false

from ev_charging_system.data.sample_keys import SAMPLE_KEY_LENGTH
from ev_charging_system.data.types import ExactDecimal, UTCDateTime

# Stable constraint names so Alembic migrations match on both databases.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments INTEGER PRIMARY KEY columns.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class SiteRow(Base):
    """Where stations stand (migration 0015_sites)."""

    __tablename__ = "sites"
    __table_args__ = (
        # One site at most is the energy planner's: a partial unique index on both databases.
        Index(
            "uq_sites_energy_planner",
            "energy_planner",
            unique=True,
            sqlite_where=text("energy_planner"),
            postgresql_where=text("energy_planner"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    address: Mapped[str] = mapped_column(String(300), default="", server_default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    grid_limit_kw: Mapped[float | None] = mapped_column(Float)
    energy_planner: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ChargePointRow(Base):
    __tablename__ = "charge_points"
    # The station list filters and sorts by these (migration 0013_list_indexes).
    __table_args__ = (
        Index("ix_charge_points_vendor_model", "vendor", "model"),
        Index("ix_charge_points_registration", "registration_status"),
        Index("ix_charge_points_last_seen", "last_seen_at"),
        Index("ix_charge_points_last_boot", "last_boot_at"),
    )

    id: Mapped[str] = mapped_column(String(48), primary_key=True)
    registration_status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ocpp_version: Mapped[str | None] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    security_profile: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    vendor: Mapped[str | None] = mapped_column(String(50))
    model: Mapped[str | None] = mapped_column(String(50))
    serial_number: Mapped[str | None] = mapped_column(String(50))
    charge_box_serial_number: Mapped[str | None] = mapped_column(String(50))
    firmware_version: Mapped[str | None] = mapped_column(String(50))
    iccid: Mapped[str | None] = mapped_column(String(20))
    imsi: Mapped[str | None] = mapped_column(String(20))
    meter_type: Mapped[str | None] = mapped_column(String(50))
    meter_serial_number: Mapped[str | None] = mapped_column(String(50))
    last_boot_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    firmware_status: Mapped[str | None] = mapped_column(String(50))
    diagnostics_status: Mapped[str | None] = mapped_column(String(50))
    # No ON DELETE action: a site with stations cannot be deleted (the service says so
    # first, with 409). The SQLite migration adds the column in place (see 0015_sites).
    site_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("sites.id"), index=True)


class ConnectorRow(Base):
    __tablename__ = "connectors"

    charge_point_id: Mapped[str] = mapped_column(
        ForeignKey("charge_points.id", ondelete="CASCADE"), primary_key=True
    )
    connector_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    # The connector within a 2.0.1 EVSE; 0 for 1.6 connectors (a key column cannot be NULL).
    evse_connector_id: Mapped[int] = mapped_column(
        Integer, primary_key=True, autoincrement=False, default=0, server_default="0"
    )
    status: Mapped[str] = mapped_column(String(32))
    error_code: Mapped[str] = mapped_column(String(50))
    info: Mapped[str | None] = mapped_column(String(500))
    vendor_id: Mapped[str | None] = mapped_column(String(255))
    vendor_error_code: Mapped[str | None] = mapped_column(String(50))
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime())


class StatusChangeRow(Base):
    __tablename__ = "connector_status_history"
    __table_args__ = (Index("ix_status_history_station_time", "charge_point_id", "received_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    charge_point_id: Mapped[str] = mapped_column(ForeignKey("charge_points.id", ondelete="CASCADE"))
    connector_id: Mapped[int] = mapped_column(Integer)
    evse_connector_id: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(32))
    error_code: Mapped[str] = mapped_column(String(50))
    info: Mapped[str | None] = mapped_column(String(500))
    vendor_id: Mapped[str | None] = mapped_column(String(255))
    vendor_error_code: Mapped[str | None] = mapped_column(String(50))
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class IdTagRow(Base):
    __tablename__ = "id_tags"
    __table_args__ = (Index("ix_id_tags_status", "status"),)

    id_tag: Mapped[str] = mapped_column(String(36), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    expiry_date: Mapped[datetime | None] = mapped_column(UTCDateTime())
    parent_id_tag: Mapped[str | None] = mapped_column(String(36))
    name: Mapped[str | None] = mapped_column(String(255))
    max_active_transactions: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TransactionRow(Base):
    __tablename__ = "transactions"
    __table_args__ = (
        # The natural key of a start: a replayed StartTransaction finds its first copy.
        UniqueConstraint(
            "charge_point_id",
            "connector_id",
            "id_tag",
            "meter_start_wh",
            "started_at",
            name="uq_transactions_start_key",
        ),
        # OCPP 2.0.1 stations name their transactions; NULL (1.6) never collides.
        UniqueConstraint("charge_point_id", "ocpp_transaction_id", name="uq_transactions_ocpp_id"),
        Index("ix_transactions_id_tag_active", "id_tag", "stopped_at"),
        Index("ix_transactions_station_started", "charge_point_id", "started_at"),
        Index("ix_transactions_started", "started_at"),  # the list of every station
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    charge_point_id: Mapped[str] = mapped_column(ForeignKey("charge_points.id"))
    connector_id: Mapped[int] = mapped_column(Integer)
    id_tag: Mapped[str] = mapped_column(String(36))
    authorization_status: Mapped[str] = mapped_column(String(16))
    reservation_id: Mapped[int | None] = mapped_column(Integer)
    meter_start_wh: Mapped[int] = mapped_column(BigInteger)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    meter_stop_wh: Mapped[int | None] = mapped_column(BigInteger)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    stop_reason: Mapped[str | None] = mapped_column(String(32))
    stop_id_tag: Mapped[str | None] = mapped_column(String(36))
    ocpp_transaction_id: Mapped[str | None] = mapped_column(String(36))
    offline: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    remote_start_id: Mapped[int | None] = mapped_column(Integer)
    closed_by_csms: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class MeterSampleRow(Base):
    __tablename__ = "meter_samples"
    __table_args__ = (
        Index("ix_meter_samples_transaction", "transaction_id", "timestamp"),
        Index("ix_meter_samples_station_time", "charge_point_id", "timestamp"),
        # Exactly once: a replayed sample (same natural key) is not stored again.
        UniqueConstraint("sample_key", name="uq_meter_samples_sample_key"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # data/sample_keys.py: digest of MeterSample.natural_key (one non-null column, so NULL
    # phases or transactions cannot defeat the unique constraint).
    sample_key: Mapped[str] = mapped_column(String(SAMPLE_KEY_LENGTH))
    charge_point_id: Mapped[str] = mapped_column(ForeignKey("charge_points.id", ondelete="CASCADE"))
    connector_id: Mapped[int] = mapped_column(Integer)
    transaction_id: Mapped[int | None] = mapped_column(
        ForeignKey("transactions.id", ondelete="CASCADE")
    )
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime())
    measurand: Mapped[str] = mapped_column(String(64))
    raw_value: Mapped[str] = mapped_column(Text)
    value: Mapped[Decimal | None] = mapped_column(ExactDecimal())
    unit: Mapped[str | None] = mapped_column(String(16))
    phase: Mapped[str | None] = mapped_column(String(8))
    context: Mapped[str | None] = mapped_column(String(32))
    location: Mapped[str | None] = mapped_column(String(16))
    format: Mapped[str | None] = mapped_column(String(16))
    # Signed meter data (OCPP 2.0.1 signedMeterValue, 1.6 SignedData), kept as sent.
    signed_meter_data: Mapped[str | None] = mapped_column(Text)
    signing_method: Mapped[str | None] = mapped_column(String(50))
    encoding_method: Mapped[str | None] = mapped_column(String(50))
    public_key: Mapped[str | None] = mapped_column(Text)


class StationEventRow(Base):
    __tablename__ = "station_events"
    __table_args__ = (Index("ix_station_events_station_time", "charge_point_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    charge_point_id: Mapped[str] = mapped_column(String(48))
    kind: Mapped[str] = mapped_column(String(48))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)


class TransactionEventRow(Base):
    """Every OCPP 2.0.1 TransactionEvent seen, so replays (same seqNo) are recognised."""

    __tablename__ = "transaction_events"
    __table_args__ = (
        UniqueConstraint(
            "charge_point_id", "ocpp_transaction_id", "seq_no", name="uq_transaction_events_seq"
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    charge_point_id: Mapped[str] = mapped_column(ForeignKey("charge_points.id", ondelete="CASCADE"))
    ocpp_transaction_id: Mapped[str] = mapped_column(String(36))
    seq_no: Mapped[int] = mapped_column(Integer)
    event_type: Mapped[str] = mapped_column(String(16))
    trigger_reason: Mapped[str] = mapped_column(String(32))
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    offline: Mapped[bool] = mapped_column(Boolean, default=False)


class RemoteStartRow(Base):
    """The token an operator asked a 2.0.1 station to start with, by remoteStartId.

    A station may start the transaction with only the remoteStartId (no idToken): this is
    how the CSMS still knows whose session it is.
    """

    __tablename__ = "remote_start_requests"

    charge_point_id: Mapped[str] = mapped_column(
        ForeignKey("charge_points.id", ondelete="CASCADE"), primary_key=True
    )
    remote_start_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    id_tag: Mapped[str] = mapped_column(String(36))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CommandRow(Base):
    __tablename__ = "station_commands"
    __table_args__ = (
        Index("ix_station_commands_station_time", "charge_point_id", "requested_at"),
        Index("ix_station_commands_action", "action"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    charge_point_id: Mapped[str] = mapped_column(String(48))
    action: Mapped[str] = mapped_column(String(48))
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON)
    requested_by: Mapped[str] = mapped_column(String(255))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(String(16))
    status: Mapped[str | None] = mapped_column(String(48))
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    error_code: Mapped[str | None] = mapped_column(String(48))
    error_description: Mapped[str | None] = mapped_column(Text)


class AuditRow(Base):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_channel", "channel"),
        Index("ix_audit_log_actor", "actor"),
        Index("ix_audit_log_tool", "tool"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(255))
    channel: Mapped[str] = mapped_column(String(16))
    tool: Mapped[str] = mapped_column(String(64))
    arguments: Mapped[dict[str, Any]] = mapped_column(JSON)
    outcome: Mapped[str] = mapped_column(String(32))
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    client: Mapped[str | None] = mapped_column(String(255))


class ConversationRow(Base):
    __tablename__ = "chat_conversations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    title: Mapped[str] = mapped_column(String(255))
    pending_action: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ChatMessageRow(Base):
    __tablename__ = "chat_messages"
    __table_args__ = (Index("ix_chat_messages_conversation", "conversation_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("chat_conversations.id", ondelete="CASCADE")
    )
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DeviceModelVariableRow(Base):
    """One attribute of one variable of one component, as NotifyReport describes it.

    Empty strings / 0 stand for "none" in the key columns so the unique key works on
    both databases (NULLs never compare equal).
    """

    __tablename__ = "device_model_variables"
    __table_args__ = (
        UniqueConstraint(
            "charge_point_id",
            "component_name",
            "component_instance",
            "evse_id",
            "connector_id",
            "variable_name",
            "variable_instance",
            "attribute_type",
            name="uq_device_model_variables_key",
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    charge_point_id: Mapped[str] = mapped_column(ForeignKey("charge_points.id", ondelete="CASCADE"))
    component_name: Mapped[str] = mapped_column(String(50))
    component_instance: Mapped[str] = mapped_column(String(50))
    evse_id: Mapped[int] = mapped_column(Integer)
    connector_id: Mapped[int] = mapped_column(Integer)
    variable_name: Mapped[str] = mapped_column(String(50))
    variable_instance: Mapped[str] = mapped_column(String(50))
    attribute_type: Mapped[str] = mapped_column(String(16))
    value: Mapped[str | None] = mapped_column(Text)
    mutability: Mapped[str | None] = mapped_column(String(16))
    persistent: Mapped[bool | None] = mapped_column(Boolean)
    constant: Mapped[bool | None] = mapped_column(Boolean)
    characteristics: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SiteSettingsRow(Base):
    """The energy site's configuration, tariff and policy, as one JSON document."""

    __tablename__ = "site_settings"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)


class EnergyHistoryRow(Base):
    """15-minute means of PV and load, the energy forecasts' memory across restarts."""

    __tablename__ = "energy_history"

    slot: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    pv_kw: Mapped[float] = mapped_column(Float)
    critical_kw: Mapped[float] = mapped_column(Float)
    flexible_kw: Mapped[float] = mapped_column(Float)


class EnergyPlanRow(Base):
    """Every plan the coordinator made: inputs, actions, reason, fallback."""

    __tablename__ = "energy_plans"
    __table_args__ = (Index("ix_energy_plans_created", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    policy: Mapped[str] = mapped_column(String(32))
    requested_policy: Mapped[str] = mapped_column(String(32))
    fell_back: Mapped[bool] = mapped_column(Boolean)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)


class ApiTokenRow(Base):
    __tablename__ = "api_tokens"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AlarmRow(Base):
    __tablename__ = "alarms"
    __table_args__ = (
        Index("ix_alarms_active", "cleared_at", "raised_at"),
        Index("ix_alarms_charge_point_id", "charge_point_id", "raised_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    rule: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(String(500))
    charge_point_id: Mapped[str | None] = mapped_column(String(48))
    connector_id: Mapped[int | None] = mapped_column(Integer)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_raised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    occurrences: Mapped[int] = mapped_column(Integer)
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(String(120))


class MeterRollupRow(Base):
    """15-minute aggregates of one measurand of one connector (see models/meter_rollup.py)."""

    __tablename__ = "meter_rollups"

    charge_point_id: Mapped[str] = mapped_column(
        ForeignKey("charge_points.id", ondelete="CASCADE"), primary_key=True
    )
    connector_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    measurand: Mapped[str] = mapped_column(String(64), primary_key=True)
    phase: Mapped[str] = mapped_column(String(8), primary_key=True)
    bucket_start: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    total: Mapped[Decimal] = mapped_column(ExactDecimal())
    minimum: Mapped[Decimal] = mapped_column(ExactDecimal())
    maximum: Mapped[Decimal] = mapped_column(ExactDecimal())
    last: Mapped[Decimal] = mapped_column(ExactDecimal())
    last_at: Mapped[datetime] = mapped_column(UTCDateTime())


# --- scale-out (docs/scaling.md): written and read only by ev_charging_system.cluster ------


class ClusterNodeRow(Base):
    """A running node and its lease; a node that stops renewing loses its stations."""

    __tablename__ = "cluster_nodes"

    node_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lease_expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class StationOwnershipRow(Base):
    """Which node holds a station's WebSocket; valid while that node's lease is."""

    __tablename__ = "station_ownership"

    charge_point_id: Mapped[str] = mapped_column(String(48), primary_key=True)
    node_id: Mapped[str] = mapped_column(String(64), index=True)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ConfirmationTokenRow(Base):
    """An MCP confirm token issued by any node (its SHA-256 digest), until redeemed."""

    __tablename__ = "confirmation_tokens"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    tool: Mapped[str] = mapped_column(String(64))
    binding: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RateLimitWindowRow(Base):
    """Calls counted for one key in one fixed window, by every node."""

    __tablename__ = "rate_limit_windows"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_number: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
