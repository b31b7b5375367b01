"""The console's metrics: hourly and daily rollups and their high-water marks, and the
indexes that find what changed since the last rollup; an index of disconnection reasons
for the calls list's choices.

Revision ID: 0008_insight
Revises: 0007_alerts
Create Date: 2026-12-07 04:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_insight"
down_revision: str | None = "0007_alerts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "insight_hours",
        sa.Column("metric", sa.String(32), nullable=False),
        sa.Column("hour", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("metric", "hour", "version", "key", name="pk_insight_hours"),
    )
    op.create_table(
        "insight_days",
        sa.Column("metric", sa.String(32), nullable=False),
        sa.Column("shift", sa.Integer(), nullable=False),
        sa.Column("day", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("metric", "shift", "day", "version", "key", name="pk_insight_days"),
    )
    op.create_table(
        "insight_marks",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_insight_marks"),
    )
    op.create_index("ix_calls_updated_at", "calls", ["updated_at"])
    op.create_index("ix_calls_disconnection_reason", "calls", ["disconnection_reason"])
    outbound = sa.text("direction = 'outbound'")
    op.create_index(
        "ix_calls_outbound_to_number",
        "calls",
        ["to_number"],
        postgresql_where=outbound,
        sqlite_where=outbound,
    )
    op.create_index("ix_callback_requests_created_at", "callback_requests", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_callback_requests_created_at", table_name="callback_requests")
    op.drop_index("ix_calls_outbound_to_number", table_name="calls")
    op.drop_index("ix_calls_disconnection_reason", table_name="calls")
    op.drop_index("ix_calls_updated_at", table_name="calls")
    op.drop_table("insight_marks")
    op.drop_table("insight_days")
    op.drop_table("insight_hours")
