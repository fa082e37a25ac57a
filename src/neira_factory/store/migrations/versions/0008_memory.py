"""Memory stores: the records of memory nodes, their full-text index and each store's counters
(store/memory_schema.py holds the DDL, shared with a dry-run's throwaway store).

Revision ID: 0008
Revises: 0007
"""
from alembic import op

from neira_factory.store import memory_schema

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for statement in memory_schema.ddl(op.get_bind().dialect.name == "postgresql"):
        op.execute(statement)


def downgrade() -> None:
    for statement in memory_schema.DROP:
        op.execute(statement)
