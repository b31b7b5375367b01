"""Typed settings, read once from the environment (prefix ``VOICEOPS_``) and passed down.

Nothing in the package reads the environment anywhere else. Tests build a ``Settings`` with
explicit arguments and hand it to the app factory; there is no module-level instance.
Secrets are ``SecretStr`` so that a ``repr`` or a log line never shows them.
"""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_PROFILE = Path(__file__).parent / "profiles" / "demo.yaml"


class Settings(BaseSettings):
    """Every knob of a voiceops process. See the README's configuration table."""

    model_config = SettingsConfigDict(
        env_prefix="VOICEOPS_",
        env_file=None,
        extra="ignore",
        populate_by_name=True,
        # A refused value is not echoed: it may be a key, a password or a URL with a token.
        hide_input_in_errors=True,
    )

    # --- server -------------------------------------------------------------------------
    host: str = "127.0.0.1"
    port: int = 8080
    drain_timeout_s: float = Field(default=600.0, ge=0)
    """On SIGTERM, how long live calls may go on before their sockets are reset for Retell
    to re-dial them elsewhere (``web/drain.py``)."""
    log_level: str = "info"
    loop_warn_ms: int = Field(default=100, ge=1)
    """A loop stall or collector pause this long is logged as a warning."""
    otel_traces: bool = False
    """Emit OpenTelemetry spans (``voiceops.tracing``); needs ``voiceops[otel]``."""
    gc_full_interval_s: float = Field(default=300.0, ge=0)
    clock_start: datetime | None = None
    """Pin the wall clock's start (evaluations, demos); refused unless ``allow_pinned_clock``."""
    allow_pinned_clock: bool = False
    """Run the collector's full pass on this schedule instead of whenever Python decides
    (``loopwatch.FullCollections``); 0 keeps Python's automatic full passes."""

    # --- brain --------------------------------------------------------------------------
    brain: Literal["auto", "llm", "flow"] = "auto"
    """``auto`` picks ``llm`` when an LLM key or base URL is set, else the offline ``flow``."""
    llm_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("VOICEOPS_LLM_BASE_URL", "OPENAI_BASE_URL")
    )
    llm_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("VOICEOPS_LLM_API_KEY", "OPENAI_API_KEY")
    )
    llm_model: str | None = None
    """Overrides the profile's model when set."""
    llm_connect_timeout_s: float = 2.0
    llm_first_token_timeout_s: float = 4.0
    llm_turn_timeout_s: float = 30.0
    llm_max_tool_rounds: int = 4
    fallback_deadline_ms: int = 2500
    """Hard deadline for the LLM's first speakable text; past it the flow brain answers."""

    # --- agent profile and voice behaviour ----------------------------------------------
    profile_path: Path = DEFAULT_PROFILE
    speak_first: bool = True
    """Send the profile's greeting as the begin message; ``False`` waits for the caller."""
    filler_deadline_ms: int = 600
    filler_max_per_call: int = 4

    # --- Retell socket ------------------------------------------------------------------
    ws_secret: SecretStr | None = None
    """Shared secret Retell must present as ``?secret=`` or as a path segment."""
    ws_allow_ips: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Optional allowlist of client addresses or CIDR ranges (e.g. Retell's 100.20.5.228)."""
    trust_forwarded_for: bool = False
    """Take the client address from X-Forwarded-For (only behind a trusted proxy)."""
    max_frame_bytes: int = 4_194_304
    """Larger inbound frames are refused. Retell sends the whole transcript twice, with a
    timing object per word, in every frame: about 4.7 KB per exchange of two sentences, so
    an hour-long call (Retell's default longest) with an exchange every ten seconds sends
    1.7 MB frames. 4 MiB covers two such hours."""
    ws_bad_frame_limit: int = Field(default=50, ge=0)
    """More bad frames than this on one socket within ``ws_bad_frame_window_s`` close it
    with 1008: frames that are not the protocol (not JSON, binary, ill-typed, out of
    bounds, over ``max_frame_bytes``, a request id that went back). Unknown frame types are
    reported but not counted. Retell sends none of these; a flood of them costs every
    other call on the process."""
    ws_bad_frame_window_s: float = Field(default=10.0, gt=0)
    call_resume_window_s: float = 600.0
    """A reconnect for a call seen this recently resumes its state instead of greeting again."""

    admin_token: SecretStr | None = None
    """Bearer token for operator endpoints (``POST /calls/{call_id}/interrupt``); unset
    disables them."""

    # --- storage ------------------------------------------------------------------------
    database_url: str = Field(
        default="sqlite+aiosqlite:///./voiceops.db",
        validation_alias=AliasChoices("VOICEOPS_DATABASE_URL", "DATABASE_URL"),
    )
    migrate_on_start: bool = True
    event_queue_size: int = 20_000
    event_batch_size: int = 500
    event_flush_interval_ms: int = 100
    journal_path: Path = Path("./voiceops-journal.jsonl")
    retention_days: int = 90

    # --- webhooks -----------------------------------------------------------------------
    retell_api_key: SecretStr | None = None
    """The Retell API key with the webhook badge; it signs ``x-retell-signature``."""
    webhook_max_body_bytes: int = 1_048_576
    webhook_tolerance_ms: int = 300_000

    # --- operator console (``/dashboard/``) ----------------------------------------------
    session_secret: SecretStr | None = None
    """Signs the console's session cookies. Unset: a random one per process (sessions end
    at a restart and do not carry across instances; a warning says so)."""
    cookie_secure: Literal["auto", "always", "never"] = "auto"
    """``Secure`` on the session cookie: ``auto`` when the request came over HTTPS (behind
    a proxy, with ``VOICEOPS_TRUST_FORWARDED_FOR`` and ``X-Forwarded-Proto``)."""
    session_hours: float = Field(default=12.0, gt=0)
    login_max_failures_account: int = Field(default=5, ge=1)
    login_max_failures_address: int = Field(default=20, ge=1)
    login_window_s: int = Field(default=900, ge=1)
    slow_turn_ms: int = Field(default=1200, ge=1)
    """A turn slower than this to its first speakable frame is flagged in the console."""
    publish_requires_eval: bool = False
    """Publishing a draft in the console needs a passing ``voiceops eval`` run of the
    draft's content (recorded in the database)."""

    # --- Retell's HTTP API and cost -----------------------------------------------------
    retell_base_url: str = "https://api.retellai.com"
    """Where ``voiceops retell ...`` and the call sync reach Retell's API."""
    retell_timeout_s: float = Field(default=30.0, gt=0)
    retell_sync_interval_s: float = Field(default=900.0, ge=0)
    """``serve`` syncs recent calls' Retell records this often when a key is set; 0: never."""
    telephony_cents_per_minute: Decimal = Field(default=Decimal(0), ge=0)
    """Telephony to add to a phone call's cost when Retell's cost does not include it (a
    number of your own over SIP), in US cents per minute."""
    llm_prices: dict[str, dict[str, Decimal]] = Field(default_factory=dict)
    """USD per million tokens by model, e.g. ``{"my-model": {"input": 0.2, "cached_input":
    0.05, "output": 0.8}}``; added to (and overriding) ``insight.cost.DEFAULT_PRICES``."""

    # --- alerts (``insight/alerts.py``; rules are edited in the console) -------------------
    alert_interval_s: float = Field(default=60.0, ge=0)
    """How often rules are evaluated and due notifications sent; 0: never (this instance
    takes no part; another may)."""
    alert_webhook_url: SecretStr | None = None
    """Where notifications are POSTed; a secret, as such URLs often carry a token."""
    alert_webhook_format: Literal["json", "slack"] = "json"
    """``json``: voiceops' own body; ``slack``: ``{"text": ...}`` (Slack, Mattermost ...)."""
    alert_webhook_secret: SecretStr | None = None
    """Signs the webhook body: ``X-Voiceops-Signature: t=<unix>,v1=<HMAC-SHA256 hex>``."""
    alert_smtp_host: str | None = None
    alert_smtp_port: int = Field(default=587, ge=1, le=65535)
    alert_smtp_tls: Literal["starttls", "tls", "none"] = "starttls"
    alert_smtp_user: str | None = None
    alert_smtp_password: SecretStr | None = None
    alert_email_from: str | None = None
    alert_email_to: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Comma-separated recipients."""
    alert_console_url: str | None = None
    """The console's public base URL (``https://voice.example.com``), for links in
    notifications."""

    @field_validator("ws_allow_ips", "alert_email_to", mode="before")
    @classmethod
    def _split_csv(cls, value: object) -> object:
        # Comma-separated in the environment; a JSON list is accepted too.
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("alert_webhook_url")
    @classmethod
    def _http_url(cls, value: SecretStr | None) -> SecretStr | None:
        # The message leaves the URL out: it may carry a token.
        if value is not None and not value.get_secret_value().startswith(("http://", "https://")):
            raise ValueError("the alert webhook URL must start with http:// or https://")
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        """Accept the plain URLs people paste (postgres://, postgresql://, sqlite://)."""
        for plain, asyncified in (
            ("postgres://", "postgresql+asyncpg://"),
            ("postgresql://", "postgresql+asyncpg://"),
            ("sqlite:///", "sqlite+aiosqlite:///"),
        ):
            if value.startswith(plain):
                return asyncified + value[len(plain) :]
        return value

    @property
    def llm_configured(self) -> bool:
        return self.llm_api_key is not None or self.llm_base_url is not None

    @property
    def effective_brain(self) -> Literal["llm", "flow"]:
        if self.brain == "auto":
            return "llm" if self.llm_configured else "flow"
        return self.brain
