"""scale-out: cluster nodes with leases, and which node holds each station

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ev_charging_system.data.types import UTCDateTime

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cluster_nodes",
        sa.Column("node_id", sa.String(length=64), nullable=False),
        sa.Column("started_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("lease_expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("node_id", name=op.f("pk_cluster_nodes")),
    )
    op.create_table(
        "station_ownership",
        sa.Column("charge_point_id", sa.String(length=48), nullable=False),
        sa.Column("node_id", sa.String(length=64), nullable=False),
        sa.Column("claimed_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("charge_point_id", name=op.f("pk_station_ownership")),
    )
    op.create_index(
        op.f("ix_station_ownership_node_id"), "station_ownership", ["node_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_station_ownership_node_id"), table_name="station_ownership")
    op.drop_table("station_ownership")
    op.drop_table("cluster_nodes")
