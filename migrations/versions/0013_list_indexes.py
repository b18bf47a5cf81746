"""Indexes behind the paged, filtered and sorted lists (stations, tags, sessions, logs)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = (
    ("ix_charge_points_vendor_model", "charge_points", ["vendor", "model"]),
    ("ix_charge_points_registration", "charge_points", ["registration_status"]),
    ("ix_charge_points_last_seen", "charge_points", ["last_seen_at"]),
    ("ix_charge_points_last_boot", "charge_points", ["last_boot_at"]),
    ("ix_id_tags_status", "id_tags", ["status"]),
    ("ix_transactions_started", "transactions", ["started_at"]),
    ("ix_station_commands_action", "station_commands", ["action"]),
    ("ix_audit_log_actor", "audit_log", ["actor"]),
    ("ix_audit_log_tool", "audit_log", ["tool"]),
)


def upgrade() -> None:
    for name, table, columns in _INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _ in reversed(_INDEXES):
        op.drop_index(name, table_name=table)
