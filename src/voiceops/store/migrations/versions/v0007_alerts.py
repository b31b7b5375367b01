"""Alerts: the rules edited in the console, the incidents they open and resolve, and each
notification of an incident on each channel (with its attempts).

Revision ID: 0007_alerts
Revises: 0005
Create Date: 2026-12-07 04:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007_alerts"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ts(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    _rules()
    _incidents()
    _deliveries()


def _rules() -> None:
    op.create_table(
        "alert_rules",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("window_s", sa.Integer(), nullable=False),
        sa.Column("min_count", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("cooldown_s", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("channels", sa.String(64), nullable=False, server_default="webhook,email"),
        sa.Column("last_value", sa.Float()),
        _ts("last_checked_at", nullable=True),
        sa.Column("updated_by", sa.String(255), nullable=False, server_default=""),
        _ts("created_at"),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_alert_rules"),
        sa.UniqueConstraint("name", name="uq_alert_rules_name"),
    )


def _incidents() -> None:
    op.create_table(
        "alert_incidents",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("rule_id", BIG_ID, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _ts("opened_at"),
        _ts("resolved_at", nullable=True),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("resolved_value", sa.Float()),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alert_incidents"),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["alert_rules.id"],
            name="fk_alert_incidents_rule_id_alert_rules",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_alert_incidents_rule_id_status", "alert_incidents", ["rule_id", "status"])
    op.create_index("ix_alert_incidents_opened_at", "alert_incidents", ["opened_at"])


def _deliveries() -> None:
    op.create_table(
        "alert_deliveries",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("incident_id", BIG_ID),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        _ts("next_attempt_at"),
        sa.Column("last_error", sa.Text()),
        sa.Column("payload", JSON, nullable=False),
        _ts("created_at"),
        _ts("sent_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_alert_deliveries"),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["alert_incidents.id"],
            name="fk_alert_deliveries_incident_id_alert_incidents",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_alert_deliveries_status_next_attempt_at",
        "alert_deliveries",
        ["status", "next_attempt_at"],
    )
    op.create_index("ix_alert_deliveries_incident_id", "alert_deliveries", ["incident_id"])


def downgrade() -> None:
    op.drop_table("alert_deliveries")
    op.drop_table("alert_incidents")
    op.drop_table("alert_rules")
