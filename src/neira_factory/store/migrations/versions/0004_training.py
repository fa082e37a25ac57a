"""Training runs and their iterations (the Training Orchestrator).

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "training_runs",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("node_id", sa.String(200), sa.ForeignKey("nodes.id"), nullable=False),
        sa.Column("artifact_sha256", sa.String(64), nullable=False),
        sa.Column("dataset_sha256", sa.String(64), nullable=False),
        sa.Column("objective", sa.String(20), nullable=False),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("outcome", sa.String(20)),
        sa.Column("reason", sa.Text),
        sa.Column("iterations", sa.Integer, nullable=False),
        sa.Column("best_iteration", sa.Integer),
        sa.Column("best_metric", sa.Float),
        sa.Column("best_params", sa.JSON),
        sa.Column("decisions", sa.JSON, nullable=False),
        sa.Column("result_node", sa.String(200)),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("owner", sa.String(200)),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True)),
        sa.Column("row_version", sa.Integer, nullable=False),
    )
    op.create_index("ix_training_runs_node_id", "training_runs", ["node_id"])
    op.create_index("ix_training_runs_state", "training_runs", ["state"])
    op.create_table(
        "training_iterations",
        sa.Column("run_id", sa.String(40), sa.ForeignKey("training_runs.id"), primary_key=True),
        sa.Column("n", sa.Integer, primary_key=True),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("metric", sa.Float),
        sa.Column("error", sa.Text),
        sa.Column("examples", sa.Integer, nullable=False),
        sa.Column("failed", sa.Integer, nullable=False),
        sa.Column("failures", sa.JSON, nullable=False),
        sa.Column("ms", sa.Float, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("training_iterations")
    op.drop_index("ix_training_runs_state", "training_runs")
    op.drop_index("ix_training_runs_node_id", "training_runs")
    op.drop_table("training_runs")
