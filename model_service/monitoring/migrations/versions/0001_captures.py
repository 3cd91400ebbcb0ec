"""Captured predictions (with their feedback) and failed prediction requests.

Revision ID: 0001_captures
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_captures"
down_revision = None
branch_labels = None
depends_on = None

IDENTIFIER = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "captures",
        sa.Column("id", IDENTIFIER, primary_key=True, autoincrement=True),
        sa.Column("model", sa.String(63), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("created", sa.Float, nullable=False),
        sa.Column("request_id", sa.String(128), nullable=False),
        sa.Column("item_index", sa.Integer, nullable=False),
        sa.Column("entry_point", sa.String(32), nullable=False),
        sa.Column("inputs", sa.JSON, nullable=False),
        sa.Column("prediction", sa.JSON, nullable=False),
        sa.Column("latency_ms", sa.Float, nullable=False),
        sa.Column("actual", sa.JSON, nullable=True),
        sa.Column("labelled", sa.Float, nullable=True),
    )
    op.create_index(
        "ix_captures_model_version_created", "captures", ["model", "version", "created"]
    )
    op.create_index("ix_captures_model_request", "captures", ["model", "request_id", "item_index"])
    op.create_index("ix_captures_created", "captures", ["created"])
    op.create_table(
        "prediction_errors",
        sa.Column("id", IDENTIFIER, primary_key=True, autoincrement=True),
        sa.Column("model", sa.String(63), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("created", sa.Float, nullable=False),
        sa.Column("request_id", sa.String(128), nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("entry_point", sa.String(32), nullable=False),
    )
    op.create_index(
        "ix_prediction_errors_model_version_created",
        "prediction_errors",
        ["model", "version", "created"],
    )


def downgrade() -> None:
    op.drop_table("prediction_errors")
    op.drop_table("captures")
