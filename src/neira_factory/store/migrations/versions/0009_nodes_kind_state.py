"""An index on nodes (kind, state, id): introspection's counts by kind and state read it alone, and its
listing of organs (kind = organ, by id) stops after the first ones instead of scanning every node.

Revision ID: 0009
Revises: 0008
"""
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_nodes_kind_state_id", "nodes", ["kind", "state", "id"])


def downgrade() -> None:
    op.drop_index("ix_nodes_kind_state_id", table_name="nodes")
