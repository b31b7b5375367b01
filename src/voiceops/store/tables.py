"""The database schema, as SQLAlchemy Core tables shared by SQLite and PostgreSQL.

The Alembic migrations under ``store/migrations/versions`` create exactly these tables (a
test compares them); change both together. Timestamps are stored in UTC and always come
back timezone-aware (:class:`UTCDateTime`); JSON columns are ``JSONB`` on PostgreSQL and
``JSON`` text on SQLite.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC ``datetime`` on both dialects.

    SQLite has no time zones: values are stored as naive UTC text (which sorts and compares
    correctly) and given ``UTC`` back on the way out. Naive input is refused rather than
    guessed at.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType: Any = JSON().with_variant(JSONB(), "postgresql")
# SQLite only auto-increments an ``INTEGER PRIMARY KEY``; PostgreSQL gets BIGSERIAL.
BigId: Any = BigInteger().with_variant(Integer(), "sqlite")

calls = Table(
    "calls",
    metadata,
    Column("call_id", String(255), primary_key=True),
    Column("agent_id", String(255)),
    Column("agent_version", Integer),
    Column("call_type", String(32)),
    Column("direction", String(16)),
    Column("from_number", String(64)),
    Column("to_number", String(64)),
    Column("caller_zone", String(64)),
    Column("call_status", String(32)),
    Column("started_at", UTCDateTime),
    Column("ended_at", UTCDateTime),
    Column("duration_ms", BigInteger),
    Column("disconnection_reason", String(64)),
    Column("transfer_destination", String(255)),
    Column("transfer_status", String(32)),
    Column("outcome", String(64)),
    Column("call_analysis", JSONType),
    Column("latency", JSONType),
    Column("call_cost", JSONType),
    Column("call_metadata", JSONType),
    Column("dynamic_variables", JSONType),
    Column("transcript", Text),
    Column("transcript_entries", JSONType),
    Column("transcript_size", Integer, nullable=False, server_default="0"),
    Column("recording_url", Text),
    Column("public_log_url", Text),
    Column("profile_version", Integer),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "started_at"),
    Index(None, "created_at"),
)

call_events = Table(
    "call_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("event_id", String(255), nullable=False, unique=True),
    Column("call_id", String(255), nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("turn_index", Integer),
    Column("response_id", Integer),
    Column("role", String(32)),
    Column("content", Text),
    Column("tokens_in", Integer),
    Column("tokens_out", Integer),
    Column("latency_ms", Integer),
    Column("payload", JSONType),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "call_id", "turn_index"),
    Index(None, "created_at"),
)

bookings = Table(
    "bookings",
    metadata,
    Column("booking_id", String(64), primary_key=True),
    Column("call_id", String(255), nullable=False),
    Column("service", String(255), nullable=False),
    Column("customer_name", String(255), nullable=False),
    Column("customer_phone", String(64)),
    # Lookup keys: the phone's digits only (``+1 (212) 555-0142`` finds ``+12125550142``)
    # and the name stripped and case-folded (SQLite's ``lower`` knows only ASCII).
    Column("phone_key", String(64)),
    Column("name_key", String(255), nullable=False),
    Column("start_utc", UTCDateTime, nullable=False),
    Column("end_utc", UTCDateTime, nullable=False),
    Column("caller_zone", String(64), nullable=False),
    Column("local_start", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("idempotency_key", String(255), nullable=False, unique=True),
    Column("price", String(32), nullable=False, server_default=""),
    Column("notes", Text, nullable=False, server_default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "start_utc", "end_utc"),
    Index(None, "phone_key"),
    Index(None, "name_key"),
    Index(None, "call_id"),
)

booking_changes = Table(
    "booking_changes",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column(
        "booking_id",
        String(64),
        ForeignKey("bookings.booking_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("idempotency_key", String(255), nullable=False, unique=True),
    Column("start_utc", UTCDateTime, nullable=False),
    Column("end_utc", UTCDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

callback_requests = Table(
    "callback_requests",
    metadata,
    Column("request_id", String(64), primary_key=True),
    Column("call_id", String(255), nullable=False, index=True),
    Column("name", String(255), nullable=False),
    Column("phone", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("priority", String(16), nullable=False),
    Column("idempotency_key", String(255), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("dedupe_key", String(512), nullable=False, unique=True),
    Column("event", String(64), nullable=False),
    Column("call_id", String(255)),
    Column("sequence", Integer, nullable=False, server_default="0"),
    Column("signed_at_ms", BigInteger),
    Column("raw_body", LargeBinary, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("processed_at", UTCDateTime),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text),
    Index(None, "processed_at"),
    Index(None, "received_at"),
)

agent_profiles = Table(
    "agent_profiles",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("content_sha256", String(64), nullable=False, unique=True),
    Column("business_name", String(255), nullable=False),
    Column("body", JSONType, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

call_states = Table(
    "call_states",
    metadata,
    Column("call_id", String(255), primary_key=True),
    Column("state", JSONType, nullable=False),
    Column("updated_at_ms", BigInteger, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "updated_at"),
)

dead_letters = Table(
    "dead_letters",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    # What was refused (``call_event``, ``call_state``) and the digest of its own key (the
    # event id, the call id), which may itself be what the database refused.
    Column("kind", String(32), nullable=False),
    Column("key_sha256", String(64), nullable=False),
    # Printable and cut to fit: for finding a call's rows, not for identifying the call.
    Column("call_id", String(255), nullable=False),
    Column("reason", Text, nullable=False),
    # The refused row as JSON text with every non-ASCII character escaped, so that any
    # content at all can be kept (PostgreSQL's text and JSONB refuse NUL).
    Column("body", Text, nullable=False),
    Column("refusals", Integer, nullable=False, server_default="1"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("kind", "key_sha256"),
    Index(None, "call_id"),
    Index(None, "updated_at"),
)

# Evaluation runs (``voiceops eval``): one row per run, one per scenario attempt, so the
# console can list runs and gate publishing a profile version on a passing one.
eval_runs = Table(
    "eval_runs",
    metadata,
    Column("run_id", String(64), primary_key=True),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("brain", String(32), nullable=False),
    Column("target", String(255), nullable=False),
    Column("profile_version", Integer),
    Column("profile_sha256", String(64)),
    Column("code_version", String(64), nullable=False),
    Column("scenarios", Integer, nullable=False),
    Column("passed", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("xfailed", Integer, nullable=False),
    Column("xpassed", Integer, nullable=False),
    Column("skipped", Integer, nullable=False),
    Column("flaky", Integer, nullable=False),
    Column("first_frame_p50_ms", Float),
    Column("first_frame_p95_ms", Float),
    Column("duration_ms", BigInteger, nullable=False),
    Column("options", JSONType),
    Index(None, "started_at"),
    Index(None, "profile_version"),
)

eval_results = Table(
    "eval_results",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column(
        "run_id",
        String(64),
        ForeignKey("eval_runs.run_id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("scenario", String(255), nullable=False),
    Column("path", Text, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("reason", Text, nullable=False, server_default=""),
    Column("turns", Integer, nullable=False),
    Column("duration_ms", Integer, nullable=False),
    Column("first_frame_p50_ms", Float),
    Column("first_frame_p95_ms", Float),
    Column("failures", JSONType),
    UniqueConstraint("run_id", "scenario", "attempt"),
)

# --- the operator console (``web/dashboard``) ------------------------------------------

# Full-text search for the calls list: the words of every call's transcript (caller and
# agent), one row per (word, call). Filled from ``call_events`` by ``store.calllist``'s
# indexer; an exact-word lookup is one index range on both dialects.
Index("ix_call_events_event_type_call_id", call_events.c.event_type, call_events.c.call_id)
Index("ix_call_events_event_type_latency_ms", call_events.c.event_type, call_events.c.latency_ms)
Index("ix_calls_profile_version", calls.c.profile_version)
Index("ix_calls_outcome", calls.c.outcome)

call_words = Table(
    "call_words",
    metadata,
    Column("word", String(64), primary_key=True),
    Column("call_id", String(255), primary_key=True),
    Index(None, "call_id"),
)

search_progress = Table(
    "search_progress",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("last_event_id", BigInteger, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

console_users = Table(
    "console_users",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("email", String(255), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("disabled", Integer, nullable=False, server_default="0"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

console_sessions = Table(
    "console_sessions",
    metadata,
    # The SHA-256 of the cookie's token: a stolen database holds no usable session.
    Column("token_sha256", String(64), primary_key=True),
    Column(
        "user_id",
        BigId,
        ForeignKey("console_users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("csrf_token", String(64), nullable=False),
    Column("address", String(64)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False, index=True),
)

login_failures = Table(
    "login_failures",
    metadata,
    # ``account:<email>`` or ``address:<ip>``: failures counted in a window per key.
    Column("key", String(320), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("window_started_at", UTCDateTime, nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False, index=True),
    Column("actor", String(255), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(255), nullable=False, server_default=""),
    Column("detail", JSONType),
    Column("address", String(64)),
)

profile_drafts = Table(
    "profile_drafts",
    metadata,
    # One shared working draft (``main``), as in Retell's own agent editor.
    Column("name", String(32), primary_key=True),
    Column("body", JSONType, nullable=False),
    Column("base_version", Integer),
    Column("updated_by", String(255), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

profile_publications = Table(
    "profile_publications",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("version", Integer, nullable=False, index=True),
    Column("note", Text, nullable=False, server_default=""),
    Column("published_by", String(255), nullable=False),
    Column("published_at", UTCDateTime, nullable=False),
)

# Each call's record as Retell keeps it (webhooks and ``voiceops retell calls sync``), merged
# field by field: ``field_times`` holds, per field, the epoch ms of the observation that set
# it, and a newer observation wins. Amounts in ``call_cost`` are decimal strings in cents.
retell_calls = Table(
    "retell_calls",
    metadata,
    Column("call_id", String(255), primary_key=True),
    Column("agent_id", String(255)),
    Column("agent_version", Integer),
    Column("call_type", String(32)),
    Column("direction", String(16)),
    Column("call_status", String(32)),
    Column("disconnection_reason", String(64)),
    Column("started_at", UTCDateTime),
    Column("ended_at", UTCDateTime),
    Column("duration_ms", BigInteger),
    Column("recording_url", Text),
    Column("public_log_url", Text),
    Column("transfer_destination", String(255)),
    Column("call_analysis", JSONType),
    Column("latency", JSONType),
    Column("call_cost", JSONType),
    Column("field_times", JSONType, nullable=False),
    Column("webhook_at", UTCDateTime),
    Column("synced_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "started_at"),
    Index(None, "created_at"),
)

# --- alerts (``insight/alerts.py``): rules edited in the console, the incidents they open
# and close, and each notification of an incident on each channel ---------------------

alert_rules = Table(
    "alert_rules",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("kind", String(32), nullable=False),
    Column("threshold", Float, nullable=False),
    Column("window_s", Integer, nullable=False),
    Column("min_count", Integer, nullable=False, server_default="1"),
    Column("severity", String(16), nullable=False),
    Column("cooldown_s", Integer, nullable=False),
    Column("enabled", Integer, nullable=False, server_default="1"),
    Column("channels", String(64), nullable=False, server_default="webhook,email"),
    Column("last_value", Float),
    Column("last_checked_at", UTCDateTime),
    Column("updated_by", String(255), nullable=False, server_default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

alert_incidents = Table(
    "alert_incidents",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column(
        "rule_id",
        BigId,
        ForeignKey("alert_rules.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("status", String(16), nullable=False),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("resolved_at", UTCDateTime),
    Column("value", Float, nullable=False),
    Column("resolved_value", Float),
    Column("threshold", Float, nullable=False),
    Column("summary", Text, nullable=False),
    Index(None, "rule_id", "status"),
    Index(None, "opened_at"),
)

alert_deliveries = Table(
    "alert_deliveries",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("incident_id", BigId, ForeignKey("alert_incidents.id", ondelete="CASCADE")),
    Column("channel", String(16), nullable=False),
    Column("event", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("last_error", Text),
    Column("payload", JSONType, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    Index(None, "status", "next_attempt_at"),
    Index(None, "incident_id"),
)

# The console's metrics rollups live in ``rollup_tables.py``, on the same metadata; imported
# here so that every reader of this schema (the migrations, their test) sees them.
from voiceops.store import rollup_tables  # noqa: E402, F401
