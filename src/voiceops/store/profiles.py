"""Agent profiles: :class:`ProfileRepo` versions them by content."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from voiceops.core.clock import Clock, SystemClock
from voiceops.core.errors import StorageError
from voiceops.core.profile import AgentProfile
from voiceops.store.db import Database, first_row
from voiceops.store.tables import agent_profiles

_PROFILE_SAVE_ATTEMPTS = 5


def profile_digest(profile: AgentProfile) -> tuple[str, dict[str, Any]]:
    """The content hash of ``profile`` (its ``version`` excluded) and its JSON body."""
    body = profile.model_dump(mode="json", exclude={"version"})
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest(), body


class ProfileRepo:
    """Agent profile versions. The version number is assigned here, by content."""

    def __init__(self, db: Database, *, clock: Clock | None = None) -> None:
        self._db = db
        self._clock: Clock = SystemClock() if clock is None else clock

    async def save(self, profile: AgentProfile) -> int:
        """Store ``profile`` and return its version: a new number for new content, the
        existing number when identical content was saved before (``version`` ignored)."""
        digest, body = profile_digest(profile)
        by_digest = select(agent_profiles.c.version).where(
            agent_profiles.c.content_sha256 == digest
        )
        for _ in range(_PROFILE_SAVE_ATTEMPTS):
            try:
                async with self._db.engine.begin() as conn:
                    existing = (await conn.execute(by_digest)).scalar_one_or_none()
                    if existing is not None:
                        return int(existing)
                    top = select(func.coalesce(func.max(agent_profiles.c.version), 0))
                    version = int((await conn.execute(top)).scalar_one()) + 1
                    await conn.execute(
                        agent_profiles.insert().values(
                            version=version,
                            content_sha256=digest,
                            business_name=profile.business_name[:255],
                            body=body,
                            created_at=self._clock.now(),
                        )
                    )
                    return version
            except IntegrityError:
                # Another process saved a profile at the same moment: look again.
                continue
            except (SQLAlchemyError, OSError, TimeoutError) as exc:
                raise StorageError(f"save profile failed: {type(exc).__name__}") from exc
        raise StorageError(f"save profile failed: {_PROFILE_SAVE_ATTEMPTS} concurrent conflicts")

    async def latest(self) -> AgentProfile | None:
        """The newest saved profile, its ``version`` set, or ``None``."""
        stmt = select(agent_profiles).order_by(agent_profiles.c.version.desc()).limit(1)
        async with self._db.transaction("read latest profile") as conn:
            row = await first_row(conn, stmt)
        return None if row is None else _profile(row)

    async def get(self, version: int) -> AgentProfile | None:
        stmt = select(agent_profiles).where(agent_profiles.c.version == version)
        async with self._db.transaction("read profile") as conn:
            row = await first_row(conn, stmt)
        return None if row is None else _profile(row)


def _profile(row: RowMapping) -> AgentProfile:
    return AgentProfile.model_validate({**row["body"], "version": row["version"]})
