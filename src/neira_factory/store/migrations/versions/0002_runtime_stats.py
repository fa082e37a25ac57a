"""Runtime statistics: per-replica counters per node version, state and window; analysis measurements.

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "node_stats",
        sa.Column("node_id", sa.String(200), primary_key=True),
        sa.Column("state", sa.String(20), primary_key=True),
        sa.Column("window_start", sa.BigInteger, primary_key=True),
        sa.Column("replica", sa.String(200), primary_key=True),
        sa.Column("requests", sa.Integer, nullable=False),
        sa.Column("errors", sa.JSON, nullable=False),
        sa.Column("latency_hist", sa.JSON, nullable=False),
        sa.Column("ops_hist", sa.JSON, nullable=False),
        sa.Column("memory_peak_bytes", sa.BigInteger, nullable=False),
        sa.Column("shadow_compared", sa.Integer, nullable=False),
        sa.Column("shadow_mismatched", sa.Integer, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "measurements",
        sa.Column("node_id", sa.String(200), primary_key=True),
        sa.Column("state", sa.String(20), primary_key=True),
        sa.Column("window_start", sa.BigInteger, primary_key=True),
        sa.Column("verdict", sa.String(20), nullable=False),
        sa.Column("requests", sa.Integer, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("measurements")
    op.drop_table("node_stats")
