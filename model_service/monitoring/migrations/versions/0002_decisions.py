"""How routing chose the version of each captured item and failed request (``decision``), and an
index for the version comparison's look-ups by decision.

Rows stored before this revision read as ``primary``: every prediction was answered by the
default version then.

Revision ID: 0002_decisions
Revises: 0001_captures
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_decisions"
down_revision = "0001_captures"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("captures", "prediction_errors"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("decision", sa.String(16), nullable=False, server_default="primary")
            )
    op.create_index(
        "ix_captures_model_decision_created", "captures", ["model", "decision", "created"]
    )


def downgrade() -> None:
    op.drop_index("ix_captures_model_decision_created", table_name="captures")
    for table in ("captures", "prediction_errors"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("decision")
