"""The cluster's event log (an outbox every replica tails) and the analysis phase last announced per node.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        # SQLite: INTEGER PRIMARY KEY AUTOINCREMENT, so an id is never reused (not even once old rows are pruned)
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("resource", sa.String(300), nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("ts", sa.Float, nullable=False),
        sa.Column("replica", sa.String(200), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_events_ts", "events", ["ts"])
    op.create_table(
        "announced_phases",
        sa.Column("node_id", sa.String(200), primary_key=True),
        sa.Column("row_version", sa.Integer, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("phase", sa.String(20), nullable=False),
        sa.Column("needs_human", sa.Boolean, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("announced_phases")
    op.drop_index("ix_events_ts", "events")
    op.drop_table("events")
