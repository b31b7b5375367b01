"""Retell's record of each call: status, times, recording, analysis, latency and cost.

Revision ID: 0005
Revises: 0004_console
Create Date: 2026-03-09 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004_console"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _ts(name: str, *, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "retell_calls",
        sa.Column("call_id", sa.String(255), nullable=False),
        sa.Column("agent_id", sa.String(255)),
        sa.Column("agent_version", sa.Integer()),
        sa.Column("call_type", sa.String(32)),
        sa.Column("direction", sa.String(16)),
        sa.Column("call_status", sa.String(32)),
        sa.Column("disconnection_reason", sa.String(64)),
        _ts("started_at"),
        _ts("ended_at"),
        sa.Column("duration_ms", sa.BigInteger()),
        sa.Column("recording_url", sa.Text()),
        sa.Column("public_log_url", sa.Text()),
        sa.Column("transfer_destination", sa.String(255)),
        sa.Column("call_analysis", JSON),
        sa.Column("latency", JSON),
        sa.Column("call_cost", JSON),
        sa.Column("field_times", JSON, nullable=False),
        _ts("webhook_at"),
        _ts("synced_at"),
        _ts("created_at", nullable=False),
        _ts("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("call_id", name="pk_retell_calls"),
    )
    op.create_index("ix_retell_calls_started_at", "retell_calls", ["started_at"])
    op.create_index("ix_retell_calls_created_at", "retell_calls", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_retell_calls_created_at", table_name="retell_calls")
    op.drop_index("ix_retell_calls_started_at", table_name="retell_calls")
    op.drop_table("retell_calls")
