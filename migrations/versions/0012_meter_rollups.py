"""15-minute rollups of meter samples (retention of raw samples)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 18:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ev_charging_system.data.types

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    def exact() -> ev_charging_system.data.types.ExactDecimal:
        return ev_charging_system.data.types.ExactDecimal(precision=24, scale=6)

    moment = ev_charging_system.data.types.UTCDateTime(timezone=True)
    op.create_table(
        "meter_rollups",
        sa.Column("charge_point_id", sa.String(length=48), nullable=False),
        sa.Column("connector_id", sa.Integer(), nullable=False),
        sa.Column("measurand", sa.String(length=64), nullable=False),
        sa.Column("phase", sa.String(length=8), nullable=False),
        sa.Column("bucket_start", moment, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("total", exact(), nullable=False),
        sa.Column("minimum", exact(), nullable=False),
        sa.Column("maximum", exact(), nullable=False),
        sa.Column("last", exact(), nullable=False),
        sa.Column("last_at", moment, nullable=False),
        sa.ForeignKeyConstraint(
            ["charge_point_id"],
            ["charge_points.id"],
            name=op.f("fk_meter_rollups_charge_point_id_charge_points"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "charge_point_id",
            "connector_id",
            "measurand",
            "phase",
            "bucket_start",
            name=op.f("pk_meter_rollups"),
        ),
    )


def downgrade() -> None:
    op.drop_table("meter_rollups")
