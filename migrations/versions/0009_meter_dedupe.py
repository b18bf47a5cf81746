"""Exactly-once meter samples: a natural-key digest per sample, unique

Stations resend unacknowledged MeterValues after a reconnect; until now every copy was
stored. Existing copies are deleted (the first stored, lowest id, stays), then a unique
constraint keeps it so.

Revision ID: 0009_meter_dedupe
Revises: 0008
Create Date: 2026-12-07 17:50:00
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from ev_charging_system.data.types import UTCDateTime

revision: str = "0009_meter_dedupe"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 5000
_TEMPORARY_INDEX = "ix_meter_samples_sample_key_tmp"

# The table as this revision knows it (not the ORM's, which later revisions may change).
_samples = sa.table(
    "meter_samples",
    sa.column("id", sa.BigInteger()),
    sa.column("sample_key", sa.String(32)),
    sa.column("charge_point_id", sa.String(48)),
    sa.column("connector_id", sa.Integer()),
    sa.column("transaction_id", sa.BigInteger()),
    sa.column("timestamp", UTCDateTime()),
    sa.column("measurand", sa.String(64)),
    sa.column("phase", sa.String(8)),
    sa.column("location", sa.String(16)),
    sa.column("context", sa.String(32)),
    sa.column("format", sa.String(16)),
)


def _key(row: Any) -> str:
    """ev_charging_system/data/sample_keys.sample_key as of this revision, frozen here so
    that later changes there cannot change what this migration did (a test checks they
    agree)."""
    timestamp: datetime = row.timestamp
    if timestamp.tzinfo is None:
        timestamp = timestamp.replace(tzinfo=UTC)
    parts = (
        row.charge_point_id,
        str(row.connector_id),
        "" if row.transaction_id is None else str(row.transaction_id),
        timestamp.astimezone(UTC).isoformat(timespec="microseconds"),
        row.measurand,
        row.phase or "",
        row.location or "",
        row.context or "",
        row.format or "Raw",
    )
    return hashlib.blake2b("\x1f".join(parts).encode(), digest_size=16).hexdigest()


def _fill_keys(connection: sa.Connection) -> None:
    """Compute every stored sample's key, in batches by id (bounded memory)."""
    last_id = 0
    update = (
        sa.update(_samples)
        .where(_samples.c.id == sa.bindparam("row_id"))
        .values(sample_key=sa.bindparam("key"))
    )
    while True:
        rows = connection.execute(
            sa.select(_samples).where(_samples.c.id > last_id).order_by(_samples.c.id).limit(_BATCH)
        ).all()
        if not rows:
            return
        connection.execute(update, [{"row_id": row.id, "key": _key(row)} for row in rows])
        last_id = rows[-1].id


def upgrade() -> None:
    with op.batch_alter_table("meter_samples", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sample_key", sa.String(length=32), nullable=True))
    connection = op.get_bind()
    _fill_keys(connection)
    # Delete the copies, keeping the first stored (lowest id) of each key.
    op.create_index(_TEMPORARY_INDEX, "meter_samples", ["sample_key"])
    earlier = _samples.alias("earlier")
    connection.execute(
        sa.delete(_samples).where(
            sa.exists().where(
                earlier.c.sample_key == _samples.c.sample_key, earlier.c.id < _samples.c.id
            )
        )
    )
    op.drop_index(_TEMPORARY_INDEX, table_name="meter_samples")
    with op.batch_alter_table("meter_samples", schema=None) as batch_op:
        batch_op.alter_column("sample_key", existing_type=sa.String(length=32), nullable=False)
        batch_op.create_unique_constraint(op.f("uq_meter_samples_sample_key"), ["sample_key"])


def downgrade() -> None:
    with op.batch_alter_table("meter_samples", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("uq_meter_samples_sample_key"), type_="unique")
        batch_op.drop_column("sample_key")
