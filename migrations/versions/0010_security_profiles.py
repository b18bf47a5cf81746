"""Each station's OCPP security profile (1: Basic auth, 2: TLS + Basic auth, 3: client certificate)

Revision ID: 0010
Revises: 0009_meter_dedupe
Create Date: 2026-12-07 18:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009_meter_dedupe"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("charge_points") as batch:
        batch.add_column(
            sa.Column("security_profile", sa.Integer(), server_default="1", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("charge_points") as batch:
        batch.drop_column("security_profile")
