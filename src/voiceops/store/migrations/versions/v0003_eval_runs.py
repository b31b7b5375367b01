"""Evaluation runs: one row per ``voiceops eval`` run and one per scenario attempt.

Revision ID: 0003
Revises: 0002
Create Date: 2026-03-09 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ts(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "eval_runs",
        sa.Column("run_id", sa.String(64), nullable=False),
        _ts("started_at"),
        _ts("finished_at"),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("brain", sa.String(32), nullable=False),
        sa.Column("target", sa.String(255), nullable=False),
        sa.Column("profile_version", sa.Integer()),
        sa.Column("profile_sha256", sa.String(64)),
        sa.Column("code_version", sa.String(64), nullable=False),
        sa.Column("scenarios", sa.Integer(), nullable=False),
        sa.Column("passed", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("xfailed", sa.Integer(), nullable=False),
        sa.Column("xpassed", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("flaky", sa.Integer(), nullable=False),
        sa.Column("first_frame_p50_ms", sa.Float()),
        sa.Column("first_frame_p95_ms", sa.Float()),
        sa.Column("duration_ms", sa.BigInteger(), nullable=False),
        sa.Column("options", JSON),
        sa.PrimaryKeyConstraint("run_id", name="pk_eval_runs"),
    )
    op.create_index("ix_eval_runs_started_at", "eval_runs", ["started_at"])
    op.create_index("ix_eval_runs_profile_version", "eval_runs", ["profile_version"])

    op.create_table(
        "eval_results",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("scenario", sa.String(255), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False, server_default=""),
        sa.Column("turns", sa.Integer(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("first_frame_p50_ms", sa.Float()),
        sa.Column("first_frame_p95_ms", sa.Float()),
        sa.Column("failures", JSON),
        sa.PrimaryKeyConstraint("id", name="pk_eval_results"),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["eval_runs.run_id"],
            name="fk_eval_results_run_id_eval_runs",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "run_id", "scenario", "attempt", name="uq_eval_results_run_id_scenario_attempt"
        ),
    )
    op.create_index("ix_eval_results_run_id", "eval_results", ["run_id"])


def downgrade() -> None:
    op.drop_table("eval_results")
    op.drop_table("eval_runs")
