"""What a launch needs from a checked profile, and the cache that spares re-checking it.

The launch path's half of profile handling: no TOML parser, no regular
expressions, no dataclasses. On a cache hit (the profile and config.toml
unchanged since they were last found current) nothing else is loaded;
`profile_rules` does the full check on a miss.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, NamedTuple

from codex_cf import launch_cache, paths
from codex_cf.constants import (
    DEFAULT_PROFILE,
    PROFILE_ENV,
    PROGRAM,
    SECRET_VARIABLE,
    AuthMode,
    Billing,
    Secret,
)
from codex_cf.errors import UsageError

_NAME_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


class Export(NamedTuple):
    """A variable codex-cf sets for Codex: a secret, maybe with `Bearer ` in front."""

    variable: str
    secret: Secret
    prefix: str = ""


class ProfileFacts(NamedTuple):
    """What the launch needs to know about a current profile."""

    auth_mode: AuthMode
    billing: Billing
    exports: tuple[Export, ...]
    required: tuple[Secret, ...]
    auth_command: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "auth_mode": self.auth_mode.value,
            "billing": self.billing.value,
            "exports": [list(e) for e in self.exports],
            "required": [s.value for s in self.required],
            "auth_command": self.auth_command,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProfileFacts:
        return cls(
            auth_mode=AuthMode(data["auth_mode"]),
            billing=Billing(data["billing"]),
            exports=tuple(Export(v, Secret(s), p) for v, s, p in data["exports"]),
            required=tuple(Secret(s) for s in data["required"]),
            auth_command=data["auth_command"],
        )


def hidden_variables(exports: tuple[Export, ...], required: tuple[Secret, ...]) -> list[str]:
    """Every variable codex-cf exports, then each needed secret's usual variable."""
    names = [e.variable for e in exports]
    for secret in required:
        if SECRET_VARIABLE[secret] not in names:
            names.append(SECRET_VARIABLE[secret])
    return names


def command_for(profile: str, command: str) -> str:
    """A codex-cf command line for this profile, as a user would type it."""
    if profile == DEFAULT_PROFILE:
        return f"{PROGRAM} {command}"
    return f"{PROGRAM} {command} --profile {profile}"


def valid_profile_name(name: str) -> bool:
    """Letters, digits, '.', '_', '-'; not starting with '.' or '-'; at most 64."""
    return (
        0 < len(name) <= 64
        and name[0] not in ".-"
        and all(character in _NAME_CHARACTERS for character in name)
    )


def resolve_name(option: str | None, environ: Mapping[str, str] | None = None) -> str:
    """The profile to use: the option, else $CODEX_CF_PROFILE, else cloudflare-aig."""
    env = os.environ if environ is None else environ
    if option is not None:
        name, fix = option, f"use --profile {DEFAULT_PROFILE} or another valid name"
    else:
        name = env.get(PROFILE_ENV) or DEFAULT_PROFILE
        fix = f"fix or unset ${PROFILE_ENV}"
    if not valid_profile_name(name):
        raise UsageError(
            f"{name!r} is not a profile name (letters, digits, '.', '_', '-'; at most 64)", fix
        )
    return name


def is_codex_cf_executable(command: object) -> bool:
    if not isinstance(command, str) or not os.path.isabs(command):
        return False
    name = os.path.basename(command).lower().removesuffix(".exe")
    return name == PROGRAM and os.path.isfile(command) and os.access(command, os.X_OK)


def signature(profile: str, environ: Mapping[str, str] | None = None) -> list[Any]:
    """What must be unchanged for a cached verdict to stand: both files' signatures."""
    profile_file = paths.profile_path(profile, environ)
    return [
        str(profile_file),
        launch_cache.file_signature(profile_file),
        launch_cache.file_signature(paths.base_config_path(environ)),
    ]


def cached(profile: str, environ: Mapping[str, str] | None = None) -> ProfileFacts | None:
    """The facts recorded when these very files were last found current, else None."""
    entry = launch_cache.load(launch_cache.profile_entry(profile), environ)
    if entry.get("signature") != signature(profile, environ):
        return None
    try:
        facts = ProfileFacts.from_json(entry["facts"])
    except (KeyError, TypeError, ValueError):
        return None
    if facts.auth_command is not None and not is_codex_cf_executable(facts.auth_command):
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
