"""An index on nodes (created_at, id): a page of the node list (newest first) reads its rows in order and stops
after the page instead of sorting every node, so its cost does not grow with the registry.

Revision ID: 0010
Revises: 0009
"""
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_nodes_created_at_id", "nodes", ["created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_nodes_created_at_id", table_name="nodes")
