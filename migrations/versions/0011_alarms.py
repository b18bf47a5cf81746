"""Alarms raised by rules, with their history

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 18:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ev_charging_system.data.types

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    moment = ev_charging_system.data.types.UTCDateTime(timezone=True)
    op.create_table(
        "alarms",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=False),
        sa.Column("charge_point_id", sa.String(length=48), nullable=True),
        sa.Column("connector_id", sa.Integer(), nullable=True),
        sa.Column("raised_at", moment, nullable=False),
        sa.Column("last_raised_at", moment, nullable=True),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.Column("cleared_at", moment, nullable=True),
        sa.Column("acknowledged_at", moment, nullable=True),
        sa.Column("acknowledged_by", sa.String(length=120), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alarms")),
    )
    op.create_index("ix_alarms_active", "alarms", ["cleared_at", "raised_at"])
    op.create_index("ix_alarms_charge_point_id", "alarms", ["charge_point_id", "raised_at"])


def downgrade() -> None:
    op.drop_index("ix_alarms_charge_point_id", table_name="alarms")
    op.drop_index("ix_alarms_active", table_name="alarms")
    op.drop_table("alarms")
