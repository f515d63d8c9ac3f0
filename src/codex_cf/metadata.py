"""The names codex-cf's request tags use, and where the last launch's tag is kept.

AI Gateway groups its logs, analytics, spend limits and policies by the
`cf-aig-metadata` header: a JSON object of at most 5 flat keys, none starting
with `cf.` (reserved). The launch sets the header; `usage` groups by these
keys and `doctor --live` looks for the last launch's id, so each key is named
here once. Requests sent without a key (older launches, other clients, tags
turned off) group as UNTAGGED.

Standard library and launch_cache only: the launch path may import this.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from codex_cf import launch_cache

# The keys codex-cf sends.
PROJECT = "project"  # the git repository's top-level name, else the working directory's
LAUNCH = "launch"  # an id unique to one launch, the same on each of its requests

UNTAGGED = "(untagged)"


class Launch(NamedTuple):
    launch_id: str
    started: str  # ISO 8601, UTC


def remember_launch(profile: str, launch: Launch, environ: Mapping[str, str] | None = None) -> None:
    """Record the launch whose tag `doctor --live` looks for, per profile."""
    entries = launch_cache.load(launch_cache.LAST_LAUNCHES, environ)
    entries[profile] = {"launch": launch.launch_id, "started": launch.started}
    launch_cache.store(launch_cache.LAST_LAUNCHES, entries, environ)


def last_launch(profile: str, environ: Mapping[str, str] | None = None) -> Launch | None:
    """The profile's most recent tagged launch, or None when none was recorded."""
    entry: Any = launch_cache.load(launch_cache.LAST_LAUNCHES, environ).get(profile)
    if not isinstance(entry, dict):
        return None
    launch_id, started = entry.get("launch"), entry.get("started")
    if isinstance(launch_id, str) and launch_id and isinstance(started, str) and started:
        return Launch(launch_id, started)
    return None
