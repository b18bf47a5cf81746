"""audit records name the client (address, MCP session) besides the actor

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 14:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("client", sa.String(length=255), nullable=True))
        batch.create_index("ix_audit_log_channel", ["channel"])


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_index("ix_audit_log_channel")
        batch.drop_column("client")
