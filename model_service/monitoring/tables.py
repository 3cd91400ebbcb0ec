"""The monitoring store's tables (SQLAlchemy Core); Alembic migrations create them."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

IDENTIFIER = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
"""64-bit ids on PostgreSQL; SQLite only auto-increments an ``INTEGER PRIMARY KEY``."""

captures = sa.Table(
    "captures",
    metadata,
    sa.Column("id", IDENTIFIER, primary_key=True, autoincrement=True),
    sa.Column("model", sa.String(63), nullable=False),
    sa.Column("version", sa.String(64), nullable=False),
    sa.Column("created", sa.Float, nullable=False, doc="Epoch seconds (UTC) of the prediction."),
    sa.Column("request_id", sa.String(128), nullable=False),
    sa.Column("item_index", sa.Integer, nullable=False),
    sa.Column("entry_point", sa.String(32), nullable=False),
    sa.Column("inputs", sa.JSON, nullable=False),
    sa.Column("prediction", sa.JSON, nullable=False),
    sa.Column("latency_ms", sa.Float, nullable=False),
    sa.Column("actual", sa.JSON, nullable=True),
    sa.Column("labelled", sa.Float, nullable=True, doc="Epoch seconds of the latest feedback."),
    sa.Column(
        "decision",
        sa.String(16),
        nullable=False,
        server_default="primary",
        doc="How routing chose the version: primary, canary, shadow or direct.",
    ),
    sa.Index("ix_captures_model_version_created", "model", "version", "created"),
    sa.Index("ix_captures_model_decision_created", "model", "decision", "created"),
    sa.Index("ix_captures_model_request", "model", "request_id", "item_index"),
    sa.Index("ix_captures_created", "created"),
)

prediction_errors = sa.Table(
    "prediction_errors",
    metadata,
    sa.Column("id", IDENTIFIER, primary_key=True, autoincrement=True),
    sa.Column("model", sa.String(63), nullable=False),
    sa.Column("version", sa.String(64), nullable=False),
    sa.Column("created", sa.Float, nullable=False),
    sa.Column("request_id", sa.String(128), nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("entry_point", sa.String(32), nullable=False),
    sa.Column("decision", sa.String(16), nullable=False, server_default="primary"),
    sa.Index("ix_prediction_errors_model_version_created", "model", "version", "created"),
)
