"""OCPP correctness: signed meter data, CSMS-closed transactions, EVSE connectors, remote starts

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 14:14:04.656249
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ev_charging_system.data.types

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Stations that spoke 2.0.1 when they last connected: their connector rows are EVSEs.
_OCPP201_STATIONS = "SELECT id FROM charge_points WHERE ocpp_version = '2.0.1'"


def upgrade() -> None:
    op.create_table(
        "remote_start_requests",
        sa.Column("charge_point_id", sa.String(length=48), nullable=False),
        sa.Column("remote_start_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("id_tag", sa.String(length=36), nullable=False),
        sa.Column(
            "requested_at", ev_charging_system.data.types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["charge_point_id"],
            ["charge_points.id"],
            name=op.f("fk_remote_start_requests_charge_point_id_charge_points"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "charge_point_id", "remote_start_id", name=op.f("pk_remote_start_requests")
        ),
    )
    with op.batch_alter_table("connector_status_history", schema=None) as batch_op:
        batch_op.add_column(sa.Column("evse_connector_id", sa.Integer(), nullable=True))

    # The connector within an EVSE becomes part of a connector's key.
    with op.batch_alter_table("connectors", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "evse_connector_id",
                sa.Integer(),
                server_default="0",
                autoincrement=False,
                nullable=False,
            )
        )
        batch_op.drop_constraint("pk_connectors", type_="primary")
        batch_op.create_primary_key(
            "pk_connectors", ["charge_point_id", "connector_id", "evse_connector_id"]
        )
    # Until now a 2.0.1 EVSE had one row, written by whichever connector reported last;
    # call it connector 1 (the one most EVSEs have). Its history stays unknown (NULL).
    op.execute(
        "UPDATE connectors SET evse_connector_id = 1 "
        f"WHERE connector_id > 0 AND charge_point_id IN ({_OCPP201_STATIONS})"
    )

    with op.batch_alter_table("meter_samples", schema=None) as batch_op:
        batch_op.add_column(sa.Column("signed_meter_data", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("signing_method", sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column("encoding_method", sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column("public_key", sa.Text(), nullable=True))

    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("closed_by_csms", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("transactions", schema=None) as batch_op:
        batch_op.drop_column("closed_by_csms")

    with op.batch_alter_table("meter_samples", schema=None) as batch_op:
        batch_op.drop_column("public_key")
        batch_op.drop_column("encoding_method")
        batch_op.drop_column("signing_method")
        batch_op.drop_column("signed_meter_data")

    # Keep one row per (station, connector) so the old key holds: connector 1 of an EVSE.
    op.execute(
        "DELETE FROM connectors WHERE evse_connector_id > 1 "
        "OR (evse_connector_id = 0 AND connector_id > 0 "
        f"AND charge_point_id IN ({_OCPP201_STATIONS}))"
    )
    with op.batch_alter_table("connectors", schema=None) as batch_op:
        batch_op.drop_constraint("pk_connectors", type_="primary")
        batch_op.create_primary_key("pk_connectors", ["charge_point_id", "connector_id"])
        batch_op.drop_column("evse_connector_id")

    with op.batch_alter_table("connector_status_history", schema=None) as batch_op:
        batch_op.drop_column("evse_connector_id")

    op.drop_table("remote_start_requests")
