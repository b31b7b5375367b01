"""Agent versions as the console sees them: one working draft, and publications.

A version is an immutable row of ``agent_profiles`` (:class:`~voiceops.store.profiles.
ProfileRepo` numbers them by content). Publishing a version adds a row to
``profile_publications``; the newest row is what new calls run. The draft is the one
shared working copy (``profile_drafts``, name ``main``): saving replaces it, publishing
turns it into a version and removes it, restoring copies an old version into it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from voiceops.core.clock import Clock
from voiceops.core.profile import AgentProfile
from voiceops.store.db import Database, first_row
from voiceops.store.profiles import ProfileRepo, profile_digest
from voiceops.store.tables import agent_profiles, profile_drafts, profile_publications

DRAFT = "main"


@dataclass(frozen=True, slots=True)
class Draft:
    body: dict[str, Any]
    base_version: int | None
    updated_by: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Publication:
    version: int
    note: str
    published_by: str
    published_at: datetime


@dataclass(frozen=True, slots=True)
class VersionRow:
    version: int
    created_at: datetime
    business_name: str
    publications: tuple[Publication, ...]


class VersionRepo:
    def __init__(self, db: Database, *, clock: Clock) -> None:
        self._db = db
        self._clock = clock
        self.profiles = ProfileRepo(db, clock=clock)

    # --- publications -------------------------------------------------------------------

    async def published(self) -> Publication | None:
        """The newest publication: the version new calls run."""
        stmt = select(profile_publications).order_by(profile_publications.c.id.desc()).limit(1)
        async with self._db.transaction("read published version") as conn:
            row = await first_row(conn, stmt)
        return None if row is None else _publication(row)

    async def published_profile(self) -> AgentProfile | None:
        current = await self.published()
        return None if current is None else await self.profiles.get(current.version)

    async def publish(
        self, version: int, *, by: str, note: str, conn: AsyncConnection | None = None
    ) -> Publication:
        now = self._clock.now()
        stmt = profile_publications.insert().values(
            version=version, note=note, published_by=by[:255], published_at=now
        )
        if conn is not None:
            await conn.execute(stmt)
        else:
            async with self._db.transaction("publish version") as own:
                await own.execute(stmt)
        return Publication(version, note, by, now)

    async def publish_at_start(self, version: int, source: str) -> int:
        """At start-up: the version to serve. The profile file's version is published when
        it never was (a first start, or an edited file); otherwise the newest publication
        (which the console may have made since) stays."""
        async with self._db.serialized("publish at start", "profile-publish") as conn:
            seen = await first_row(
                conn,
                select(profile_publications.c.id).where(profile_publications.c.version == version),
            )
            if seen is None:
                await self.publish(
                    version, by="voiceops serve", note=f"loaded from {source}", conn=conn
                )
                return version
            newest = await first_row(
                conn,
                select(profile_publications.c.version)
                .order_by(profile_publications.c.id.desc())
                .limit(1),
            )
        return version if newest is None else int(newest["version"])

    async def versions(self) -> list[VersionRow]:
        async with self._db.transaction("list versions") as conn:
            rows = (
                (
                    await conn.execute(
                        select(
                            agent_profiles.c.version,
                            agent_profiles.c.created_at,
                            agent_profiles.c.business_name,
                        ).order_by(agent_profiles.c.version.desc())
                    )
                )
                .mappings()
                .all()
            )
            pubs = (
                (
                    await conn.execute(
                        select(profile_publications).order_by(profile_publications.c.id.desc())
                    )
                )
                .mappings()
                .all()
            )
        by_version: dict[int, list[Publication]] = {}
        for pub in pubs:
            by_version.setdefault(int(pub["version"]), []).append(_publication(pub))
        return [
            VersionRow(
                int(r["version"]),
                r["created_at"],
                r["business_name"],
                tuple(by_version.get(int(r["version"]), ())),
            )
            for r in rows
        ]

    async def newest_version(self) -> int:
        async with self._db.transaction("read newest version") as conn:
            top = (
                await conn.execute(select(func.coalesce(func.max(agent_profiles.c.version), 0)))
            ).scalar_one()
        return int(top)

    # --- the draft ----------------------------------------------------------------------

    async def draft(self) -> Draft | None:
        stmt = select(profile_drafts).where(profile_drafts.c.name == DRAFT)
        async with self._db.transaction("read draft") as conn:
            row = await first_row(conn, stmt)
        if row is None:
            return None
        return Draft(row["body"], row["base_version"], row["updated_by"], row["updated_at"])

    async def save_draft(self, profile: AgentProfile, *, base_version: int | None, by: str) -> None:
        _, body = profile_digest(profile)
        values = {
            "name": DRAFT,
            "body": body,
            "base_version": base_version,
            "updated_by": by[:255],
            "updated_at": self._clock.now(),
        }
        stmt = self._db.insert(profile_drafts).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["name"], set_={k: stmt.excluded[k] for k in values if k != "name"}
        )
        async with self._db.transaction("save draft") as conn:
            await conn.execute(stmt)

    async def discard_draft(self) -> None:
        async with self._db.transaction("discard draft") as conn:
            await conn.execute(delete(profile_drafts).where(profile_drafts.c.name == DRAFT))

    async def publish_draft(self, profile: AgentProfile, *, by: str, note: str) -> int:
        """Save the draft's content as a version (an existing one when identical), publish
        it and remove the draft; returns the version."""
        version = await self.profiles.save(profile)
        async with self._db.transaction("publish draft") as conn:
            await self.publish(version, by=by, note=note, conn=conn)
            await conn.execute(delete(profile_drafts).where(profile_drafts.c.name == DRAFT))
        return version


def _publication(row: Any) -> Publication:
    return Publication(int(row["version"]), row["note"], row["published_by"], row["published_at"])
