"""Time windows, buckets and the figures read from the hourly rollup: counts, shares,
averages and latency percentiles per bucket and per profile version.

A :class:`Window` is a range of local days in the business's zone and a granularity. Its
buckets are hours, local days or local weeks (from Monday); bucket edges sit on local
midnights at the zone's UTC offset at the end of the range, so a range that crosses a
daylight-saving change counts one hour next to the change in the neighbouring day.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from voiceops.insight.rollup import EDGES, bin_width
from voiceops.store.insight import HOUR_S, Bucketed, hour_of

Granularity = Literal["hour", "day", "week"]
GRANULARITIES: tuple[Granularity, ...] = ("hour", "day", "week")
BUCKET_HOURS: dict[Granularity, int] = {"hour": 1, "day": 24, "week": 168}
MAX_HOURLY_DAYS = 14
"""Longer ranges are drawn by day: more than 336 points help nobody."""
_MONDAY_SHIFT = 72
"""The Unix epoch was a Thursday: 72 hours later weeks begin on Mondays."""
ALL = -1
"""The version key of figures over every version."""


@dataclass(frozen=True, slots=True)
class Window:
    since: date
    until: date
    """Inclusive."""
    granularity: Granularity
    zone: ZoneInfo
    first_hour: int
    end_hour: int
    shift_hours: int
    day_shift: int
    """The zone's UTC offset in whole hours at the end of the range: local days begin
    this many hours after (before, west of UTC) a UTC midnight."""

    @classmethod
    def of(cls, since: date, until: date, granularity: Granularity, zone: ZoneInfo) -> Window:
        if until < since:
            since, until = until, since
        if granularity == "hour" and (until - since).days >= MAX_HOURLY_DAYS:
            granularity = "day"
        start = datetime.combine(since, datetime.min.time(), zone)
        end = datetime.combine(until + timedelta(days=1), datetime.min.time(), zone)
        offset = end.utcoffset() or timedelta(0)
        offset_h = int(offset.total_seconds() // 3600)
        shift = 0 if granularity == "hour" else offset_h
        if granularity == "week":
            shift += _MONDAY_SHIFT
        return cls(since, until, granularity, zone, hour_of(start), hour_of(end), shift, offset_h)

    @property
    def bucket_hours(self) -> int:
        return BUCKET_HOURS[self.granularity]

    @property
    def days(self) -> int:
        return (self.until - self.since).days + 1

    def bucket_of(self, hour: int) -> int:
        return (hour + self.shift_hours) // self.bucket_hours

    def buckets(self) -> list[int]:
        return list(range(self.bucket_of(self.first_hour), self.bucket_of(self.end_hour - 1) + 1))

    def start_of(self, bucket: int) -> datetime:
        """The local time at which ``bucket`` begins."""
        hour = bucket * self.bucket_hours - self.shift_hours
        return datetime.fromtimestamp(hour * HOUR_S, self.zone)

    def label(self, bucket: int) -> str:
        start = self.start_of(bucket)
        if self.granularity == "hour":
            return start.strftime("%Y-%m-%d %H:00")
        # Midday of the bucket's first day: a daylight-saving hour cannot move it.
        return (start + timedelta(hours=12)).strftime("%Y-%m-%d")


_Slot = tuple[int | None, int]
_Index = dict[str, dict[_Slot, dict[str, list[int]]]]


@dataclass(slots=True)
class Figures:
    """Rollup rows of one read, summed per metric, ``(bucket, version)`` and key into
    ``[n, total]``; bucket ``None`` is the whole range and version :data:`ALL` every
    version."""

    sums: _Index
    versions: list[int]

    @classmethod
    def of(cls, rows: Iterable[Bucketed]) -> Figures:
        sums: _Index = {}
        versions: set[int] = set()
        for metric, bucket, version, key, n, total in rows:
            versions.add(version)
            by_slot = sums.get(metric)
            if by_slot is None:
                by_slot = sums[metric] = {}
            for slot in ((bucket, version), (None, version), (bucket, ALL), (None, ALL)):
                keys = by_slot.get(slot)
                if keys is None:
                    keys = by_slot[slot] = {}
                pair = keys.get(key)
                if pair is None:
                    keys[key] = [n, total]
                else:
                    pair[0] += n
                    pair[1] += total
        return cls(sums, sorted(versions))

    def by_key(
        self, metric: str, *, bucket: int | None = None, version: int = ALL, totals: bool = False
    ) -> dict[str, int]:
        """Per key: counts (or ``totals``) of ``metric`` in ``bucket`` (None: the range)."""
        keys = self.sums.get(metric, {}).get((bucket, version), {})
        i = 1 if totals else 0
        return {key: pair[i] for key, pair in keys.items()}

    def count(self, metric: str, *, bucket: int | None = None, version: int = ALL) -> int:
        keys = self.sums.get(metric, {}).get((bucket, version), {})
        return sum(pair[0] for pair in keys.values())

    def sum(self, metric: str, *, bucket: int | None = None, version: int = ALL) -> int:
        keys = self.sums.get(metric, {}).get((bucket, version), {})
        return sum(pair[1] for pair in keys.values())

    def histogram(
        self, metric: str, *, bucket: int | None = None, version: int = ALL
    ) -> dict[int, int]:
        keys = self.sums.get(metric, {}).get((bucket, version), {})
        return {int(key): pair[0] for key, pair in keys.items()}


def percentile(histogram: Mapping[int, int], q: float) -> float | None:
    """The ``q`` quantile (0 < q ≤ 1) of the samples counted in ``histogram`` (bin lower
    edge in ms → count): the nearest-rank sample's bin, placed inside the bin as its rank is
    among the bin's samples (a bin's single sample sits in its middle). Exact to within
    the bin's width; ``None`` without samples. The open last bin reports its lower edge."""
    total = sum(histogram.values())
    if total == 0:
        return None
    rank = max(1, -(-int(q * total * 1_000_000) // 1_000_000))  # ceil(q * total), no float drift
    seen = 0
    for edge in sorted(histogram):
        count = histogram[edge]
        if count and seen + count >= rank:
            width = bin_width(edge) if edge in EDGES else None
            if width is None:
                return float(edge)
            return edge + width * (rank - seen - 0.5) / count
        seen += count
    return None  # pragma: no cover - rank never exceeds total


def share(part: int, whole: int) -> float | None:
    """``part`` as a percentage of ``whole``; ``None`` when there is no whole."""
    return None if whole == 0 else 100.0 * part / whole


def ratio(amount: float, count: int) -> float | None:
    return None if count == 0 else amount / count


def top_keys(counts: Mapping[str, int], limit: int, order: Sequence[str] = ()) -> list[str]:
    """Keys in ``order`` first (those present), then the rest by count, at most ``limit``."""
    known = [k for k in order if k in counts]
    rest = sorted((k for k in counts if k not in known), key=lambda k: (-counts[k], k))
    return (known + rest)[:limit]
