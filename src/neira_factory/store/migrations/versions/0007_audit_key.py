"""The audit chain is keyed: each entry names the audit key its HMAC was made with (NULL: a legacy sha256 entry,
written before this revision; such entries stay verifiable, and the first keyed entry follows the last of them).
A downgrade drops the column: the older version then reads every keyed entry as edited.

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("audit", sa.Column("key_id", sa.String(16)))


def downgrade() -> None:
    with op.batch_alter_table("audit") as batch:
        batch.drop_column("key_id")
