"""The webhook's durable cursor and delivery lease: how far the cluster has delivered the event log, and which
replica delivers it now.

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "webhook_cursor",
        sa.Column("name", sa.String(100), primary_key=True),
        sa.Column("delivered_upto", sa.BigInteger, nullable=False),
        sa.Column("holder", sa.String(200)),
        sa.Column("lease_until", sa.DateTime(timezone=True)),
    )


def downgrade() -> None:
    op.drop_table("webhook_cursor")
