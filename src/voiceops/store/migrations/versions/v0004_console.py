"""The operator console: users, sessions, login throttling, the audit log, profile drafts
and publications, the transcript word index, and the indexes the calls list filters on.

Revision ID: 0004_console
Revises: 0003
Create Date: 2026-03-10 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004_console"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ts(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_index("ix_call_events_event_type_call_id", "call_events", ["event_type", "call_id"])
    op.create_index(
        "ix_call_events_event_type_latency_ms", "call_events", ["event_type", "latency_ms"]
    )
    op.create_index("ix_calls_profile_version", "calls", ["profile_version"])
    op.create_index("ix_calls_outcome", "calls", ["outcome"])

    op.create_table(
        "call_words",
        sa.Column("word", sa.String(64), nullable=False),
        sa.Column("call_id", sa.String(255), nullable=False),
        sa.PrimaryKeyConstraint("word", "call_id", name="pk_call_words"),
    )
    op.create_index("ix_call_words_call_id", "call_words", ["call_id"])
    op.create_table(
        "search_progress",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("last_event_id", sa.BigInteger(), nullable=False),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("name", name="pk_search_progress"),
    )

    op.create_table(
        "console_users",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("email", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("disabled", sa.Integer(), nullable=False, server_default="0"),
        _ts("created_at"),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_console_users"),
        sa.UniqueConstraint("email", name="uq_console_users_email"),
    )
    op.create_table(
        "console_sessions",
        sa.Column("token_sha256", sa.String(64), nullable=False),
        sa.Column("user_id", BIG_ID, nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("address", sa.String(64)),
        _ts("created_at"),
        _ts("expires_at"),
        sa.PrimaryKeyConstraint("token_sha256", name="pk_console_sessions"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["console_users.id"],
            name="fk_console_sessions_user_id_console_users",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_console_sessions_user_id", "console_sessions", ["user_id"])
    op.create_index("ix_console_sessions_expires_at", "console_sessions", ["expires_at"])
    op.create_table(
        "login_failures",
        sa.Column("key", sa.String(320), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        _ts("window_started_at"),
        sa.PrimaryKeyConstraint("key", name="pk_login_failures"),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        _ts("at"),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(255), nullable=False, server_default=""),
        sa.Column("detail", JSON),
        sa.Column("address", sa.String(64)),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_table(
        "profile_drafts",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("body", JSON, nullable=False),
        sa.Column("base_version", sa.Integer()),
        sa.Column("updated_by", sa.String(255), nullable=False),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("name", name="pk_profile_drafts"),
    )
    op.create_table(
        "profile_publications",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False, server_default=""),
        sa.Column("published_by", sa.String(255), nullable=False),
        _ts("published_at"),
        sa.PrimaryKeyConstraint("id", name="pk_profile_publications"),
    )
    op.create_index("ix_profile_publications_version", "profile_publications", ["version"])


def downgrade() -> None:
    for table in (
        "profile_publications",
        "profile_drafts",
        "audit_log",
        "login_failures",
        "console_sessions",
        "console_users",
        "search_progress",
        "call_words",
    ):
        op.drop_table(table)
    op.drop_index("ix_calls_outcome", "calls")
    op.drop_index("ix_calls_profile_version", "calls")
    op.drop_index("ix_call_events_event_type_latency_ms", "call_events")
    op.drop_index("ix_call_events_event_type_call_id", "call_events")
