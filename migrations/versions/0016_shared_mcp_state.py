"""scale-out: MCP confirmation tokens and rate-limit windows shared by the nodes

Revision ID: 0016
Revises: 0015_sites
Create Date: 2026-12-07 20:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ev_charging_system.data.types import UTCDateTime

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015_sites"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "confirmation_tokens",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("tool", sa.String(length=64), nullable=False),
        sa.Column("binding", sa.String(length=64), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_confirmation_tokens")),
    )
    op.create_table(
        "rate_limit_windows",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("window_number", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "window_number", name=op.f("pk_rate_limit_windows")),
    )


def downgrade() -> None:
    op.drop_table("rate_limit_windows")
    op.drop_table("confirmation_tokens")
