"""sites: where stations stand, each station in at most one; the energy planner's site

Revision ID: 0015_sites
Revises: 0014
Create Date: 2026-12-08 10:00:00

An installation that already has stations or energy settings gets one site, "Home",
marked as the energy planner's (the planner already plans for one place). Stations are
not moved into it: on a network of many places that would be wrong more often than right,
so they stay "without a site" until an operator assigns them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from ev_charging_system.data.types import UTCDateTime

revision: str = "0015_sites"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_SITE = "Home"  # models.site.DEFAULT_ENERGY_SITE_NAME at the time of writing


def upgrade() -> None:
    sites = op.create_table(
        "sites",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=300), server_default="", nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("grid_limit_kw", sa.Float(), nullable=True),
        sa.Column("energy_planner", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sites")),
        sa.UniqueConstraint("name", name=op.f("uq_sites_name")),
    )
    op.create_index(
        "uq_sites_energy_planner",
        "sites",
        ["energy_planner"],
        unique=True,
        sqlite_where=sa.text("energy_planner"),
        postgresql_where=sa.text("energy_planner"),
    )
    if op.get_bind().dialect.name == "sqlite":
        # A plain ADD COLUMN: batch mode would copy charge_points into a new table and drop
        # the old one, and with foreign keys on, that drop cascades into every table that
        # references stations (meter samples, transactions ...).
        op.execute(
            "ALTER TABLE charge_points ADD COLUMN site_id INTEGER "
            "CONSTRAINT fk_charge_points_site_id_sites REFERENCES sites (id)"
        )
    else:
        op.add_column("charge_points", sa.Column("site_id", sa.BigInteger(), nullable=True))
        op.create_foreign_key(
            op.f("fk_charge_points_site_id_sites"),
            "charge_points",
            "sites",
            ["site_id"],
            ["id"],
        )
    op.create_index(op.f("ix_charge_points_site_id"), "charge_points", ["site_id"], unique=False)

    connection = op.get_bind()
    in_use = connection.execute(
        sa.text(
            "SELECT EXISTS (SELECT 1 FROM charge_points) OR EXISTS (SELECT 1 FROM site_settings)"
        )
    ).scalar()
    if in_use:
        op.bulk_insert(
            sites,
            [
                {
                    "name": DEFAULT_SITE,
                    "address": "",
                    "energy_planner": True,
                    "created_at": datetime.now(UTC),
                }
            ],
        )


def downgrade() -> None:
    op.drop_index(op.f("ix_charge_points_site_id"), table_name="charge_points")
    # SQLite cannot drop a column that references another table: batch mode copies the
    # table (beware: on SQLite that copy drops the old table, cascading as said above).
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(
            op.f("fk_charge_points_site_id_sites"), "charge_points", type_="foreignkey"
        )
    with op.batch_alter_table("charge_points") as batch:
        batch.drop_column("site_id")
    op.drop_index("uq_sites_energy_planner", table_name="sites")
    op.drop_table("sites")
