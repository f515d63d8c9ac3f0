"""What a launch needs from a checked profile, and the cache that spares re-checking it.

The launch path's half of profile handling: no TOML parser, no regular
expressions, no dataclasses. On a cache hit (the profile and config.toml
unchanged since they were last found current) nothing else is loaded;
`profile_rules` does the full check on a miss.
"""

from __future__ import annotations

from codex_cf import codex_binary, launch_cache, paths
from codex_cf.layout import Layout
from codex_cf.records import NamedTuple

TYPE_CHECKING = False  # as typing's, which mypy reads the same: names for annotations only
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any


class ProfileFacts(NamedTuple):
    """What the launch needs to know about a current profile."""

    layout: Layout
    auth_command: str | None = None  # command mode: the codex-cf Codex runs
    access_app: str | None = None  # behind Access with cloudflared: the application's origin

    def to_json(self) -> dict[str, Any]:
        return {
            "layout": self.layout.to_json(),
            "auth_command": self.auth_command,
            "access_app": self.access_app,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProfileFacts:
        """Raises KeyError, TypeError or ValueError on an entry of another shape."""
        auth_command = data["auth_command"]
        if auth_command is not None and not isinstance(auth_command, str):
            raise TypeError("the cached auth command is not a string")
        layout = Layout.from_json(data["layout"])
        access_app = data.get("access_app")
        if layout.access_token_variable is not None and not isinstance(access_app, str):
            raise TypeError("the cached Access application is not a string")
        return cls(layout, auth_command, access_app)


def signature(profile: str, environ: Mapping[str, str] | None = None) -> list[Any]:
    """What must be unchanged for a cached verdict to stand: both files' signatures."""
    profile_file = paths.profile_file(profile, environ)
    return [
        profile_file,
        launch_cache.file_signature(profile_file),
        launch_cache.file_signature(paths.base_config_file(environ)),
    ]


def cached(profile: str, environ: Mapping[str, str] | None = None) -> ProfileFacts | None:
    """The facts recorded when these very files were last found current, else None."""
    entry = launch_cache.load(launch_cache.profile_entry(profile), environ)
    if entry.get("signature") != signature(profile, environ):
        return None
    try:  # an entry of an earlier shape (before the layout model) is a miss
        facts = ProfileFacts.from_json(entry["facts"])
    except (KeyError, TypeError, ValueError):
        return None
    moved = facts.auth_command is not None and not codex_binary.is_codex_cf_executable(
        facts.auth_command
    )
    if moved:
        return None  # codex-cf moved since: the profile is not current any more
    return facts


def remember(
    profile: str, facts: ProfileFacts, checked: list[Any], environ: Mapping[str, str] | None = None
) -> None:
    """Record a current profile's facts under the signature it was checked with."""
    if all(launch_cache.is_settled(s) for s in checked[1:]):
        launch_cache.store(
            launch_cache.profile_entry(profile),
            {"signature": checked, "facts": facts.to_json()},
            environ,
        )
