"""Initial schema: calls, call events, bookings, callbacks, webhooks, profiles, call states.

Revision ID: 0001
Revises:
Create Date: 2026-01-05 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ts(name: str, *, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("call_id", sa.String(255), nullable=False),
        sa.Column("agent_id", sa.String(255)),
        sa.Column("agent_version", sa.Integer()),
        sa.Column("call_type", sa.String(32)),
        sa.Column("direction", sa.String(16)),
        sa.Column("from_number", sa.String(64)),
        sa.Column("to_number", sa.String(64)),
        sa.Column("caller_zone", sa.String(64)),
        sa.Column("call_status", sa.String(32)),
        _ts("started_at"),
        _ts("ended_at"),
        sa.Column("duration_ms", sa.BigInteger()),
        sa.Column("disconnection_reason", sa.String(64)),
        sa.Column("transfer_destination", sa.String(255)),
        sa.Column("transfer_status", sa.String(32)),
        sa.Column("outcome", sa.String(64)),
        sa.Column("call_analysis", JSON),
        sa.Column("latency", JSON),
        sa.Column("call_cost", JSON),
        sa.Column("call_metadata", JSON),
        sa.Column("dynamic_variables", JSON),
        sa.Column("transcript", sa.Text()),
        sa.Column("transcript_entries", JSON),
        sa.Column("transcript_size", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("recording_url", sa.Text()),
        sa.Column("public_log_url", sa.Text()),
        sa.Column("profile_version", sa.Integer()),
        _ts("created_at", nullable=False),
        _ts("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("call_id", name="pk_calls"),
    )
    op.create_index("ix_calls_started_at", "calls", ["started_at"])
    op.create_index("ix_calls_created_at", "calls", ["created_at"])

    op.create_table(
        "call_events",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(255), nullable=False),
        sa.Column("call_id", sa.String(255), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("turn_index", sa.Integer()),
        sa.Column("response_id", sa.Integer()),
        sa.Column("role", sa.String(32)),
        sa.Column("content", sa.Text()),
        sa.Column("tokens_in", sa.Integer()),
        sa.Column("tokens_out", sa.Integer()),
        sa.Column("latency_ms", sa.Integer()),
        sa.Column("payload", JSON),
        _ts("created_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_call_events"),
        sa.UniqueConstraint("event_id", name="uq_call_events_event_id"),
    )
    op.create_index("ix_call_events_call_id_turn_index", "call_events", ["call_id", "turn_index"])
    op.create_index("ix_call_events_created_at", "call_events", ["created_at"])

    op.create_table(
        "bookings",
        sa.Column("booking_id", sa.String(64), nullable=False),
        sa.Column("call_id", sa.String(255), nullable=False),
        sa.Column("service", sa.String(255), nullable=False),
        sa.Column("customer_name", sa.String(255), nullable=False),
        sa.Column("customer_phone", sa.String(64)),
        sa.Column("phone_key", sa.String(64)),
        sa.Column("name_key", sa.String(255), nullable=False),
        _ts("start_utc", nullable=False),
        _ts("end_utc", nullable=False),
        sa.Column("caller_zone", sa.String(64), nullable=False),
        sa.Column("local_start", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        sa.Column("price", sa.String(32), nullable=False, server_default=""),
        sa.Column("notes", sa.Text(), nullable=False, server_default=""),
        _ts("created_at", nullable=False),
        _ts("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("booking_id", name="pk_bookings"),
        sa.UniqueConstraint("idempotency_key", name="uq_bookings_idempotency_key"),
    )
    op.create_index("ix_bookings_start_utc_end_utc", "bookings", ["start_utc", "end_utc"])
    op.create_index("ix_bookings_phone_key", "bookings", ["phone_key"])
    op.create_index("ix_bookings_name_key", "bookings", ["name_key"])
    op.create_index("ix_bookings_call_id", "bookings", ["call_id"])

    op.create_table(
        "booking_changes",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("booking_id", sa.String(64), nullable=False),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        _ts("start_utc", nullable=False),
        _ts("end_utc", nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _ts("created_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_booking_changes"),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.booking_id"],
            name="fk_booking_changes_booking_id_bookings",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("idempotency_key", name="uq_booking_changes_idempotency_key"),
    )
    op.create_index("ix_booking_changes_booking_id", "booking_changes", ["booking_id"])

    op.create_table(
        "callback_requests",
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("call_id", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("phone", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("idempotency_key", sa.String(255), nullable=False),
        _ts("created_at", nullable=False),
        sa.PrimaryKeyConstraint("request_id", name="pk_callback_requests"),
        sa.UniqueConstraint("idempotency_key", name="uq_callback_requests_idempotency_key"),
    )
    op.create_index("ix_callback_requests_call_id", "callback_requests", ["call_id"])

    op.create_table(
        "webhook_deliveries",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("dedupe_key", sa.String(512), nullable=False),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("call_id", sa.String(255)),
        sa.Column("sequence", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("signed_at_ms", sa.BigInteger()),
        sa.Column("raw_body", sa.LargeBinary(), nullable=False),
        _ts("received_at", nullable=False),
        _ts("processed_at"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_deliveries"),
        sa.UniqueConstraint("dedupe_key", name="uq_webhook_deliveries_dedupe_key"),
    )
    op.create_index("ix_webhook_deliveries_processed_at", "webhook_deliveries", ["processed_at"])
    op.create_index("ix_webhook_deliveries_received_at", "webhook_deliveries", ["received_at"])

    op.create_table(
        "agent_profiles",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("content_sha256", sa.String(64), nullable=False),
        sa.Column("business_name", sa.String(255), nullable=False),
        sa.Column("body", JSON, nullable=False),
        _ts("created_at", nullable=False),
        sa.PrimaryKeyConstraint("version", name="pk_agent_profiles"),
        sa.UniqueConstraint("content_sha256", name="uq_agent_profiles_content_sha256"),
    )

    op.create_table(
        "call_states",
        sa.Column("call_id", sa.String(255), nullable=False),
        sa.Column("state", JSON, nullable=False),
        sa.Column("updated_at_ms", sa.BigInteger(), nullable=False),
        _ts("updated_at", nullable=False),
        sa.PrimaryKeyConstraint("call_id", name="pk_call_states"),
    )
    op.create_index("ix_call_states_updated_at", "call_states", ["updated_at"])


def downgrade() -> None:
    for table in (
        "call_states",
        "agent_profiles",
        "webhook_deliveries",
        "callback_requests",
        "booking_changes",
        "bookings",
        "call_events",
        "calls",
    ):
        op.drop_table(table)
