"""Which automatic backups to keep: the last 7 days and the last 4 weeks, by default.

The daily backups are kept like this: the newest of each of the ``keep_daily`` most recent days
that have one, and the newest of each of the ``keep_weekly`` most recent ISO weeks that have one
(the two sets overlap; their union is kept). The backups taken before an upgrade, a schema
migration or a restore are the way back from those: the newest ``keep_safety`` of them are kept.
Backups the user made (Back up now, an export) are never removed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path

from desktop.core.backup.archive import Kind

SAFETY_KINDS = frozenset({Kind.UPGRADE, Kind.MIGRATION, Kind.RESTORE})


@dataclass(frozen=True, slots=True)
class Policy:
    keep_daily: int = 7
    keep_weekly: int = 4
    keep_safety: int = 5


@dataclass(frozen=True, slots=True)
class Entry:
    path: Path
    created: float
    kind: Kind


def _day(created: float) -> Hashable:
    t = time.localtime(created)
    return (t.tm_year, t.tm_yday)


def _week(created: float) -> Hashable:
    year, week, _ = time.strftime("%G %V %u", time.localtime(created)).split()
    return (int(year), int(week))


def _newest_per_bucket(entries: Sequence[Entry], bucket: Callable[[float], Hashable],
                       count: int) -> set[Path]:
    kept: set[Path] = set()
    seen: set[Hashable] = set()
    for entry in entries:  # newest first
        if len(seen) >= count:
            break
        key = bucket(entry.created)
        if key not in seen:
            seen.add(key)
            kept.add(entry.path)
    return kept


def to_remove(entries: Sequence[Entry], policy: Policy = Policy()) -> list[Path]:
    """The automatic backups ``policy`` does not keep, oldest first."""
    newest_first = sorted(entries, key=lambda e: e.created, reverse=True)
    daily = [e for e in newest_first if e.kind is Kind.DAILY]
    safety = [e for e in newest_first if e.kind in SAFETY_KINDS]
    keep = _newest_per_bucket(daily, _day, policy.keep_daily)
    keep |= _newest_per_bucket(daily, _week, policy.keep_weekly)
    keep |= {e.path for e in safety[:policy.keep_safety]}
    doomed = [e for e in daily + safety if e.path not in keep]
    return [e.path for e in sorted(doomed, key=lambda e: e.created)]
